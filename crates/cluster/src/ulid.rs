//! ULIDs for node names: 48 bits of milliseconds since the epoch then 80 random bits, in
//! Crockford's base32, so names sort by start time (the oldest member is position 0).

use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new ULID for the current time.
pub fn generate() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    from_parts(ms as u64, rand::random::<u128>())
}

/// The ULID of `ms` milliseconds and the low 80 bits of `random`.
pub fn from_parts(ms: u64, random: u128) -> String {
    let value: u128 = (u128::from(ms & 0xFFFF_FFFF_FFFF) << 80) | (random & ((1u128 << 80) - 1));
    (0..26)
        .map(|i| {
            let shift = 125 - 5 * i;
            ALPHABET[((value >> shift) & 0x1F) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_value_and_ordering() {
        // The ULID spec's example timestamp: 1469918176385 ms → "01ARYZ6S41".
        let id = from_parts(1_469_918_176_385, 0);
        assert_eq!(id, "01ARYZ6S410000000000000000");
        assert_eq!(from_parts(0, u128::MAX), "0000000000ZZZZZZZZZZZZZZZZ");
        assert!(from_parts(1, 0) > from_parts(0, u128::MAX));
        let a = generate();
        assert_eq!(a.len(), 26);
    }
}
