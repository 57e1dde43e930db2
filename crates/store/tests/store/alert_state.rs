use wk_store::testing::test_stores;
use wk_store::{AlertInstanceRow, Annotation, AnnotationQuery};

fn row(rule: &str, hash: &str, state: &str, at: i64) -> AlertInstanceRow {
    AlertInstanceRow {
        org_id: 1,
        rule_uid: rule.to_owned(),
        labels_hash: hash.to_owned(),
        labels: format!(r#"{{"h":"{hash}"}}"#),
        current_state: state.to_owned(),
        current_state_since: at,
        last_eval_time: at,
        detail: "{}".to_owned(),
    }
}

#[tokio::test]
async fn alert_instances_upsert_and_delete() {
    for t in test_stores().await {
        let b = t.backend();
        t.save_alert_instances(&[
            row("r1", "a", "Pending", 1),
            row("r1", "b", "Normal", 1),
            row("r2", "a", "Alerting", 1),
        ])
        .await
        .expect("save");
        t.save_alert_instances(&[row("r1", "a", "Alerting", 2)])
            .await
            .expect("upsert");
        let mut all = t.alert_instances().await.expect("list");
        all.sort_by(|x, y| (&x.rule_uid, &x.labels_hash).cmp(&(&y.rule_uid, &y.labels_hash)));
        let got: Vec<_> = all
            .iter()
            .map(|r| {
                (
                    r.rule_uid.as_str(),
                    r.labels_hash.as_str(),
                    r.current_state.as_str(),
                    r.last_eval_time,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("r1", "a", "Alerting", 2),
                ("r1", "b", "Normal", 1),
                ("r2", "a", "Alerting", 1)
            ],
            "{b}"
        );
        t.delete_alert_instances(1, "r1", Some(&["b".to_owned()]))
            .await
            .expect("delete one");
        t.delete_alert_instances(1, "r2", None)
            .await
            .expect("delete rule");
        let left: Vec<_> = t
            .alert_instances()
            .await
            .expect("list")
            .into_iter()
            .map(|r| (r.rule_uid, r.labels_hash))
            .collect();
        assert_eq!(left, [("r1".to_owned(), "a".to_owned())], "{b}");
    }
}

fn note(org: i64, rule: &str, hash: &str, epoch: i64, instance: &str) -> Annotation {
    Annotation {
        id: 0,
        org_id: org,
        rule_uid: rule.to_owned(),
        rule_title: "Title".to_owned(),
        instance: instance.to_owned(),
        labels_hash: hash.to_owned(),
        labels: "{}".to_owned(),
        prev_state: "Normal".to_owned(),
        new_state: "Pending".to_owned(),
        text: String::new(),
        data: "{}".to_owned(),
        epoch,
    }
}

#[tokio::test]
async fn annotations_query_and_retention() {
    for t in test_stores().await {
        let b = t.backend();
        t.insert_annotations(&[
            note(1, "r1", "a", 100, "i1"),
            note(1, "r1", "a", 100, "i2"),
            note(1, "r1", "b", 200, "i1"),
            note(1, "r2", "a", 300, "i1"),
            note(2, "r1", "a", 400, "i1"),
        ])
        .await
        .expect("insert");
        let q = |rule: Option<&str>, hash: Option<&str>, from: Option<i64>, to: Option<i64>| {
            AnnotationQuery {
                org_id: 1,
                rule_uid: rule.map(str::to_owned),
                labels_hash: hash.map(str::to_owned),
                from,
                to,
                limit: 0,
            }
        };
        let epochs = |v: Vec<Annotation>| v.into_iter().map(|a| a.epoch).collect::<Vec<_>>();
        assert_eq!(
            epochs(
                t.annotations(&q(None, None, None, None))
                    .await
                    .expect("all")
            ),
            [300, 200, 100, 100],
            "{b}"
        );
        assert_eq!(
            epochs(
                t.annotations(&q(Some("r1"), Some("a"), None, None))
                    .await
                    .expect("one")
            ),
            [100, 100],
            "{b}"
        );
        assert_eq!(
            epochs(
                t.annotations(&q(Some("r1"), None, Some(150), Some(250)))
                    .await
                    .expect("range")
            ),
            [200],
            "{b}"
        );
        let instances: Vec<_> = t
            .annotations(&q(Some("r1"), Some("a"), None, None))
            .await
            .expect("one")
            .into_iter()
            .map(|a| a.instance)
            .collect();
        assert!(
            instances.contains(&"i1".to_owned()) && instances.contains(&"i2".to_owned()),
            "{b}: one entry per instance"
        );
        let mut limited = q(None, None, None, None);
        limited.limit = 1;
        assert_eq!(epochs(t.annotations(&limited).await.expect("limit")), [300]);

        assert_eq!(
            t.delete_annotations_before(150).await.expect("age"),
            2,
            "{b}"
        );
        assert_eq!(t.trim_annotations(1, 1).await.expect("count"), 1, "{b}");
        assert_eq!(
            epochs(
                t.annotations(&q(None, None, None, None))
                    .await
                    .expect("left")
            ),
            [300],
            "{b}"
        );
        assert_eq!(t.trim_annotations(1, 5).await.expect("nothing to trim"), 0);
    }
}

#[tokio::test]
async fn send_alerts_to_is_saved_per_org() {
    for t in test_stores().await {
        assert_eq!(t.send_alerts_to(1).await.expect("get"), None);
        t.set_send_alerts_to(1, 2, 10).await.expect("set");
        t.set_send_alerts_to(1, 1, 11).await.expect("overwrite");
        t.set_send_alerts_to(2, 0, 11).await.expect("other org");
        assert_eq!(
            t.send_alerts_to(1).await.expect("get"),
            Some(1),
            "{}",
            t.backend()
        );
        assert_eq!(t.send_alerts_to(2).await.expect("get"), Some(0));
    }
}
