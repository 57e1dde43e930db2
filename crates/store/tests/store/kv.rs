use wk_store::KvEntry;
use wk_store::testing::test_stores;

use crate::T0;

#[tokio::test]
async fn kv_set_get_overwrite_delete_list() {
    for t in test_stores().await {
        let b = t.backend();
        assert_eq!(
            t.kv_get(1, "alertmanager", "silences").await.expect("get"),
            None
        );
        t.kv_set(1, "alertmanager", "silences", "v1", T0)
            .await
            .expect("set");
        t.kv_set(1, "alertmanager", "silences", "v2", T0 + 1)
            .await
            .expect("overwrite");
        let entry = KvEntry {
            value: "v2".into(),
            updated: T0 + 1,
        };
        assert_eq!(
            t.kv_get(1, "alertmanager", "silences").await.expect("get"),
            Some(entry.clone()),
            "{b}"
        );
        // Keys are case-sensitive on every backend (MySQL included: binary collation).
        t.kv_set(1, "alertmanager", "Silences", "other", T0)
            .await
            .expect("set");
        t.kv_set(1, "alertmanager", "notifications", "n", T0)
            .await
            .expect("set");
        t.kv_set(2, "alertmanager", "silences", "org2", T0)
            .await
            .expect("set");
        t.kv_set(1, "other", "silences", "ns", T0)
            .await
            .expect("set");

        let keys: Vec<_> = t
            .kv_list(1, "alertmanager")
            .await
            .expect("list")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["Silences", "notifications", "silences"], "{b}");
        assert_eq!(
            t.kv_get(2, "alertmanager", "silences")
                .await
                .expect("get")
                .expect("org2")
                .value,
            "org2"
        );

        assert!(
            t.kv_delete(1, "alertmanager", "silences")
                .await
                .expect("delete")
        );
        assert!(
            !t.kv_delete(1, "alertmanager", "silences")
                .await
                .expect("delete again"),
            "{b}"
        );
        assert_eq!(
            t.kv_get(1, "alertmanager", "silences").await.expect("get"),
            None
        );
        assert!(
            t.kv_set(1, "", "k", "v", T0).await.is_err(),
            "{b}: empty namespace"
        );
    }
}

#[tokio::test]
async fn kv_large_value() {
    for t in test_stores().await {
        // 2 MiB of base64-like text, like an Alertmanager snapshot.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let big: String = (0..2 * 1024 * 1024)
            .map(|i| alphabet[(i * 7 + i / 64) % 64] as char)
            .collect();
        t.kv_set(1, "alertmanager", "snapshot", &big, T0)
            .await
            .expect("set 2 MiB");
        let got = t
            .kv_get(1, "alertmanager", "snapshot")
            .await
            .expect("get")
            .expect("entry");
        assert_eq!(got.value.len(), big.len(), "{}", t.backend());
        assert!(got.value == big, "{}: value round-trips", t.backend());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_concurrent_upserts() {
    for t in test_stores().await {
        let mut tasks = Vec::new();
        for i in 0..8_i64 {
            let store = t.store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .kv_set(1, "ns", "shared", &format!("writer-{i}"), T0 + i)
                    .await
            }));
        }
        for task in tasks {
            task.await.expect("join").expect("kv_set");
        }
        let got = t
            .kv_get(1, "ns", "shared")
            .await
            .expect("get")
            .expect("entry");
        assert!(got.value.starts_with("writer-"), "{}", t.backend());
        assert_eq!(t.kv_list(1, "ns").await.expect("list").len(), 1);
    }
}
