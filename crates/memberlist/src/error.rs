//! The crate's error type: every variant says which message, field or envelope was wrong.

use thiserror::Error;

use crate::msgpack::MsgpackError;

/// Why bytes from the network (or a value to send) were rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A message had no type byte at all.
    #[error("empty message: missing the message type byte")]
    Empty,
    /// A type byte memberlist does not define (or that cannot appear here).
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// A known type that is not valid in this position (e.g. pushPull inside a packet).
    #[error("message type {found} not expected {context}")]
    UnexpectedType {
        /// The type name found.
        found: &'static str,
        /// Where it was found.
        context: &'static str,
    },
    /// The msgpack struct header of a message was wrong.
    #[error("{message}: {source}")]
    Struct {
        /// Go struct name (`ping`, `alive`, ...).
        message: &'static str,
        /// What was wrong.
        #[source]
        source: MsgpackError,
    },
    /// A field of a message could not be decoded.
    #[error("{message}.{field}: {source}")]
    Field {
        /// Go struct name.
        message: &'static str,
        /// Go field name (as found on the wire).
        field: String,
        /// What was wrong.
        #[source]
        source: MsgpackError,
    },
    /// A field held a value memberlist does not allow.
    #[error("{message}.{field}: {reason}")]
    InvalidField {
        /// Go struct name.
        message: &'static str,
        /// Go field name.
        field: &'static str,
        /// Why the value is invalid.
        reason: String,
    },
    /// A compound message header was malformed.
    #[error("compound message: {0}")]
    Compound(&'static str),
    /// More parts than one compound message can carry.
    #[error("compound message: {0} parts, at most 255 fit one compound")]
    TooManyParts(usize),
    /// A compound part longer than its u16 length prefix allows.
    #[error("compound message: part {index} is {len} bytes, at most 65535 fit")]
    PartTooLong {
        /// Index of the part.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// The CRC header was cut short.
    #[error("hasCrc header truncated: {0} bytes, need 5")]
    CrcTruncated(usize),
    /// The CRC32 did not match the payload.
    #[error("CRC mismatch: header says {expected:08x}, payload has {actual:08x}")]
    CrcMismatch {
        /// CRC in the header.
        expected: u32,
        /// CRC computed over the payload.
        actual: u32,
    },
    /// The compress message named an algorithm other than LZW.
    #[error("compress: unknown algorithm {0}")]
    UnknownAlgorithm(u8),
    /// The LZW data was corrupt.
    #[error("compress: invalid LZW data: {0}")]
    Lzw(String),
    /// The LZW data ended without its end code.
    #[error("compress: LZW data truncated (no end code)")]
    LzwTruncated,
    /// Decompressing produced more than the limit.
    #[error("compress: decompressed message is larger than limit ({limit} bytes)")]
    DecompressedTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A compress message decompressed to nothing.
    #[error("compress: decompressed message is empty")]
    DecompressedEmpty,
    /// Envelopes (compress inside compound inside compress ...) nested too deep.
    #[error("envelopes nested deeper than {0}")]
    TooDeep(usize),
    /// The label header was malformed.
    #[error("label header: {0}")]
    LabelHeader(&'static str),
    /// A label longer than 255 bytes.
    #[error("label {0:?} is too long (at most 255 bytes)")]
    LabelTooLong(String),
    /// A packet or stream whose label is not ours.
    #[error("unacceptable label {found:?} (expected {expected:?})")]
    LabelMismatch {
        /// Our label.
        expected: String,
        /// The label found ("" when there was none).
        found: String,
    },
    /// A label header arrived while we skip label checks (a double label).
    #[error("unexpected label header {0:?} while skipping inbound label checks")]
    UnexpectedLabel(String),
    /// Encrypted traffic, which this implementation does not speak.
    #[error("encrypted message received, but encryption is not supported")]
    Encrypted,
    /// A stream ended before the data its header announced.
    #[error("{what}: truncated, {needed} bytes announced, {available} available")]
    StreamTruncated {
        /// What was being read.
        what: &'static str,
        /// Bytes announced.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// A length or count in a stream header beyond memberlist's limits.
    #[error("{what} ({value}) exceeds limit ({limit})")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The announced value.
        value: i64,
        /// The limit.
        limit: usize,
    },
}

impl Error {
    /// When the bytes ended early: at least how many more are needed to go on decoding.
    pub fn needed_bytes(&self) -> Option<usize> {
        match self {
            Self::Empty => Some(1),
            Self::Struct { source, .. } | Self::Field { source, .. } => match source {
                MsgpackError::Truncated { needed, .. } => Some((*needed).max(1)),
                _ => None,
            },
            Self::StreamTruncated {
                needed, available, ..
            } => Some(needed.saturating_sub(*available).max(1)),
            _ => None,
        }
    }
}
