use serde_json::json;

use super::*;
use crate::rule::api::PostableRuleGroup;

fn kinds(uid: &str) -> Option<String> {
    match uid {
        "td" => Some("testdata".into()),
        "prom" => Some("prometheus".into()),
        _ => None,
    }
}

fn ctx(lookup: &dyn Fn(&str) -> Option<String>) -> Context<'_> {
    Context {
        base_interval_ms: 10_000,
        datasource_type: lookup,
    }
}

/// A posted group with one rule whose grafana_alert is `alert`.
fn group_with(alert: serde_json::Value) -> serde_json::Value {
    json!({"name": "g", "interval": "1m", "rules": [
        {"for": "20s", "labels": {"team": "a"}, "grafana_alert": alert}
    ]})
}

fn good_alert() -> serde_json::Value {
    json!({
        "title": "High",
        "condition": "C",
        "data": [
            {"refId": "A", "datasourceUid": "td", "relativeTimeRange": {"from": 600, "to": 0},
             "model": {"scenarioId": "random_walk"}},
            {"refId": "B", "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last"}},
            {"refId": "C", "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B",
                       "conditions": [{"evaluator": {"type": "gt", "params": [5]}}]}}
        ]
    })
}

fn check(body: serde_json::Value) -> Result<(), RuleError> {
    let g: PostableRuleGroup =
        serde_json::from_value(body).map_err(|e| RuleError::new("", e.to_string()))?;
    let (interval, rules) = g.into_rules()?;
    let lookup = kinds;
    group(
        &rules,
        interval.unwrap_or(60_000),
        "interval",
        "grafana_alert.",
        &ctx(&lookup),
    )
}

fn field_of(body: serde_json::Value) -> String {
    match check(body) {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.field,
    }
}

#[test]
fn a_good_group_passes_and_converts() {
    check(group_with(good_alert())).expect("valid");
    let g: PostableRuleGroup = serde_json::from_value(group_with(good_alert())).expect("shape");
    let (interval, rules) = g.into_rules().expect("rules");
    assert_eq!(interval, Some(60_000));
    assert_eq!(rules[0].for_ms, 20_000);
    assert_eq!(rules[0].labels["team"], "a");
    assert_eq!(rules[0].no_data_state, crate::state::NoDataState::NoData);
}

#[test]
fn errors_name_the_field() {
    let mut a = good_alert();
    a["condition"] = json!("Z");
    assert_eq!(field_of(group_with(a)), "rules[0].grafana_alert.condition");

    let mut a = good_alert();
    a["title"] = json!(" ");
    assert_eq!(field_of(group_with(a)), "rules[0].grafana_alert.title");

    let mut a = good_alert();
    a["data"][0]["datasourceUid"] = json!("nope");
    assert_eq!(
        field_of(group_with(a)),
        "rules[0].grafana_alert.data[0].datasourceUid"
    );

    let mut a = good_alert();
    a["data"][1]["refId"] = json!("A");
    assert_eq!(
        field_of(group_with(a)),
        "rules[0].grafana_alert.data[1].refId"
    );

    let mut a = good_alert();
    a["data"][1]["model"]["reducer"] = json!("nonsense");
    assert_eq!(
        field_of(group_with(a)),
        "rules[0].grafana_alert.data[1].model"
    );

    let mut a = good_alert();
    a["no_data_state"] = json!("Sometimes");
    assert_eq!(
        field_of(group_with(a)),
        "rules[0].grafana_alert.no_data_state"
    );

    let mut body = group_with(good_alert());
    body["rules"][0]["for"] = json!("5 minutes");
    assert_eq!(field_of(body), "rules[0].for");

    let mut body = group_with(good_alert());
    body["interval"] = json!("15s");
    assert_eq!(field_of(body), "interval");

    let mut body = group_with(good_alert());
    body["interval"] = json!("0s");
    assert_eq!(field_of(body), "interval");
}

#[test]
fn cycles_and_unknown_references_are_refused() {
    let mut a = good_alert();
    a["data"][1]["model"] = json!({"type": "math", "expression": "$C + 1"});
    let e = check(group_with(a)).expect_err("cycle");
    assert_eq!(e.field, "rules[0].grafana_alert.data");
    assert!(e.message.contains('B') && e.message.contains('C'), "{e}");

    let mut a = good_alert();
    a["data"][1]["model"] = json!({"type": "math", "expression": "$X > 1"});
    let e = check(group_with(a)).expect_err("unknown");
    assert_eq!(e.field, "rules[0].grafana_alert.data");
    assert!(e.message.contains('X'), "{e}");
}

#[test]
fn promql_is_checked_for_prometheus_sources() {
    let mut a = good_alert();
    a["data"][0] = json!({"refId": "A", "datasourceUid": "prom",
        "relativeTimeRange": {"from": 600, "to": 0}, "model": {"expr": "rate(up[5m]"}});
    let e = check(group_with(a.clone())).expect_err("bad promql");
    assert_eq!(e.field, "rules[0].grafana_alert.data[0].model.expr");
    a["data"][0]["model"]["expr"] = json!("sum by (job) (rate(up[5m])) > 0");
    check(group_with(a)).expect("valid promql");
}

#[test]
fn duplicate_titles_in_a_group_are_refused() {
    let body = json!({"name": "g", "interval": "1m", "rules": [
        {"grafana_alert": good_alert()}, {"grafana_alert": good_alert()}
    ]});
    assert_eq!(field_of(body), "rules[1].grafana_alert.title");
}

#[test]
fn data_source_rules_and_simplified_routing_are_refused() {
    let body = json!({"name": "g", "rules": [{"expr": "up == 0"}]});
    assert_eq!(field_of(body), "rules[0].expr");
    let mut a = good_alert();
    a["notification_settings"] = json!({"receiver": "x"});
    assert_eq!(
        field_of(group_with(a)),
        "rules[0].grafana_alert.notification_settings"
    );
}

#[test]
fn stored_json_round_trips() {
    let g: PostableRuleGroup = serde_json::from_value(group_with(good_alert())).expect("shape");
    let (_, rules) = g.into_rules().expect("rules");
    let text = rules[0].to_json();
    assert_eq!(Rule::from_json(&text).expect("parse"), rules[0]);
}

#[test]
fn a_provisioning_file_parses_with_fields_named() {
    let text = r#"
apiVersion: 1
groups:
  - orgId: 1
    name: g1
    folder: Infra
    interval: 1m
    rules:
      - uid: r1
        title: High
        condition: B
        for: 20s
        noDataState: OK
        data:
          - refId: A
            datasourceUid: td
            relativeTimeRange: {from: 600, to: 0}
            model: {scenarioId: random_walk}
          - refId: B
            datasourceUid: __expr__
            model: {type: math, expression: "$A > 1"}
deleteRules:
  - orgId: 1
    uid: old
"#;
    let f = crate::rule::provisioning::AlertingFile::parse(text).expect("parse");
    assert_eq!(f.delete_rules[0].uid, "old");
    let (interval, rules) = f.groups[0].to_rules(0).expect("rules");
    assert_eq!(interval, 60_000);
    assert_eq!(rules[0].no_data_state, crate::state::NoDataState::Ok);
    let lookup = kinds;
    group(&rules, interval, "interval", "", &ctx(&lookup)).expect("valid");

    let bad = text.replace("for: 20s", "for: soon");
    let f = crate::rule::provisioning::AlertingFile::parse(&bad).expect("parse");
    assert_eq!(
        f.groups[0].to_rules(0).expect_err("bad for").field,
        "groups[0].rules[0].for"
    );
    let e = crate::rule::provisioning::AlertingFile::parse("apiVersion: 2\n").expect_err("version");
    assert_eq!(e.field, "apiVersion");
}
