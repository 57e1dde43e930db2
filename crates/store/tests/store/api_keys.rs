use wk_store::testing::test_stores;
use wk_store::{NewApiKey, OrgRole, StoreError};

use crate::T0;

fn key(org_id: i64, name: &str, hash: &str) -> NewApiKey {
    NewApiKey {
        org_id,
        name: name.to_owned(),
        key_hash: hash.to_owned(),
        role: OrgRole::Editor,
        expires: None,
    }
}

#[tokio::test]
async fn api_key_lifecycle() {
    for t in test_stores().await {
        let b = t.backend();
        t.ensure_org(1, "Main Org.", T0).await.expect("org");
        let two = t.create_org("Two", T0).await.expect("org");
        let mut nk = key(1, "deploy", "hash-a");
        nk.expires = Some(T0 + 3600);
        nk.role = OrgRole::Admin;
        let a = t.create_api_key(&nk, T0).await.expect("create");
        assert_eq!(
            (a.role, a.expires, a.last_used_at),
            (OrgRole::Admin, Some(T0 + 3600), None)
        );
        let c = t
            .create_api_key(&key(1, "ci", "hash-c"), T0)
            .await
            .expect("create");
        t.create_api_key(&key(two.id, "deploy", "hash-b"), T0)
            .await
            .expect("same name, other org");

        let err = t
            .create_api_key(&key(1, "deploy", "hash-x"), T0)
            .await
            .expect_err("dup name");
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err}");
        let err = t
            .create_api_key(&key(1, "other", "hash-a"), T0)
            .await
            .expect_err("dup hash");
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err}");

        assert_eq!(
            t.get_api_key_by_hash("hash-a").await.expect("get"),
            Some(a.clone()),
            "{b}"
        );
        assert_eq!(t.get_api_key_by_hash("missing").await.expect("get"), None);
        let names: Vec<_> = t
            .list_api_keys(1)
            .await
            .expect("list")
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(names, ["ci", "deploy"], "{b}");

        t.touch_api_key(a.id, T0 + 7).await.expect("touch");
        let used = t
            .get_api_key_by_hash("hash-a")
            .await
            .expect("get")
            .expect("key");
        assert_eq!(used.last_used_at, Some(T0 + 7), "{b}");

        assert!(
            !t.delete_api_key(two.id, c.id).await.expect("wrong org"),
            "{b}"
        );
        assert!(t.delete_api_key(1, c.id).await.expect("delete"));
        assert!(!t.delete_api_key(1, c.id).await.expect("delete again"));
        assert_eq!(t.list_api_keys(1).await.expect("list").len(), 1);
    }
}
