//! The store's error type and the helpers that attach context to sqlx errors.

use std::error::Error as StdError;

/// Everything that can go wrong in the store. Messages never contain the database password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The options cannot describe a usable database (bad URL, unknown SSL mode, missing file...).
    #[error("invalid database options: {0}")]
    InvalidOptions(String),
    /// Opening a connection to the database failed.
    #[error("cannot connect to database {target}: {source}")]
    Connect {
        /// Password-free description of the database.
        target: String,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying (or locking for) a schema migration failed.
    #[error("database migration {id} failed on {target}: {source}")]
    Migration {
        /// Migration id (or `lock` / `migration_log` for the surrounding steps).
        id: String,
        /// Password-free description of the database.
        target: String,
        /// The underlying error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A query failed.
    #[error("database operation {op} failed: {source}")]
    Query {
        /// The store operation, e.g. `create_user`.
        op: &'static str,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A uniqueness rule was violated (duplicate name, login, membership...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the operation depends on does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An argument cannot be stored (empty, or longer than its column).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// [`Store::connect_with_retry`](crate::Store::connect_with_retry) was cancelled.
    #[error("cancelled while connecting to the database")]
    Cancelled,
}

impl StoreError {
    /// True when the error comes from reaching the database (network, TLS, pool, refused login)
    /// rather than from the options, the SQL or the data; such errors are worth retrying.
    pub fn is_connection(&self) -> bool {
        match self {
            StoreError::Connect { source, .. } => !matches!(source, sqlx::Error::Configuration(_)),
            StoreError::Query { source, .. } => is_connection_error(source),
            StoreError::Migration { source, .. } => source
                .downcast_ref::<sqlx::Error>()
                .is_some_and(is_connection_error),
            _ => false,
        }
    }
}

/// Whether a driver error means the connection (not the statement) failed.
pub(crate) fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

/// Maps a driver error to [`StoreError::Query`] for operation `op`.
pub(crate) fn query_err(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { op, source }
}

/// Like [`query_err`], but a unique-constraint violation becomes [`StoreError::Conflict`].
pub(crate) fn unique_err(
    op: &'static str,
    conflict: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| {
        if is_unique_violation(&source) {
            StoreError::Conflict(conflict())
        } else {
            StoreError::Query { op, source }
        }
    }
}

/// Whether the driver reports a unique/primary-key violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A row whose stored value cannot be decoded (e.g. an unknown role string).
pub(crate) fn decode_err(op: &'static str, e: impl StdError + Send + Sync + 'static) -> StoreError {
    StoreError::Query {
        op,
        source: sqlx::Error::Decode(Box::new(e)),
    }
}

/// Longest string accepted for indexed `VARCHAR(190)` columns (MySQL utf8mb4 index limit).
pub(crate) const MAX_INDEXED_LEN: usize = 190;

/// Rejects empty or over-long values for indexed string columns.
pub(crate) fn check_indexed(what: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidArgument(format!(
            "{what} must not be empty"
        )));
    }
    if value.chars().count() > MAX_INDEXED_LEN {
        return Err(StoreError::InvalidArgument(format!(
            "{what} is longer than {MAX_INDEXED_LEN} characters"
        )));
    }
    Ok(())
}

/// Cuts a value to the indexed-column length (for free-form keys such as attempted usernames).
pub(crate) fn truncate_indexed(value: &str) -> &str {
    match value.char_indices().nth(MAX_INDEXED_LEN) {
        Some((at, _)) => &value[..at],
        None => value,
    }
}
