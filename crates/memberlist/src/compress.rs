//! LZW (LSB bit order, literal width 8, as Go's `compress/lzw`) and the compress envelope
//! `[9] msgpack(compress{Algo: 0, Buf})`, with the 40 MiB decompression cap.

use weezl::{BitOrder, LzwStatus, decode::Decoder, encode::Encoder};

use crate::error::Error;
use crate::messages::{Body, Compress, MessageType, Typed};

/// Largest payload we decompress: 2 × the 20 MiB push/pull state limit (memberlist's
/// `maxDecompressedBytes`).
pub const MAX_DECOMPRESSED_BYTES: usize = 40 * 1024 * 1024;

/// The only algorithm memberlist defines (`lzwAlgo`).
pub const LZW_ALGO: u8 = 0;

const LIT_WIDTH: u8 = 8;

/// Compresses with LZW as Go's `lzw.NewWriter(w, lzw.LSB, 8)` does.
pub fn lzw_compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    let mut enc = Encoder::new(BitOrder::Lsb, LIT_WIDTH);
    // Writing into a Vec cannot fail, and every byte is a valid literal at width 8.
    let _ = enc.into_vec(&mut out).encode_all(data);
    out
}

/// Decompresses LZW data, refusing output beyond `limit` bytes or data without an end code.
pub fn lzw_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut dec = Decoder::new(BitOrder::Lsb, LIT_WIDTH);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut input = data;
    loop {
        let res = dec.decode_bytes(input, &mut chunk);
        input = input.get(res.consumed_in..).unwrap_or_default();
        if out.len() + res.consumed_out > limit {
            return Err(Error::DecompressedTooLarge { limit });
        }
        out.extend_from_slice(chunk.get(..res.consumed_out).unwrap_or_default());
        match res.status {
            Ok(LzwStatus::Done) => return Ok(out),
            Ok(LzwStatus::Ok) => {}
            Ok(LzwStatus::NoProgress) => return Err(Error::LzwTruncated),
            Err(e) => return Err(Error::Lzw(e.to_string())),
        }
    }
}

/// Wraps a message (type byte included) in the compress envelope, type byte included.
pub fn compress_message(inner: &[u8]) -> Vec<u8> {
    Compress {
        algo: LZW_ALGO,
        buf: Some(lzw_compress(inner)),
    }
    .encode()
}

/// Unwraps a compress envelope body (after the `[9]` type byte) into the inner message.
pub fn decompress_body(body: &[u8]) -> Result<Vec<u8>, Error> {
    decompress(&Compress::from_body_bytes(body)?)
}

/// Decompresses a decoded compress envelope into the inner message (type byte included).
pub fn decompress(c: &Compress) -> Result<Vec<u8>, Error> {
    if c.algo != LZW_ALGO {
        return Err(Error::UnknownAlgorithm(c.algo));
    }
    let out = lzw_decompress(c.buf.as_deref().unwrap_or_default(), MAX_DECOMPRESSED_BYTES)?;
    if out.is_empty() {
        return Err(Error::DecompressedEmpty);
    }
    Ok(out)
}

/// Whether `b` starts with the compress type byte.
pub fn is_compressed(b: &[u8]) -> bool {
    b.first() == Some(&(MessageType::Compress as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_cap() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let c = lzw_compress(&data);
        assert_eq!(lzw_decompress(&c, usize::MAX).unwrap(), data);
        assert_eq!(
            lzw_decompress(&c, 19_999),
            Err(Error::DecompressedTooLarge { limit: 19_999 })
        );
        assert_eq!(lzw_decompress(&lzw_compress(b""), 10).unwrap(), b"");
    }

    #[test]
    fn corrupt_and_truncated_data_are_errors() {
        let c = lzw_compress(b"hello hello hello hello");
        assert_eq!(
            lzw_decompress(&c[..c.len() - 2], 1000),
            Err(Error::LzwTruncated)
        );
        // 9-bit code 0x1ff right after the clear code names no table entry.
        assert!(matches!(
            lzw_decompress(&[0x00, 0xfe, 0xff, 0x03], 1000),
            Err(Error::Lzw(_))
        ));
    }

    #[test]
    fn envelope_round_trip_and_errors() {
        let msg = b"\x08some user bytes, some user bytes";
        let env = compress_message(msg);
        assert!(is_compressed(&env));
        assert_eq!(&env[..8], b"\x09\x82\xa4Algo\x00");
        assert_eq!(decompress_body(&env[1..]).unwrap(), msg);
        let bad = Compress {
            algo: 1,
            buf: Some(vec![]),
        };
        assert_eq!(decompress(&bad), Err(Error::UnknownAlgorithm(1)));
        let empty = Compress {
            algo: 0,
            buf: Some(lzw_compress(b"")),
        };
        assert_eq!(decompress(&empty), Err(Error::DecompressedEmpty));
    }
}
