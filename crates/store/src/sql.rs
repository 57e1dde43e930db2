//! Rewrites portable SQL into each dialect.
//!
//! Queries are written once with `?` placeholders and `"double-quoted"` identifiers (needed for
//! names such as `user` and `key`). SQLite takes that as is; PostgreSQL needs `$1..$n`; MySQL
//! needs backticks for identifiers (without `ANSI_QUOTES`, `"..."` is a string there). String
//! literals, quoted identifiers and comments are copied untouched, so a `?` inside them is kept.

use std::borrow::Cow;

use crate::options::Backend;

/// Converts `sql` for `backend`; borrowed (free) for SQLite.
pub(crate) fn convert(sql: &'static str, backend: Backend) -> Cow<'static, str> {
    match backend {
        Backend::Sqlite => Cow::Borrowed(sql),
        Backend::Postgres | Backend::Mysql => Cow::Owned(rewrite(sql, backend)),
    }
}

/// Rewrites placeholders (PostgreSQL) or identifier quotes (MySQL); SQLite input is returned as is.
pub(crate) fn rewrite(sql: &str, backend: Backend) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut n = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                out.push(c);
                copy_quoted(&mut chars, &mut out, '\'', backend == Backend::Mysql);
            }
            '`' => {
                out.push(c);
                copy_quoted(&mut chars, &mut out, '`', false);
            }
            '"' if backend == Backend::Mysql => {
                let mut ident = String::new();
                copy_quoted(&mut chars, &mut ident, '"', false);
                let name = ident
                    .strip_suffix('"')
                    .unwrap_or(&ident)
                    .replace("\"\"", "\"");
                out.push('`');
                out.push_str(&name.replace('`', "``"));
                out.push('`');
            }
            '"' => {
                out.push(c);
                copy_quoted(&mut chars, &mut out, '"', false);
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for c in chars.by_ref() {
                    out.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                out.push_str("/*");
                chars.next();
                let mut prev = '\0';
                for c in chars.by_ref() {
                    out.push(c);
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '?' if backend == Backend::Postgres => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// Copies up to and including the closing `quote`; a doubled quote is an escaped quote, and with
/// `backslash` a backslash escapes the next character (MySQL strings).
fn copy_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut String,
    quote: char,
    backslash: bool,
) {
    while let Some(c) = chars.next() {
        out.push(c);
        if backslash && c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else if c == quote {
            if chars.peek() == Some(&quote) {
                out.push(quote);
                chars.next();
            } else {
                return;
            }
        }
    }
}

/// Appends `RETURNING id` for PostgreSQL, which has no last-insert-id (see `db::insert_id`).
pub(crate) fn insert(sql: &'static str, backend: Backend) -> Cow<'static, str> {
    match backend {
        Backend::Postgres => Cow::Owned(format!("{} RETURNING id", rewrite(sql, backend))),
        _ => convert(sql, backend),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: Backend = Backend::Postgres;
    const MY: Backend = Backend::Mysql;

    #[test]
    fn postgres_numbers_placeholders() {
        assert_eq!(
            rewrite("SELECT a FROM t WHERE b = ? AND c IN (?, ?)", PG),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(rewrite("SELECT 1", PG), "SELECT 1");
    }

    #[test]
    fn postgres_skips_literals_identifiers_and_comments() {
        assert_eq!(
            rewrite("SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE x = ?", PG),
            "SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE x = $1"
        );
        assert_eq!(
            rewrite("SELECT ? -- what?\n, ? /* and? */ , ?", PG),
            "SELECT $1 -- what?\n, $2 /* and? */ , $3"
        );
        assert_eq!(rewrite("SELECT x::text, ?", PG), "SELECT x::text, $1");
    }

    #[test]
    fn postgres_unterminated_literal_is_copied() {
        assert_eq!(rewrite("SELECT ? , 'oops ?", PG), "SELECT $1 , 'oops ?");
    }

    #[test]
    fn mysql_quotes_identifiers_with_backticks() {
        assert_eq!(
            rewrite("SELECT \"key\", value FROM \"user\" WHERE \"key\" = ?", MY),
            "SELECT `key`, value FROM `user` WHERE `key` = ?"
        );
        assert_eq!(rewrite("SELECT \"a\"\"b\"", MY), "SELECT `a\"b`");
        assert_eq!(rewrite("SELECT \"a`b\"", MY), "SELECT `a``b`");
    }

    #[test]
    fn mysql_keeps_strings_with_quotes_and_backslashes() {
        assert_eq!(
            rewrite("SELECT 'say \"hi\"', 'a\\'b \"c\"', ?", MY),
            "SELECT 'say \"hi\"', 'a\\'b \"c\"', ?"
        );
    }

    #[test]
    fn sqlite_is_unchanged() {
        let sql = "SELECT \"key\" FROM \"user\" WHERE id = ?";
        assert!(matches!(convert(sql, Backend::Sqlite), Cow::Borrowed(s) if s == sql));
    }

    #[test]
    fn insert_returns_id_on_postgres_only() {
        let sql = "INSERT INTO t (a) VALUES (?)";
        assert_eq!(
            insert(sql, PG),
            "INSERT INTO t (a) VALUES ($1) RETURNING id"
        );
        assert_eq!(insert(sql, MY), sql);
        assert_eq!(insert(sql, Backend::Sqlite), sql);
    }
}
