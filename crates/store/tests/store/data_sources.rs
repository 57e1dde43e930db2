use wk_store::testing::test_stores;
use wk_store::{DataSource, StoreError};

use crate::T0;

fn ds(uid: &str, name: &str) -> DataSource {
    DataSource {
        id: 0,
        org_id: 1,
        uid: uid.to_owned(),
        name: name.to_owned(),
        kind: "prometheus".to_owned(),
        access: "proxy".to_owned(),
        url: "http://127.0.0.1:9090".to_owned(),
        basic_auth: true,
        basic_auth_user: "u".to_owned(),
        is_default: false,
        read_only: false,
        json_data: r#"{"httpMethod":"POST"}"#.to_owned(),
        secure_json_data: r#"{"basicAuthPassword":"enc"}"#.to_owned(),
        version: 0,
        created: 0,
        updated: 0,
    }
}

#[tokio::test]
async fn data_sources_round_trip_and_conflicts() {
    for t in test_stores().await {
        let b = t.backend();
        let created = t
            .create_data_source(&ds("p1", "Prom"), T0)
            .await
            .expect("create");
        assert!(created.id > 0);
        assert_eq!(
            t.data_source(1, "p1").await.expect("get"),
            Some(created.clone()),
            "{b}"
        );
        assert_eq!(
            t.data_source_by_name(1, "Prom").await.expect("get"),
            Some(created.clone())
        );
        assert!(
            matches!(
                t.create_data_source(&ds("p1", "Other"), T0).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
        assert!(
            matches!(
                t.create_data_source(&ds("p2", "Prom"), T0).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
        t.create_data_source(&ds("a0", "Another"), T0)
            .await
            .expect("create");

        let mut changed = created.clone();
        changed.url = "http://prom:9090".into();
        changed.is_default = true;
        let updated = t
            .update_data_source(&changed, T0 + 5)
            .await
            .expect("update")
            .expect("exists");
        assert_eq!(
            (
                updated.url.as_str(),
                updated.version,
                updated.updated,
                updated.is_default
            ),
            ("http://prom:9090", 2, T0 + 5, true),
            "{b}"
        );
        changed.name = "Another".into();
        assert!(
            matches!(
                t.update_data_source(&changed, T0).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
        let mut missing = ds("zz", "Z");
        missing.org_id = 1;
        assert_eq!(
            t.update_data_source(&missing, T0).await.expect("update"),
            None
        );

        let names: Vec<_> = t
            .data_sources(1)
            .await
            .expect("list")
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["Another", "Prom"], "{b}");
        assert!(t.delete_data_source(1, "p1").await.expect("delete"));
        assert!(!t.delete_data_source(1, "p1").await.expect("delete"));
    }
}
