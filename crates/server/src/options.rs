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

/// `[server]`, `[security]` and `[auth]` → HTTP options.
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

/// The Redis peer's options when `ha_redis_address` is set; modes not built yet are errors.
pub fn redis(
    s: &Settings,
) -> Result<Option<wk_cluster::redis::RedisOptions>, crate::cluster::ClusterError> {
    use crate::cluster::ClusterError::Unavailable;
    let ua = &s.unified_alerting;
    if ua.ha_redis_address.is_empty() {
        return Ok(None);
    }
    if ua.ha_redis_tls_enabled {
        return Err(Unavailable("ha_redis_tls_enabled"));
    }
    let several = ua.ha_redis_address.len() > 1;
    if several && !ua.ha_redis_cluster_mode_enabled && !ua.ha_redis_sentinel_mode_enabled {
        return Err(Unavailable(
            "ha_redis_address with several addresses needs ha_redis_cluster_mode_enabled or ha_redis_sentinel_mode_enabled;",
        ));
    }
    let target = wk_cluster::redis::Target {
        addrs: ua.ha_redis_address.clone(),
        cluster: ua.ha_redis_cluster_mode_enabled,
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
