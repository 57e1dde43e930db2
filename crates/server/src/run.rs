//! The server's life: connect to the database (retrying), create initial data, serve HTTP, and on
//! SIGINT/SIGTERM drain requests, run shutdown hooks and close the database.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use prometheus_client::registry::Registry;
use wk_api::alertmanagers::Alertmanagers;
use wk_api::metrics::{HttpMetrics, ProcessCollector};
use wk_api::{AppState, router};
use wk_auth::AuthService;
use wk_config::{Protocol, Settings};
use wk_secrets::SecretBox;
use wk_store::{Store, StoreError};

use crate::cluster::ClusterPeer;
use crate::shutdown::{Shutdown, ShutdownHooks, on_signals};
use crate::{bootstrap, options};

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Total time the shutdown hooks may take.
const HOOKS_TIMEOUT: Duration = Duration::from_secs(20);
/// How often every Alertmanager is garbage-collected and its state saved to the kvstore
/// (Alertmanager's `--data.maintenance-interval` default; Grafana hard-codes the same 15 minutes
/// and has no setting for it).
const ALERTMANAGER_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// How often expired sessions and old login attempts are removed.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// Initial data could not be created.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// The HTTP port could not be opened.
    #[error("[server] http_addr/http_port: cannot listen on {addr}: {source}")]
    Listen {
        /// Address tried.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("[server] cert_file/cert_key: cannot load {cert} / {key}: {source}")]
    Tls {
        /// Certificate path.
        cert: String,
        /// Key path.
        key: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The key for secrets in the database could not be derived.
    #[error("[security] secret_key: {0}")]
    Secrets(wk_secrets::SecretError),
    /// HTTPS was asked for without a certificate and key.
    #[error("[server] protocol = https needs cert_file and cert_key")]
    MissingCert,
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Serve(std::io::Error),
    /// The cluster peer could not start.
    #[error("{0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    /// Rule evaluation cannot start with these settings.
    #[error(transparent)]
    Ruler(#[from] crate::ruler::RulerError),
    /// The built-in data sources or the provisioning files could not be applied.
    #[error(transparent)]
    Provisioning(#[from] crate::provisioning::ProvisioningError),
}

/// Runs the server until a signal stops it.
pub async fn run(settings: Settings) -> Result<(), RunError> {
    let (trigger, shutdown) = Shutdown::new();
    on_signals(trigger);

    let store_opts = options::store(&settings);
    tracing::info!(database = %store_opts.backend, "connecting to the database");
    let store = match Store::connect_with_retry(
        &store_opts,
        settings.database.connect_retry_max_backoff,
        shutdown.clone().wait(),
    )
    .await
    {
        Ok(s) => s,
        Err(StoreError::Cancelled) => {
            tracing::info!("stopped before the database became reachable");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(target = %store.target(), "database ready");
    bootstrap::run(&store, &settings.security).await?;

    let mut registry = Registry::default();
    registry.register_collector(Box::new(ProcessCollector::default()));
    let http_metrics = HttpMetrics::register(&mut registry);
    let am_metrics = wk_api::metrics::alertmanager(&mut registry);
    let peer = ClusterPeer::start(&settings, &mut registry).await?;
    let auth = AuthService::new(store.clone(), options::auth(&settings));
    let secrets = SecretBox::new(&settings.security.secret_key).map_err(RunError::Secrets)?;
    crate::ruler::check(&settings)?;
    // Data sources and alert rules from files are in place before the server serves.
    crate::provisioning::run(&store, &secrets, &settings).await?;
    let alertmanagers = Arc::new({
        let ams = Alertmanagers::new(settings.server.root_url.to_string(), secrets)
            .with_metrics(am_metrics)
            .with_dispatch_start_delay(settings.unified_alerting.alertmanager_dispatch_start_delay)
            .with_peer_timeout(settings.unified_alerting.ha_peer_timeout)
            .with_classic_mode(settings.unified_alerting.alertmanager_classic_mode);
        match &peer {
            Some(p) => ams.with_peer(p.peer(), options::state_keys(&settings)),
            None => ams,
        }
    });
    let ruler_metrics = wk_ruler::schedule::RulerMetrics::default();
    ruler_metrics.register(&mut registry);
    let state = AppState {
        store: store.clone(),
        auth: auth.clone(),
        opts: Arc::new(options::api(&settings)),
        http_metrics,
        registry: Arc::new(registry),
        alertmanagers: Arc::clone(&alertmanagers),
        ruler: None,
        rule_evaluator: None,
        external_alertmanagers: None,
    };
    let restored = state.alertmanagers.start_saved(&store).await;
    if restored > 0 {
        tracing::info!(
            organizations = restored,
            "restored alertmanagers with saved alerts"
        );
    }
    if let Some(peer) = &peer {
        // Every organization's states are registered before the first push/pull (Grafana
        // runs an Alertmanager per organization on every instance).
        state.alertmanagers.start_all(&store).await;
        peer.join().await;
    }
    // Rules are evaluated once the Alertmanagers they send to are running.
    let rule_secrets = SecretBox::new(&settings.security.secret_key).map_err(RunError::Secrets)?;
    let rule_sources: Arc<dyn wk_ruler::eval::DataSources> = Arc::new(
        crate::ruler::StoredSources::new(store.clone(), rule_secrets),
    );
    // Each organization's alerts go to its embedded Alertmanager, external ones, or both.
    let alert_router = Arc::new(crate::alert_router::AlertRouter::new(
        store.clone(),
        SecretBox::new(&settings.security.secret_key).map_err(RunError::Secrets)?,
        Arc::clone(&alertmanagers),
        settings.unified_alerting.admin_config_poll_interval,
    ));
    let ruler = crate::ruler::start(
        &settings,
        store.clone(),
        alert_router.clone(),
        Arc::clone(&rule_sources),
        ruler_metrics,
    );
    let state = AppState {
        ruler: ruler.as_ref().map(|r| r.view.clone()),
        rule_evaluator: Some(wk_ruler::eval::Evaluator::new(
            rule_sources,
            settings.unified_alerting.evaluation_timeout,
        )),
        external_alertmanagers: Some(Arc::new(move |org| {
            let alert_router = Arc::clone(&alert_router);
            Box::pin(async move { alert_router.active_urls(org).await })
        })),
        ..state
    };
    let history_retention = tokio::spawn(crate::ruler::history_retention_loop(
        store.clone(),
        settings.clone(),
    ));
    let cleanup = tokio::spawn(cleanup_loop(auth));
    let am_maintenance = tokio::spawn(alertmanager_maintenance_loop(
        Arc::clone(&state.alertmanagers),
        store.clone(),
        ALERTMANAGER_MAINTENANCE_INTERVAL,
    ));
    let am_sync = tokio::spawn(alertmanager_config_sync_loop(
        Arc::clone(&state.alertmanagers),
        store.clone(),
        settings.unified_alerting.alertmanager_config_poll_interval,
        peer.is_some(),
    ));
    let mut hooks = ShutdownHooks::default();
    if let Some(ruler) = ruler {
        hooks.register("stop evaluating rules", move || async move {
            let _ = ruler.stop.send(true);
            ruler.task.await.map_err(|e| e.to_string())
        });
    }
    let ams = Arc::clone(&state.alertmanagers);
    let am_store = store.clone();
    hooks.register(
        "stop alertmanagers and save their state",
        move || async move { ams.shutdown(&am_store).await },
    );
    if let Some(peer) = peer {
        hooks.register("leave the cluster", move || async move {
            peer.leave().await;
            Ok(())
        });
    }
    let db = store.clone();
    hooks.register("close database", move || async move {
        db.close().await;
        Ok(())
    });

    let served = serve(&settings, router(state), shutdown).await;
    cleanup.abort();
    history_retention.abort();
    am_maintenance.abort();
    // Waited for, so a periodic save still in flight cannot land after the final one.
    let _ = am_maintenance.await;
    am_sync.abort();
    let failed = hooks.run(HOOKS_TIMEOUT).await;
    if !failed.is_empty() {
        tracing::warn!(hooks = ?failed, "some shutdown hooks did not complete");
    }
    tracing::info!("stopped");
    served
}

/// Serves HTTP or HTTPS until shutdown, then drains in-flight requests for a bounded time.
async fn serve(settings: &Settings, app: axum::Router, shutdown: Shutdown) -> Result<(), RunError> {
    let host = if settings.server.http_addr.is_empty() {
        "0.0.0.0"
    } else {
        settings.server.http_addr.as_str()
    };
    let addr = if host.contains(':') {
        format!("[{host}]:{}", settings.server.http_port)
    } else {
        format!("{host}:{}", settings.server.http_port)
    };
    let listener = TcpListener::bind(&addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| RunError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let handle: Handle<SocketAddr> = Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.wait().await;
        h.graceful_shutdown(Some(DRAIN_TIMEOUT));
    });
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let scheme = match settings.server.protocol {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    tracing::info!(address = %addr, protocol = scheme, "HTTP server listening");
    let result = match settings.server.protocol {
        Protocol::Http => {
            axum_server::from_tcp(listener)
                .map_err(RunError::Serve)?
                .handle(handle)
                .serve(make)
                .await
        }
        Protocol::Https => {
            let (cert, key) = match (&settings.server.cert_file, &settings.server.cert_key) {
                (Some(c), Some(k)) => (c.clone(), k.clone()),
                _ => return Err(RunError::MissingCert),
            };
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|source| RunError::Tls {
                    cert: cert.display().to_string(),
                    key: key.display().to_string(),
                    source,
                })?;
            axum_server::tls_rustls::from_tcp_rustls(listener, tls)
                .map_err(RunError::Serve)?
                .handle(handle)
                .serve(make)
                .await
        }
    };
    result.map_err(RunError::Serve)
}

/// Every `every`, garbage-collects resolved alerts, expired silences and nflog entries of every
/// Alertmanager, then saves its silences, notification log and alerts to the kvstore (upstream's
/// maintenance: GC, then snapshot). Failed saves are logged with a running count.
async fn alertmanager_maintenance_loop(ams: Arc<Alertmanagers>, store: Store, every: Duration) {
    let every = every.max(Duration::from_millis(10));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures: u64 = 0;
    loop {
        tick.tick().await;
        let errors = ams.maintenance(&store).await;
        if errors.is_empty() {
            tracing::debug!("saved alertmanager state");
        }
        for error in errors {
            failures += 1;
            tracing::warn!(%error, failures_total = failures, "saving alertmanager state failed");
        }
    }
}

/// Applies configurations other servers saved (`alertmanager_config_poll_interval`).
/// Applies changed configurations every poll; when clustered, also starts the Alertmanagers of
/// organizations created since (their states must be registered on every instance).
async fn alertmanager_config_sync_loop(
    ams: Arc<Alertmanagers>,
    store: Store,
    every: Duration,
    clustered: bool,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if clustered {
            ams.start_all(&store).await;
        }
        ams.sync(&store).await;
    }
}

async fn cleanup_loop(auth: AuthService) {
    let mut tick = tokio::time::interval(CLEANUP_INTERVAL);
    loop {
        tick.tick().await;
        match auth.cleanup().await {
            Ok((sessions, attempts)) => {
                tracing::debug!(
                    sessions,
                    attempts,
                    "removed expired sessions and login attempts"
                )
            }
            Err(e) => tracing::warn!(error = %e, "cleaning up expired sessions failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use wk_api::alertmanagers::{KV_ALERTS, KV_NAMESPACE, KV_NFLOG, KV_SILENCES};
    use wk_store::Backend;
    use wk_store::testing::test_store;

    use super::*;

    fn registry() -> Alertmanagers {
        Alertmanagers::new(
            "http://wk.test/",
            SecretBox::new("test secret").expect("secret box"),
        )
    }

    #[tokio::test]
    async fn maintenance_loop_saves_alertmanager_state_periodically() {
        let Some(t) = test_store(Backend::Sqlite).await else {
            return;
        };
        let store = t.store.clone();
        let ams = Arc::new(registry());
        let am = ams.get(&store, 1).await.expect("instance");
        let posted = serde_json::from_value(serde_json::json!([
            {"labels": {"alertname": "SavedPeriodically"}}
        ]))
        .expect("posted alerts");
        assert!(am.put_alerts(posted, am.now()).is_empty());
        for key in [KV_SILENCES, KV_NFLOG, KV_ALERTS] {
            let row = store.kv_get(1, KV_NAMESPACE, key).await.expect("kv_get");
            assert!(row.is_none(), "{key} saved before any maintenance");
        }

        let task = tokio::spawn(alertmanager_maintenance_loop(
            Arc::clone(&ams),
            store.clone(),
            Duration::from_millis(100),
        ));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut present = 0;
            for key in [KV_SILENCES, KV_NFLOG, KV_ALERTS] {
                if store
                    .kv_get(1, KV_NAMESPACE, key)
                    .await
                    .expect("kv_get")
                    .is_some()
                {
                    present += 1;
                }
            }
            if present == 3 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the loop never saved all three keys"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
        let _ = task.await;
        am.stop().await;

        // What the loop saved is enough for a new registry on the same database.
        let fresh = registry();
        let restored = fresh.get(&store, 1).await.expect("restored instance");
        let alerts = restored.alerts(|_, _| true);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(
            alerts[0].0.labels.get("alertname"),
            Some("SavedPeriodically")
        );
        restored.stop().await;
    }
}
