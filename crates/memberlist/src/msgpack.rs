//! msgpack exactly as hashicorp/go-msgpack's `MsgpackHandle` (v0.5.x, the version Alertmanager
//! 0.25 links) writes it, and a lenient reader.
//!
//! Hand-written rather than the `rmp` crate: memberlist needs only a handful of msgpack forms,
//! the writer must reproduce Go's choices byte for byte (old-spec raw strings: fixstr, then
//! str16/str32, never str8 or bin; `[]byte` written as a raw string; nil slices as nil; integers
//! in the smallest unsigned form whatever the Go type), and `rmp`'s helpers pick str8/bin by
//! default, so we would end up writing every marker by hand anyway. Two hundred lines we control
//! beat a dependency we fight; the reader accepts both spec generations (str8, bin8/16/32).

use thiserror::Error;

/// Maximum nesting the reader follows when skipping unknown values.
const MAX_DEPTH: usize = 32;

/// What was wrong with a msgpack value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MsgpackError {
    /// The input ended inside a value.
    #[error("truncated: needed {needed} more bytes at offset {at}")]
    Truncated {
        /// Bytes missing.
        needed: usize,
        /// Offset of the value.
        at: usize,
    },
    /// A marker byte of another family than expected.
    #[error("expected {expected}, found marker 0x{found:02x} at offset {at}")]
    UnexpectedMarker {
        /// The family expected.
        expected: &'static str,
        /// The marker found.
        found: u8,
        /// Offset of the marker.
        at: usize,
    },
    /// An integer that does not fit the Go field's type.
    #[error("integer {value} out of range for {target}")]
    OutOfRange {
        /// The value read (as i128 to hold both u64 and i64).
        value: i128,
        /// The Go type.
        target: &'static str,
    },
    /// A string field that is not UTF-8.
    #[error("string at offset {at} is not valid UTF-8")]
    InvalidUtf8 {
        /// Offset of the string.
        at: usize,
    },
    /// Nested containers deeper than the reader follows.
    #[error("values nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// Appends a Go unsigned integer (any width) in go-msgpack's smallest form.
pub fn write_uint(out: &mut Vec<u8>, v: u64) {
    if v <= 0x7f {
        out.push(v as u8);
    } else if v <= u64::from(u8::MAX) {
        out.extend_from_slice(&[0xcc, v as u8]);
    } else if v <= u64::from(u16::MAX) {
        out.push(0xcd);
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(0xce);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a Go signed integer: non-negative values as unsigned, negative ones in the smallest signed form.
pub fn write_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        write_uint(out, v as u64);
    } else if v >= -32 {
        out.push(v as u8);
    } else if v >= i64::from(i8::MIN) {
        out.extend_from_slice(&[0xd0, v as u8]);
    } else if v >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(v as i16).to_be_bytes());
    } else if v >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a bool.
pub fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.push(if v { 0xc3 } else { 0xc2 });
}

/// Appends nil.
pub fn write_nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}

/// Appends a Go `string` or `[]byte` as an old-spec raw string (fixstr, str16, str32).
pub fn write_raw(out: &mut Vec<u8>, v: &[u8]) {
    let len = v.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(v);
}

/// Appends a Go `[]byte` that may be nil: `None` is written as msgpack nil, as Go writes a nil slice.
pub fn write_opt_bytes(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        Some(b) => write_raw(out, b),
        None => write_nil(out),
    }
}

/// Appends a map header (fixmap, map16, map32), which starts a Go struct.
pub fn write_map_len(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xde);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// A cursor over msgpack bytes; every read checks bounds and returns an error, never panics.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// An integer as read, before range checks.
enum Int {
    U(u64),
    I(i64),
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The offset of the next byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Takes the next `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], MsgpackError> {
        let rest = self.remaining();
        if rest.len() < n {
            return Err(MsgpackError::Truncated {
                needed: n - rest.len(),
                at: self.pos,
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn byte(&mut self) -> Result<u8, MsgpackError> {
        Ok(self.take(1)?[0])
    }

    fn peek(&self) -> Result<u8, MsgpackError> {
        self.remaining()
            .first()
            .copied()
            .ok_or(MsgpackError::Truncated {
                needed: 1,
                at: self.pos,
            })
    }

    fn be(&mut self, n: usize) -> Result<u64, MsgpackError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn unexpected(&self, expected: &'static str, found: u8) -> MsgpackError {
        MsgpackError::UnexpectedMarker {
            expected,
            found,
            at: self.pos.saturating_sub(1),
        }
    }

    /// Reads a map header and returns its entry count.
    pub fn read_map_len(&mut self) -> Result<usize, MsgpackError> {
        let m = self.byte()?;
        match m {
            0x80..=0x8f => Ok(usize::from(m & 0x0f)),
            0xde => Ok(self.be(2)? as usize),
            0xdf => Ok(self.be(4)? as usize),
            _ => Err(self.unexpected("map", m)),
        }
    }

    fn read_int(&mut self) -> Result<Option<Int>, MsgpackError> {
        let m = self.byte()?;
        Ok(Some(match m {
            0x00..=0x7f => Int::U(u64::from(m)),
            0xe0..=0xff => Int::I(i64::from(m as i8)),
            0xcc => Int::U(self.be(1)?),
            0xcd => Int::U(self.be(2)?),
            0xce => Int::U(self.be(4)?),
            0xcf => Int::U(self.be(8)?),
            0xd0 => Int::I(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Int::I(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Int::I(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Int::I(self.be(8)? as i64),
            0xc0 => return Ok(None),
            _ => return Err(self.unexpected("integer", m)),
        }))
    }

    /// Reads any msgpack integer (or nil, as Go reads zero) into an unsigned Go type of `bits` bits.
    pub fn read_uint(&mut self, bits: u32, target: &'static str) -> Result<u64, MsgpackError> {
        let max = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        match self.read_int()? {
            None => Ok(0),
            Some(Int::U(v)) if v <= max => Ok(v),
            Some(Int::I(v)) if v >= 0 && (v as u64) <= max => Ok(v as u64),
            Some(Int::U(v)) => Err(MsgpackError::OutOfRange {
                value: i128::from(v),
                target,
            }),
            Some(Int::I(v)) => Err(MsgpackError::OutOfRange {
                value: i128::from(v),
                target,
            }),
        }
    }

    /// Reads a `uint32` field.
    pub fn read_u32(&mut self) -> Result<u32, MsgpackError> {
        Ok(self.read_uint(32, "uint32")? as u32)
    }

    /// Reads a `uint16` field.
    pub fn read_u16(&mut self) -> Result<u16, MsgpackError> {
        Ok(self.read_uint(16, "uint16")? as u16)
    }

    /// Reads a `uint8` field.
    pub fn read_u8(&mut self) -> Result<u8, MsgpackError> {
        Ok(self.read_uint(8, "uint8")? as u8)
    }

    /// Reads a Go `int` field (64-bit on the platforms memberlist runs on).
    pub fn read_i64(&mut self) -> Result<i64, MsgpackError> {
        match self.read_int()? {
            None => Ok(0),
            Some(Int::I(v)) => Ok(v),
            Some(Int::U(v)) => i64::try_from(v).map_err(|_| MsgpackError::OutOfRange {
                value: i128::from(v),
                target: "int",
            }),
        }
    }

    /// Reads a bool (nil reads as false, as in Go).
    pub fn read_bool(&mut self) -> Result<bool, MsgpackError> {
        let m = self.byte()?;
        match m {
            0xc2 | 0xc0 => Ok(false),
            0xc3 => Ok(true),
            _ => Err(self.unexpected("bool", m)),
        }
    }

    /// Reads a string or byte string of either spec generation; `None` for nil.
    pub fn read_opt_raw(&mut self) -> Result<Option<&'a [u8]>, MsgpackError> {
        let m = self.byte()?;
        let len = match m {
            0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 | 0xc4 => self.be(1)? as usize,
            0xda | 0xc5 => self.be(2)? as usize,
            0xdb | 0xc6 => self.be(4)? as usize,
            0xc0 => return Ok(None),
            _ => return Err(self.unexpected("string or bytes", m)),
        };
        self.take(len).map(Some)
    }

    /// Reads a Go `[]byte` field: a (byte) string, or an array of small integers; `None` for nil.
    pub fn read_opt_bytes(&mut self) -> Result<Option<Vec<u8>>, MsgpackError> {
        match self.peek()? {
            0x90..=0x9f | 0xdc | 0xdd => {
                let len = self.read_array_len()?;
                let mut out = Vec::with_capacity(len.min(self.remaining().len()));
                for _ in 0..len {
                    out.push(self.read_u8()?);
                }
                Ok(Some(out))
            }
            _ => Ok(self.read_opt_raw()?.map(<[u8]>::to_vec)),
        }
    }

    /// Reads a Go `string` field (nil reads as empty); it must be UTF-8.
    pub fn read_string(&mut self) -> Result<String, MsgpackError> {
        let at = self.pos;
        let raw = self.read_opt_raw()?.unwrap_or_default();
        String::from_utf8(raw.to_vec()).map_err(|_| MsgpackError::InvalidUtf8 { at })
    }

    fn read_array_len(&mut self) -> Result<usize, MsgpackError> {
        let m = self.byte()?;
        match m {
            0x90..=0x9f => Ok(usize::from(m & 0x0f)),
            0xdc => Ok(self.be(2)? as usize),
            0xdd => Ok(self.be(4)? as usize),
            _ => Err(self.unexpected("array", m)),
        }
    }

    /// Skips one value of any type (an unknown struct field).
    pub fn skip(&mut self) -> Result<(), MsgpackError> {
        self.skip_depth(0)
    }

    fn skip_depth(&mut self, depth: usize) -> Result<(), MsgpackError> {
        if depth > MAX_DEPTH {
            return Err(MsgpackError::TooDeep);
        }
        let m = self.byte()?;
        let (skip, items) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * usize::from(m & 0x0f)),
            0x90..=0x9f => (0, usize::from(m & 0x0f)),
            0xa0..=0xbf => (usize::from(m & 0x1f), 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 | 0xca => (4, 0),
            0xcf | 0xd3 | 0xcb => (8, 0),
            0xd9 | 0xc4 => (self.be(1)? as usize, 0),
            0xda | 0xc5 => (self.be(2)? as usize, 0),
            0xdb | 0xc6 => (self.be(4)? as usize, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xc7 => (self.be(1)? as usize + 1, 0),
            0xc8 => (self.be(2)? as usize + 1, 0),
            0xc9 => (self.be(4)? as usize + 1, 0),
            0xdc => (0, self.be(2)? as usize),
            0xdd => (0, self.be(4)? as usize),
            0xde => (0, 2 * self.be(2)? as usize),
            0xdf => (0, 2 * self.be(4)? as usize),
            _ => return Err(self.unexpected("a msgpack value", m)),
        };
        self.take(skip)?;
        for _ in 0..items {
            self.skip_depth(depth + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uint(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_uint(&mut out, v);
        out
    }

    #[test]
    fn integers_use_go_widths() {
        assert_eq!(uint(0), [0x00]);
        assert_eq!(uint(127), [0x7f]);
        assert_eq!(uint(128), [0xcc, 0x80]);
        assert_eq!(uint(27194), [0xcd, 0x6a, 0x3a]);
        assert_eq!(uint(65536), [0xce, 0, 1, 0, 0]);
        assert_eq!(uint(1 << 40), [0xcf, 0, 0, 1, 0, 0, 0, 0, 0]);
        let mut out = Vec::new();
        write_int(&mut out, -1);
        write_int(&mut out, -33);
        write_int(&mut out, -200);
        assert_eq!(out, [0xff, 0xd0, 0xdf, 0xd1, 0xff, 0x38]);
    }

    #[test]
    fn raw_strings_skip_str8() {
        let mut out = Vec::new();
        write_raw(&mut out, &[b'a'; 31]);
        assert_eq!(out[0], 0xbf);
        out.clear();
        write_raw(&mut out, &[b'a'; 32]);
        assert_eq!(&out[..3], &[0xda, 0, 32]);
        out.clear();
        write_raw(&mut out, &vec![0; 70000]);
        assert_eq!(&out[..5], &[0xdb, 0, 1, 0x11, 0x70]);
    }

    #[test]
    fn reader_accepts_both_generations_and_rejects_overflow() {
        let mut r = Reader::new(&[0xd9, 2, b'h', b'i', 0xc4, 1, 7, 0x92, 1, 2, 0xc0]);
        assert_eq!(r.read_string().unwrap(), "hi");
        assert_eq!(r.read_opt_bytes().unwrap(), Some(vec![7]));
        assert_eq!(r.read_opt_bytes().unwrap(), Some(vec![1, 2]));
        assert_eq!(r.read_opt_bytes().unwrap(), None);
        assert!(matches!(
            Reader::new(&[0xce, 0, 1, 0, 0]).read_u16(),
            Err(MsgpackError::OutOfRange { .. })
        ));
        assert!(matches!(
            Reader::new(&[0xff]).read_u32(),
            Err(MsgpackError::OutOfRange { .. })
        ));
        assert!(matches!(
            Reader::new(&[0xda, 0, 5, b'a']).read_string(),
            Err(MsgpackError::Truncated { needed: 4, .. })
        ));
    }

    #[test]
    fn skip_handles_nesting_and_depth_limit() {
        let mut r = Reader::new(&[0x81, 0xa1, b'k', 0x92, 0xcd, 0, 1, 0xd4, 1, 2, 0x05]);
        r.skip().unwrap();
        assert_eq!(r.read_u8().unwrap(), 5);
        let deep = vec![0x91; 100];
        assert_eq!(Reader::new(&deep).skip(), Err(MsgpackError::TooDeep));
    }
}
