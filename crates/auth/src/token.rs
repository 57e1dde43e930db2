//! Random tokens and their stored form.

use aws_lc_rs::{digest, rand};

use crate::AuthError;

/// Returns `bytes` random bytes as lowercase hex, from the system's secure generator.
pub fn random_token(bytes: usize) -> Result<String, AuthError> {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf).map_err(|_| AuthError::Random)?;
    Ok(hex::encode(buf))
}

/// The stored form of a token: SHA-256, hex. Tokens are high-entropy, so no salt is needed, and
/// lookups by hash do not compare secrets byte by byte.
pub fn hash_token(token: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, token.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token(32).expect("random");
        let b = random_token(32).expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
