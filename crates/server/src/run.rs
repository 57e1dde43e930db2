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
use wk_store::{Store, StoreError};

use crate::shutdown::{Shutdown, ShutdownHooks, on_signals};
use crate::{bootstrap, options};

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Total time the shutdown hooks may take.
const HOOKS_TIMEOUT: Duration = Duration::from_secs(20);
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
    /// HTTPS was asked for without a certificate and key.
    #[error("[server] protocol = https needs cert_file and cert_key")]
    MissingCert,
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Serve(std::io::Error),
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
    let auth = AuthService::new(store.clone(), options::auth(&settings));
    let state = AppState {
        store: store.clone(),
        auth: auth.clone(),
        opts: Arc::new(options::api(&settings)),
        http_metrics,
        registry: Arc::new(registry),
        alertmanagers: Arc::new(Alertmanagers::new(settings.server.root_url.to_string())),
    };
    let cleanup = tokio::spawn(cleanup_loop(auth));
    let am_gc = tokio::spawn(alertmanager_gc_loop(Arc::clone(&state.alertmanagers)));
    let am_sync = tokio::spawn(alertmanager_config_sync_loop(
        Arc::clone(&state.alertmanagers),
        store.clone(),
        settings.unified_alerting.alertmanager_config_poll_interval,
    ));
    let mut hooks = ShutdownHooks::default();
    let ams = Arc::clone(&state.alertmanagers);
    let am_store = store.clone();
    hooks.register(
        "stop alertmanagers and save their state",
        move || async move { ams.shutdown(&am_store).await },
    );
    let db = store.clone();
    hooks.register("close database", move || async move {
        db.close().await;
        Ok(())
    });

    let served = serve(&settings, router(state), shutdown).await;
    cleanup.abort();
    am_gc.abort();
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

/// Garbage-collects resolved alerts, expired silences and nflog entries of every Alertmanager
/// (upstream's `--alerts.gc-interval`/maintenance, every 15 minutes).
async fn alertmanager_gc_loop(ams: Arc<Alertmanagers>) {
    let mut tick = tokio::time::interval(Duration::from_secs(15 * 60));
    loop {
        tick.tick().await;
        ams.maintenance().await;
    }
}

/// Applies configurations other servers saved (`alertmanager_config_poll_interval`).
async fn alertmanager_config_sync_loop(ams: Arc<Alertmanagers>, store: Store, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
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
