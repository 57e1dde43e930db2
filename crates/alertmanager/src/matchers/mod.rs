//! Label matchers (`pkg/labels` in Alertmanager) and their two string syntaxes: the classic
//! one (Alertmanager < 0.27, [`classic`]) and the UTF-8 one ([`utf8`]), plus the fallback mode
//! that tries UTF-8 first and falls back to classic (`matcher/compat`).

pub mod classic;
mod error;
mod lexer;
mod regex;
mod unquote;
pub mod utf8;

use std::cmp::Ordering;
use std::fmt;

pub use error::{ParseError, SyntaxError, SyntaxErrorKind};

use crate::labels::{LabelSet, go_quote};

/// How a matcher compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// `=`: equal.
    Equal,
    /// `!=`: not equal.
    NotEqual,
    /// `=~`: the whole value matches the regular expression.
    Regexp,
    /// `!~`: the whole value does not match the regular expression.
    NotRegexp,
}

impl MatchType {
    /// The operator as written in matcher strings.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }
}

impl fmt::Display for MatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One label matcher; regular expressions are anchored (`^(?:value)$`) and compiled once.
#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    value: String,
    kind: MatchType,
    re: Option<::regex::Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling the anchored regular expression for `=~` and `!~`.
    pub fn new(
        kind: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, ParseError> {
        let value = value.into();
        let re = match kind {
            MatchType::Regexp | MatchType::NotRegexp => Some(regex::compile_anchored(&value)?),
            MatchType::Equal | MatchType::NotEqual => None,
        };
        Ok(Self {
            name: name.into(),
            value,
            kind,
            re,
        })
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value or regular expression (unanchored, as written).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The match type.
    pub fn kind(&self) -> MatchType {
        self.kind
    }

    /// Whether the label value `s` satisfies this matcher.
    pub fn matches(&self, s: &str) -> bool {
        match (self.kind, &self.re) {
            (MatchType::Equal, _) => s == self.value,
            (MatchType::NotEqual, _) => s != self.value,
            (MatchType::Regexp, Some(re)) => re.is_match(s),
            (MatchType::NotRegexp, Some(re)) => !re.is_match(s),
            // Unreachable by construction: regex kinds always carry a compiled regex.
            (MatchType::Regexp | MatchType::NotRegexp, None) => false,
        }
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Matcher {}

impl PartialOrd for Matcher {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Matcher {
    /// Orders by (name, value, type), like Alertmanager's `Matchers.Less`.
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.name, &self.value, self.kind).cmp(&(&other.name, &other.value, other.kind))
    }
}

/// Whether a rune is reserved in the UTF-8 matcher syntax (and forces quoting of names).
pub(crate) fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

/// OpenMetrics escaping: only `\`, newline and `"` are escaped.
fn open_metrics_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for Matcher {
    /// Renders like Alertmanager's `Matcher.String()`: `name="value"`, or with both name and
    /// value Go-quoted when the name contains a reserved character.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.contains(is_reserved) {
            write!(
                f,
                "{}{}{}",
                go_quote(&self.name),
                self.kind,
                go_quote(&self.value)
            )
        } else {
            write!(
                f,
                "{}{}\"{}\"",
                self.name,
                self.kind,
                open_metrics_escape(&self.value)
            )
        }
    }
}

/// A list of matchers that must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(Vec<Matcher>);

impl Matchers {
    /// An empty list (matches everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a matcher.
    pub fn push(&mut self, m: Matcher) {
        self.0.push(m);
    }

    /// Sorts by (name, value, type), as Alertmanager does for route matchers.
    pub fn sort(&mut self) {
        self.0.sort();
    }

    /// The matchers as a slice.
    pub fn as_slice(&self) -> &[Matcher] {
        &self.0
    }

    /// The matchers as a vector.
    pub fn into_vec(self) -> Vec<Matcher> {
        self.0
    }

    /// Number of matchers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the matchers.
    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }

    /// Whether every matcher matches `labels`; a missing label counts as the empty string.
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.0
            .iter()
            .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }
}

impl From<Vec<Matcher>> for Matchers {
    fn from(v: Vec<Matcher>) -> Self {
        Self(v)
    }
}

impl FromIterator<Matcher> for Matchers {
    fn from_iter<I: IntoIterator<Item = Matcher>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Matchers {
    type Item = &'a Matcher;
    type IntoIter = std::slice::Iter<'a, Matcher>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Matchers {
    type Item = Matcher;
    type IntoIter = std::vec::IntoIter<Matcher>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Matchers {
    /// Renders like `Matchers.String()`: `{a="1",b=~"2"}`, no spaces, in list order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

/// Which matcher syntax to accept (Alertmanager's `--enable-feature` matcher modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Only the UTF-8 parser (`utf8-strict-mode`).
    Utf8,
    /// Only the classic parser (`classic-mode`, and all of Alertmanager < 0.27).
    Classic,
    /// UTF-8 parser, falling back to classic (the default since 0.27).
    #[default]
    Fallback,
}

/// Parses a list of matchers such as `{a="1", b=~"x.*"}` in the given mode.
pub fn parse_matchers(input: &str, mode: Mode) -> Result<Matchers, ParseError> {
    match mode {
        Mode::Utf8 => utf8::parse_matchers(input),
        Mode::Classic => classic::parse_matchers(input),
        // Upstream returns the classic result whenever it succeeds (identical results, or
        // disagreement, or UTF-8 failure), else the UTF-8 result, else the classic error.
        Mode::Fallback => match classic::parse_matchers(input) {
            Ok(c) => Ok(c),
            Err(c_err) => utf8::parse_matchers(input).map_err(|_| c_err),
        },
    }
}

/// Parses exactly one matcher such as `a=~"x.*"` in the given mode.
pub fn parse_matcher(input: &str, mode: Mode) -> Result<Matcher, ParseError> {
    let reject_braces = || {
        if input.starts_with('{') || input.ends_with('}') {
            Err(ParseError::UnexpectedBrace(input.to_owned()))
        } else {
            Ok(())
        }
    };
    match mode {
        Mode::Classic => classic::parse_matcher(input),
        Mode::Utf8 => {
            reject_braces()?;
            utf8::parse_matcher(input)
        }
        Mode::Fallback => {
            reject_braces()?;
            match classic::parse_matcher(input) {
                Ok(c) => Ok(c),
                Err(c_err) => utf8::parse_matcher(input).map_err(|_| c_err),
            }
        }
    }
}

#[cfg(test)]
mod tests;
