use wk_store::testing::test_stores;
use wk_store::{OrgRole, StoreError};

use crate::{T0, user};

#[tokio::test]
async fn membership_lifecycle() {
    for t in test_stores().await {
        let b = t.backend();
        let alice = user(&t, "alice").await;
        let bob = user(&t, "Bob").await;
        let other = t.create_org("Beta", T0).await.expect("org");

        t.add_org_user(other.id, alice.id, OrgRole::Admin, T0)
            .await
            .expect("add");
        let err = t
            .add_org_user(other.id, alice.id, OrgRole::Viewer, T0)
            .await
            .expect_err("dup");
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err}");
        let err = t
            .add_org_user(999, alice.id, OrgRole::Viewer, T0)
            .await
            .expect_err("org");
        assert!(matches!(err, StoreError::NotFound(_)), "{b}: {err}");
        let err = t
            .add_org_user(other.id, 999, OrgRole::Viewer, T0)
            .await
            .expect_err("user");
        assert!(matches!(err, StoreError::NotFound(_)), "{b}: {err}");

        assert_eq!(
            t.get_org_role(other.id, alice.id).await.expect("role"),
            Some(OrgRole::Admin)
        );
        assert_eq!(t.get_org_role(other.id, bob.id).await.expect("role"), None);
        assert_eq!(t.count_org_admins(other.id).await.expect("count"), 1);
        assert_eq!(t.count_org_admins(1).await.expect("count"), 0);

        assert!(
            t.set_org_user_role(1, bob.id, OrgRole::Admin, T0)
                .await
                .expect("role")
        );
        assert!(
            !t.set_org_user_role(other.id, bob.id, OrgRole::Admin, T0)
                .await
                .expect("none")
        );
        assert_eq!(t.count_org_admins(1).await.expect("count"), 1, "{b}");

        t.touch_user_seen(bob.id, T0 + 9).await.expect("seen");
        let members = t.list_org_users(1).await.expect("members");
        let summary: Vec<_> = members
            .iter()
            .map(|m| (m.login.as_str(), m.role, m.last_seen_at))
            .collect();
        assert_eq!(
            summary,
            [
                ("alice", OrgRole::Viewer, 0),
                ("Bob", OrgRole::Admin, T0 + 9)
            ],
            "{b}"
        );
        assert_eq!(members[1].email, "Bob@example.com");
        assert_eq!((members[1].org_id, members[1].user_id), (1, bob.id));

        let orgs = t.list_user_orgs(alice.id).await.expect("orgs");
        let names: Vec<_> = orgs.iter().map(|o| (o.name.as_str(), o.role)).collect();
        assert_eq!(
            names,
            [("Beta", OrgRole::Admin), ("Main Org.", OrgRole::Viewer)],
            "{b}"
        );

        // Removing the current org moves the user to a remaining one.
        assert!(t.remove_org_user(1, alice.id).await.expect("remove"));
        assert!(!t.remove_org_user(1, alice.id).await.expect("remove again"));
        let a = t.get_user(alice.id).await.expect("get").expect("alice");
        assert_eq!(a.org_id, other.id, "{b}");
        assert!(t.remove_org_user(other.id, alice.id).await.expect("remove"));
        let a = t.get_user(alice.id).await.expect("get").expect("alice");
        assert_eq!(a.org_id, 0, "{b}: no org left");
    }
}
