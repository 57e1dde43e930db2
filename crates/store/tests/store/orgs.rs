use wk_store::StoreError;
use wk_store::testing::test_stores;

use crate::T0;

#[tokio::test]
async fn ensure_org_is_idempotent_and_keeps_sequence_usable() {
    for t in test_stores().await {
        let b = t.backend();
        let org = t.ensure_org(1, "Main Org.", T0).await.expect("ensure");
        assert_eq!(
            (org.id, org.name.as_str(), org.created),
            (1, "Main Org.", T0),
            "{b}"
        );
        let again = t
            .ensure_org(1, "Renamed", T0 + 5)
            .await
            .expect("ensure again");
        assert_eq!(again, org, "{b}: existing org is returned unchanged");

        // The serial sequence must have moved past the explicit id.
        let second = t
            .create_org("Second", T0)
            .await
            .expect("create after ensure");
        assert!(second.id > 1, "{b}");

        // The name belongs to org 1: ensuring another id with it is a conflict.
        let err = t
            .ensure_org(7, "Main Org.", T0)
            .await
            .expect_err("name taken");
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_org_concurrently() {
    for t in test_stores().await {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = t.store.clone();
            tasks.push(tokio::spawn(async move {
                store.ensure_org(1, "Main Org.", T0).await
            }));
        }
        for task in tasks {
            let org = task.await.expect("join").expect("ensure_org");
            assert_eq!(org.id, 1);
        }
        assert_eq!(
            t.list_orgs().await.expect("list").len(),
            1,
            "{}",
            t.backend()
        );
    }
}

#[tokio::test]
async fn create_get_list_orgs() {
    for t in test_stores().await {
        let b = t.backend();
        let a = t.create_org("Alpha", T0).await.expect("create");
        let z = t.create_org("Zulu", T0 + 1).await.expect("create");
        assert_ne!(a.id, z.id);
        assert_eq!(t.get_org(a.id).await.expect("get"), Some(a.clone()), "{b}");
        assert_eq!(t.get_org(9999).await.expect("get"), None, "{b}");
        assert_eq!(t.list_orgs().await.expect("list"), vec![a, z], "{b}");

        let err = t.create_org("Alpha", T0).await.expect_err("duplicate");
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err}");
        let err = t.create_org("", T0).await.expect_err("empty");
        assert!(matches!(err, StoreError::InvalidArgument(_)), "{b}: {err}");
        let err = t
            .create_org(&"x".repeat(191), T0)
            .await
            .expect_err("too long");
        assert!(matches!(err, StoreError::InvalidArgument(_)), "{b}: {err}");
        // 190 multi-byte characters fit.
        t.create_org(&"é".repeat(190), T0).await.expect("190 chars");
    }
}
