use wk_store::NewAuthToken;
use wk_store::testing::test_stores;

use crate::{T0, user};

fn token(user_id: i64, hash: &str) -> NewAuthToken {
    NewAuthToken {
        user_id,
        auth_token: hash.to_owned(),
        user_agent: "Mozilla/5.0 ".repeat(40),
        client_ip: "2001:db8::1".to_owned(),
    }
}

#[tokio::test]
async fn create_lookup_seen_rotate_revoke() {
    for t in test_stores().await {
        let b = t.backend();
        let u = user(&t, "alice").await;
        let created = t
            .create_auth_token(&token(u.id, "h1"), T0)
            .await
            .expect("create");
        assert_eq!(created.prev_auth_token, "h1");
        assert_eq!(
            (
                created.rotated_at,
                created.revoked_at,
                created.auth_token_seen
            ),
            (T0, 0, false)
        );
        assert_eq!(
            t.get_auth_token("h1").await.expect("get"),
            Some(created.clone()),
            "{b}"
        );
        assert_eq!(
            t.get_auth_token_by_id(created.id).await.expect("get"),
            Some(created.clone())
        );
        assert_eq!(t.get_auth_token("nope").await.expect("get"), None);
        assert_eq!(t.get_auth_token_by_id(999).await.expect("get"), None);
        assert!(
            t.create_auth_token(&token(u.id, "h1"), T0).await.is_err(),
            "{b}: duplicate hash"
        );

        t.mark_auth_token_seen(created.id, "wrong", T0 + 1)
            .await
            .expect("seen");
        assert!(
            !t.get_auth_token("h1")
                .await
                .expect("get")
                .expect("tok")
                .auth_token_seen
        );
        t.mark_auth_token_seen(created.id, "h1", T0 + 2)
            .await
            .expect("seen");
        let seen = t.get_auth_token("h1").await.expect("get").expect("tok");
        assert!(seen.auth_token_seen, "{b}");
        assert_eq!(seen.seen_at, T0 + 2);

        assert!(
            !t.rotate_auth_token(created.id, "stale", "h2", T0 + 3)
                .await
                .expect("rotate")
        );
        assert!(
            t.rotate_auth_token(created.id, "h1", "h2", T0 + 3)
                .await
                .expect("rotate"),
            "{b}"
        );
        let rotated = t.get_auth_token("h2").await.expect("get").expect("tok");
        assert_eq!(
            (
                rotated.auth_token.as_str(),
                rotated.prev_auth_token.as_str()
            ),
            ("h2", "h1"),
            "{b}"
        );
        assert!(!rotated.auth_token_seen);
        assert_eq!(rotated.rotated_at, T0 + 3);
        let by_prev = t
            .get_auth_token("h1")
            .await
            .expect("get")
            .expect("prev still valid");
        assert_eq!(by_prev.id, created.id);

        assert!(
            t.revoke_auth_token(created.id, T0 + 4)
                .await
                .expect("revoke")
        );
        assert!(
            !t.revoke_auth_token(created.id, T0 + 5)
                .await
                .expect("revoke again"),
            "{b}"
        );
        assert_eq!(
            t.get_auth_token("h2")
                .await
                .expect("get")
                .expect("tok")
                .revoked_at,
            T0 + 4
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_race_has_one_winner() {
    for t in test_stores().await {
        let u = user(&t, "racer").await;
        for round in 0..5 {
            let current = format!("r{round}");
            let tok = t
                .create_auth_token(&token(u.id, &current), T0)
                .await
                .expect("create");
            let mut tasks = Vec::new();
            for i in 0..2 {
                let (store, current) = (t.store.clone(), current.clone());
                let new = format!("r{round}-new{i}");
                tasks.push(tokio::spawn(async move {
                    store
                        .rotate_auth_token(tok.id, &current, &new, T0 + 1)
                        .await
                }));
            }
            let mut wins = 0;
            for task in tasks {
                wins += usize::from(task.await.expect("join").expect("rotate"));
            }
            assert_eq!(wins, 1, "{}: round {round}", t.backend());
        }
    }
}

#[tokio::test]
async fn bulk_revoke_and_expiry() {
    for t in test_stores().await {
        let b = t.backend();
        let a = user(&t, "a").await;
        let other = user(&t, "b").await;
        for (i, when) in [T0, T0 + 10, T0 + 20].into_iter().enumerate() {
            t.create_auth_token(&token(a.id, &format!("a{i}")), when)
                .await
                .expect("create");
        }
        t.create_auth_token(&token(other.id, "b0"), T0)
            .await
            .expect("create");
        let first = t.get_auth_token("a0").await.expect("get").expect("a0");
        t.revoke_auth_token(first.id, T0 + 30)
            .await
            .expect("revoke one");
        assert_eq!(
            t.revoke_user_auth_tokens(a.id, T0 + 31)
                .await
                .expect("revoke all"),
            2,
            "{b}"
        );
        assert_eq!(
            t.revoke_user_auth_tokens(a.id, T0 + 32)
                .await
                .expect("again"),
            0,
            "{b}"
        );
        assert_eq!(
            t.get_auth_token("b0")
                .await
                .expect("get")
                .expect("b0")
                .revoked_at,
            0
        );

        // Created before T0+5 (a0, b0) or rotated before T0+15 (also a1).
        assert_eq!(
            t.delete_expired_auth_tokens(T0 + 5, T0 + 15)
                .await
                .expect("gc"),
            3,
            "{b}"
        );
        assert!(t.get_auth_token("a2").await.expect("get").is_some());
        assert!(t.get_auth_token("a1").await.expect("get").is_none());
    }
}
