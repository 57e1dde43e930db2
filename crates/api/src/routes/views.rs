//! JSON shapes shared by several endpoints (Grafana's field names).

use serde::Serialize;
use wk_store::User;

/// A unix timestamp as RFC 3339, the way Grafana renders times.
pub(crate) fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A user as listed by `/api/users` and `/api/admin/users`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserView {
    id: i64,
    name: String,
    login: String,
    email: String,
    is_admin: bool,
    is_disabled: bool,
    last_seen_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            name: u.name.clone(),
            login: u.login.clone(),
            email: u.email.clone(),
            is_admin: u.is_admin,
            is_disabled: u.is_disabled,
            last_seen_at: rfc3339(u.last_seen_at),
        }
    }
}
