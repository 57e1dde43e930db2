//! Notification delivery: what a flush of an aggregation group hands on ([`GroupContext`] and
//! the alerts), the [`Notifier`] the dispatcher flushes into, and the [`Integration`]s (webhook,
//! email, …) that finally send. The pipeline stages live in submodules.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::labels::LabelSet;

/// A boxed, sendable future (the traits here are object-safe); the same type the cluster peer uses.
pub use wk_cluster::BoxFuture;

/// Everything a flush of one aggregation group carries down the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupContext {
    /// The group's key, `route key + ":" + group labels` (the nflog key).
    pub group_key: String,
    /// The group's labels.
    pub group_labels: LabelSet,
    /// The receiver the route sends to.
    pub receiver: String,
    /// The route's unique id.
    pub route_id: String,
    /// The route's `group_interval`.
    pub group_interval: Duration,
    /// The route's `repeat_interval`.
    pub repeat_interval: Duration,
    /// Names of the route's mute time intervals.
    pub mute_time_intervals: Vec<String>,
    /// Names of the route's active time intervals.
    pub active_time_intervals: Vec<String>,
    /// The flush tick time (dedup compares against this, not the time after waiting).
    pub now: DateTime<Utc>,
}

/// Why a notification attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// An integration failed; `retry` says whether trying again may help.
    #[error("{integration}[{index}]: {message}")]
    Integration {
        /// Integration name, e.g. `webhook`.
        integration: String,
        /// Index of the integration in its receiver's list.
        index: u32,
        /// Whether a retry may succeed (5xx, timeouts) or not (4xx, bad configuration).
        retry: bool,
        /// What went wrong.
        message: String,
        /// The failure category reported in metrics.
        reason: FailureReason,
    },
    /// The flush ran out of time (its deadline is `max(group_interval, 10s) + position × peer_timeout`).
    #[error("notification deadline exceeded after {attempts} attempt(s): {last}")]
    DeadlineExceeded {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
        /// The last attempt's failure category (`contextDeadlineExceeded` if none failed).
        reason: FailureReason,
    },
    /// Several integrations failed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Multiple(Vec<NotifyError>),
    /// The receiver named by the route does not exist.
    #[error("receiver {0:?} is not configured")]
    UnknownReceiver(String),
}

/// Why a notification failed: the `reason` label of `alertmanager_notifications_failed_total`
/// (Alertmanager 0.26+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailureReason {
    /// Anything else.
    #[default]
    Other,
    /// The receiver answered 4xx.
    ClientError,
    /// The receiver answered 5xx.
    ServerError,
    /// The flush was cancelled.
    ContextCanceled,
    /// The flush deadline passed.
    ContextDeadlineExceeded,
}

impl FailureReason {
    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Other => "other",
            Self::ClientError => "clientError",
            Self::ServerError => "serverError",
            Self::ContextCanceled => "contextCanceled",
            Self::ContextDeadlineExceeded => "contextDeadlineExceeded",
        }
    }

    /// The category of an HTTP status code: 4xx client, 5xx server, anything else other.
    pub fn from_status(code: u16) -> Self {
        match code / 100 {
            4 => Self::ClientError,
            5 => Self::ServerError,
            _ => Self::Other,
        }
    }
}

impl NotifyError {
    /// The failure category of this error (the first one's for several).
    pub fn reason(&self) -> FailureReason {
        match self {
            Self::Integration { reason, .. } | Self::DeadlineExceeded { reason, .. } => *reason,
            Self::Multiple(errs) => errs.first().map_or(FailureReason::Other, Self::reason),
            Self::UnknownReceiver(_) => FailureReason::Other,
        }
    }
}

/// What the dispatcher flushes an aggregation group into (the notification pipeline).
pub trait Notifier: Send + Sync {
    /// Delivers one flush; `Ok` means every integration succeeded (or had nothing to do), after
    /// which resolved alerts may be removed from the group.
    fn notify<'a>(
        &'a self,
        ctx: &'a GroupContext,
        alerts: Vec<Alert>,
    ) -> BoxFuture<'a, Result<(), NotifyError>>;
}

/// One configured integration of a receiver (a webhook, an e-mail address, …).
pub trait Integration: Send + Sync {
    /// Integration name as used in the nflog and metrics, e.g. `webhook`, `email`.
    fn name(&self) -> &str;
    /// Position of this integration in its receiver's list of the same kind.
    fn index(&self) -> u32;
    /// Whether resolved notifications are sent.
    fn send_resolved(&self) -> bool;
    /// Sends one notification; `reason` is the dedup stage's reason (`first notification`, …).
    fn notify<'a>(
        &'a self,
        ctx: &'a GroupContext,
        reason: &'a str,
        alerts: &'a [Alert],
    ) -> BoxFuture<'a, Result<(), NotifyError>>;
}

pub mod dedup;
pub mod pipeline;
pub mod retry;
pub mod stages;
pub mod webhook;

pub use pipeline::{Pipeline, PipelineDeps, PipelineOptions};
pub use stages::{SuppressReason, SuppressedStats};
