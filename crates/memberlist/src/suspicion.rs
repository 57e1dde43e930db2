//! Lifeguard's timers: the suspicion timeout, which shrinks as independent nodes confirm a
//! suspicion, and awareness, the local health score that stretches probe timers.

use std::collections::HashSet;
use std::time::Duration;

/// The shortest suspicion timeout: `suspicion_mult × max(1, log10(n)) × probe_interval`.
pub fn suspicion_timeout(suspicion_mult: u32, nodes: usize, probe_interval: Duration) -> Duration {
    let scale = (nodes.max(1) as f64).log10().max(1.0);
    let ms = f64::from(suspicion_mult) * scale * probe_interval.as_secs_f64() * 1000.0;
    Duration::from_millis(ms.round() as u64)
}

/// A suspicion of one node: the timeout runs from `min`..`max`, falling towards `min` as the
/// expected `k` independent confirmations arrive.
#[derive(Debug, Clone)]
pub struct Suspicion {
    /// The incarnation suspected.
    pub incarnation: u32,
    confirmations: HashSet<String>,
    k: u32,
    min: Duration,
    max: Duration,
}

impl Suspicion {
    /// A suspicion raised by `from`, expecting `k` confirmations.
    pub fn new(incarnation: u32, from: &str, k: u32, min: Duration, max: Duration) -> Self {
        let mut confirmations = HashSet::new();
        confirmations.insert(from.to_owned());
        Self {
            incarnation,
            confirmations,
            k,
            min,
            max: max.max(min),
        }
    }

    /// Records a confirmation; true when `from` is new and still counts (not past `k`).
    pub fn confirm(&mut self, from: &str) -> bool {
        let counted = self.confirmations.len().saturating_sub(1) as u32;
        if counted >= self.k || self.confirmations.contains(from) {
            return false;
        }
        self.confirmations.insert(from.to_owned());
        true
    }

    /// The timeout, measured from the start of the suspicion, given the confirmations so far.
    pub fn timeout(&self) -> Duration {
        if self.k < 1 {
            return self.min;
        }
        let c = self.confirmations.len().saturating_sub(1) as f64;
        let frac = (c + 1.0).ln() / (f64::from(self.k) + 1.0).ln();
        let raw = self.max.as_secs_f64() - frac * (self.max - self.min).as_secs_f64();
        let ms = (raw * 1000.0).floor().max(0.0) as u64;
        Duration::from_millis(ms).max(self.min)
    }
}

/// The local health score (0 healthy .. max − 1), raised by missed acks and refutations.
#[derive(Debug, Clone)]
pub struct Awareness {
    max: u32,
    score: u32,
}

impl Awareness {
    /// A healthy score bounded by `max` (memberlist's `AwarenessMaxMultiplier`).
    pub fn new(max: u32) -> Self {
        Self {
            max: max.max(1),
            score: 0,
        }
    }

    /// Adds `delta` (negative for good news), kept within `0..max`.
    pub fn apply(&mut self, delta: i32) {
        let next = i64::from(self.score) + i64::from(delta);
        self.score = next.clamp(0, i64::from(self.max - 1)) as u32;
    }

    /// The score (0 = healthy), reported as `alertmanager_cluster_health_score`.
    pub fn score(&self) -> u32 {
        self.score
    }

    /// `timeout × (score + 1)`.
    pub fn scale(&self, timeout: Duration) -> Duration {
        timeout.saturating_mul(self.score + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_scales_with_log10_of_the_cluster() {
        let s = Duration::from_secs(1);
        assert_eq!(suspicion_timeout(4, 1, s), Duration::from_secs(4));
        assert_eq!(suspicion_timeout(4, 3, s), Duration::from_secs(4));
        assert_eq!(suspicion_timeout(4, 100, s), Duration::from_secs(8));
        assert_eq!(
            suspicion_timeout(4, 1000, Duration::from_millis(200)),
            Duration::from_millis(2400)
        );
    }

    #[test]
    fn confirmations_shorten_the_timeout_down_to_min() {
        let min = Duration::from_secs(4);
        let max = Duration::from_secs(24);
        let mut s = Suspicion::new(1, "a", 2, min, max);
        assert_eq!(s.timeout(), max);
        assert!(s.confirm("b"));
        assert!(!s.confirm("b"), "the same node confirms once");
        let one = s.timeout();
        assert!(one < max && one > min, "{one:?}");
        assert!(s.confirm("c"));
        assert_eq!(s.timeout(), min);
        assert!(!s.confirm("d"), "no more than k confirmations count");
    }

    #[test]
    fn without_expected_confirmations_the_timeout_is_min() {
        let s = Suspicion::new(1, "a", 0, Duration::from_secs(4), Duration::from_secs(24));
        assert_eq!(s.timeout(), Duration::from_secs(4));
    }

    #[test]
    fn awareness_is_bounded_and_scales_timeouts() {
        let mut a = Awareness::new(8);
        a.apply(-1);
        assert_eq!(a.score(), 0);
        a.apply(20);
        assert_eq!(a.score(), 7);
        assert_eq!(a.scale(Duration::from_millis(500)), Duration::from_secs(4));
    }
}
