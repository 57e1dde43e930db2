//! Shutdown: the signal that starts it, and the ordered hooks other parts register (snapshot
//! Alertmanager state, leave the cluster, ...) that run after HTTP has drained, within a bound.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// A boxed hook future.
type HookFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// A registered hook: its name and the function that starts it.
type Hook = (String, Box<dyn FnOnce() -> HookFuture + Send>);

/// Hooks run in registration order when the server stops.
#[derive(Default)]
pub struct ShutdownHooks {
    hooks: Vec<Hook>,
}

impl ShutdownHooks {
    /// Registers a hook; it runs after the hooks registered before it.
    pub fn register<F, Fut>(&mut self, name: impl Into<String>, hook: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.hooks
            .push((name.into(), Box::new(move || Box::pin(hook()))));
    }

    /// Runs every hook in order; stops waiting once `total` has elapsed. Returns the names of hooks
    /// that failed or did not finish.
    pub async fn run(self, total: Duration) -> Vec<String> {
        let deadline = Instant::now() + total;
        let mut failed = Vec::new();
        let mut hooks = self.hooks.into_iter();
        for (name, hook) in hooks.by_ref() {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, hook()).await {
                Ok(Ok(())) => tracing::info!(hook = %name, "shutdown hook done"),
                Ok(Err(e)) => {
                    tracing::error!(hook = %name, error = %e, "shutdown hook failed");
                    failed.push(name);
                }
                Err(_) => {
                    tracing::error!(hook = %name, "shutdown hook ran out of time");
                    failed.push(name);
                    break;
                }
            }
        }
        for (name, _) in hooks {
            tracing::error!(hook = %name, "shutdown hook skipped: no time left");
            failed.push(name);
        }
        failed
    }
}

/// A shutdown signal that many tasks can wait on.
#[derive(Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    /// Creates the signal and its trigger.
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (tx, rx) = watch::channel(false);
        (tx, Self { rx })
    }

    /// Resolves once shutdown has begun.
    pub async fn wait(mut self) {
        let _ = self.rx.wait_for(|stop| *stop).await;
    }
}

/// Triggers shutdown on SIGINT or SIGTERM.
pub fn on_signals(tx: watch::Sender<bool>) {
    tokio::spawn(async move {
        let name = wait_for_signal().await;
        tracing::info!(signal = name, "shutting down");
        let _ = tx.send(true);
    });
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        _ => {
            tracing::error!("cannot listen for SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn hooks_run_in_order_within_the_bound() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut hooks = ShutdownHooks::default();
        for name in ["first", "second"] {
            let o = order.clone();
            hooks.register(name, move || async move {
                o.lock().map_err(|e| e.to_string())?.push(name);
                Ok(())
            });
        }
        hooks.register("failing", || async { Err("boom".to_string()) });
        let o = order.clone();
        hooks.register("last", move || async move {
            o.lock().map_err(|e| e.to_string())?.push("last");
            Ok(())
        });
        let failed = hooks.run(Duration::from_secs(5)).await;
        assert_eq!(failed, vec!["failing".to_string()]);
        assert_eq!(
            *order.lock().expect("lock"),
            vec!["first", "second", "last"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_hook_is_cut_off_and_later_ones_skipped() {
        let mut hooks = ShutdownHooks::default();
        hooks.register("slow", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        hooks.register("after", || async { Ok(()) });
        let failed = hooks.run(Duration::from_secs(1)).await;
        assert_eq!(failed, vec!["slow".to_string(), "after".to_string()]);
    }
}
