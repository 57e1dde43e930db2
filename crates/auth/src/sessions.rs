//! Session tokens: what a login hands out and what a lookup returns.

use wk_store::User;

/// A freshly issued session token in its raw form (goes into the cookie, never stored).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(*****)")
    }
}

/// The result of resolving a session cookie.
#[derive(Debug, Clone)]
pub struct SessionLookup {
    /// The user the session belongs to.
    pub user: User,
    /// Row id of the session.
    pub token_id: i64,
    /// A replacement token when this request rotated the session; the caller sets it as the cookie.
    pub rotated: Option<SessionToken>,
}
