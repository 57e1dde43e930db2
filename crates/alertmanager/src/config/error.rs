//! Configuration errors. Messages reuse Alertmanager 0.25's wording, prefixed with where the
//! problem is: a YAML path such as `route.routes[1].matchers[0]`, or line and column for
//! syntax and shape errors reported by the YAML parser.

use thiserror::Error;

/// Why a configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The document is not YAML of the expected shape (unknown field, wrong type, …); the
    /// message carries the line and column when the parser knows them.
    #[error("{0}")]
    Yaml(String),
    /// A semantic check failed at `path` (empty for document-level checks).
    #[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Invalid {
        /// YAML path of the offending value, e.g. `receivers[2].webhook_configs[0]`.
        path: String,
        /// Upstream's message.
        message: String,
    },
    /// A receiver uses an integration this implementation does not deliver to yet.
    #[error("receiver {receiver:?}: {integration} are not supported yet")]
    Unsupported {
        /// Receiver name.
        receiver: String,
        /// Configuration key, e.g. `slack_configs`.
        integration: String,
    },
}

impl ConfigError {
    /// A semantic error at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl From<serde_norway::Error> for ConfigError {
    fn from(e: serde_norway::Error) -> Self {
        Self::Yaml(e.to_string())
    }
}
