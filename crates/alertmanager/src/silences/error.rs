//! Errors of silence validation and of the silence store; texts follow Alertmanager's.

use crate::proto::ProtoError;

/// Why a silence is invalid (`validateSilence` upstream, plus proto-conversion failures).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The silence has no matcher set.
    #[error("at least one matcher set required")]
    NoMatcherSets,
    /// A matcher set has no matcher.
    #[error("matcher set {set} is empty")]
    EmptyMatcherSet {
        /// Index of the set.
        set: usize,
    },
    /// A matcher names an invalid label.
    #[error("invalid label matcher {index} in set {set}: invalid label name {name:?}")]
    InvalidLabelName {
        /// Index of the set.
        set: usize,
        /// Index of the matcher in its set.
        index: usize,
        /// The rejected name.
        name: String,
    },
    /// A regex matcher does not compile.
    #[error(
        "invalid label matcher {index} in set {set}: invalid regular expression {pattern:?}: {reason}"
    )]
    InvalidRegex {
        /// Index of the set.
        set: usize,
        /// Index of the matcher in its set.
        index: usize,
        /// The pattern as given.
        pattern: String,
        /// The compiler's complaint.
        reason: String,
    },
    /// A proto matcher has an unknown type number.
    #[error("invalid label matcher {index} in set {set}: unknown matcher type {kind}")]
    UnknownMatchType {
        /// Index of the set.
        set: usize,
        /// Index of the matcher in its set.
        index: usize,
        /// The unknown enum value.
        kind: i32,
    },
    /// Every matcher of a set matches the empty string, so the silence would match everything.
    #[error("at least one matcher must not match the empty string")]
    AllMatchEmpty {
        /// Index of the set.
        set: usize,
    },
    /// `starts_at` is missing or Go's zero time.
    #[error("invalid zero start timestamp")]
    ZeroStart,
    /// `ends_at` is missing or Go's zero time.
    #[error("invalid zero end timestamp")]
    ZeroEnd,
    /// `ends_at` is before `starts_at`.
    #[error("end time must not be before start time")]
    EndBeforeStart,
}

impl ValidationError {
    /// The (API v2) field the error is about: `matchers`, `startsAt` or `endsAt`.
    pub fn field(&self) -> &'static str {
        match self {
            ValidationError::ZeroStart => "startsAt",
            ValidationError::ZeroEnd | ValidationError::EndBeforeStart => "endsAt",
            _ => "matchers",
        }
    }
}

/// Why a silence store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    /// The silence is invalid (HTTP 400).
    #[error("invalid silence: {0}")]
    Validation(#[from] ValidationError),
    /// An id was given but no such silence exists (HTTP 404).
    #[error("silence {0} not found")]
    NotFound(String),
    /// Creating one more silence would exceed `max_silences`.
    #[error("exceeded maximum number of silences: {count} (limit: {limit})")]
    TooManySilences {
        /// Silences currently stored (expired included).
        count: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The encoded `MeshSilence` is larger than `max_silence_size_bytes`.
    #[error("silence exceeded maximum size: {size} bytes (limit: {limit} bytes)")]
    TooLarge {
        /// Encoded size of the mesh silence.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Gossip or snapshot bytes could not be decoded.
    #[error("decoding silences: {0}")]
    Decode(#[from] ProtoError),
}
