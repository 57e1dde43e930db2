//! The authentication service: logins, sessions, basic auth, API tokens and password changes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use wk_store::{ApiKey, NewApiKey, NewAuthToken, OrgRole, Store, User};

use crate::cache::{
    API_KEY_CACHE_TTL_SECS, API_KEY_LAST_USED_INTERVAL_SECS, CachedApiKey, MAX_ENTRIES,
    PASSWORD_CACHE_TTL_SECS, PasswordCache, TtlMap,
};
use crate::password::{self, verify_against_dummy};
use crate::sessions::{SessionLookup, SessionToken};
use crate::token::{hash_token, random_token};
use crate::{AuthError, AuthMethod, AuthOptions, Identity, lockout};

/// Shortest password accepted when a password is set or changed.
const MIN_PASSWORD_LEN: usize = 4;
/// Random bytes in a session token.
const SESSION_TOKEN_BYTES: usize = 32;
/// Random bytes in an API token.
const API_TOKEN_BYTES: usize = 24;
/// Prefix of API tokens, so leaked ones are easy to recognise.
const API_TOKEN_PREFIX: &str = "wk_";

/// A clock returning unix seconds; replaceable in tests.
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// An API token just created: the stored row and the raw token, shown once.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    /// The stored token (hash only).
    pub key: ApiKey,
    /// The raw token for `Authorization: Bearer`.
    pub token: String,
}

/// Authenticates requests against the shared store.
#[derive(Clone)]
pub struct AuthService {
    store: Store,
    opts: Arc<AuthOptions>,
    clock: Clock,
    api_keys: Arc<TtlMap<String, CachedApiKey>>,
    passwords: Arc<PasswordCache>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// Current unix time in seconds (the unit every stored time uses).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl AuthService {
    /// Creates the service over a store.
    pub fn new(store: Store, opts: AuthOptions) -> Self {
        Self::with_clock(store, opts, Arc::new(unix_now))
    }

    /// Creates the service with its own clock (unix seconds), for tests of expiry.
    pub fn with_clock(store: Store, opts: AuthOptions, clock: Clock) -> Self {
        Self {
            store,
            opts: Arc::new(opts),
            clock,
            api_keys: Arc::new(TtlMap::new(API_KEY_CACHE_TTL_SECS, MAX_ENTRIES)),
            passwords: Arc::new(PasswordCache::new(PASSWORD_CACHE_TTL_SECS, MAX_ENTRIES)),
        }
    }

    /// Argon2 password verifications this service has run (cache misses), for tests and metrics.
    pub fn password_verifications(&self) -> u64 {
        self.passwords.verifications()
    }

    /// The options in force.
    pub fn options(&self) -> &AuthOptions {
        &self.opts
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Checks a login (or e-mail) and password, applying the lockout; returns the user. A
    /// successful verification is reused for the same credentials for
    /// `PASSWORD_CACHE_TTL_SECS` while the user's stored hash is unchanged.
    pub async fn check_password(
        &self,
        login: &str,
        password: &str,
        ip: &str,
    ) -> Result<User, AuthError> {
        let now = self.now();
        lockout::check(&self.store, &self.opts, login, now).await?;
        let user = self.store.get_user_by_login_or_email(login.trim()).await?;
        let ok = match &user {
            Some(u) if !u.is_disabled => {
                let key = self.passwords.key_of(login, password);
                if key.is_some_and(|k| self.passwords.hit(&k, &u.password_hash, now)) {
                    true
                } else {
                    self.passwords.count_verification();
                    let ok = verify_blocking(password, &u.password_hash).await;
                    if ok && let Some(k) = key {
                        self.passwords.remember(k, &u.password_hash, now);
                    }
                    ok
                }
            }
            _ => {
                let pw = password.to_owned();
                let _ = tokio::task::spawn_blocking(move || verify_against_dummy(&pw)).await;
                false
            }
        };
        match user {
            Some(u) if ok => {
                lockout::clear(&self.store, login).await?;
                Ok(u)
            }
            _ => {
                lockout::record_failure(&self.store, &self.opts, login, ip, now).await?;
                tracing::info!(login = %login.trim(), client_ip = %ip, "failed login attempt");
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Logs a user in with a password and opens a session.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<(User, SessionToken), AuthError> {
        let user = self.check_password(login, password, ip).await?;
        let token = self.create_session(user.id, ip, user_agent).await?;
        self.store.touch_user_seen(user.id, self.now()).await?;
        Ok((user, token))
    }

    /// Opens a new session for a user.
    pub async fn create_session(
        &self,
        user_id: i64,
        ip: &str,
        user_agent: &str,
    ) -> Result<SessionToken, AuthError> {
        let raw = random_token(SESSION_TOKEN_BYTES)?;
        let new = NewAuthToken {
            user_id,
            auth_token: hash_token(&raw),
            user_agent: truncate(user_agent, 190),
            client_ip: truncate(ip, 190),
        };
        self.store.create_auth_token(&new, self.now()).await?;
        Ok(SessionToken(raw))
    }

    /// Resolves a session cookie: checks revocation, lifetime and inactivity, accepts the previous
    /// token shortly after a rotation, and rotates the token when it is due.
    pub async fn lookup_session(&self, raw: &str) -> Result<SessionLookup, AuthError> {
        let now = self.now();
        let hashed = hash_token(raw);
        let token = self
            .store
            .get_auth_token(&hashed)
            .await?
            .ok_or(AuthError::InvalidSession)?;
        let max_lifetime = self.opts.max_lifetime.as_secs() as i64;
        let max_inactive = self.opts.max_inactive_lifetime.as_secs() as i64;
        let last_active = token.rotated_at.max(token.created_at);
        if token.revoked_at > 0
            || token.created_at <= now - max_lifetime
            || last_active <= now - max_inactive
        {
            return Err(AuthError::InvalidSession);
        }
        let is_current = token.auth_token == hashed;
        if !is_current {
            // The previous token: valid while the new one has not reached the client yet, or for a
            // short grace period for requests that were already in flight.
            let grace = self.opts.rotation_grace.as_secs() as i64;
            if token.auth_token_seen && now - token.rotated_at > grace {
                return Err(AuthError::InvalidSession);
            }
        } else if !token.auth_token_seen {
            self.store
                .mark_auth_token_seen(token.id, &hashed, now)
                .await?;
        }
        let user = match self.store.get_user(token.user_id).await? {
            Some(u) if !u.is_disabled => u,
            _ => return Err(AuthError::InvalidSession),
        };
        let mut rotated = None;
        let rotation = self.opts.rotation_interval.as_secs() as i64;
        if is_current && now - last_active >= rotation {
            let raw_new = random_token(SESSION_TOKEN_BYTES)?;
            // Conditional on the current hash: when instances race, exactly one rotates.
            if self
                .store
                .rotate_auth_token(token.id, &hashed, &hash_token(&raw_new), now)
                .await?
            {
                rotated = Some(SessionToken(raw_new));
            }
        }
        Ok(SessionLookup {
            user,
            token_id: token.id,
            rotated,
        })
    }

    /// Revokes one session (logout).
    pub async fn revoke_session(&self, token_id: i64) -> Result<(), AuthError> {
        self.store.revoke_auth_token(token_id, self.now()).await?;
        Ok(())
    }

    /// Builds the identity of a user acting in its current organization. A user whose current
    /// organization no longer has it as a member is moved to the first organization it belongs to.
    pub async fn identity_for_user(
        &self,
        user: User,
        method: AuthMethod,
    ) -> Result<Identity, AuthError> {
        let (org_id, role) = match self.store.get_org_role(user.org_id, user.id).await? {
            Some(role) => (user.org_id, role),
            None => match self.store.list_user_orgs(user.id).await?.into_iter().next() {
                Some(first) => {
                    self.store
                        .set_user_org(user.id, first.org_id, self.now())
                        .await?;
                    (first.org_id, first.role)
                }
                None if user.is_admin => (user.org_id, OrgRole::Viewer),
                None => {
                    return Err(AuthError::Invalid(
                        "user is not a member of any organization".into(),
                    ));
                }
            },
        };
        Ok(Identity {
            is_server_admin: user.is_admin,
            user: Some(user),
            org_id,
            role,
            method,
        })
    }

    /// Authenticates HTTP basic credentials.
    pub async fn authenticate_basic(
        &self,
        login: &str,
        password: &str,
        ip: &str,
    ) -> Result<Identity, AuthError> {
        let user = self.check_password(login, password, ip).await?;
        self.identity_for_user(user, AuthMethod::Basic).await
    }

    /// Authenticates an API token. A successful lookup is reused for `API_KEY_CACHE_TTL_SECS`
    /// (so a token deleted on another instance stops working within that time; expiry is checked
    /// on every use), and `last_used_at` is written only when the known value is older than
    /// `API_KEY_LAST_USED_INTERVAL_SECS`, as Grafana does.
    pub async fn authenticate_api_key(&self, raw: &str) -> Result<Identity, AuthError> {
        if !raw.starts_with(API_TOKEN_PREFIX) {
            return Err(AuthError::InvalidApiKey);
        }
        let hashed = hash_token(raw);
        let now = self.now();
        let key = match self.api_keys.get(&hashed, now) {
            Some(k) => k,
            None => {
                let k = self
                    .store
                    .get_api_key_by_hash(&hashed)
                    .await?
                    .ok_or(AuthError::InvalidApiKey)?;
                let cached = CachedApiKey {
                    id: k.id,
                    org_id: k.org_id,
                    role: k.role,
                    expires: k.expires,
                    last_used_at: k.last_used_at,
                };
                self.api_keys.insert(hashed.clone(), cached.clone(), now);
                cached
            }
        };
        if key.expires.is_some_and(|e| e <= now) {
            return Err(AuthError::InvalidApiKey);
        }
        if key
            .last_used_at
            .is_none_or(|t| now - t >= API_KEY_LAST_USED_INTERVAL_SECS)
        {
            self.store.touch_api_key(key.id, now).await?;
            self.api_keys
                .update(&hashed, |k| k.last_used_at = Some(now));
        }
        Ok(Identity {
            user: None,
            org_id: key.org_id,
            role: key.role,
            is_server_admin: false,
            method: AuthMethod::ApiKey { key_id: key.id },
        })
    }

    /// Forgets the cached lookups of API token `key_id` (call after deleting it), so this
    /// instance refuses it at once.
    pub fn forget_api_key(&self, key_id: i64) {
        self.api_keys.remove_where(|k| k.id == key_id);
    }

    /// Creates an API token for an organization; `seconds_to_live` of `None` or 0 means no expiry
    /// (refused when a maximum lifetime is configured).
    pub async fn create_api_key(
        &self,
        org_id: i64,
        name: &str,
        role: OrgRole,
        seconds_to_live: Option<i64>,
    ) -> Result<CreatedApiKey, AuthError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AuthError::Invalid("name: must not be empty".into()));
        }
        let ttl = seconds_to_live.filter(|s| *s != 0);
        if let Some(s) = ttl
            && s < 0
        {
            return Err(AuthError::Invalid(format!(
                "secondsToLive: must not be negative, got {s}"
            )));
        }
        if let Some(max) = self.opts.api_key_max_ttl {
            match ttl {
                None => {
                    return Err(AuthError::Invalid(format!(
                        "secondsToLive: required, at most {}",
                        max.as_secs()
                    )));
                }
                Some(s) if s as u64 > max.as_secs() => {
                    return Err(AuthError::Invalid(format!(
                        "secondsToLive: {s} exceeds the maximum of {}",
                        max.as_secs()
                    )));
                }
                Some(_) => {}
            }
        }
        let token = format!("{API_TOKEN_PREFIX}{}", random_token(API_TOKEN_BYTES)?);
        let now = self.now();
        let key = self
            .store
            .create_api_key(
                &NewApiKey {
                    org_id,
                    name: name.to_owned(),
                    key_hash: hash_token(&token),
                    role,
                    expires: ttl.map(|s| now + s),
                },
                now,
            )
            .await?;
        Ok(CreatedApiKey { key, token })
    }

    /// Changes a user's own password after checking the old one.
    pub async fn change_password(
        &self,
        user: &User,
        old: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        if !verify_blocking(old, &user.password_hash).await {
            return Err(AuthError::InvalidCredentials);
        }
        self.set_password(user.id, new).await
    }

    /// Sets a user's password (admin reset or own change) after checking its length.
    pub async fn set_password(&self, user_id: i64, new: &str) -> Result<(), AuthError> {
        let hash = hash_blocking(new).await?;
        self.store
            .set_user_password(user_id, &hash, self.now())
            .await?;
        Ok(())
    }

    /// Removes expired sessions and old failed-login records.
    pub async fn cleanup(&self) -> Result<(u64, u64), AuthError> {
        let now = self.now();
        let sessions = self
            .store
            .delete_expired_auth_tokens(
                now - self.opts.max_lifetime.as_secs() as i64,
                now - self.opts.max_inactive_lifetime.as_secs() as i64,
            )
            .await?;
        let attempts = self
            .store
            .delete_login_attempts_before(now - self.opts.lockout_window.as_secs() as i64)
            .await?;
        Ok((sessions, attempts))
    }
}

/// Hashes a new password off the async runtime, after checking its length.
pub(crate) async fn hash_blocking(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::Invalid(format!(
            "password: must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash_password(&pw))
        .await
        .map_err(|e| AuthError::Hashing(e.to_string()))?
}

async fn verify_blocking(password: &str, hash: &str) -> bool {
    let (pw, h) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || password::verify_password(&pw, &h))
        .await
        .unwrap_or(false)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Hashes a password for a new account, checking its length; runs off the async runtime.
pub async fn hash_new_password(password: &str) -> Result<String, AuthError> {
    hash_blocking(password).await
}
