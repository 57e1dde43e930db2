use wk_store::testing::test_stores;

use crate::T0;

#[tokio::test]
async fn alert_configuration_history_latest_and_delete() {
    for t in test_stores().await {
        let b = t.backend();
        assert_eq!(t.latest_alert_configuration(1).await.expect("latest"), None);
        assert!(
            t.list_alert_configuration_history(1, 10)
                .await
                .expect("history")
                .is_empty()
        );

        let big = "x".repeat(200_000);
        let id1 = t
            .save_alert_configuration(1, "{\"a\":1}", "hash1", true, T0)
            .await
            .expect("save 1");
        let id2 = t
            .save_alert_configuration(1, &big, "hash2", false, T0 + 1)
            .await
            .expect("save 2");
        let other = t
            .save_alert_configuration(2, "{\"org\":2}", "hash3", false, T0 + 2)
            .await
            .expect("save org 2");
        assert!(id2 > id1 && other > id2, "{b}");

        let latest = t
            .latest_alert_configuration(1)
            .await
            .expect("latest")
            .expect("some");
        assert_eq!(latest.id, id2, "{b}");
        assert_eq!(latest.org_id, 1);
        assert_eq!(latest.alertmanager_configuration, big, "{b}");
        assert_eq!(latest.configuration_hash, "hash2");
        assert_eq!(latest.configuration_version, "v1");
        assert_eq!(latest.created_at, T0 + 1);
        assert!(!latest.is_default, "{b}");

        let history = t
            .list_alert_configuration_history(1, 10)
            .await
            .expect("history");
        assert_eq!(
            history.iter().map(|c| c.id).collect::<Vec<_>>(),
            [id2, id1],
            "{b}"
        );
        assert!(history[1].is_default, "{b}");
        assert_eq!(history[1].alertmanager_configuration, "{\"a\":1}");
        let limited = t
            .list_alert_configuration_history(1, 1)
            .await
            .expect("history");
        assert_eq!(limited.len(), 1);
        assert_eq!(limited[0].id, id2);

        assert_eq!(t.delete_alert_configurations(1).await.expect("delete"), 2);
        assert_eq!(t.latest_alert_configuration(1).await.expect("latest"), None);
        assert_eq!(
            t.latest_alert_configuration(2)
                .await
                .expect("latest")
                .expect("org 2 kept")
                .id,
            other,
            "{b}"
        );
    }
}
