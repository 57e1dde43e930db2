//! Errors of the notification log.

use crate::proto::ProtoError;

/// Why the notification log refused an operation or a record.
#[derive(Debug, thiserror::Error)]
pub enum NflogError {
    /// The bytes are not a valid stream of delimited `MeshEntry` messages.
    #[error("cannot decode notification log state: {0}")]
    Decode(#[from] ProtoError),
    /// A `MeshEntry` carries no `entry`.
    #[error("notification log record has no entry")]
    MissingEntry,
    /// An entry carries no `receiver`.
    #[error("notification log entry has no receiver")]
    MissingReceiver,
    /// `now` plus the retention or expiry does not fit in a timestamp.
    #[error("expiry time overflows the representable time range")]
    TimeOverflow,
}
