//! Encryption of secrets stored in the database (contact point `secureSettings`), keyed by
//! `[security] secret_key`: AES-256-GCM with a random nonce per value, the key derived from the
//! secret with PBKDF2-HMAC-SHA256, and a context string (e.g. `<contact point uid>/<setting>`)
//! bound as associated data so a ciphertext cannot be moved to another field.
//!
//! A sealed value is the text `wk1.` followed by standard base64 of `nonce ‖ ciphertext ‖ tag`.

use std::num::NonZeroU32;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::pbkdf2;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The prefix of every sealed value (format version 1).
pub const PREFIX: &str = "wk1.";

/// PBKDF2 rounds used to derive the key from `secret_key` (once per process).
const PBKDF2_ROUNDS: u32 = 100_000;

/// Fixed salt: the key must be the same on every instance sharing the database.
const SALT: &[u8] = b"watchkeeper/secrets/v1";

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The text is not a sealed value of a known format.
    #[error("not an encrypted value (expected the {PREFIX} prefix and base64)")]
    Malformed,
    /// Authentication failed: another `secret_key`, another context, or altered bytes.
    #[error(
        "cannot be decrypted: [security] secret_key differs from the one it was encrypted with, or the value was altered"
    )]
    Decrypt,
    /// The system random generator or the cipher failed.
    #[error("encryption failed")]
    Encrypt,
    /// The decrypted bytes are not UTF-8.
    #[error("decrypted value is not UTF-8")]
    NotUtf8,
}

/// Seals and opens secrets with a key derived from `[security] secret_key`.
pub struct SecretBox {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox").finish_non_exhaustive()
    }
}

impl SecretBox {
    /// Derives the key from the configured secret.
    pub fn new(secret_key: &str) -> Result<Self, SecretError> {
        let mut key = [0u8; 32];
        let rounds = NonZeroU32::new(PBKDF2_ROUNDS).unwrap_or(NonZeroU32::MIN);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            SALT,
            secret_key.as_bytes(),
            &mut key,
        );
        let unbound = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| SecretError::Encrypt)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts `plain`, binding `context` (which must be given again to open it).
    pub fn seal(&self, context: &str, plain: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SecretError::Encrypt)?;
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SecretError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String, SecretError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SecretError::Malformed)?;
        let mut bytes = STANDARD.decode(body).map_err(|_| SecretError::Malformed)?;
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SecretError::Malformed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[..NONCE_LEN]);
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut bytes[NONCE_LEN..],
            )
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::NotUtf8)
    }

    /// Whether `value` has the form of a sealed value (it may still fail to open).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_context() {
        let b = SecretBox::new("SW2YcwTIb9zpOOhoPsMm").expect("key");
        let sealed = b.seal("uid1/password", "hunter2 ü").expect("seal");
        assert!(SecretBox::is_sealed(&sealed));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(b.open("uid1/password", &sealed).expect("open"), "hunter2 ü");
        // A fresh nonce each time.
        assert_ne!(b.seal("uid1/password", "hunter2 ü").expect("seal"), sealed);
    }

    #[test]
    fn wrong_key_context_or_bytes_fail() {
        let b = SecretBox::new("one").expect("key");
        let sealed = b.seal("u/k", "v").expect("seal");
        assert_eq!(
            SecretBox::new("two").expect("key").open("u/k", &sealed),
            Err(SecretError::Decrypt)
        );
        assert_eq!(b.open("u/other", &sealed), Err(SecretError::Decrypt));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(b.open("u/k", &tampered).is_err());
        assert_eq!(b.open("u/k", "plain"), Err(SecretError::Malformed));
        assert_eq!(b.open("u/k", "wk1.!!"), Err(SecretError::Malformed));
        assert_eq!(b.open("u/k", "wk1.AAAA"), Err(SecretError::Malformed));
    }
}
