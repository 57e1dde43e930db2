//! Settling: a node is ready once the member count stayed the same for three polls in a row
//! (polls `10 × gossip_interval` apart), or once the settle timeout passed (Alertmanager's
//! `Peer.Settle`). Until then notifications wait.

use std::time::Duration;

use tokio::sync::watch;

/// Readiness that flips once, shared by the peer and whoever waits on it.
#[derive(Debug, Clone)]
pub struct Readiness {
    tx: watch::Sender<bool>,
}

impl Default for Readiness {
    fn default() -> Self {
        Self {
            tx: watch::channel(false).0,
        }
    }
}

impl Readiness {
    /// Marks ready (idempotent).
    pub fn set_ready(&self) {
        self.tx.send_replace(true);
    }

    /// Whether settled.
    pub fn is_ready(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once settled.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Polls `count` every `interval` until it was equal three times in a row, or `timeout`;
/// then marks `ready`. Returns whether it settled (false: timed out).
pub async fn settle(
    ready: &Readiness,
    interval: Duration,
    timeout: Duration,
    count: impl Fn() -> usize,
) -> bool {
    let start = tokio::time::Instant::now();
    let deadline = start + timeout;
    let mut previous = usize::MAX;
    let mut okay = 0;
    let settled = loop {
        if tokio::time::timeout_at(deadline, tokio::time::sleep(interval))
            .await
            .is_err()
        {
            break false;
        }
        let n = count();
        if okay >= 3 {
            break true;
        }
        if n == previous {
            okay += 1;
        } else {
            okay = 0;
        }
        previous = n;
    };
    if settled {
        tracing::info!(elapsed = ?start.elapsed(), "gossip settled; proceeding");
    } else {
        tracing::info!(elapsed = ?start.elapsed(), "gossip not settled but continuing anyway");
    }
    ready.set_ready();
    settled
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn stable_count_settles_after_five_polls() {
        let ready = Readiness::default();
        let start = tokio::time::Instant::now();
        assert!(
            settle(
                &ready,
                Duration::from_secs(2),
                Duration::from_secs(60),
                || 3
            )
            .await
        );
        assert!(ready.is_ready());
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn changing_count_runs_into_the_timeout() {
        let ready = Readiness::default();
        let n = AtomicUsize::new(0);
        let settled = settle(
            &ready,
            Duration::from_secs(2),
            Duration::from_secs(30),
            || n.fetch_add(1, Ordering::SeqCst),
        )
        .await;
        assert!(!settled);
        assert!(ready.is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_wake_when_ready() {
        let ready = Readiness::default();
        let r = ready.clone();
        let waiter = tokio::spawn(async move { r.wait().await });
        ready.set_ready();
        waiter.await.unwrap();
    }
}
