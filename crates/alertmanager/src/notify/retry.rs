//! The retry stage: sends through one integration with exponential backoff until success, a
//! non-retryable error or the flush deadline.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use tokio::time::Instant;

use super::{FailureReason, GroupContext, Integration, NotifyError};
use crate::alert::Alert;
use crate::metrics::OrgMetrics;

/// Backoff settings (`cenkalti/backoff` `ExponentialBackOff` defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay (500ms).
    pub initial: Duration,
    /// Growth factor between delays (1.5).
    pub multiplier: f64,
    /// Relative jitter: each delay is drawn from `d × (1 ± randomization)` (0.5).
    pub randomization: f64,
    /// Cap on the un-jittered delay (60s).
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            multiplier: 1.5,
            randomization: 0.5,
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The un-jittered delay before retry number `n` (0 = the first retry).
    pub fn base_delay(&self, n: u32) -> Duration {
        let exp = i32::try_from(n).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exp);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The delay before retry `n` with jitter applied, `unit` being a random value in `[0, 1)`.
    pub fn delay(&self, n: u32, unit: f64) -> Duration {
        let base = self.base_delay(n).as_secs_f64();
        let low = base * (1.0 - self.randomization);
        let span = base * 2.0 * self.randomization;
        Duration::try_from_secs_f64(low + span * unit.clamp(0.0, 1.0)).unwrap_or(self.max)
    }
}

/// A random value in `[0, 1)` from the standard library's randomly seeded hasher.
fn random_unit(n: u32) -> f64 {
    let bits = RandomState::new().hash_one(n) >> 11;
    // 53 random bits scaled into [0, 1).
    (bits as f64) / ((1u64 << 53) as f64)
}

/// Sends `alerts` through `integration`, retrying retryable errors with `backoff` until
/// `deadline`. The first attempt is immediate; each retry waits for the backoff delay counted from
/// the start of the previous attempt (upstream's ticker). Every attempt is counted in `metrics`
/// (requests, failed requests, latency).
pub async fn send_with_retry(
    integration: &dyn Integration,
    ctx: &GroupContext,
    reason: &str,
    alerts: &[Alert],
    backoff: Backoff,
    deadline: Instant,
    metrics: &OrgMetrics,
) -> Result<(), NotifyError> {
    let mut attempts: u32 = 0;
    loop {
        attempts = attempts.saturating_add(1);
        let started = std::time::Instant::now();
        let attempt_start = Instant::now();
        let result =
            tokio::time::timeout_at(deadline, integration.notify(ctx, reason, alerts)).await;
        let failed = !matches!(result, Ok(Ok(())));
        metrics.notification_request(integration.name(), started.elapsed(), failed);
        let (last, last_reason) = match result {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) if !is_retryable(&e) => return Err(e),
            Ok(Err(e)) => (e.to_string(), e.reason()),
            Err(_) => {
                return Err(NotifyError::DeadlineExceeded {
                    attempts,
                    last: "attempt timed out".to_owned(),
                    reason: FailureReason::ContextDeadlineExceeded,
                });
            }
        };
        let retry = attempts - 1;
        // Like upstream's backoff ticker, the delay runs from the start of the attempt, not
        // from its failure: an attempt that took longer than the delay is retried at once.
        let wake = attempt_start + backoff.delay(retry, random_unit(retry));
        if wake >= deadline {
            tokio::time::sleep_until(deadline).await;
            return Err(NotifyError::DeadlineExceeded {
                attempts,
                last,
                reason: last_reason,
            });
        }
        tokio::time::sleep_until(wake).await;
    }
}

/// Whether an error may go away on retry.
fn is_retryable(e: &NotifyError) -> bool {
    match e {
        NotifyError::Integration { retry, .. } => *retry,
        NotifyError::Multiple(errs) => errs.iter().any(is_retryable),
        NotifyError::DeadlineExceeded { .. } => true,
        NotifyError::UnknownReceiver(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.base_delay(0), Duration::from_millis(500));
        assert_eq!(b.base_delay(1), Duration::from_millis(750));
        assert_eq!(b.base_delay(100), Duration::from_secs(60));
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(250));
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(750));
        let u = random_unit(3);
        assert!((0.0..1.0).contains(&u));
    }
}
