//! The dedup stage's decision (upstream `DedupStage.needsUpdate`): whether a flush must notify,
//! given the nflog entry last logged for the group and integration.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::alert::Alert;
use crate::nflog::from_timestamp;
use crate::proto::nflog::Entry;

/// Reason: nothing was notified before.
pub const FIRST_NOTIFICATION: &str = "first notification";
/// Reason: the firing set grew.
pub const NEW_ALERTS: &str = "new alerts added";
/// Reason: new resolved alerts (only with `send_resolved`).
pub const SOME_RESOLVED: &str = "some alerts resolved";
/// Reason: nothing fires any more, but something did.
pub const ALL_RESOLVED: &str = "all alerts resolved";
/// Reason: the repeat interval has passed since the last notification.
pub const REPEAT_ELAPSED: &str = "repeat interval elapsed";

/// The firing and resolved alert hashes ([`crate::labels::LabelSet::alert_hash`]) of a batch,
/// resolved meaning [`Alert::resolved_at`] `now`.
pub fn split_hashes(alerts: &[Alert], now: DateTime<Utc>) -> (Vec<u64>, Vec<u64>) {
    let mut firing = Vec::new();
    let mut resolved = Vec::new();
    for a in alerts {
        if a.resolved_at(now) {
            resolved.push(a.labels.alert_hash());
        } else {
            firing.push(a.labels.alert_hash());
        }
    }
    (firing, resolved)
}

fn subset(set: &HashSet<u64>, of: &[u64]) -> bool {
    set.iter().all(|h| of.contains(h))
}

/// Why the flush must notify (the reason string), or `None` when it must not.
///
/// A missing entry timestamp counts as "long ago", so such an entry always repeats.
pub fn needs_update(
    entry: Option<&Entry>,
    firing: &HashSet<u64>,
    resolved: &HashSet<u64>,
    send_resolved: bool,
    repeat: Duration,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    let Some(entry) = entry else {
        return (!firing.is_empty()).then_some(FIRST_NOTIFICATION);
    };
    if !subset(firing, &entry.firing_alerts) {
        return Some(if entry.firing_alerts.is_empty() {
            FIRST_NOTIFICATION
        } else {
            NEW_ALERTS
        });
    }
    if firing.is_empty() {
        return (!entry.firing_alerts.is_empty()).then_some(ALL_RESOLVED);
    }
    if send_resolved && !subset(resolved, &entry.resolved_alerts) {
        return Some(SOME_RESOLVED);
    }
    let last = entry.timestamp.as_ref().and_then(from_timestamp);
    let cutoff = TimeDelta::from_std(repeat)
        .ok()
        .and_then(|d| now.checked_sub_signed(d));
    let elapsed = match (last, cutoff) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(l), Some(c)) => l < c,
    };
    elapsed.then_some(REPEAT_ELAPSED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nflog::to_timestamp;

    fn set(v: &[u64]) -> HashSet<u64> {
        v.iter().copied().collect()
    }

    fn entry(firing: &[u64], resolved: &[u64], ts: Option<DateTime<Utc>>) -> Entry {
        Entry {
            firing_alerts: firing.to_vec(),
            resolved_alerts: resolved.to_vec(),
            timestamp: ts.map(to_timestamp),
            ..Entry::default()
        }
    }

    /// The eleven cases of upstream `TestDedupStageNeedsUpdate` (reference §8.4).
    #[test]
    fn needs_update_vectors() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let min = |m: i64| Some(now - TimeDelta::minutes(m));
        let ri = Duration::from_secs(600);
        type Case = (
            Option<Entry>,
            &'static [u64],
            &'static [u64],
            bool,
            Option<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (None, &[2, 3, 4], &[], false, Some(FIRST_NOTIFICATION)),
            (None, &[], &[2, 3, 4], false, None),
            (
                Some(entry(&[1, 2, 3], &[], min(0))),
                &[2, 3, 4],
                &[],
                false,
                Some(NEW_ALERTS),
            ),
            (
                Some(entry(&[1, 2, 3], &[], None)),
                &[1, 2, 3],
                &[],
                false,
                Some(REPEAT_ELAPSED),
            ),
            (
                Some(entry(&[1, 2, 3], &[], min(9))),
                &[1, 2, 3],
                &[],
                false,
                None,
            ),
            (
                Some(entry(&[1, 2, 3], &[], min(11))),
                &[1, 2, 3],
                &[],
                false,
                Some(REPEAT_ELAPSED),
            ),
            (
                Some(entry(&[], &[1, 2, 3], min(11))),
                &[],
                &[3, 4, 5],
                true,
                None,
            ),
            (
                Some(entry(&[1, 2], &[3], min(9))),
                &[1],
                &[2, 3],
                false,
                None,
            ),
            (
                Some(entry(&[1, 2], &[3], min(9))),
                &[1],
                &[2, 3],
                true,
                Some(SOME_RESOLVED),
            ),
            (
                Some(entry(&[1, 2], &[], min(9))),
                &[],
                &[1, 2, 3],
                false,
                Some(ALL_RESOLVED),
            ),
            (
                Some(entry(&[1, 2], &[], min(9))),
                &[],
                &[1, 2, 3],
                true,
                Some(ALL_RESOLVED),
            ),
        ];
        for (i, (e, f, r, sr, want)) in cases.into_iter().enumerate() {
            let got = needs_update(e.as_ref(), &set(f), &set(r), sr, ri, now);
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn empty_firing_entry_with_new_firing_is_first_notification() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let e = entry(&[], &[1], Some(now));
        let got = needs_update(Some(&e), &set(&[1]), &set(&[]), false, Duration::ZERO, now);
        assert_eq!(got, Some(FIRST_NOTIFICATION));
    }
}
