//! Errors of the authentication service.

use wk_store::StoreError;

/// Why an authentication or account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user, wrong password or disabled account (deliberately not told apart).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed logins for this user within the lockout window.
    #[error(
        "too many consecutive incorrect login attempts for user - login for user temporarily blocked"
    )]
    LockedOut,
    /// The session token is unknown, revoked or expired.
    #[error("session is invalid or expired")]
    InvalidSession,
    /// The API token is unknown or expired.
    #[error("invalid API key")]
    InvalidApiKey,
    /// A request value was not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Hashing a password failed (only on an internal error of the hasher).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The random number generator failed.
    #[error("secure random number generator failed")]
    Random,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
