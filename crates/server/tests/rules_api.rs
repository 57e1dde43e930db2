//! Folders, data sources and Grafana-managed alert rules through Grafana's APIs (folders, data
//! sources, ruler, provisioning), and provisioning files applied at start, against the built
//! binary.

mod common;

use std::time::Duration;

use common::{Server, Start, TempDir};
use reqwest::Method;
use serde_json::{Value, json};

const RULER: &str = "/api/ruler/grafana/api/v1/rules";
const PROV_RULES: &str = "/api/v1/provisioning/alert-rules";

/// A client acting as one user.
struct Api<'a> {
    http: reqwest::Client,
    server: &'a Server,
    user: &'a str,
    password: &'a str,
}

impl<'a> Api<'a> {
    fn new(server: &'a Server, user: &'a str, password: &'a str) -> Self {
        Self {
            http: reqwest::Client::new(),
            server,
            user,
            password,
        }
    }

    fn admin(server: &'a Server) -> Self {
        Self::new(server, "admin", "admin")
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method.clone(), self.server.url(path))
            .basic_auth(self.user, Some(self.password));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None, &[]).await
    }
}

/// Creates a folder and returns its uid.
async fn folder(api: &Api<'_>, title: &str) -> String {
    let (status, body) = api.post("/api/folders", &json!({"title": title})).await;
    assert_eq!(status, 200, "{body}");
    body["uid"].as_str().expect("uid").to_owned()
}

/// A Grafana-managed rule on TestData: random walk, reduced to its last value, above `limit`.
fn alert(title: &str, limit: f64) -> Value {
    json!({
        "title": title,
        "condition": "C",
        "data": [
            {"refId": "A", "datasourceUid": "testdata",
             "relativeTimeRange": {"from": 600, "to": 0},
             "model": {"scenarioId": "random_walk"}},
            {"refId": "B", "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last"}},
            {"refId": "C", "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B",
                       "conditions": [{"evaluator": {"type": "gt", "params": [limit]}}]}}
        ]
    })
}

fn group(name: &str, interval: &str, alerts: Vec<Value>) -> Value {
    json!({
        "name": name,
        "interval": interval,
        "rules": alerts.into_iter()
            .map(|a| json!({"for": "1m", "labels": {"team": "ops"}, "grafana_alert": a}))
            .collect::<Vec<_>>(),
    })
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn folders_crud_and_conflicts() {
    let server = Server::start(&Start::default()).await;
    let api = Api::admin(&server);

    let (status, created) = api
        .post("/api/folders", &json!({"title": "Infra Alerts"}))
        .await;
    assert_eq!(status, 200, "{created}");
    let uid = created["uid"].as_str().expect("uid").to_owned();
    assert_eq!(uid.len(), 14, "{created}");
    assert_eq!(created["title"], "Infra Alerts");
    assert_eq!(created["version"], 1);
    assert_eq!(
        created["url"],
        format!("/dashboards/f/{uid}/infra-alerts").as_str()
    );
    assert!(
        created["created"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // A chosen uid, a nested folder.
    let (status, child) = api
        .post(
            "/api/folders",
            &json!({"uid": "child-1", "title": "Child", "parentUid": uid}),
        )
        .await;
    assert_eq!(status, 200, "{child}");
    assert_eq!(child["parentUid"], uid.as_str());

    let (status, list) = api.get("/api/folders").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .any(|f| f["uid"] == uid.as_str() && f["title"] == "Infra Alerts" && f["id"].is_i64()),
        "{list}"
    );

    // Conflicts: the title again, the uid again.
    let (status, body) = api
        .post("/api/folders", &json!({"title": "Infra Alerts"}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = api
        .post("/api/folders", &json!({"uid": "child-1", "title": "Other"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("uid"), "{body}");
    let (status, _) = api.post("/api/folders", &json!({"title": " "})).await;
    assert_eq!(status, 400);

    // Update: a stale version is 412 unless overwrite; the right version renames.
    let path = format!("/api/folders/{uid}");
    let (status, body) = api
        .put(&path, &json!({"title": "Renamed", "version": 7}))
        .await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["status"], "version-mismatch");
    let (status, body) = api
        .put(&path, &json!({"title": "Renamed", "version": 1}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["title"].as_str(), body["version"].as_i64()),
        (Some("Renamed"), Some(2))
    );
    let (status, body) = api
        .put(
            &path,
            &json!({"title": "Again", "version": 1, "overwrite": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 3);
    let (status, body) = api.get(&path).await;
    assert_eq!((status, body["title"].as_str()), (200, Some("Again")));

    // A folder with subfolders is not deleted; an empty one is.
    let (status, body) = api.delete(&path).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = api.delete("/api/folders/child-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Folder Child deleted");
    let (status, _) = api.delete(&path).await;
    assert_eq!(status, 200);
    let (status, body) = api.get(&path).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = api.delete(&path).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn datasources_crud_with_secrets_and_builtin_testdata() {
    let server = Server::start(&Start::default()).await;
    let api = Api::admin(&server);

    // TestData is there from the start.
    let (status, td) = api.get("/api/datasources/uid/testdata").await;
    assert_eq!(status, 200, "{td}");
    assert_eq!(td["name"], "TestData");
    assert_eq!(td["type"], "grafana-testdata-datasource");
    assert_eq!(td["typeName"], "TestData");

    let (status, body) = api
        .post(
            "/api/datasources",
            &json!({
                "name": "Prom", "type": "prometheus", "url": "http://prom:9090", "access": "proxy",
                "basicAuth": true, "basicAuthUser": "scraper",
                "jsonData": {"httpMethod": "POST"},
                "secureJsonData": {"basicAuthPassword": "s3cret-pw"}
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Datasource added");
    assert_eq!(body["name"], "Prom");
    let ds = &body["datasource"];
    let uid = ds["uid"].as_str().expect("uid").to_owned();
    assert_eq!(body["id"], ds["id"]);
    assert_eq!(ds["secureJsonFields"], json!({"basicAuthPassword": true}));
    assert_eq!(ds["jsonData"]["httpMethod"], "POST");
    assert_eq!(ds["readOnly"], false);
    assert!(!body.to_string().contains("s3cret-pw"), "{body}");

    let (status, by_name) = api.get("/api/datasources/name/Prom").await;
    assert_eq!(status, 200);
    assert_eq!(by_name["uid"], uid.as_str());
    assert!(!by_name.to_string().contains("s3cret-pw"));
    let (status, list) = api.get("/api/datasources").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["Prom", "TestData"]);
    assert!(!list.to_string().contains("s3cret-pw"));

    // Same name again: 409.
    let (status, body) = api
        .post(
            "/api/datasources",
            &json!({"name": "Prom", "type": "prometheus"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    // An update without the secret keeps it; a stale version is refused.
    let path = format!("/api/datasources/uid/{uid}");
    let (status, body) = api
        .put(
            &path,
            &json!({"name": "Prometheus", "type": "prometheus", "url": "http://prom:9091",
                    "basicAuth": true, "basicAuthUser": "scraper", "version": 1}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Datasource updated");
    assert_eq!(body["datasource"]["url"], "http://prom:9091");
    assert_eq!(body["datasource"]["version"], 2);
    assert_eq!(
        body["datasource"]["secureJsonFields"],
        json!({"basicAuthPassword": true})
    );
    let (status, body) = api
        .put(
            &path,
            &json!({"name": "Prometheus", "type": "prometheus", "version": 1}),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    // SQL data sources keep their top-level user and database.
    let (status, body) = api
        .post(
            "/api/datasources",
            &json!({"name": "PG", "type": "grafana-postgresql-datasource", "url": "db:5432",
                    "user": "reader", "database": "metrics", "jsonData": {"sslmode": "disable"},
                    "secureJsonData": {"password": "pg-pw"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, pg) = api.get("/api/datasources/name/PG").await;
    assert_eq!(pg["user"], "reader");
    assert_eq!(pg["database"], "metrics");
    assert_eq!(pg["jsonData"], json!({"sslmode": "disable"}));

    // A Viewer reads but cannot write.
    let (status, _) = api
        .post(
            "/api/admin/users",
            &json!({"login": "vera", "password": "vera-pw", "email": "vera@example.com"}),
        )
        .await;
    assert_eq!(status, 200);
    let viewer = Api::new(&server, "vera", "vera-pw");
    let (status, _) = viewer.get("/api/datasources").await;
    assert_eq!(status, 200);
    let (status, _) = viewer
        .post(
            "/api/datasources",
            &json!({"name": "X", "type": "prometheus"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = viewer.delete(&path).await;
    assert_eq!(status, 403);

    let (status, body) = api.delete(&path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Data source deleted");
    let (status, _) = api.get(&path).await;
    assert_eq!(status, 404);

    // A new organization gets TestData too.
    let (status, org) = api.post("/api/orgs", &json!({"name": "Second"})).await;
    assert_eq!(status, 200, "{org}");
    let org_id = org["orgId"].as_i64().expect("org id").to_string();
    let (status, td) = api
        .send(
            Method::GET,
            "/api/datasources/uid/testdata",
            None,
            &[("X-Grafana-Org-Id", org_id.as_str())],
        )
        .await;
    assert_eq!(status, 200, "{td}");
    assert_eq!(td["orgId"].as_i64().map(|i| i.to_string()), Some(org_id));
}

#[tokio::test]
async fn ruler_round_trip_validation_and_roles() {
    let server = Server::start(&Start::default()).await;
    let api = Api::admin(&server);
    let ns = folder(&api, "Ops").await;

    // Create: 202 with the new uid.
    let (status, body) = api
        .post(
            &format!("{RULER}/{ns}"),
            &group("cpu", "1m", vec![alert("High", 5.0)]),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["message"], "rule group updated successfully");
    let uid = body["created"][0].as_str().expect("created uid").to_owned();
    assert_eq!(body["updated"], json!([]));
    assert_eq!(body["deleted"], json!([]));

    // Read back in Grafana's shapes.
    let (status, g) = api.get(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(status, 202, "{g}");
    assert_eq!(g["name"], "cpu");
    assert_eq!(g["interval"], "1m");
    let r = &g["rules"][0];
    assert_eq!(r["for"], "1m");
    assert_eq!(r["labels"]["team"], "ops");
    let ga = &r["grafana_alert"];
    assert_eq!(ga["uid"], uid.as_str());
    assert_eq!(ga["version"], 1);
    assert_eq!(ga["title"], "High");
    assert_eq!(ga["namespace_uid"], ns.as_str());
    assert_eq!(ga["rule_group"], "cpu");
    assert_eq!(ga["intervalSeconds"], 60);
    assert_eq!(ga["no_data_state"], "NoData");
    assert_eq!(ga["exec_err_state"], "Error");
    assert_eq!(ga["provenance"], "");
    assert_eq!(ga["data"][2]["model"]["type"], "threshold");

    let (status, all) = api.get(RULER).await;
    assert_eq!(status, 200);
    assert_eq!(
        all["Ops"][0]["rules"][0]["grafana_alert"]["uid"],
        uid.as_str()
    );
    let (status, by_ns) = api.get(&format!("{RULER}/{ns}")).await;
    assert_eq!(status, 202);
    assert_eq!(by_ns["Ops"][0]["name"], "cpu");
    // Older clients name the folder by title.
    let (status, by_title) = api.get(&format!("{RULER}/Ops/cpu")).await;
    assert_eq!(status, 202);
    assert_eq!(by_title["rules"][0]["grafana_alert"]["uid"], uid.as_str());
    let (status, one) = api
        .get(&format!("/api/ruler/grafana/api/v1/rule/{uid}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["grafana_alert"]["title"], "High");

    // The same group again: nothing changes.
    let mut same = alert("High", 5.0);
    same["uid"] = json!(uid);
    let (status, body) = api
        .post(&format!("{RULER}/{ns}"), &group("cpu", "1m", vec![same]))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["message"], "no changes detected in the rule group");
    let (_, g) = api.get(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(g["rules"][0]["grafana_alert"]["version"], 1);

    // A change: version 2.
    let mut changed = alert("High", 7.0);
    changed["uid"] = json!(uid);
    let (status, body) = api
        .post(&format!("{RULER}/{ns}"), &group("cpu", "1m", vec![changed]))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["updated"], json!([uid]));
    let (_, g) = api.get(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(g["rules"][0]["grafana_alert"]["version"], 2);
    assert_eq!(
        g["rules"][0]["grafana_alert"]["data"][2]["model"]["conditions"][0]["evaluator"]["params"]
            [0],
        7.0
    );

    // Bad payloads: 400 naming the field; nothing changes.
    let bad = |edit: &dyn Fn(&mut Value)| {
        let mut body = group("cpu", "1m", vec![alert("Broken", 1.0)]);
        edit(&mut body);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            bad(&|b| b["rules"][0]["grafana_alert"]["condition"] = json!("Z")),
            "rules[0].grafana_alert.condition",
        ),
        (
            bad(&|b| b["rules"][0]["grafana_alert"]["data"][0]["datasourceUid"] = json!("nope")),
            "rules[0].grafana_alert.data[0].datasourceUid",
        ),
        (
            bad(&|b| {
                b["rules"][0]["grafana_alert"]["data"][1]["model"] =
                    json!({"type": "math", "expression": "$A +"})
            }),
            "rules[0].grafana_alert.data[1].model",
        ),
        (
            bad(&|b| {
                b["rules"][0]["grafana_alert"]["data"][1]["model"] =
                    json!({"type": "math", "expression": "$C + 1"})
            }),
            "rules[0].grafana_alert.data",
        ),
        (bad(&|b| b["interval"] = json!("15s")), "interval"),
        (
            bad(&|b| b["rules"][0]["for"] = json!("soon")),
            "rules[0].for",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = api.post(&format!("{RULER}/{ns}"), &body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert!(
            message(&answer).starts_with(&format!("{field}: ")),
            "expected the field {field}: {answer}"
        );
    }
    let (_, g) = api.get(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(g["rules"].as_array().map(Vec::len), Some(1));
    assert_eq!(g["rules"][0]["grafana_alert"]["version"], 2);

    // Unknown folder: 404. A Viewer reads but cannot write.
    let (status, _) = api
        .post(&format!("{RULER}/nope"), &group("x", "1m", vec![]))
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .post(
            "/api/admin/users",
            &json!({"login": "vic", "password": "vic-pw", "email": "vic@example.com"}),
        )
        .await;
    assert_eq!(status, 200);
    let viewer = Api::new(&server, "vic", "vic-pw");
    let (status, _) = viewer.get(RULER).await;
    assert_eq!(status, 200);
    let (status, _) = viewer.get(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(status, 202);
    let (status, _) = viewer
        .post(&format!("{RULER}/{ns}"), &group("cpu", "1m", vec![]))
        .await;
    assert_eq!(status, 403);
    let (status, _) = viewer.delete(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(status, 403);

    // A folder holding rules is not deleted without forceDeleteRules.
    let (status, body) = api.delete(&format!("/api/folders/{ns}")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        message(&body).starts_with("Folder cannot be deleted"),
        "{body}"
    );

    // An empty rule list deletes the group; DELETE of a group too.
    let (status, body) = api
        .post(
            &format!("{RULER}/{ns}"),
            &group("mem", "2m", vec![alert("Mem", 1.0)]),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = api
        .post(&format!("{RULER}/{ns}"), &group("mem", "2m", vec![]))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["deleted"].as_array().map(Vec::len), Some(1));
    let (status, _) = api.get(&format!("{RULER}/{ns}/mem")).await;
    assert_eq!(status, 404);
    let (status, body) = api.delete(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["message"], "rules deleted");
    let (status, _) = api.get(&format!("{RULER}/{ns}/cpu")).await;
    assert_eq!(status, 404);

    // forceDeleteRules deletes a folder with its rules.
    let (status, _) = api
        .post(
            &format!("{RULER}/{ns}"),
            &group("disk", "1m", vec![alert("Disk", 1.0)]),
        )
        .await;
    assert_eq!(status, 202);
    let (status, body) = api
        .delete(&format!("/api/folders/{ns}?forceDeleteRules=true"))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, all) = api.get(RULER).await;
    assert_eq!(all, json!({}));
}

#[tokio::test]
async fn provisioning_api_rules_and_groups() {
    let server = Server::start(&Start::default()).await;
    let api = Api::admin(&server);
    let ns = folder(&api, "Provisioned").await;

    let mut body = alert("Api rule", 3.0);
    body["folderUID"] = json!(ns);
    body["ruleGroup"] = json!("grp");
    body["for"] = json!("2m");
    body["labels"] = json!({"severity": "page"});
    let (status, created) = api.post(PROV_RULES, &body).await;
    assert_eq!(status, 201, "{created}");
    let uid = created["uid"].as_str().expect("uid").to_owned();
    assert_eq!(created["provenance"], "api");
    assert_eq!(created["folderUID"], ns.as_str());
    assert_eq!(created["ruleGroup"], "grp");
    assert_eq!(created["for"], "2m");
    assert_eq!(created["orgID"], 1);

    let path = format!("{PROV_RULES}/{uid}");
    let (status, got) = api.get(&path).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["title"], "Api rule");
    let (status, list) = api.get(PROV_RULES).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // The group took the default interval.
    let group_path = format!("/api/v1/provisioning/folder/{ns}/rule-groups/grp");
    let (status, g) = api.get(&group_path).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(
        (g["title"].as_str(), g["interval"].as_i64()),
        (Some("grp"), Some(60))
    );

    // Update through the provisioning API; bad field named.
    let mut update = got.clone();
    update["title"] = json!("Api rule renamed");
    let (status, updated) = api.put(&path, &update).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["title"], "Api rule renamed");
    let mut wrong = got.clone();
    wrong["condition"] = json!("Q");
    let (status, body) = api.put(&path, &wrong).await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).starts_with("condition: "), "{body}");

    // The ruler API cannot change a group holding provisioned rules.
    let (status, body) = api
        .post(
            &format!("{RULER}/{ns}"),
            &group("grp", "1m", vec![alert("Other", 1.0)]),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (_, ruler_view) = api.get(&format!("{RULER}/{ns}/grp")).await;
    assert_eq!(ruler_view["rules"][0]["grafana_alert"]["provenance"], "api");

    // Replace the group: interval in seconds, a kept rule and a new one.
    let mut kept = updated.clone();
    kept["for"] = json!("5m");
    let mut fresh = alert("Second", 9.0);
    fresh["folderUID"] = json!(ns);
    let (status, put) = api
        .put(
            &group_path,
            &json!({"title": "grp", "folderUid": ns, "interval": 120, "rules": [kept, fresh]}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["interval"], 120);
    let rules = put["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["uid"], uid.as_str());
    assert_eq!(rules[0]["for"], "5m");
    assert!(rules[1]["uid"].as_str().is_some_and(|u| !u.is_empty()));
    let (status, body) = api
        .put(
            &group_path,
            &json!({"title": "grp", "folderUid": ns, "interval": 15, "rules": []}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).starts_with("interval: "), "{body}");

    // Without provenance (X-Disable-Provenance) the rule reads as not provisioned.
    let (status, body) = api
        .send(
            Method::PUT,
            &path,
            Some(&rules[0]),
            &[("X-Disable-Provenance", "true")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provenance"], "");

    // Delete one rule (204), then the group (204); the group is gone.
    let (status, body) = api.delete(&path).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = api.get(&path).await;
    assert_eq!(status, 404);
    let (status, _) = api.delete(&group_path).await;
    assert_eq!(status, 204);
    let (status, _) = api.get(&group_path).await;
    assert_eq!(status, 404);
}

const DATASOURCE_FILE: &str = r#"
apiVersion: 1
datasources:
  - name: File Prom
    type: prometheus
    uid: file-prom
    url: $WK_TEST_PROM_URL
    access: proxy
    basicAuth: true
    basicAuthUser: reader
    jsonData:
      httpMethod: POST
    secureJsonData:
      basicAuthPassword: ${WK_TEST_PROM_PASSWORD}
"#;

const ALERTING_FILE: &str = r#"
apiVersion: 1
groups:
  - orgId: 1
    name: file-group
    folder: From Files
    interval: 1m
    rules:
      - uid: file-rule-1
        title: File rule
        condition: C
        for: 30s
        labels:
          team: $WK_TEST_TEAM
        annotations:
          summary: "{{ $labels.instance }} is high"
        data:
          - refId: A
            datasourceUid: testdata
            relativeTimeRange: {from: 600, to: 0}
            model: {scenarioId: random_walk}
          - refId: B
            datasourceUid: __expr__
            model: {type: math, expression: "$A * 2"}
          - refId: C
            datasourceUid: __expr__
            model:
              type: threshold
              expression: B
              conditions:
                - evaluator: {type: gt, params: [1]}
"#;

/// A home with `conf/provisioning/{datasources,alerting}` holding the given files.
fn provisioned_home(datasources: &str, alerting: &str) -> TempDir {
    let home = TempDir::new("prov-home");
    let base = home.path().join("conf/provisioning");
    for (dir, text) in [("datasources", datasources), ("alerting", alerting)] {
        std::fs::create_dir_all(base.join(dir)).expect("dir");
        std::fs::write(base.join(dir).join("test.yaml"), text).expect("write");
    }
    home
}

fn provisioning_env() -> Vec<(String, String)> {
    vec![
        ("WK_TEST_PROM_URL".into(), "http://prom.example:9090".into()),
        ("WK_TEST_PROM_PASSWORD".into(), "file-secret".into()),
        ("WK_TEST_TEAM".into(), "platform".into()),
    ]
}

#[tokio::test]
async fn provisioning_files_are_applied_at_start() {
    let start = Start {
        env: provisioning_env(),
        ..Start::default()
    };
    let server = Server::spawn_in(&start, provisioned_home(DATASOURCE_FILE, ALERTING_FILE));
    server.wait_healthy(Duration::from_secs(60)).await;
    let api = Api::admin(&server);

    // The data source, read-only, with its environment values and a hidden secret.
    let (status, ds) = api.get("/api/datasources/uid/file-prom").await;
    assert_eq!(status, 200, "{ds}");
    assert_eq!(ds["url"], "http://prom.example:9090");
    assert_eq!(ds["readOnly"], true);
    assert_eq!(ds["secureJsonFields"], json!({"basicAuthPassword": true}));
    assert!(!ds.to_string().contains("file-secret"));
    let (status, body) = api
        .put(
            "/api/datasources/uid/file-prom",
            &json!({"name": "File Prom", "type": "prometheus"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["message"], "Cannot update read-only data source");
    let (status, _) = api.delete("/api/datasources/uid/file-prom").await;
    assert_eq!(status, 403);

    // The rule through both APIs, with provenance `file`.
    let (status, rule) = api.get(&format!("{PROV_RULES}/file-rule-1")).await;
    assert_eq!(status, 200, "{rule}");
    assert_eq!(rule["provenance"], "file");
    assert_eq!(rule["labels"]["team"], "platform");
    assert_eq!(
        rule["annotations"]["summary"],
        "{{ $labels.instance }} is high"
    );
    assert_eq!(rule["data"][1]["model"]["expression"], "$A * 2");
    let folder_uid = rule["folderUID"].as_str().expect("folder").to_owned();
    let (status, all) = api.get(RULER).await;
    assert_eq!(status, 200);
    let ga = &all["From Files"][0]["rules"][0]["grafana_alert"];
    assert_eq!(ga["uid"], "file-rule-1");
    assert_eq!(ga["provenance"], "file");
    assert_eq!(ga["namespace_uid"], folder_uid.as_str());

    // Neither API may change it.
    let mut edit = rule.clone();
    edit["title"] = json!("Edited");
    let (status, body) = api.put(&format!("{PROV_RULES}/file-rule-1"), &edit).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = api
        .send(
            Method::PUT,
            &format!("{PROV_RULES}/file-rule-1"),
            Some(&edit),
            &[("X-Disable-Provenance", "true")],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = api.delete(&format!("{PROV_RULES}/file-rule-1")).await;
    assert_eq!(status, 409);
    let (status, body) = api
        .post(
            &format!("{RULER}/{folder_uid}"),
            &group("file-group", "1m", vec![alert("Other", 1.0)]),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = api
        .delete(&format!("{RULER}/{folder_uid}/file-group"))
        .await;
    assert_eq!(status, 400);
    let (_, rule_after) = api.get(&format!("{PROV_RULES}/file-rule-1")).await;
    assert_eq!(rule_after["title"], "File rule");
}

#[tokio::test]
async fn a_bad_provisioning_file_stops_the_server() {
    let broken = ALERTING_FILE.replace("condition: C", "condition: Z");
    let start = Start {
        env: provisioning_env(),
        ..Start::default()
    };
    let mut server = Server::spawn_in(&start, provisioned_home(DATASOURCE_FILE, &broken));
    let status = server.wait_exit(Duration::from_secs(60));
    assert!(!status.success(), "the server must not start");
    let log = server.log();
    assert!(
        log.contains("alerting/test.yaml") && log.contains("groups[0].rules[0].condition"),
        "the log names the file and the field:\n{log}"
    );
    // Nothing was written: the data source file was valid but is not applied either.
    assert!(
        !log.contains("provisioned data sources"),
        "nothing is applied when a file is bad:\n{log}"
    );
}
