//! Hands each crate its own options, made from the typed settings (only `server` reads config).

use std::time::Duration;

use wk_api::{ApiOptions, BuildInfo, SameSite};
use wk_auth::AuthOptions;
use wk_config::{DatabaseType, Settings};
use wk_store::{Backend, StoreOptions};

/// `[database]` → store options.
pub fn store(s: &Settings) -> StoreOptions {
    let db = &s.database;
    StoreOptions {
        backend: match db.kind {
            DatabaseType::Sqlite3 => Backend::Sqlite,
            DatabaseType::Postgres => Backend::Postgres,
            DatabaseType::Mysql => Backend::Mysql,
        },
        url: db.url.clone(),
        host: db.host.clone(),
        name: db.name.clone(),
        user: db.user.clone(),
        password: db.password.clone(),
        path: db.path.clone(),
        ssl_mode: db.ssl_mode.clone(),
        ca_cert_path: db.ca_cert_path.clone(),
        client_cert_path: db.client_cert_path.clone(),
        client_key_path: db.client_key_path.clone(),
        max_open_conn: db.max_open_conn,
        max_idle_conn: db.max_idle_conn,
        conn_max_lifetime: db.conn_max_lifetime,
        busy_timeout: db.busy_timeout,
        wal: db.wal,
    }
}

/// `[security]` and `[auth]` → auth options.
pub fn auth(s: &Settings) -> AuthOptions {
    AuthOptions {
        disable_brute_force_protection: s.security.disable_brute_force_login_protection,
        max_login_attempts: s.security.brute_force_login_protection_max_attempts,
        lockout_window: s.security.brute_force_login_protection_window,
        max_inactive_lifetime: s.auth.login_maximum_inactive_lifetime_duration,
        max_lifetime: s.auth.login_maximum_lifetime_duration,
        rotation_interval: Duration::from_secs(
            u64::from(s.auth.token_rotation_interval_minutes) * 60,
        ),
        rotation_grace: Duration::from_secs(60),
        api_key_max_ttl: u64::try_from(s.auth.api_key_max_seconds_to_live)
            .ok()
            .map(Duration::from_secs),
    }
}

/// `[server]`, `[security]`, `[auth]` and the rule intervals of `[unified_alerting]` → HTTP
/// options.
pub fn api(s: &Settings) -> ApiOptions {
    ApiOptions {
        cookie_name: s.auth.login_cookie_name.clone(),
        cookie_secure: s.security.cookie_secure,
        cookie_samesite: match s.security.cookie_samesite {
            wk_config::SameSite::Lax => SameSite::Lax,
            wk_config::SameSite::Strict => SameSite::Strict,
            wk_config::SameSite::None => SameSite::None,
            wk_config::SameSite::Disabled => SameSite::Disabled,
        },
        cookie_max_age: s.auth.login_maximum_lifetime_duration,
        router_logging: s.server.router_logging,
        sub_path: s.server.sub_path(),
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: env!("WATCHKEEPER_COMMIT").to_string(),
        },
        rule_base_interval: s.unified_alerting.base_interval,
        rule_min_interval: s.unified_alerting.min_interval,
        rule_default_interval: s.unified_alerting.default_rule_evaluation_interval,
        ..ApiOptions::default()
    }
}

/// The memberlist peer's options, when `ha_peers` enables memberlist HA.
pub fn gossip(s: &Settings) -> Option<wk_cluster::gossip::GossipOptions> {
    let ua = &s.unified_alerting;
    if ua.ha_peers.is_empty() {
        return None;
    }
    let mut o =
        wk_cluster::gossip::GossipOptions::new(ua.ha_listen_address.clone(), ua.ha_peers.clone());
    o.advertise = Some(ua.ha_advertise_address.clone()).filter(|a| !a.is_empty());
    o.label = ua.ha_label.clone();
    o.gossip_interval = ua.ha_gossip_interval;
    o.push_pull_interval = ua.ha_push_pull_interval;
    o.reconnect_timeout = ua.ha_reconnect_timeout;
    Some(o)
}

/// How the Alertmanagers name their replicated states.
pub fn state_keys(s: &Settings) -> wk_api::alertmanagers::StateKeyStyle {
    match s.unified_alerting.ha_state_keys {
        wk_config::HaStateKeys::Grafana => wk_api::alertmanagers::StateKeyStyle::Grafana,
        wk_config::HaStateKeys::Alertmanager => wk_api::alertmanagers::StateKeyStyle::Alertmanager,
    }
}

/// The Redis peer's options when `ha_redis_address` is set. Several addresses without Sentinel
/// mean Redis Cluster, as go-redis's universal client decides for Grafana.
pub fn redis(
    s: &Settings,
) -> Result<Option<wk_cluster::redis::RedisOptions>, crate::cluster::ClusterError> {
    let ua = &s.unified_alerting;
    if ua.ha_redis_address.is_empty() {
        return Ok(None);
    }
    let tls = redis_tls(s)?;
    let several = ua.ha_redis_address.len() > 1;
    let target = wk_cluster::redis::Target {
        addrs: ua.ha_redis_address.clone(),
        cluster: ua.ha_redis_cluster_mode_enabled
            || (several && !ua.ha_redis_sentinel_mode_enabled),
        tls,
        sentinel: ua
            .ha_redis_sentinel_mode_enabled
            .then(|| wk_cluster::redis::SentinelTarget {
                master_name: ua.ha_redis_sentinel_master_name.clone(),
                username: ua.ha_redis_sentinel_username.clone(),
                password: ua.ha_redis_sentinel_password.clone(),
            }),
        username: ua.ha_redis_username.clone(),
        password: ua.ha_redis_password.clone(),
        db: i64::from(ua.ha_redis_db),
    };
    let mut o = wk_cluster::redis::RedisOptions::new(target, &ua.ha_redis_prefix);
    o.name = Some(ua.ha_redis_peer_name.clone()).filter(|n| !n.is_empty());
    o.gossip_interval = ua.ha_gossip_interval;
    o.push_pull_interval = ua.ha_push_pull_interval;
    Ok(Some(o))
}

/// `ha_redis_tls_*`: the files read and the TLS client configuration built, so a bad file,
/// name, version or cipher suite is a start-up error naming its key.
fn redis_tls(
    s: &Settings,
) -> Result<Option<wk_cluster::redis::TlsTarget>, crate::cluster::ClusterError> {
    use crate::cluster::ClusterError::{TlsFile, TlsSetting};
    let ua = &s.unified_alerting;
    if !ua.ha_redis_tls_enabled {
        return Ok(None);
    }
    let read =
        |key: &'static str, path: &str| -> Result<Option<Vec<u8>>, crate::cluster::ClusterError> {
            if path.is_empty() {
                return Ok(None);
            }
            std::fs::read(path).map(Some).map_err(|source| TlsFile {
                key,
                path: path.to_owned(),
                source,
            })
        };
    let ca = read("ha_redis_tls_ca_path", &ua.ha_redis_tls_ca_path)?;
    let cert = read("ha_redis_tls_cert_path", &ua.ha_redis_tls_cert_path)?;
    let key = read("ha_redis_tls_key_path", &ua.ha_redis_tls_key_path)?;
    let client_pem = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(TlsSetting(
                "ha_redis_tls_cert_path",
                "a client certificate needs both ha_redis_tls_cert_path and ha_redis_tls_key_path"
                    .to_owned(),
            ));
        }
    };
    let min_version = match ua.ha_redis_tls_min_version.as_str() {
        "" => wk_tls::MinVersion::default(),
        v => wk_tls::MinVersion::from_go(v).ok_or_else(|| {
            TlsSetting(
                "ha_redis_tls_min_version",
                format!(
                    "{v:?} is not one of VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13"
                ),
            )
        })?,
    };
    let server_name = Some(ua.ha_redis_tls_server_name.clone()).filter(|n| !n.is_empty());
    if let Some(name) = &server_name {
        wk_tls::server_name(name)
            .map_err(|e| TlsSetting("ha_redis_tls_server_name", e.to_string()))?;
    }
    let tls = wk_tls::ClientTls {
        ca_pem: ca,
        client_pem,
        // The name is given to the handshake, which checks the certificate against it.
        verify_name: None,
        min_version,
        cipher_suites: ua.ha_redis_tls_cipher_suites.clone(),
        insecure_skip_verify: ua.ha_redis_tls_insecure_skip_verify,
    };
    let config = wk_tls::client_config(&tls).map_err(|e| {
        let key = match &e {
            wk_tls::TlsError::Ca(_) | wk_tls::TlsError::PlatformRoots(_) => "ha_redis_tls_ca_path",
            wk_tls::TlsError::ClientCert(_) => "ha_redis_tls_cert_path",
            wk_tls::TlsError::ServerName(_) => "ha_redis_tls_server_name",
            wk_tls::TlsError::CipherSuite { .. } => "ha_redis_tls_cipher_suites",
            wk_tls::TlsError::Versions(_) => "ha_redis_tls_min_version",
        };
        TlsSetting(key, e.to_string())
    })?;
    Ok(Some(wk_cluster::redis::TlsTarget {
        config: std::sync::Arc::new(config),
        server_name,
    }))
}
