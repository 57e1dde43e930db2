//! Errors from matcher parsing; their texts follow Alertmanager's messages.

/// Why the UTF-8 matcher parser rejected its input (the outermost reason upstream reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// A lexical error with no further context (e.g. a reserved character at the start).
    Lexical,
    /// A label name was expected.
    ExpectedLabelName,
    /// An operator (`=`, `!=`, `=~`, `!~`) was expected.
    ExpectedOperator,
    /// A label value was expected.
    ExpectedLabelValue,
    /// A comma or `}` was expected after a matcher.
    ExpectedCommaOrCloseBrace,
    /// A matcher or `}` was expected after a comma.
    ExpectedMatcherOrCloseBrace,
    /// The input opened with `{` but did not close it.
    ExpectedCloseBrace,
    /// The input closed with `}` without opening with `{`.
    ExpectedOpenBrace,
    /// Something followed the closing brace.
    ExpectedEndOfInput,
    /// A quoted string is not a valid Go string literal or not valid UTF-8.
    InvalidQuotedString,
}

/// A positioned syntax error from the UTF-8 parser; columns count characters from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// The reason.
    pub kind: SyntaxErrorKind,
    /// First column (character index) of the offending text.
    pub column_start: usize,
    /// Column just after the offending text.
    pub column_end: usize,
    /// Upstream's message, e.g. `0:1: unexpected ,: expected label name`.
    pub message: String,
}

/// Any matcher parsing error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Classic parser: a matcher does not have the form `name op value`.
    #[error("bad matcher format: {0}")]
    BadFormat(String),
    /// Classic parser: the value has an unescaped or unbalanced double quote.
    #[error("matcher value contains unescaped double quote: {0}")]
    UnescapedQuote(String),
    /// The regular expression does not compile.
    #[error("error parsing regexp: {0}")]
    InvalidRegex(String),
    /// UTF-8 parser: the regular expression in a matcher does not compile.
    #[error("failed to create matcher: error parsing regexp: {0}")]
    InvalidRegexUtf8(String),
    /// UTF-8 parser: a syntax error with its position.
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// Single-matcher parsing found no matcher.
    #[error("no matchers")]
    NoMatchers,
    /// Single-matcher parsing found several matchers.
    #[error("expected 1 matcher, found {0}")]
    TooManyMatchers(usize),
    /// Single-matcher parsing in UTF-8 or fallback mode got a leading `{` or trailing `}`.
    #[error("unexpected open or close brace: {0}")]
    UnexpectedBrace(String),
}
