//! Data sources the ruler can query itself, without a plugin or a network hop: each turns the
//! query model an alert rule stores in `data[].model` into a [`crate::data::Value`].
//!
//! Only Grafana's built-in TestData data source ([`testdata`]) lives here for now.

pub mod testdata;

/// Why a data source query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The query model is not a JSON object.
    #[error("invalid query model: expected a JSON object, got {0}")]
    NotAnObject(&'static str),
    /// A field of the query model has the wrong type or an unusable value.
    #[error("invalid query model: field `{field}`: {reason}")]
    InvalidField {
        /// The field, as a path such as `pulseWave.timeStep` or `csvWave[1].valuesCSV`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The scenario is unknown or not implemented here.
    #[error("testdata scenario `{0}` is not supported")]
    UnsupportedScenario(String),
    /// The scenario fails by design (e.g. `server_error_500` without input).
    #[error("testdata scenario `{scenario}` failed: {message}")]
    ScenarioFailed {
        /// The scenario id.
        scenario: String,
        /// The error the scenario produces.
        message: String,
    },
    /// The request around the model (time range, interval) is unusable.
    #[error("invalid query request: {0}")]
    InvalidRequest(String),
}

impl QueryError {
    /// An [`QueryError::InvalidField`] for `field`.
    pub fn invalid_field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
