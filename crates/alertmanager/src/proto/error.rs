//! The error type for decoding delimited protobuf streams and kvstore values.

/// Why a delimited stream or a kvstore value could not be decoded.
///
/// Offsets are byte positions in the (decoded) stream where the faulty record starts.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    /// The stream ends inside a record's varint length prefix.
    #[error("truncated length prefix at byte {offset}")]
    TruncatedLength {
        /// Where the length prefix starts.
        offset: usize,
    },
    /// A length prefix is not a valid 64-bit varint (too long or overflowing).
    #[error("malformed length prefix at byte {offset}: varint overflows 64 bits")]
    MalformedLength {
        /// Where the length prefix starts.
        offset: usize,
    },
    /// A length prefix announces more bytes than the stream has left.
    #[error("record at byte {offset} declares {len} bytes but only {available} remain")]
    LengthPastEnd {
        /// Where the length prefix starts.
        offset: usize,
        /// The declared message length.
        len: u64,
        /// How many bytes follow the prefix.
        available: usize,
    },
    /// A record's bytes are not a valid encoding of the expected message.
    #[error("invalid message in record at byte {offset} ({len} bytes): {source}")]
    InvalidMessage {
        /// Where the record's length prefix starts.
        offset: usize,
        /// The record's message length.
        len: usize,
        /// What prost found wrong.
        #[source]
        source: prost::DecodeError,
    },
    /// A kvstore value is not valid standard base64.
    #[error("invalid base64 in kvstore value: {0}")]
    Base64(#[from] base64::DecodeError),
}
