//! Compound messages: `[7][n:u8][n × u16 big-endian lengths][parts…]`, at most 255 parts each.

use crate::error::Error;
use crate::messages::MessageType;

/// Most parts one compound message carries.
pub const MAX_PARTS: usize = 255;

/// Builds one compound message (type byte included) from at most 255 parts.
pub fn encode_compound<P: AsRef<[u8]>>(parts: &[P]) -> Result<Vec<u8>, Error> {
    if parts.len() > MAX_PARTS {
        return Err(Error::TooManyParts(parts.len()));
    }
    let total: usize = parts.iter().map(|p| p.as_ref().len()).sum();
    let mut out = Vec::with_capacity(2 + 2 * parts.len() + total);
    out.push(MessageType::Compound as u8);
    out.push(parts.len() as u8);
    for (index, part) in parts.iter().enumerate() {
        let len = part.as_ref().len();
        let len = u16::try_from(len).map_err(|_| Error::PartTooLong { index, len })?;
        out.extend_from_slice(&len.to_be_bytes());
    }
    for part in parts {
        out.extend_from_slice(part.as_ref());
    }
    Ok(out)
}

/// Packs any number of parts into as many compound messages as needed (255 parts each).
pub fn encode_compounds<P: AsRef<[u8]>>(parts: &[P]) -> Result<Vec<Vec<u8>>, Error> {
    parts.chunks(MAX_PARTS).map(encode_compound).collect()
}

/// The parts of a compound message body (after the type byte).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundParts<'a> {
    /// The complete parts, in order.
    pub parts: Vec<&'a [u8]>,
    /// How many announced parts were cut off (Go logs these and handles the rest).
    pub truncated: usize,
}

/// Splits a compound body (after the `[7]` type byte), as Go's `decodeCompoundMessage` does.
pub fn decode_compound(body: &[u8]) -> Result<CompoundParts<'_>, Error> {
    let (&n, rest) = body
        .split_first()
        .ok_or(Error::Compound("missing compound length byte"))?;
    let n = usize::from(n);
    if rest.len() < 2 * n {
        return Err(Error::Compound("truncated len slice"));
    }
    let (lengths, mut payload) = rest.split_at(2 * n);
    let mut parts = Vec::with_capacity(n);
    for (i, len) in lengths.chunks_exact(2).enumerate() {
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if payload.len() < len {
            return Ok(CompoundParts {
                parts,
                truncated: n - i,
            });
        }
        let (part, tail) = payload.split_at(len);
        parts.push(part);
        payload = tail;
    }
    Ok(CompoundParts {
        parts,
        truncated: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_round_trip() {
        let parts: [&[u8]; 2] = [b"\x08ab", b"\x08c"];
        let c = encode_compound(&parts).unwrap();
        assert_eq!(c, b"\x07\x02\x00\x03\x00\x02\x08ab\x08c");
        let d = decode_compound(&c[1..]).unwrap();
        assert_eq!(d.parts, parts);
        assert_eq!(d.truncated, 0);
    }

    #[test]
    fn splits_after_255_parts() {
        let parts = vec![vec![8u8]; 600];
        let cs = encode_compounds(&parts).unwrap();
        assert_eq!(cs.len(), 3);
        assert_eq!(cs.iter().map(|c| c[1]).collect::<Vec<_>>(), [255, 255, 90]);
        assert_eq!(encode_compound(&parts), Err(Error::TooManyParts(600)));
    }

    #[test]
    fn truncation_and_errors() {
        assert!(decode_compound(&[]).is_err());
        assert_eq!(
            decode_compound(&[2, 0, 1]),
            Err(Error::Compound("truncated len slice"))
        );
        let d = decode_compound(&[2, 0, 1, 0, 5, 9, 1, 2]).unwrap();
        assert_eq!(d.parts, [&[9u8][..]]);
        assert_eq!(d.truncated, 1);
        let big = vec![0u8; 70000];
        assert!(matches!(
            encode_compound(&[big]),
            Err(Error::PartTooLong {
                index: 0,
                len: 70000
            })
        ));
    }
}
