//! `[database]`: which SQL database holds the shared state, and how to connect to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::debug_redacted;
use super::paths::resolve;
use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

/// The database engine (`type`, or the scheme of `url`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseType {
    /// Embedded SQLite (the default).
    Sqlite3,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl DatabaseType {
    /// The name used in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseType::Sqlite3 => "sqlite3",
            DatabaseType::Postgres => "postgres",
            DatabaseType::Mysql => "mysql",
        }
    }
}

/// `[database]`. When `url` is set, its scheme decides `kind` and its parts replace `host`,
/// `name`, `user` and `password` (or `path` for SQLite), as in Grafana.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `type`: `sqlite3` (default), `postgres` or `mysql`.
    pub kind: DatabaseType,
    /// `host` (default `127.0.0.1:3306`): `host:port` of a Postgres/MySQL server.
    pub host: String,
    /// `name` (default `watchkeeper`): the database name.
    pub name: String,
    /// `user` (default `root`).
    pub user: String,
    /// `password` (secret).
    pub password: String,
    /// `url`: the whole connection as one URL, e.g. `postgres://user:pw@host:5432/db`.
    pub url: String,
    /// `path` (default `watchkeeper.db`): the SQLite file, relative to `paths.data`.
    pub path: PathBuf,
    /// `ssl_mode` (default `disable`): Postgres `disable`/`require`/`verify-ca`/`verify-full`,
    /// MySQL `true`/`false`/`skip-verify`.
    pub ssl_mode: String,
    /// `ca_cert_path`: CA bundle for verifying the server.
    pub ca_cert_path: Option<PathBuf>,
    /// `client_key_path`: client TLS key.
    pub client_key_path: Option<PathBuf>,
    /// `client_cert_path`: client TLS certificate.
    pub client_cert_path: Option<PathBuf>,
    /// `server_cert_name`: expected server certificate name.
    pub server_cert_name: String,
    /// `max_open_conn` (default 0 = driver default).
    pub max_open_conn: u32,
    /// `max_idle_conn` (default 2).
    pub max_idle_conn: u32,
    /// `conn_max_lifetime` (default 14400 seconds); a bare number means seconds.
    pub conn_max_lifetime: Duration,
    /// `wal` (Watchkeeper default true): SQLite write-ahead logging.
    pub wal: bool,
    /// `busy_timeout` (Watchkeeper key, default 5s): how long SQLite waits for a locked database.
    pub busy_timeout: Duration,
    /// `connect_retry_max_backoff` (Watchkeeper key, default 30s): cap on the retry delay
    /// while the database is unreachable at start-up.
    pub connect_retry_max_backoff: Duration,
}

debug_redacted!(DatabaseSettings {
    kind, host, name, user, path, ssl_mode, ca_cert_path, client_key_path, client_cert_path,
    server_cert_name, max_open_conn, max_idle_conn, conn_max_lifetime, wal, busy_timeout,
    connect_retry_max_backoff,
} secret { password } url { url });

/// What a database URL contributes.
#[derive(Debug, PartialEq, Eq)]
struct ParsedUrl {
    kind: DatabaseType,
    host: Option<String>,
    name: Option<String>,
    user: Option<String>,
    password: Option<String>,
    path: Option<String>,
}

const URL_HELP: &str = "expected postgres://, postgresql://, mysql://, sqlite: or file:";

impl DatabaseSettings {
    pub(crate) fn read(raw: &RawConfig, data_dir: &Path, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, "database", diag);
        let kinds = [
            ("sqlite3", DatabaseType::Sqlite3),
            ("postgres", DatabaseType::Postgres),
            ("mysql", DatabaseType::Mysql),
        ];
        let mut settings = DatabaseSettings {
            kind: r.choice("type", DatabaseType::Sqlite3, &kinds),
            host: r.string("host", "127.0.0.1:3306"),
            name: r.string("name", "watchkeeper"),
            user: r.string("user", "root"),
            password: r.string("password", ""),
            url: r.string("url", ""),
            path: PathBuf::from(r.string("path", "watchkeeper.db")),
            ssl_mode: r.string("ssl_mode", "disable"),
            ca_cert_path: r.path("ca_cert_path"),
            client_key_path: r.path("client_key_path"),
            client_cert_path: r.path("client_cert_path"),
            server_cert_name: r.string("server_cert_name", ""),
            max_open_conn: r.u32("max_open_conn", 0),
            max_idle_conn: r.u32("max_idle_conn", 2),
            conn_max_lifetime: r
                .duration_or_seconds("conn_max_lifetime", Duration::from_secs(14400)),
            wal: r.bool("wal", true),
            busy_timeout: r.duration("busy_timeout", Duration::from_secs(5)),
            connect_retry_max_backoff: r
                .duration("connect_retry_max_backoff", Duration::from_secs(30)),
        };
        if !settings.url.is_empty() {
            match parse_url(&settings.url) {
                Ok(parsed) => settings.apply(parsed),
                Err(message) => r.problem("url", message),
            }
        }
        settings.path = resolve(data_dir, &settings.path);
        settings
    }

    fn apply(&mut self, parsed: ParsedUrl) {
        self.kind = parsed.kind;
        let fields = [
            (&mut self.host, parsed.host),
            (&mut self.name, parsed.name),
            (&mut self.user, parsed.user),
            (&mut self.password, parsed.password),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                *field = value;
            }
        }
        if let Some(path) = parsed.path {
            self.path = PathBuf::from(path);
        }
    }
}

/// Splits a database URL into the settings it replaces.
fn parse_url(text: &str) -> Result<ParsedUrl, String> {
    let Some((scheme, rest)) = text.split_once(':') else {
        return Err(format!("database url has no scheme: {URL_HELP}"));
    };
    let kind = match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => DatabaseType::Postgres,
        "mysql" => DatabaseType::Mysql,
        "sqlite" | "sqlite3" | "file" => return Ok(sqlite_url(rest)),
        other => {
            return Err(format!(
                "unsupported database url scheme {other:?}: {URL_HELP}"
            ));
        }
    };
    let url = url::Url::parse(text).map_err(|err| format!("invalid database url: {err}"))?;
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => String::new(),
    };
    let name = url.path().split('/').nth(1).map(decode);
    let user = Some(url.username()).filter(|u| !u.is_empty()).map(decode);
    Ok(ParsedUrl {
        kind,
        host: Some(host),
        name,
        user,
        password: url.password().map(decode),
        path: None,
    })
}

/// `sqlite:path`, `sqlite:///abs/path` or `file:path?query`: only the file path matters.
fn sqlite_url(rest: &str) -> ParsedUrl {
    let without_query = rest.split(['?', '#']).next().unwrap_or_default();
    let path = without_query.strip_prefix("//").unwrap_or(without_query);
    let path = percent_decode_str(path).decode_utf8_lossy().into_owned();
    ParsedUrl {
        kind: DatabaseType::Sqlite3,
        host: None,
        name: None,
        user: None,
        password: None,
        path: Some(path).filter(|p| !p.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_decide_type_and_connection_fields() {
        let pg = parse_url("postgres://wk:p%40ss@db.example:5432/alerts?sslmode=require");
        assert_eq!(
            pg,
            Ok(ParsedUrl {
                kind: DatabaseType::Postgres,
                host: Some("db.example:5432".into()),
                name: Some("alerts".into()),
                user: Some("wk".into()),
                password: Some("p@ss".into()),
                path: None,
            })
        );
        let kinds = [
            ("postgresql://h/db", DatabaseType::Postgres),
            ("mysql://root@127.0.0.1:3306/wk", DatabaseType::Mysql),
            ("sqlite:wk.db", DatabaseType::Sqlite3),
            ("file:/var/lib/wk.db?mode=rwc", DatabaseType::Sqlite3),
        ];
        for (url, kind) in kinds {
            assert_eq!(parse_url(url).map(|p| p.kind), Ok(kind), "{url}");
        }
        let paths = [
            ("sqlite:wk.db", Some("wk.db")),
            ("sqlite:///var/lib/wk.db", Some("/var/lib/wk.db")),
            ("file:/var/lib/wk.db?mode=rwc", Some("/var/lib/wk.db")),
            ("sqlite:", None),
        ];
        for (url, path) in paths {
            assert_eq!(
                parse_url(url).map(|p| p.path),
                Ok(path.map(String::from)),
                "{url}"
            );
        }
    }

    #[test]
    fn bad_urls_are_rejected() {
        for (url, start) in [
            ("redis://h", "unsupported database url scheme \"redis\""),
            ("no-scheme", "database url has no scheme"),
            ("postgres://h:99999/db", "invalid database url"),
        ] {
            let err = parse_url(url).expect_err(url);
            assert!(err.starts_with(start), "{url}: {err}");
        }
    }
}
