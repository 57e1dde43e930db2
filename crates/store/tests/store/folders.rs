use wk_store::StoreError;
use wk_store::testing::test_stores;

use crate::T0;

#[tokio::test]
async fn folders_create_rename_delete_with_unique_uid_and_title() {
    for t in test_stores().await {
        let b = t.backend();
        let f = t
            .create_folder(1, "f1", "Infra", None, T0)
            .await
            .expect("create");
        assert_eq!((f.uid.as_str(), f.version), ("f1", 1));
        t.create_folder(1, "f2", "Apps", None, T0)
            .await
            .expect("create");
        t.create_folder(2, "f1", "Infra", None, T0)
            .await
            .expect("other org");
        t.create_folder(1, "f3", "Infra", Some("f2"), T0)
            .await
            .expect("same title under another parent");
        assert!(
            matches!(
                t.create_folder(1, "f1", "Other", None, T0).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: duplicate uid"
        );
        assert!(
            matches!(
                t.create_folder(1, "f4", "Infra", None, T0).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: duplicate title"
        );

        let titles: Vec<_> = t
            .folders(1)
            .await
            .expect("list")
            .into_iter()
            .map(|f| f.title)
            .collect();
        assert_eq!(titles, ["Apps", "Infra", "Infra"], "{b}");

        assert!(
            matches!(
                t.rename_folder(1, "f2", "Infra", T0 + 1).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
        let renamed = t
            .rename_folder(1, "f2", "Applications", T0 + 1)
            .await
            .expect("rename")
            .expect("exists");
        assert_eq!(
            (renamed.title.as_str(), renamed.version, renamed.updated),
            ("Applications", 2, T0 + 1)
        );
        assert_eq!(t.folder(1, "f2").await.expect("get"), Some(renamed), "{b}");
        assert_eq!(
            t.rename_folder(1, "nope", "X", T0).await.expect("rename"),
            None
        );

        assert!(t.delete_folder(1, "f1").await.expect("delete"));
        assert!(!t.delete_folder(1, "f1").await.expect("delete again"));
        assert_eq!(t.folder(1, "f1").await.expect("get"), None);
        assert!(
            t.folder(2, "f1").await.expect("get").is_some(),
            "{b}: other org kept"
        );
    }
}
