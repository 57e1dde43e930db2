//! `[unified_alerting.state_history]`: where alert state transitions are recorded, plus the
//! free-form `[unified_alerting.state_history.external_labels]` section.

use std::collections::BTreeMap;
use std::time::Duration;

use super::debug_redacted;
use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

const SECTION: &str = "unified_alerting.state_history";
/// Retention of the `annotations` backend.
const ANNOTATIONS_SECTION: &str = "unified_alerting.state_history.annotations";
/// The section of extra labels attached to state history records (any keys allowed).
pub(crate) const EXTERNAL_LABELS_SECTION: &str = "unified_alerting.state_history.external_labels";
const SINGLE_BACKENDS: [&str; 3] = ["annotations", "loki", "prometheus"];
const LOKI_URL_KEYS: [&str; 3] = [
    "loki_remote_url",
    "loki_remote_read_url",
    "loki_remote_write_url",
];

/// Where state history is written (`backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateHistoryBackend {
    /// The database's annotation table (the default).
    Annotations,
    /// An external Loki.
    Loki,
    /// A Prometheus remote-write target.
    Prometheus,
    /// Several backends: `primary` serves queries, `secondaries` are written too.
    Multiple,
}

/// `[unified_alerting.state_history]`; every field is the key of the same name unless noted.
#[derive(Clone)]
pub struct StateHistorySettings {
    /// Record state history (default true).
    pub enabled: bool,
    /// `annotations` (default), `loki`, `prometheus` or `multiple`.
    pub backend: StateHistoryBackend,
    /// Loki base URL (or set both the read and write URLs).
    pub loki_remote_url: String,
    /// Loki read-path URL.
    pub loki_remote_read_url: String,
    /// Loki write-path URL.
    pub loki_remote_write_url: String,
    /// Loki tenant (`X-Scope-OrgID`).
    pub loki_tenant_id: String,
    /// Loki basic-auth user.
    pub loki_basic_auth_username: String,
    /// Loki basic-auth password (secret).
    pub loki_basic_auth_password: String,
    /// Longest time range of one Loki query (default 721h).
    pub loki_max_query_length: Duration,
    /// Largest Loki query in bytes (default 65536).
    pub loki_max_query_size: u64,
    /// Metric name for the Prometheus backend (default `GRAFANA_ALERTS`).
    pub prometheus_metric_name: String,
    /// Data source UID the Prometheus backend writes to.
    pub prometheus_target_datasource_uid: String,
    /// Timeout of one Prometheus remote write (default 10s).
    pub prometheus_write_timeout: Duration,
    /// For `multiple`: the backend that serves queries.
    pub primary: String,
    /// For `multiple`: further backends written to.
    pub secondaries: Vec<String>,
    /// `[unified_alerting.state_history.external_labels]`: labels added to every record.
    pub external_labels: BTreeMap<String, String>,
    /// `[unified_alerting.state_history.annotations] max_age`: entries older than this are
    /// deleted (zero keeps them).
    pub annotations_max_age: Duration,
    /// `[unified_alerting.state_history.annotations] max_annotations_to_keep`: per organization,
    /// only the newest this many are kept (zero keeps all).
    pub annotations_max_to_keep: u64,
}

debug_redacted!(StateHistorySettings {
    enabled, backend, loki_tenant_id, loki_basic_auth_username, loki_max_query_length,
    loki_max_query_size, prometheus_metric_name, prometheus_target_datasource_uid,
    prometheus_write_timeout, primary, secondaries, external_labels, annotations_max_age,
    annotations_max_to_keep,
} secret { loki_basic_auth_password }
  url { loki_remote_url, loki_remote_read_url, loki_remote_write_url });

impl StateHistorySettings {
    pub(crate) fn read(raw: &RawConfig, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, SECTION, diag);
        let backends = [
            ("annotations", StateHistoryBackend::Annotations),
            ("loki", StateHistoryBackend::Loki),
            ("prometheus", StateHistoryBackend::Prometheus),
            ("multiple", StateHistoryBackend::Multiple),
        ];
        let settings = StateHistorySettings {
            enabled: r.bool("enabled", true),
            backend: r.choice("backend", StateHistoryBackend::Annotations, &backends),
            loki_remote_url: r.string("loki_remote_url", ""),
            loki_remote_read_url: r.string("loki_remote_read_url", ""),
            loki_remote_write_url: r.string("loki_remote_write_url", ""),
            loki_tenant_id: r.string("loki_tenant_id", ""),
            loki_basic_auth_username: r.string("loki_basic_auth_username", ""),
            loki_basic_auth_password: r.string("loki_basic_auth_password", ""),
            loki_max_query_length: r
                .duration("loki_max_query_length", Duration::from_secs(721 * 3600)),
            loki_max_query_size: r.u64("loki_max_query_size", 65536),
            prometheus_metric_name: r.string("prometheus_metric_name", "GRAFANA_ALERTS"),
            prometheus_target_datasource_uid: r.string("prometheus_target_datasource_uid", ""),
            prometheus_write_timeout: r
                .duration("prometheus_write_timeout", Duration::from_secs(10)),
            primary: r.string("primary", ""),
            secondaries: r.list("secondaries"),
            external_labels: SectionReader::new(raw, EXTERNAL_LABELS_SECTION, r.diag())
                .entries()
                .into_iter()
                .collect(),
            annotations_max_age: SectionReader::new(raw, ANNOTATIONS_SECTION, r.diag())
                .duration("max_age", Duration::ZERO),
            annotations_max_to_keep: SectionReader::new(raw, ANNOTATIONS_SECTION, r.diag())
                .u64("max_annotations_to_keep", 0),
        };
        settings.validate(&mut r);
        settings
    }

    fn validate(&self, r: &mut SectionReader<'_>) {
        if self.backend == StateHistoryBackend::Multiple {
            self.validate_multiple(r);
        }
        for key in LOKI_URL_KEYS {
            let value = r.string(key, "");
            if !value.is_empty()
                && let Err(err) = url::Url::parse(&value)
            {
                r.problem(
                    key,
                    format!("expected a URL such as http://loki:3100: {err}"),
                );
            }
        }
        let loki_configured = !self.loki_remote_url.is_empty()
            || (!self.loki_remote_read_url.is_empty() && !self.loki_remote_write_url.is_empty());
        if self.enabled && self.uses("loki") && !loki_configured {
            r.problem(
                "backend",
                "the loki backend needs loki_remote_url, or both loki_remote_read_url and \
                 loki_remote_write_url",
            );
        }
    }

    fn validate_multiple(&self, r: &mut SectionReader<'_>) {
        let expected = SINGLE_BACKENDS.join(", ");
        if self.primary.is_empty() {
            r.problem(
                "backend",
                format!("backend \"multiple\" needs 'primary' set to one of: {expected}"),
            );
        } else if !SINGLE_BACKENDS.contains(&self.primary.as_str()) {
            r.problem("primary", format!("expected one of: {expected}"));
        }
        if let Some(bad) = self
            .secondaries
            .iter()
            .find(|s| !SINGLE_BACKENDS.contains(&s.as_str()))
        {
            r.problem(
                "secondaries",
                format!("unknown backend {bad:?}: expected a comma-separated list of {expected}"),
            );
        }
    }

    /// Whether the configured backend (or, for `multiple`, one of its parts) is `name`.
    fn uses(&self, name: &str) -> bool {
        match self.backend {
            StateHistoryBackend::Annotations => name == "annotations",
            StateHistoryBackend::Loki => name == "loki",
            StateHistoryBackend::Prometheus => name == "prometheus",
            StateHistoryBackend::Multiple => {
                self.primary == name || self.secondaries.iter().any(|s| s == name)
            }
        }
    }
}
