//! Authentication against every configured database backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use wk_auth::{AuthError, AuthMethod, AuthOptions, AuthService, OrgRole, hash_password};
use wk_store::{NewUser, Store};

const T0: i64 = 1_800_000_000;

struct Fixture {
    auth: AuthService,
    clock: Arc<AtomicI64>,
    store: Store,
}

impl Fixture {
    fn new(store: Store, opts: AuthOptions) -> Self {
        let clock = Arc::new(AtomicI64::new(T0));
        let c = clock.clone();
        let auth = AuthService::with_clock(
            store.clone(),
            opts,
            Arc::new(move || c.load(Ordering::SeqCst)),
        );
        Self { auth, clock, store }
    }

    fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    async fn user(&self, login: &str, password: &str) -> wk_store::User {
        self.store
            .ensure_org(1, "Main Org.", T0)
            .await
            .expect("org");
        self.store
            .create_user(
                &NewUser {
                    login: login.into(),
                    email: format!("{login}@example.com"),
                    name: login.into(),
                    password_hash: hash_password(password).expect("hash"),
                    is_admin: false,
                    org_id: 1,
                    role: OrgRole::Editor,
                },
                T0,
            )
            .await
            .expect("user")
    }
}

fn opts() -> AuthOptions {
    AuthOptions {
        max_login_attempts: 3,
        lockout_window: Duration::from_secs(300),
        rotation_interval: Duration::from_secs(600),
        rotation_grace: Duration::from_secs(60),
        max_inactive_lifetime: Duration::from_secs(3600),
        max_lifetime: Duration::from_secs(86_400),
        ..AuthOptions::default()
    }
}

#[tokio::test]
async fn login_lockout_and_window() {
    for t in wk_store::testing::test_stores().await {
        let f = Fixture::new(t.store.clone(), opts());
        f.user("alice", "right-pw").await;
        let (user, _) = f
            .auth
            .login("ALICE", "right-pw", "1.2.3.4", "ua")
            .await
            .expect("login");
        assert_eq!(user.login, "alice", "{}", t.backend());
        for _ in 0..3 {
            let e = f
                .auth
                .login("alice", "wrong", "1.2.3.4", "ua")
                .await
                .unwrap_err();
            assert!(matches!(e, AuthError::InvalidCredentials), "{e}");
        }
        // Locked: even the right password is refused, and so is basic auth.
        let e = f
            .auth
            .login("alice", "right-pw", "1.2.3.4", "ua")
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::LockedOut), "{}: {e}", t.backend());
        let e = f
            .auth
            .authenticate_basic("alice", "right-pw", "1.2.3.4")
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::LockedOut), "{e}");
        // Unknown users are counted too, and do not reveal that they are unknown.
        let e = f
            .auth
            .login("nobody", "x", "1.2.3.4", "ua")
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::InvalidCredentials), "{e}");
        f.advance(301);
        f.auth
            .login("alice", "right-pw", "1.2.3.4", "ua")
            .await
            .expect("window passed");
    }
}

#[tokio::test]
async fn lockout_can_be_disabled() {
    for t in wk_store::testing::test_stores().await {
        let f = Fixture::new(
            t.store.clone(),
            AuthOptions {
                disable_brute_force_protection: true,
                ..opts()
            },
        );
        f.user("bob", "right-pw").await;
        for _ in 0..5 {
            assert!(f.auth.login("bob", "wrong", "ip", "ua").await.is_err());
        }
        f.auth
            .login("bob", "right-pw", "ip", "ua")
            .await
            .expect("no lockout");
    }
}

#[tokio::test]
async fn sessions_rotate_expire_and_revoke() {
    for t in wk_store::testing::test_stores().await {
        let f = Fixture::new(t.store.clone(), opts());
        f.user("carol", "pw-carol").await;
        let (_, token) = f
            .auth
            .login("carol", "pw-carol", "ip", "ua")
            .await
            .expect("login");
        let l = f.auth.lookup_session(&token.0).await.expect("valid");
        assert!(l.rotated.is_none());
        assert_eq!(l.user.login, "carol");

        // Rotation is due after the interval: a new token comes back, the old one lives on briefly.
        f.advance(601);
        let l = f
            .auth
            .lookup_session(&token.0)
            .await
            .expect("valid before rotation");
        let new = l.rotated.expect("rotated");
        assert_ne!(new.0, token.0);
        f.auth
            .lookup_session(&token.0)
            .await
            .expect("previous token while new one unseen");
        f.auth.lookup_session(&new.0).await.expect("new token");
        f.advance(61);
        let e = f.auth.lookup_session(&token.0).await.unwrap_err();
        assert!(
            matches!(e, AuthError::InvalidSession),
            "{}: {e}",
            t.backend()
        );
        f.auth
            .lookup_session(&new.0)
            .await
            .expect("new token still valid");

        // Inactivity.
        f.advance(3601);
        assert!(
            f.auth.lookup_session(&new.0).await.is_err(),
            "inactive session expires"
        );

        // Revocation.
        let (_, token) = f
            .auth
            .login("carol", "pw-carol", "ip", "ua")
            .await
            .expect("login");
        let l = f.auth.lookup_session(&token.0).await.expect("valid");
        f.auth.revoke_session(l.token_id).await.expect("revoke");
        assert!(f.auth.lookup_session(&token.0).await.is_err(), "revoked");
        assert!(f.auth.lookup_session("not-a-token").await.is_err());
    }
}

#[tokio::test]
async fn session_max_lifetime() {
    for t in wk_store::testing::test_stores().await {
        let o = AuthOptions {
            max_lifetime: Duration::from_secs(1000),
            rotation_interval: Duration::from_secs(100),
            ..opts()
        };
        let f = Fixture::new(t.store.clone(), o);
        f.user("dave", "pw-dave").await;
        let (_, mut token) = f
            .auth
            .login("dave", "pw-dave", "ip", "ua")
            .await
            .expect("login");
        for _ in 0..9 {
            f.advance(101);
            if let Some(r) = f
                .auth
                .lookup_session(&token.0)
                .await
                .expect("active")
                .rotated
            {
                token = r;
            }
        }
        f.advance(200);
        assert!(
            f.auth.lookup_session(&token.0).await.is_err(),
            "{}: past max lifetime",
            t.backend()
        );
    }
}

#[tokio::test]
async fn api_keys_and_identities() {
    for t in wk_store::testing::test_stores().await {
        let f = Fixture::new(t.store.clone(), opts());
        let user = f.user("erin", "pw-erin").await;
        let id = f
            .auth
            .identity_for_user(user, AuthMethod::Basic)
            .await
            .expect("identity");
        assert_eq!(id.role, OrgRole::Editor);
        assert!(id.has_role(OrgRole::Viewer) && !id.has_role(OrgRole::Admin));

        let created = f
            .auth
            .create_api_key(1, "ci", OrgRole::Viewer, Some(60))
            .await
            .expect("key");
        assert!(created.token.starts_with("wk_"));
        let id = f
            .auth
            .authenticate_api_key(&created.token)
            .await
            .expect("valid key");
        assert_eq!((id.org_id, id.role), (1, OrgRole::Viewer));
        assert!(id.user.is_none());
        assert!(f.auth.authenticate_api_key("wk_0000").await.is_err());
        assert!(
            f.auth
                .create_api_key(1, "ci", OrgRole::Viewer, None)
                .await
                .is_err(),
            "duplicate name"
        );
        assert!(
            f.auth
                .create_api_key(1, " ", OrgRole::Viewer, None)
                .await
                .is_err(),
            "empty name"
        );
        f.advance(61);
        assert!(
            f.auth.authenticate_api_key(&created.token).await.is_err(),
            "{}: expired",
            t.backend()
        );
    }
}

#[tokio::test]
async fn password_change() {
    for t in wk_store::testing::test_stores().await {
        let f = Fixture::new(t.store.clone(), opts());
        let user = f.user("fred", "old-pw").await;
        assert!(
            f.auth
                .change_password(&user, "bad", "new-pw")
                .await
                .is_err()
        );
        assert!(matches!(
            f.auth.change_password(&user, "old-pw", "ab").await,
            Err(AuthError::Invalid(_))
        ));
        f.auth
            .change_password(&user, "old-pw", "new-pw")
            .await
            .expect("change");
        assert!(f.auth.login("fred", "old-pw", "ip", "ua").await.is_err());
        f.auth
            .login("fred", "new-pw", "ip", "ua")
            .await
            .expect("new password works");
    }
}

#[tokio::test]
async fn api_key_cache_last_used_and_revocation() {
    for t in wk_store::testing::test_stores().await {
        let b = t.backend();
        let f = Fixture::new(t.store.clone(), opts());
        let created = f
            .auth
            .create_api_key(1, "ci", OrgRole::Editor, Some(1000))
            .await
            .expect("key");
        let last_used = || async { f.store.list_api_keys(1).await.expect("list")[0].last_used_at };
        f.auth
            .authenticate_api_key(&created.token)
            .await
            .expect("first use");
        assert_eq!(last_used().await, Some(T0), "{b}: first use is recorded");
        f.advance(30);
        f.auth
            .authenticate_api_key(&created.token)
            .await
            .expect("second use");
        assert_eq!(
            last_used().await,
            Some(T0),
            "{b}: not written again so soon"
        );
        f.advance(wk_auth::API_KEY_LAST_USED_INTERVAL_SECS);
        f.auth
            .authenticate_api_key(&created.token)
            .await
            .expect("later use");
        assert_eq!(
            last_used().await,
            Some(T0 + 30 + wk_auth::API_KEY_LAST_USED_INTERVAL_SECS),
            "{b}: written once the interval passed"
        );

        // Deleted behind the service's back (another instance): works until the TTL runs out.
        let id = f.store.list_api_keys(1).await.expect("list")[0].id;
        assert!(f.store.delete_api_key(1, id).await.expect("delete"));
        f.auth
            .authenticate_api_key(&created.token)
            .await
            .expect("cached within the TTL");
        f.advance(wk_auth::API_KEY_CACHE_TTL_SECS);
        assert!(
            f.auth.authenticate_api_key(&created.token).await.is_err(),
            "{b}: refused once the TTL ran out"
        );

        // Deleted through this service's owner: refused at once.
        let other = f
            .auth
            .create_api_key(1, "ci2", OrgRole::Viewer, None)
            .await
            .expect("key");
        f.auth
            .authenticate_api_key(&other.token)
            .await
            .expect("valid");
        assert!(
            f.store
                .delete_api_key(1, other.key.id)
                .await
                .expect("delete")
        );
        f.auth.forget_api_key(other.key.id);
        assert!(
            f.auth.authenticate_api_key(&other.token).await.is_err(),
            "{b}: forgotten at once"
        );

        // Expiry applies to cached lookups at once.
        let short = f
            .auth
            .create_api_key(1, "short", OrgRole::Viewer, Some(5))
            .await
            .expect("key");
        f.auth
            .authenticate_api_key(&short.token)
            .await
            .expect("valid");
        f.advance(5);
        assert!(
            f.auth.authenticate_api_key(&short.token).await.is_err(),
            "{b}: expired although cached"
        );
    }
}

#[tokio::test]
async fn basic_auth_verification_cache() {
    for t in wk_store::testing::test_stores().await {
        let b = t.backend();
        let f = Fixture::new(t.store.clone(), opts());
        let user = f.user("gina", "gina-pw").await;
        let runs = || f.auth.password_verifications();
        let n0 = runs();
        f.auth
            .authenticate_basic("gina", "gina-pw", "ip")
            .await
            .expect("first");
        assert_eq!(runs(), n0 + 1, "{b}: verified with argon2");
        f.auth
            .authenticate_basic("gina", "gina-pw", "ip")
            .await
            .expect("second");
        assert_eq!(runs(), n0 + 1, "{b}: second request served from the cache");

        // A wrong password never hits the cache.
        let e = f
            .auth
            .authenticate_basic("gina", "gina-pw2", "ip")
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::InvalidCredentials), "{b}: {e}");
        assert_eq!(runs(), n0 + 2, "{b}: wrong password verified with argon2");

        // The TTL ends the entry.
        f.advance(wk_auth::PASSWORD_CACHE_TTL_SECS);
        f.auth
            .authenticate_basic("gina", "gina-pw", "ip")
            .await
            .expect("after the TTL");
        assert_eq!(runs(), n0 + 3, "{b}: verified again after the TTL");

        // A password change (even on another instance, straight in the store) applies at once.
        f.store
            .set_user_password(user.id, &hash_password("gina-new").expect("hash"), T0)
            .await
            .expect("set password");
        let e = f
            .auth
            .authenticate_basic("gina", "gina-pw", "ip")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::InvalidCredentials),
            "{b}: old password refused at once: {e}"
        );
        f.auth
            .authenticate_basic("gina", "gina-new", "ip")
            .await
            .expect("new password");
        f.auth
            .authenticate_basic("gina", "gina-new", "ip")
            .await
            .expect("new password, cached");

        // The lockout still applies to cached credentials.
        for _ in 0..3 {
            let e = f
                .auth
                .authenticate_basic("gina", "wrong", "ip")
                .await
                .unwrap_err();
            assert!(matches!(e, AuthError::InvalidCredentials), "{e}");
        }
        let n = runs();
        let e = f
            .auth
            .authenticate_basic("gina", "gina-new", "ip")
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::LockedOut), "{b}: {e}");
        assert_eq!(runs(), n, "{b}: locked out before any verification");

        // A deleted user is refused at once.
        f.advance(301);
        f.auth
            .authenticate_basic("gina", "gina-new", "ip")
            .await
            .expect("window passed");
        f.store.delete_user(user.id).await.expect("delete user");
        assert!(
            f.auth
                .authenticate_basic("gina", "gina-new", "ip")
                .await
                .is_err(),
            "{b}: deleted user refused"
        );
    }
}
