//! The classic matcher syntax of Alertmanager < 0.27 (`pkg/labels/parse.go`): optional braces,
//! comma-separated `name op value`, values optionally double-quoted with OpenMetrics escapes.

use std::sync::OnceLock;

use ::regex::Regex;

use super::{MatchType, Matcher, Matchers, ParseError};

/// `name op value` with ASCII whitespace (Go's `\s`) around each part; the value is lazy so
/// trailing whitespace is dropped.
fn matcher_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let ws = r"[\t\n\x0C\r ]*";
        let pattern = format!(r"^{ws}([a-zA-Z_:][a-zA-Z0-9_:]*){ws}(=~|=|!=|!~){ws}((?s).*?){ws}$");
        #[allow(clippy::expect_used)]
        Regex::new(&pattern).expect("static classic matcher pattern compiles")
    })
}

/// Splits on commas outside double quotes, after trimming one optional `{` and `}`.
fn split_matchers(input: &str) -> Vec<String> {
    let s = input.strip_prefix('{').unwrap_or(input);
    let s = s.strip_suffix('}').unwrap_or(s);
    let (mut inside_quotes, mut escaped) = (false, false);
    let mut token = String::new();
    let mut tokens = Vec::new();
    for c in s.chars() {
        match c {
            ',' if !inside_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' if escaped => escaped = false,
            '"' => inside_quotes = !inside_quotes,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_owned());
    }
    tokens
}

/// Parses a comma-separated list of classic matchers (`ParseMatchers`).
pub fn parse_matchers(input: &str) -> Result<Matchers, ParseError> {
    split_matchers(input)
        .iter()
        .map(|t| parse_matcher(t))
        .collect()
}

/// Parses one classic matcher (`ParseMatcher`).
pub fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    let caps = matcher_regex()
        .captures(input)
        .ok_or_else(|| ParseError::BadFormat(input.to_owned()))?;
    let (name, op, raw) = match (caps.get(1), caps.get(2), caps.get(3)) {
        (Some(n), Some(o), Some(v)) => (n.as_str(), o.as_str(), v.as_str()),
        _ => return Err(ParseError::BadFormat(input.to_owned())),
    };
    let kind = match op {
        "=" => MatchType::Equal,
        "!=" => MatchType::NotEqual,
        "=~" => MatchType::Regexp,
        _ => MatchType::NotRegexp,
    };
    let value = unescape_value(raw)?;
    Matcher::new(kind, name, value)
}

/// Removes the optional surrounding quotes and applies `\"`, `\\`, `\n`; any other backslash
/// is literal. An unescaped `"` is only allowed as the closing quote of a quoted value.
fn unescape_value(raw: &str) -> Result<String, ParseError> {
    let unescaped_quote = || ParseError::UnescapedQuote(raw.to_owned());
    let (body, mut expect_trailing_quote) = match raw.strip_prefix('"') {
        Some(rest) => (rest, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(body.len());
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        let is_last = i + c.len_utf8() == body.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            // Upstream compares the byte index with len-1, so a trailing backslash is literal.
            '\\' if !is_last => escaped = true,
            '\\' => value.push('\\'),
            '"' if !expect_trailing_quote || !is_last => return Err(unescaped_quote()),
            '"' => expect_trailing_quote = false,
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    Ok(value)
}
