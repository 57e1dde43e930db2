//! A tiny schema DSL: one table description renders to `CREATE TABLE` / `CREATE INDEX` for every
//! dialect, so a migration that adds a table is written once.

use crate::options::Backend;

/// Portable column types. Each decodes to the same Rust type on all backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    /// Auto-increment 64-bit primary key (`i64`).
    Id,
    /// 64-bit integer (`i64`), also used for unix-second timestamps.
    BigInt,
    /// Boolean (`bool`); `TINYINT(1)` on MySQL.
    Bool,
    /// Short string (`String`); use at most 190 for indexed columns (MySQL utf8mb4 key limit).
    Varchar(u16),
    /// Long string (`String`), up to 64 KiB on MySQL.
    Text,
    /// Very long string (`String`): `MEDIUMTEXT` (16 MiB) on MySQL, `TEXT` elsewhere.
    LargeText,
    /// Bytes (`Vec<u8>`): `BLOB` / `BYTEA` / `LONGBLOB`.
    #[allow(dead_code)] // offered to future migrations
    Blob,
}

/// A column default, rendered per dialect.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DefaultValue {
    /// Integer literal.
    Int(i64),
    /// Boolean literal (`TRUE`/`FALSE` on PostgreSQL, `1`/`0` elsewhere).
    Bool(bool),
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
}

impl Column {
    /// A `NOT NULL` column without default.
    pub(crate) const fn new(name: &'static str, ty: ColType) -> Self {
        Column {
            name,
            ty,
            nullable: false,
            default: None,
        }
    }

    /// Allows `NULL`.
    pub(crate) const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// Adds a default value.
    pub(crate) const fn default(mut self, value: DefaultValue) -> Self {
        self.default = Some(value);
        self
    }
}

/// A secondary index over one or more columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Index {
    pub columns: &'static [&'static str],
    pub unique: bool,
}

impl Index {
    /// A unique index.
    pub(crate) const fn unique(columns: &'static [&'static str]) -> Self {
        Index {
            columns,
            unique: true,
        }
    }

    /// A non-unique index.
    pub(crate) const fn plain(columns: &'static [&'static str]) -> Self {
        Index {
            columns,
            unique: false,
        }
    }

    /// Grafana-style name: `UQE_<table>_<cols>` or `IDX_<table>_<cols>`.
    fn name(&self, table: &str) -> String {
        let kind = if self.unique { "UQE" } else { "IDX" };
        format!("{kind}_{table}_{}", self.columns.join("_"))
    }
}

/// A table: columns, primary key (for tables without an `Id` column) and indexes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// Primary key columns; leave empty when a column has type [`ColType::Id`].
    pub primary_key: &'static [&'static str],
    pub indexes: &'static [Index],
}

/// Quotes an identifier for `backend`.
pub(crate) fn quote(backend: Backend, ident: &str) -> String {
    match backend {
        Backend::Mysql => format!("`{}`", ident.replace('`', "``")),
        Backend::Sqlite | Backend::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

fn quote_list(backend: Backend, idents: &[&str]) -> String {
    idents
        .iter()
        .map(|i| quote(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_sql(backend: Backend, ty: ColType) -> String {
    use Backend::*;
    match (ty, backend) {
        (ColType::Id, Sqlite) => "INTEGER PRIMARY KEY AUTOINCREMENT".into(),
        (ColType::Id, Postgres) => "BIGSERIAL PRIMARY KEY".into(),
        (ColType::Id, Mysql) => "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY".into(),
        (ColType::BigInt, _) => "BIGINT".into(),
        (ColType::Bool, Mysql) => "TINYINT(1)".into(),
        (ColType::Bool, _) => "BOOLEAN".into(),
        (ColType::Varchar(n), _) => format!("VARCHAR({n})"),
        (ColType::Text, _) | (ColType::LargeText, Sqlite | Postgres) => "TEXT".into(),
        (ColType::LargeText, Mysql) => "MEDIUMTEXT".into(),
        (ColType::Blob, Sqlite) => "BLOB".into(),
        (ColType::Blob, Postgres) => "BYTEA".into(),
        (ColType::Blob, Mysql) => "LONGBLOB".into(),
    }
}

fn default_sql(backend: Backend, value: DefaultValue) -> String {
    match (value, backend) {
        (DefaultValue::Int(v), _) => v.to_string(),
        (DefaultValue::Bool(b), Backend::Postgres) => if b { "TRUE" } else { "FALSE" }.into(),
        (DefaultValue::Bool(b), _) => if b { "1" } else { "0" }.into(),
    }
}

/// Column definition inside `CREATE TABLE`.
pub(crate) fn column_sql(backend: Backend, c: &Column) -> String {
    let mut sql = format!("{} {}", quote(backend, c.name), type_sql(backend, c.ty));
    if c.ty != ColType::Id {
        if !c.nullable {
            sql.push_str(" NOT NULL");
        }
        if let Some(d) = c.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&default_sql(backend, d));
        }
    }
    sql
}

impl Table {
    /// Idempotent statements creating the table and its indexes. MySQL gets the indexes inside
    /// `CREATE TABLE` (it has no `CREATE INDEX IF NOT EXISTS`, and DDL is not transactional, so
    /// one statement per table keeps a crashed migration re-runnable).
    pub(crate) fn create_statements(&self, backend: Backend) -> Vec<String> {
        let table = quote(backend, self.name);
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|c| column_sql(backend, c))
            .collect();
        if !self.primary_key.is_empty() {
            parts.push(format!(
                "PRIMARY KEY ({})",
                quote_list(backend, self.primary_key)
            ));
        }
        if backend == Backend::Mysql {
            for ix in self.indexes {
                let kind = if ix.unique { "UNIQUE KEY" } else { "KEY" };
                parts.push(format!(
                    "{kind} {} ({})",
                    quote(backend, &ix.name(self.name)),
                    quote_list(backend, ix.columns)
                ));
            }
            return vec![format!(
                "CREATE TABLE IF NOT EXISTS {table} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                parts.join(",\n  ")
            )];
        }
        let mut out = vec![format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n  {}\n)",
            parts.join(",\n  ")
        )];
        for ix in self.indexes {
            out.push(format!(
                "CREATE {}INDEX IF NOT EXISTS {} ON {table} ({})",
                if ix.unique { "UNIQUE " } else { "" },
                quote(backend, &ix.name(self.name)),
                quote_list(backend, ix.columns)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = Table {
        name: "thing",
        columns: &[
            Column::new("id", ColType::Id),
            Column::new("key", ColType::Varchar(190)),
            Column::new("on", ColType::Bool).default(DefaultValue::Bool(false)),
            Column::new("body", ColType::LargeText).nullable(),
            Column::new("raw", ColType::Blob).nullable(),
        ],
        primary_key: &[],
        indexes: &[Index::unique(&["key"]), Index::plain(&["on", "key"])],
    };

    #[test]
    fn sqlite() {
        assert_eq!(
            T.create_statements(Backend::Sqlite),
            [
                "CREATE TABLE IF NOT EXISTS \"thing\" (\n  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n  \"key\" VARCHAR(190) NOT NULL,\n  \"on\" BOOLEAN NOT NULL DEFAULT 0,\n  \"body\" TEXT,\n  \"raw\" BLOB\n)",
                "CREATE UNIQUE INDEX IF NOT EXISTS \"UQE_thing_key\" ON \"thing\" (\"key\")",
                "CREATE INDEX IF NOT EXISTS \"IDX_thing_on_key\" ON \"thing\" (\"on\", \"key\")",
            ]
        );
    }

    #[test]
    fn postgres() {
        let s = T.create_statements(Backend::Postgres);
        assert!(s[0].contains("\"id\" BIGSERIAL PRIMARY KEY,"));
        assert!(s[0].contains("\"on\" BOOLEAN NOT NULL DEFAULT FALSE"));
        assert!(s[0].contains("\"raw\" BYTEA\n"));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn mysql_inlines_indexes() {
        let s = T.create_statements(Backend::Mysql);
        assert_eq!(s.len(), 1);
        assert!(s[0].starts_with("CREATE TABLE IF NOT EXISTS `thing` ("));
        assert!(s[0].contains("`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"));
        assert!(s[0].contains("`on` TINYINT(1) NOT NULL DEFAULT 0"));
        assert!(s[0].contains("`body` MEDIUMTEXT,"));
        assert!(s[0].contains("UNIQUE KEY `UQE_thing_key` (`key`)"));
        assert!(s[0].contains("KEY `IDX_thing_on_key` (`on`, `key`)"));
        assert!(s[0].ends_with("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
    }

    #[test]
    fn explicit_primary_key() {
        const T: Table = Table {
            name: "log",
            columns: &[Column::new("id", ColType::Varchar(190))],
            primary_key: &["id"],
            indexes: &[],
        };
        assert!(T.create_statements(Backend::Postgres)[0].contains("PRIMARY KEY (\"id\")"));
    }
}
