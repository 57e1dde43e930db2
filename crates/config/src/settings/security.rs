//! `[security]`: the initial admin user, the signing secret, login protection and cookies.

use std::time::Duration;

use super::debug_redacted;
use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

/// The `SameSite` attribute of the session cookie (`cookie_samesite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Lax` (the default).
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None`.
    None,
    /// No `SameSite` attribute at all.
    Disabled,
}

/// `[security]`.
#[derive(Clone)]
pub struct SecuritySettings {
    /// `admin_user` (default `admin`): login of the admin created on first start.
    pub admin_user: String,
    /// `admin_password` (default `admin`, secret): its initial password.
    pub admin_password: String,
    /// `admin_email` (default `admin@localhost`).
    pub admin_email: String,
    /// `secret_key` (secret): key for signing and encrypting secrets in the database.
    pub secret_key: String,
    /// `disable_initial_admin_creation` (default false).
    pub disable_initial_admin_creation: bool,
    /// `disable_brute_force_login_protection` (default false).
    pub disable_brute_force_login_protection: bool,
    /// `brute_force_login_protection_max_attempts` (default 5) failed logins per window.
    pub brute_force_login_protection_max_attempts: u32,
    /// `brute_force_login_protection_window` (Watchkeeper key, default 5m).
    pub brute_force_login_protection_window: Duration,
    /// `cookie_secure` (default false): mark cookies `Secure` (set when behind HTTPS).
    pub cookie_secure: bool,
    /// `cookie_samesite`: `lax` (default), `strict`, `none` or `disabled`.
    pub cookie_samesite: SameSite,
}

debug_redacted!(SecuritySettings {
    admin_user, admin_email, disable_initial_admin_creation,
    disable_brute_force_login_protection, brute_force_login_protection_max_attempts,
    brute_force_login_protection_window, cookie_secure, cookie_samesite,
} secret { admin_password, secret_key } url {});

impl SecuritySettings {
    pub(crate) fn read(raw: &RawConfig, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, "security", diag);
        let same_site = [
            ("lax", SameSite::Lax),
            ("strict", SameSite::Strict),
            ("none", SameSite::None),
            ("disabled", SameSite::Disabled),
        ];
        SecuritySettings {
            admin_user: r.string("admin_user", "admin"),
            admin_password: r.string("admin_password", "admin"),
            admin_email: r.string("admin_email", "admin@localhost"),
            secret_key: r.string("secret_key", "SW2YcwTIb9zpOOhoPsMm"),
            disable_initial_admin_creation: r.bool("disable_initial_admin_creation", false),
            disable_brute_force_login_protection: r
                .bool("disable_brute_force_login_protection", false),
            brute_force_login_protection_max_attempts: r
                .u32("brute_force_login_protection_max_attempts", 5),
            brute_force_login_protection_window: r.duration(
                "brute_force_login_protection_window",
                Duration::from_secs(300),
            ),
            cookie_secure: r.bool("cookie_secure", false),
            cookie_samesite: r.choice("cookie_samesite", SameSite::Lax, &same_site),
        }
    }
}
