//! The receiver-level stages before the fan-out: inhibition, time intervals and silences, with
//! the counters of what they suppressed, and a small `join_all` for the concurrent fan-out.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::inhibit::Inhibitor;
use crate::silences::Silences;
use crate::timeinterval::NamedTimeInterval;

/// Why alerts were suppressed (the `reason` label of `alertmanager_notifications_suppressed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressReason {
    /// Inhibited by another alert.
    Inhibition,
    /// Silenced.
    Silence,
    /// Inside one of the route's mute time intervals.
    MuteTimeInterval,
    /// Outside all of the route's active time intervals.
    ActiveTimeInterval,
}

impl SuppressReason {
    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inhibition => "inhibition",
            Self::Silence => "silence",
            Self::MuteTimeInterval => "mute_time_interval",
            Self::ActiveTimeInterval => "active_time_interval",
        }
    }
}

/// Counts of suppressed alerts per reason (the metrics are wired later).
#[derive(Debug, Default)]
pub struct SuppressedStats {
    inhibition: AtomicU64,
    silence: AtomicU64,
    mute_time_interval: AtomicU64,
    active_time_interval: AtomicU64,
}

impl SuppressedStats {
    fn counter(&self, reason: SuppressReason) -> &AtomicU64 {
        match reason {
            SuppressReason::Inhibition => &self.inhibition,
            SuppressReason::Silence => &self.silence,
            SuppressReason::MuteTimeInterval => &self.mute_time_interval,
            SuppressReason::ActiveTimeInterval => &self.active_time_interval,
        }
    }

    /// Adds `n` suppressed alerts for `reason`.
    pub fn add(&self, reason: SuppressReason, n: usize) {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.counter(reason).fetch_add(n, Ordering::Relaxed);
    }

    /// The count for `reason`.
    pub fn get(&self, reason: SuppressReason) -> u64 {
        self.counter(reason).load(Ordering::Relaxed)
    }
}

/// Removes alerts the inhibitor mutes at `now`; returns how many were removed.
pub fn drop_inhibited(alerts: &mut Vec<Alert>, inhibitor: &Inhibitor, now: DateTime<Utc>) -> usize {
    let before = alerts.len();
    alerts.retain(|a| inhibitor.mutes(&a.labels, now).is_none());
    before - alerts.len()
}

/// Removes alerts an active silence mutes at `now`; returns how many were removed.
pub fn drop_silenced(alerts: &mut Vec<Alert>, silences: &Silences, now: DateTime<Utc>) -> usize {
    let before = alerts.len();
    alerts.retain(|a| silences.mutes(&a.labels, now).is_empty());
    before - alerts.len()
}

/// Whether the batch is muted at `now` by the route's time intervals: some mute interval
/// contains `now`, or active intervals are set and none contains `now`. Names missing from
/// `intervals` contain nothing (configuration validation rejects them).
pub fn time_muted(
    mute: &[String],
    active: &[String],
    intervals: &HashMap<String, NamedTimeInterval>,
    now: DateTime<Utc>,
) -> Option<SuppressReason> {
    let contains = |name: &String| intervals.get(name).is_some_and(|i| i.contains(now));
    if !active.is_empty() && !active.iter().any(contains) {
        return Some(SuppressReason::ActiveTimeInterval);
    }
    if mute.iter().any(contains) {
        return Some(SuppressReason::MuteTimeInterval);
    }
    None
}

/// Runs the futures concurrently on the current task and returns their outputs in order.
pub async fn join_all<T, F: Future<Output = T>>(futures: Vec<F>) -> Vec<T> {
    let mut futures: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
