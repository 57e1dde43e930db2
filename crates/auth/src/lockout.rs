//! Brute-force protection: failed logins are counted per user name in the shared database, so a
//! lockout holds on every instance.

use wk_store::Store;

use crate::{AuthError, AuthOptions};

/// The name failed attempts are counted under (case-insensitive, like logins).
pub(crate) fn attempt_key(login: &str) -> String {
    login.trim().to_lowercase()
}

/// Fails with `LockedOut` when `login` has reached the failed-attempt limit within the window.
pub(crate) async fn check(
    store: &Store,
    opts: &AuthOptions,
    login: &str,
    now: i64,
) -> Result<(), AuthError> {
    if opts.disable_brute_force_protection || opts.max_login_attempts == 0 {
        return Ok(());
    }
    let since = now - opts.lockout_window.as_secs() as i64;
    let failures = store
        .count_login_attempts(&attempt_key(login), since)
        .await?;
    if failures >= i64::from(opts.max_login_attempts) {
        return Err(AuthError::LockedOut);
    }
    Ok(())
}

/// Records one failed attempt.
pub(crate) async fn record_failure(
    store: &Store,
    opts: &AuthOptions,
    login: &str,
    ip: &str,
    now: i64,
) -> Result<(), AuthError> {
    if opts.disable_brute_force_protection {
        return Ok(());
    }
    store
        .record_login_attempt(&attempt_key(login), ip, now)
        .await?;
    Ok(())
}

/// Forgets the failures of a user after a successful login.
pub(crate) async fn clear(store: &Store, login: &str) -> Result<(), AuthError> {
    store.clear_login_attempts(&attempt_key(login)).await?;
    Ok(())
}
