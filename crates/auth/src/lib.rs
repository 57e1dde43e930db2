//! Authentication for Watchkeeper: password hashing, login with brute-force lockout, database-backed
//! session tokens with rotation, and API tokens. Everything it keeps lives in the shared SQL store, so
//! any instance behind a load balancer can authenticate any request (no session affinity).

mod cache;
mod error;
mod identity;
mod lockout;
mod options;
mod password;
mod service;
mod sessions;
mod token;

pub use cache::{API_KEY_CACHE_TTL_SECS, API_KEY_LAST_USED_INTERVAL_SECS, PASSWORD_CACHE_TTL_SECS};
pub use error::AuthError;
pub use identity::{AuthMethod, Identity};
pub use options::AuthOptions;
pub use password::{hash_password, verify_password};
pub use service::{AuthService, CreatedApiKey, hash_new_password, unix_now};
pub use sessions::{SessionLookup, SessionToken};
pub use token::{hash_token, random_token};
pub use wk_store::OrgRole;
