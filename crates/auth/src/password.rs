//! Argon2id password hashing.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::AuthError;

/// Hashes a password to an Argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Checks a password against a PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Spends the time of one verification, so unknown users cost as much as known ones.
pub(crate) fn verify_against_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("watchkeeper-dummy").ok()) {
        let _ = verify_password(password, hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash_password("s3cret#;").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret#;", &h));
        assert!(!verify_password("s3cret", &h));
        assert!(!verify_password("s3cret#;", "not-a-hash"));
        assert_ne!(h, hash_password("s3cret#;").expect("hash"), "salted");
    }
}
