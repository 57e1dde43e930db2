use wk_store::testing::test_stores;
use wk_store::{NewAuthToken, OrgRole, StoreError};

use crate::{T0, new_user, user};

#[tokio::test]
async fn create_and_get_users() {
    for t in test_stores().await {
        let b = t.backend();
        t.ensure_org(1, "Main Org.", T0).await.expect("org");
        let mut nu = new_user("Alice", 1, OrgRole::Editor);
        nu.is_admin = true;
        let alice = t.create_user(&nu, T0).await.expect("create");
        assert_eq!(alice.login, "Alice", "{b}: original spelling kept");
        assert_eq!(alice.email, "Alice@example.com");
        assert!(alice.is_admin && !alice.is_disabled);
        assert_eq!(
            (alice.org_id, alice.created, alice.last_seen_at),
            (1, T0, 0)
        );
        assert_eq!(
            t.get_user(alice.id).await.expect("get"),
            Some(alice.clone()),
            "{b}"
        );
        assert_eq!(t.get_user(424242).await.expect("get"), None);
        assert_eq!(
            t.get_org_role(1, alice.id).await.expect("role"),
            Some(OrgRole::Editor),
            "{b}: membership created with the user"
        );

        for key in ["alice", "ALICE", "alice@EXAMPLE.com", "Alice@example.com"] {
            let found = t.get_user_by_login_or_email(key).await.expect("lookup");
            assert_eq!(found.map(|u| u.id), Some(alice.id), "{b}: lookup {key}");
        }
        assert_eq!(
            t.get_user_by_login_or_email("nobody")
                .await
                .expect("lookup"),
            None
        );

        let bob = t
            .create_user(&new_user("bob", 1, OrgRole::Viewer), T0)
            .await
            .expect("bob");
        let logins: Vec<_> = t
            .list_users()
            .await
            .expect("list")
            .into_iter()
            .map(|u| u.login)
            .collect();
        assert_eq!(
            logins,
            ["Alice", "bob"],
            "{b}: listed by login, ignoring case"
        );
        assert!(
            !format!("{bob:?}").contains("argon2"),
            "Debug hides the password hash"
        );
    }
}

#[tokio::test]
async fn user_conflicts_and_defaults() {
    for t in test_stores().await {
        let b = t.backend();
        let alice = user(&t, "alice").await;
        let conflict = |r: Result<_, StoreError>, what: &str| match r {
            Err(StoreError::Conflict(_)) => {}
            other => panic!("{b}: {what}: expected conflict, got {other:?}"),
        };
        conflict(
            t.create_user(&new_user("ALICE", 1, OrgRole::Viewer), T0)
                .await,
            "login case",
        );
        let mut nu = new_user("other", 1, OrgRole::Viewer);
        nu.email = "ALICE@example.com".into();
        conflict(t.create_user(&nu, T0).await, "email case");
        nu.email = "alice".into();
        conflict(t.create_user(&nu, T0).await, "email equals a login");
        let mut nu = new_user("alice@example.com", 1, OrgRole::Viewer);
        nu.email = "fresh@example.com".into();
        conflict(t.create_user(&nu, T0).await, "login equals an email");
        assert_eq!(
            t.list_users().await.expect("list").len(),
            1,
            "{b}: nothing half-created"
        );

        let mut no_email = new_user("carol", 1, OrgRole::Viewer);
        no_email.email = String::new();
        let carol = t.create_user(&no_email, T0).await.expect("no email");
        assert_eq!(carol.email, "carol", "{b}: email defaults to login");

        let err = t
            .create_user(&new_user("dave", 99, OrgRole::Viewer), T0)
            .await
            .expect_err("org");
        assert!(matches!(err, StoreError::NotFound(_)), "{b}: {err}");
        let mut empty = new_user("", 1, OrgRole::Viewer);
        empty.email = String::new();
        let err = t.create_user(&empty, T0).await.expect_err("empty");
        assert!(matches!(err, StoreError::InvalidArgument(_)), "{b}: {err}");
        let _ = alice;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_user_once_under_concurrency() {
    for t in test_stores().await {
        t.ensure_org(1, "Main Org.", T0).await.expect("org");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = t.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut admin = new_user("admin", 1, OrgRole::Admin);
                admin.is_admin = true;
                store.ensure_user(&admin, T0).await
            }));
        }
        let mut created = 0;
        let mut ids = Vec::new();
        for task in tasks {
            let (u, c) = task.await.expect("join").expect("ensure_user");
            created += usize::from(c);
            ids.push(u.id);
        }
        ids.dedup();
        assert_eq!((created, ids.len()), (1, 1), "{}", t.backend());
        let (again, c) = t
            .ensure_user(&new_user("ADMIN", 1, OrgRole::Admin), T0)
            .await
            .expect("again");
        assert!(!c && again.is_admin);
    }
}

#[tokio::test]
async fn update_and_delete_users() {
    for t in test_stores().await {
        let b = t.backend();
        let u = user(&t, "erin").await;
        assert!(
            t.set_user_password(u.id, "new-hash", T0 + 1)
                .await
                .expect("pw")
        );
        assert!(
            t.set_user_password(u.id, "new-hash", T0 + 2)
                .await
                .expect("same pw"),
            "{b}"
        );
        assert!(!t.set_user_password(999, "x", T0).await.expect("pw"));
        assert!(t.set_user_admin(u.id, true, T0 + 3).await.expect("admin"));
        assert!(!t.set_user_admin(999, true, T0).await.expect("admin"));
        t.touch_user_seen(u.id, T0 + 4).await.expect("seen");

        let other = t.create_org("Other", T0).await.expect("org");
        assert!(
            !t.set_user_org(u.id, other.id, T0)
                .await
                .expect("not a member"),
            "{b}"
        );
        t.add_org_user(other.id, u.id, OrgRole::Admin, T0)
            .await
            .expect("join");
        assert!(
            t.set_user_org(u.id, other.id, T0 + 5)
                .await
                .expect("switch")
        );

        let got = t.get_user(u.id).await.expect("get").expect("exists");
        assert_eq!(got.password_hash, "new-hash");
        assert!(got.is_admin);
        assert_eq!(
            (got.last_seen_at, got.org_id, got.updated),
            (T0 + 4, other.id, T0 + 5),
            "{b}"
        );

        let token = NewAuthToken {
            user_id: u.id,
            auth_token: "tok".into(),
            user_agent: "ua".into(),
            client_ip: "1.2.3.4".into(),
        };
        t.create_auth_token(&token, T0).await.expect("token");
        assert!(t.delete_user(u.id).await.expect("delete"));
        assert!(!t.delete_user(u.id).await.expect("delete again"));
        assert_eq!(t.get_user(u.id).await.expect("get"), None);
        assert!(
            t.list_user_orgs(u.id).await.expect("orgs").is_empty(),
            "{b}"
        );
        assert_eq!(t.get_auth_token("tok").await.expect("token"), None, "{b}");
        // Login and email are free again.
        user(&t, "erin").await;
    }
}
