//! Data sources the ruler can query itself, without a plugin or a network hop: each turns the
//! query model an alert rule stores in `data[].model` into a [`crate::data::Value`].
//!
//! Grafana's built-in TestData data source ([`testdata`]) runs in process; others are reached
//! over the network with the settings of a [`DataSourceConfig`].

pub mod prometheus;
pub mod sql;
pub mod testdata;

use std::collections::BTreeMap;

/// A data source as a query needs it: its type, address and settings, secrets decrypted.
#[derive(Clone, Default)]
pub struct DataSourceConfig {
    /// Unique id within the organization.
    pub uid: String,
    /// Plugin type (`prometheus`, `postgres`, `mysql`, `grafana-testdata-datasource`, ...).
    pub kind: String,
    /// URL of the service (for SQL sources `host:port`).
    pub url: String,
    /// Basic authentication user, when basic authentication is on.
    pub basic_auth_user: Option<String>,
    /// Database user (SQL sources).
    pub user: String,
    /// Database name (SQL sources; Grafana keeps it in `jsonData.database` or `database`).
    pub database: String,
    /// Type-specific settings (`jsonData`).
    pub json_data: serde_json::Value,
    /// Decrypted secrets (`secureJsonData`: `basicAuthPassword`, `password`, `httpHeaderValue1`,
    /// `tlsCACert`, ...).
    pub secure: BTreeMap<String, String>,
}

impl std::fmt::Debug for DataSourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSourceConfig")
            .field("uid", &self.uid)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("basic_auth_user", &self.basic_auth_user)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("json_data", &self.json_data)
            .field("secure", &self.secure.keys().collect::<Vec<_>>())
            .finish()
    }
}

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
    /// A remote data source refused or failed the query (the message says which and why).
    #[error("{0}")]
    Remote(String),
    /// The query took longer than allowed.
    #[error("query timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The data source's settings are unusable (URL, TLS material, unsupported authentication).
    #[error("invalid data source settings: {0}")]
    InvalidSettings(String),
    /// The data source answered with data alerting cannot use (a string or histogram result,
    /// no numeric column, an unparsable time).
    #[error("{0}")]
    UnusableResult(String),
    /// The data source's type is not one this server can query.
    #[error("data source type `{0}` is not supported for alerting")]
    UnsupportedType(String),
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
