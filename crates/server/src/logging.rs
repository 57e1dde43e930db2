//! Log output from `[log]`: level, filters, text or JSON.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use wk_config::{LogFormat, LogLevel, LogSettings};

/// Watchkeeper's own modules, which `[log] filters` names without the crate prefix.
const OWN_MODULES: [&str; 9] = [
    "config",
    "store",
    "auth",
    "api",
    "cluster",
    "memberlist",
    "alertmanager",
    "ruler",
    "server",
];

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error | LogLevel::Critical => "error",
    }
}

/// Turns `[log] level` and `filters` (`module:level ...`) into a tracing filter directive.
fn directive(log: &LogSettings) -> String {
    let mut out = level_name(log.level).to_string();
    for f in log.filters.split_whitespace() {
        let Some((module, level)) = f.split_once(':') else {
            continue;
        };
        let level = if level == "critical" { "error" } else { level };
        let target = match module {
            "server" => "watchkeeper".to_string(),
            m if OWN_MODULES.contains(&m) => format!("wk_{m}"),
            m => m.to_string(),
        };
        out.push_str(&format!(",{target}={level}"));
    }
    out
}

/// Installs the global subscriber; `RUST_LOG`, when set, overrides `[log] level` and `filters`.
pub fn init(log: &LogSettings) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(&v).map_err(|e| format!("RUST_LOG: {e}"))?,
        _ => {
            let d = directive(log);
            EnvFilter::try_new(&d).map_err(|e| format!("[log] level/filters {d:?}: {e}"))?
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let result = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| format!("cannot install the logger: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_map_to_targets() {
        let log = LogSettings {
            level: LogLevel::Warn,
            format: LogFormat::Text,
            filters: "store:debug server:info sqlx:error cluster:critical".into(),
        };
        assert_eq!(
            directive(&log),
            "warn,wk_store=debug,watchkeeper=info,sqlx=error,wk_cluster=error"
        );
    }
}
