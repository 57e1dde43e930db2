//! The notification pipeline (upstream `PipelineBuilder`): settle → inhibition → time
//! intervals → silences → per-integration fan-out of cluster wait → dedup (with Grafana's HA
//! guard: skip when another peer logged the group after this flush began) → retry →
//! set-notifies.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;
use wk_cluster::{Channel, Peer};

use super::dedup::{needs_update, split_hashes};
use super::retry::{Backoff, send_with_retry};
use super::stages::{
    SuppressReason, SuppressedStats, drop_inhibited, drop_silenced, join_all, time_muted,
};
use super::{BoxFuture, GroupContext, Integration, Notifier, NotifyError};
use crate::alert::Alert;
use crate::inhibit::Inhibitor;
use crate::metrics::OrgMetrics;
use crate::nflog::{NotificationLog, ReceiverKey, expiry_for, from_timestamp};
use crate::silences::Silences;
use crate::timeinterval::NamedTimeInterval;

/// Pipeline settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineOptions {
    /// How long each position waits more than the previous one (15s).
    pub peer_timeout: Duration,
    /// Grafana's nflog expiry, `2 × max(repeat, group_interval)` instead of `2 × repeat`.
    pub grafana_nflog_expiry: bool,
    /// The retry backoff.
    pub backoff: Backoff,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            peer_timeout: Duration::from_secs(15),
            grafana_nflog_expiry: false,
            backoff: Backoff::default(),
        }
    }
}

/// What a [`Pipeline`] needs besides its receivers.
pub struct PipelineDeps {
    /// The cluster peer (position, settle).
    pub peer: Arc<dyn Peer>,
    /// The inhibitor.
    pub inhibitor: Arc<Inhibitor>,
    /// The silences.
    pub silences: Arc<Silences>,
    /// Named time intervals routes refer to.
    pub time_intervals: HashMap<String, NamedTimeInterval>,
    /// The notification log.
    pub nflog: Arc<NotificationLog>,
    /// Where new nflog entries are broadcast (the nflog's peer channel).
    pub broadcast: Arc<dyn Channel>,
}

/// The notification pipeline, the [`Notifier`] the dispatcher flushes into.
pub struct Pipeline {
    receivers: HashMap<String, Vec<Arc<dyn Integration>>>,
    deps: PipelineDeps,
    options: PipelineOptions,
    stats: Arc<SuppressedStats>,
    metrics: OrgMetrics,
}

impl Pipeline {
    /// A pipeline over `receivers` (receiver name → its integrations).
    pub fn new(
        receivers: HashMap<String, Vec<Arc<dyn Integration>>>,
        deps: PipelineDeps,
        options: PipelineOptions,
    ) -> Self {
        Self {
            receivers,
            deps,
            options,
            stats: Arc::default(),
            metrics: OrgMetrics::detached(),
        }
    }

    /// Counts into `metrics` (notifications, requests, suppressed alerts, nflog queries).
    pub fn with_metrics(mut self, metrics: OrgMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Counts `n` alerts suppressed for `reason` (stats and metrics).
    fn suppressed(&self, reason: SuppressReason, n: usize) {
        self.stats.add(reason, n);
        self.metrics.suppressed(reason, n);
    }

    /// Counts of suppressed alerts per reason.
    pub fn stats(&self) -> Arc<SuppressedStats> {
        Arc::clone(&self.stats)
    }

    /// The flush deadline: `max(group_interval, 10s) + position × peer_timeout`.
    pub fn timeout(&self, group_interval: Duration, position: u32) -> Duration {
        group_interval
            .max(Duration::from_secs(10))
            .saturating_add(self.options.peer_timeout.saturating_mul(position))
    }

    async fn run(&self, ctx: &GroupContext, mut alerts: Vec<Alert>) -> Result<(), NotifyError> {
        let integrations = self
            .receivers
            .get(&ctx.receiver)
            .ok_or_else(|| NotifyError::UnknownReceiver(ctx.receiver.clone()))?;
        let start = Instant::now();
        let position = self.deps.peer.position();
        let deadline = start + self.timeout(ctx.group_interval, position);
        if tokio::time::timeout_at(deadline, self.deps.peer.wait_ready())
            .await
            .is_err()
        {
            return Err(deadline_error("waiting for gossip to settle"));
        }
        let suppressed = drop_inhibited(&mut alerts, &self.deps.inhibitor, ctx.now);
        self.suppressed(SuppressReason::Inhibition, suppressed);
        if alerts.is_empty() {
            return Ok(());
        }
        let d = &self.deps;
        let muted = time_muted(
            &ctx.mute_time_intervals,
            &ctx.active_time_intervals,
            &d.time_intervals,
            ctx.now,
        );
        if let Some(reason) = muted {
            self.suppressed(reason, alerts.len());
            return Ok(());
        }
        let suppressed = drop_silenced(&mut alerts, &self.deps.silences, ctx.now);
        self.suppressed(SuppressReason::Silence, suppressed);
        if alerts.is_empty() {
            return Ok(());
        }
        let run = Run {
            pipeline: self,
            ctx,
            alerts: &alerts,
            start,
            deadline,
            wait: self.options.peer_timeout.saturating_mul(position),
        };
        let results = join_all(
            integrations
                .iter()
                .map(|i| run.integration(i.as_ref()))
                .collect(),
        )
        .await;
        let errors: Vec<NotifyError> = results.into_iter().filter_map(Result::err).collect();
        match errors.len() {
            0 => Ok(()),
            _ => Err(NotifyError::Multiple(errors)),
        }
    }
}

fn deadline_error(what: &str) -> NotifyError {
    NotifyError::DeadlineExceeded {
        attempts: 0,
        last: what.to_owned(),
        reason: super::FailureReason::ContextDeadlineExceeded,
    }
}

/// One flush's fan-out state.
struct Run<'a> {
    pipeline: &'a Pipeline,
    ctx: &'a GroupContext,
    alerts: &'a [Alert],
    start: Instant,
    deadline: Instant,
    wait: Duration,
}

impl Run<'_> {
    /// The wall-clock time now: the flush time plus the (tokio) time elapsed since.
    fn wall_now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.start.elapsed()).unwrap_or(TimeDelta::zero());
        self.ctx
            .now
            .checked_add_signed(elapsed)
            .unwrap_or(self.ctx.now)
    }

    /// Cluster wait → dedup → retry → set-notifies for one integration.
    async fn integration(&self, integration: &dyn Integration) -> Result<(), NotifyError> {
        let (ctx, p) = (self.ctx, self.pipeline);
        let wake = self.start + self.wait;
        if wake > self.deadline {
            tokio::time::sleep_until(self.deadline).await;
            return Err(deadline_error("waiting for the peer position"));
        }
        tokio::time::sleep_until(wake).await;

        let key = ReceiverKey::new(
            ctx.receiver.clone(),
            integration.name(),
            integration.index(),
        );
        let (firing, resolved) = split_hashes(self.alerts, ctx.now);
        p.metrics.nflog_query();
        let entry = p.deps.nflog.query(&key, &ctx.group_key);
        let firing_set: HashSet<u64> = firing.iter().copied().collect();
        let resolved_set: HashSet<u64> = resolved.iter().copied().collect();
        let send_resolved = integration.send_resolved();
        let Some(reason) = needs_update(
            entry.as_ref(),
            &firing_set,
            &resolved_set,
            send_resolved,
            ctx.repeat_interval,
            ctx.now,
        ) else {
            return Ok(());
        };
        // The HA guard (Grafana's extra dedup, grafana/prometheus-alertmanager#102): an entry
        // logged after this flush began means another peer flushed the group and notified while
        // we waited for our position. Its alerts may differ from ours, but sending now would
        // only duplicate (or contradict) that notification.
        if let Some(logged) = entry
            .as_ref()
            .and_then(|e| e.timestamp.as_ref())
            .and_then(from_timestamp)
            .filter(|t| *t > ctx.now)
        {
            tracing::warn!(
                group_key = %ctx.group_key,
                receiver = %ctx.receiver,
                integration = integration.name(),
                index = integration.index(),
                entry_timestamp = %logged,
                pipeline_timestamp = %ctx.now,
                reason,
                "Timestamp of notification log entry is after the current pipeline timestamp; another peer already notified, skipping"
            );
            return Ok(());
        }

        p.metrics.notification(integration.name());
        if send_resolved {
            self.send(integration, reason, self.alerts).await?;
        } else if !firing.is_empty() {
            let firing_alerts: Vec<Alert> = self
                .alerts
                .iter()
                .filter(|a| !a.resolved_at(ctx.now))
                .cloned()
                .collect();
            self.send(integration, reason, &firing_alerts).await?;
        }

        let expiry = expiry_for(
            ctx.repeat_interval,
            ctx.group_interval,
            p.options.grafana_nflog_expiry,
        );
        let logged = p
            .deps
            .nflog
            .log(
                &key,
                &ctx.group_key,
                &firing,
                &resolved,
                Some(expiry),
                self.wall_now(),
            )
            .map_err(|e| NotifyError::Integration {
                integration: integration.name().to_owned(),
                index: integration.index(),
                retry: false,
                message: format!("notification log: {e}"),
                reason: super::FailureReason::Other,
            })?;
        if let Some(bytes) = logged {
            // Pushed to every peer at once: a peer waiting for its position must see this
            // entry even if this node dies right after notifying.
            p.deps.broadcast.push(bytes);
        }
        Ok(())
    }

    async fn send(
        &self,
        integration: &dyn Integration,
        reason: &str,
        alerts: &[Alert],
    ) -> Result<(), NotifyError> {
        let backoff = self.pipeline.options.backoff;
        send_with_retry(
            integration,
            self.ctx,
            reason,
            alerts,
            backoff,
            self.deadline,
            &self.pipeline.metrics,
        )
        .await
        .inspect_err(|e| {
            let m = &self.pipeline.metrics;
            m.notification_failed(integration.name(), e.reason());
        })
    }
}

impl Notifier for Pipeline {
    fn notify<'a>(
        &'a self,
        ctx: &'a GroupContext,
        alerts: Vec<Alert>,
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(self.run(ctx, alerts))
    }
}
