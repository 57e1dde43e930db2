//! Who a request acts as, once authenticated.

use wk_store::{OrgRole, User};

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A session cookie; `token_id` is the `user_auth_token` row.
    Session {
        /// Row id of the session token.
        token_id: i64,
    },
    /// HTTP basic authentication with a user's password.
    Basic,
    /// An API token (`Authorization: Bearer`).
    ApiKey {
        /// Row id of the API token.
        key_id: i64,
    },
}

/// An authenticated principal with its role in the organization it acts in.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user, absent for API tokens (which belong to an organization, not a user).
    pub user: Option<User>,
    /// The organization the request acts in.
    pub org_id: i64,
    /// The role in that organization.
    pub role: OrgRole,
    /// Whether the principal is a server administrator.
    pub is_server_admin: bool,
    /// How it authenticated.
    pub method: AuthMethod,
}

impl Identity {
    /// Whether the identity has at least `role` in its organization (server admins have every role).
    pub fn has_role(&self, role: OrgRole) -> bool {
        self.is_server_admin || self.role >= role
    }
}
