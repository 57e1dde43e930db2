use wk_store::testing::test_stores;
use wk_store::{GroupSaved, RuleToSave, StoreError};

use crate::T0;

fn rule(uid: &str, title: &str, def: &str) -> RuleToSave {
    RuleToSave {
        uid: uid.to_owned(),
        title: title.to_owned(),
        is_paused: false,
        definition: def.to_owned(),
    }
}

#[tokio::test]
async fn a_group_is_saved_whole_with_versions() {
    for t in test_stores().await {
        let b = t.backend();
        let saved = t
            .save_rule_group(
                1,
                "f1",
                "g1",
                60,
                &[rule("r1", "CPU", "{}"), rule("r2", "Mem", "{}")],
                T0,
            )
            .await
            .expect("save");
        assert_eq!(
            saved,
            GroupSaved {
                created: vec!["r1".into(), "r2".into()],
                ..GroupSaved::default()
            },
            "{b}"
        );

        // Unchanged rules keep their version; a reorder moves positions only.
        let saved = t
            .save_rule_group(
                1,
                "f1",
                "g1",
                60,
                &[rule("r2", "Mem", "{}"), rule("r1", "CPU", "{}")],
                T0 + 1,
            )
            .await
            .expect("save");
        assert_eq!(saved, GroupSaved::default(), "{b}");
        let rules = t.rules(1, Some("f1"), Some("g1")).await.expect("list");
        let order: Vec<_> = rules
            .iter()
            .map(|r| (r.uid.as_str(), r.rule_group_idx, r.version))
            .collect();
        assert_eq!(order, [("r2", 1, 1), ("r1", 2, 1)], "{b}");

        // A changed definition, a new rule and a dropped one.
        let saved = t
            .save_rule_group(
                1,
                "f1",
                "g1",
                30,
                &[
                    rule("r1", "CPU", r#"{"for":"1m"}"#),
                    rule("r3", "Disk", "{}"),
                ],
                T0 + 2,
            )
            .await
            .expect("save");
        assert_eq!(
            saved,
            GroupSaved {
                created: vec!["r3".into()],
                updated: vec!["r1".into()],
                deleted: vec!["r2".into()]
            },
            "{b}"
        );
        let r1 = t.rule(1, "r1").await.expect("get").expect("r1");
        assert_eq!(
            (
                r1.version,
                r1.interval_seconds,
                r1.updated,
                r1.definition.as_str()
            ),
            (2, 30, T0 + 2, r#"{"for":"1m"}"#),
            "{b}"
        );
        let history = t.rule_history(1, "r1").await.expect("history");
        assert_eq!(
            history.iter().map(|h| h.0).collect::<Vec<_>>(),
            [2, 1],
            "{b}"
        );
        assert_eq!(t.rule(1, "r2").await.expect("get"), None);

        let mut versions = t.rule_versions().await.expect("versions");
        versions.sort_by(|a, b| a.uid.cmp(&b.uid));
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.uid.as_str(), v.version))
                .collect::<Vec<_>>(),
            [("r1", 2), ("r3", 1)],
            "{b}"
        );
    }
}

#[tokio::test]
async fn conflicts_change_nothing() {
    for t in test_stores().await {
        let b = t.backend();
        t.save_rule_group(1, "f1", "g1", 60, &[rule("r1", "CPU", "{}")], T0)
            .await
            .expect("save");
        t.save_rule_group(1, "f2", "g1", 60, &[rule("x1", "CPU", "{}")], T0)
            .await
            .expect("same title in another folder");
        // A title used in another group of the folder.
        let e = t
            .save_rule_group(1, "f1", "g2", 60, &[rule("r9", "CPU", "{}")], T0)
            .await;
        assert!(matches!(e, Err(StoreError::Conflict(_))), "{b}: {e:?}");
        // A uid of another group.
        let e = t
            .save_rule_group(1, "f1", "g2", 60, &[rule("r1", "Other", "{}")], T0)
            .await;
        assert!(matches!(e, Err(StoreError::Conflict(_))), "{b}: {e:?}");
        // The same uid twice, after a valid new rule: the new rule is not kept either.
        let e = t
            .save_rule_group(
                1,
                "f1",
                "g3",
                60,
                &[
                    rule("n1", "New", "{}"),
                    rule("n2", "A", "{}"),
                    rule("n2", "B", "{}"),
                ],
                T0,
            )
            .await;
        assert!(matches!(e, Err(StoreError::Conflict(_))), "{b}: {e:?}");
        assert_eq!(t.rule(1, "n1").await.expect("get"), None, "{b}");
        assert_eq!(t.rules(1, None, None).await.expect("list").len(), 2);
        // Deleting the folder deletes its rules.
        assert!(
            !t.delete_folder(1, "f1").await.expect("delete"),
            "no folder row, rules go"
        );
        assert_eq!(
            t.rules(1, Some("f1"), None).await.expect("list"),
            vec![],
            "{b}"
        );
    }
}
