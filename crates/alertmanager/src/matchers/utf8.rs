//! The UTF-8 matcher syntax of Alertmanager ≥ 0.27 (`matcher/parse/parse.go`): names and values
//! are unquoted runs of non-reserved characters or Go string literals; errors carry columns.

use super::lexer::{LexError, Lexer, Span, Token, TokenKind};
use super::unquote::go_unquote;
use super::{MatchType, Matcher, Matchers, ParseError, SyntaxError, SyntaxErrorKind};

/// Parses a list of matchers, optionally in braces, with an optional trailing comma.
pub fn parse_matchers(input: &str) -> Result<Matchers, ParseError> {
    Parser {
        lexer: Lexer::new(input),
        input,
        has_open_brace: false,
        out: Matchers::new(),
    }
    .run()
}

/// Parses exactly one matcher.
pub fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    let ms = parse_matchers(input)?;
    match ms.len() {
        1 => ms.into_iter().next().ok_or(ParseError::NoMatchers),
        0 => Err(ParseError::NoMatchers),
        n => Err(ParseError::TooManyMatchers(n)),
    }
}

/// Why an expected token was not found (upstream's inner error).
enum Miss<'a> {
    Eof,
    Lex(LexError),
    Unexpected(Token<'a>),
}

#[derive(Clone, Copy)]
enum State {
    OpenBrace,
    CloseBrace,
    Matcher,
    EndOfMatcher,
    Comma,
    Eof,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    input: &'a str,
    has_open_brace: bool,
    out: Matchers,
}

impl<'a> Parser<'a> {
    fn run(mut self) -> Result<Matchers, ParseError> {
        let mut state = State::OpenBrace;
        loop {
            state = match state {
                State::OpenBrace => self.open_brace()?,
                State::CloseBrace => self.close_brace()?,
                State::Matcher => self.matcher()?,
                State::EndOfMatcher => self.end_of_matcher()?,
                State::Comma => self.comma()?,
                State::Eof => {
                    self.eof()?;
                    return Ok(self.out);
                }
            };
        }
    }

    fn miss_text(&self, miss: &Miss<'_>) -> (String, Span) {
        match miss {
            Miss::Eof => {
                let n = self.input.chars().count();
                let span = Span {
                    column_start: n,
                    column_end: n,
                    ..Span::default()
                };
                ("end of input".to_owned(), span)
            }
            Miss::Lex(e) => (e.message.clone(), e.span),
            Miss::Unexpected(t) => (
                format!(
                    "{}:{}: unexpected {}",
                    t.span.column_start, t.span.column_end, t.value
                ),
                t.span,
            ),
        }
    }

    /// `inner: reason`, as upstream wraps with `%w: %w`.
    fn wrap(&self, kind: SyntaxErrorKind, miss: &Miss<'_>, reason: &str) -> ParseError {
        let (inner, span) = self.miss_text(miss);
        syntax(kind, span, format!("{inner}: {reason}"))
    }

    fn peek_kind(&mut self, kinds: &[TokenKind]) -> Result<Token<'a>, Miss<'a>> {
        let t = self.lexer.peek().map_err(Miss::Lex)?;
        match t.kind {
            TokenKind::Eof => Err(Miss::Eof),
            k if kinds.contains(&k) => Ok(t),
            _ => Err(Miss::Unexpected(t)),
        }
    }

    fn expect(&mut self, kinds: &[TokenKind]) -> Result<Token<'a>, Miss<'a>> {
        let t = self.peek_kind(kinds)?;
        let _ = self.lexer.scan();
        Ok(t)
    }

    fn open_brace(&mut self) -> Result<State, ParseError> {
        match self.expect(&[TokenKind::OpenBrace]) {
            Ok(_) => self.has_open_brace = true,
            Err(Miss::Eof) => return Ok(State::Eof),
            Err(Miss::Lex(e)) => return Err(lexical(e)),
            Err(Miss::Unexpected(_)) => {}
        }
        match self.peek_kind(&[TokenKind::CloseBrace]) {
            Ok(_) | Err(Miss::Eof) => Ok(State::CloseBrace),
            Err(Miss::Lex(e)) => Err(lexical(e)),
            Err(Miss::Unexpected(_)) => Ok(State::Matcher),
        }
    }

    fn close_brace(&mut self) -> Result<State, ParseError> {
        let res = self.expect(&[TokenKind::CloseBrace]);
        let cols = self.lexer.cols();
        match (self.has_open_brace, res) {
            (true, Err(miss)) => {
                let (inner, span) = self.miss_text(&miss);
                let msg = format!("0:{cols}: {inner}: expected close brace");
                Err(syntax(SyntaxErrorKind::ExpectedCloseBrace, span, msg))
            }
            (false, Ok(t)) => {
                let msg = format!("0:{cols}: }}: expected opening brace");
                Err(syntax(SyntaxErrorKind::ExpectedOpenBrace, t.span, msg))
            }
            _ => Ok(State::Eof),
        }
    }

    fn unquote(&self, t: &Token<'_>) -> Result<String, ParseError> {
        if t.kind != TokenKind::Quoted {
            return Ok(t.value.to_owned());
        }
        go_unquote(t.value).ok_or_else(|| {
            let (s, e) = (t.span.column_start, t.span.column_end);
            let msg = format!("{s}:{e}: {}: invalid input", t.value);
            syntax(SyntaxErrorKind::InvalidQuotedString, t.span, msg)
        })
    }

    fn matcher(&mut self) -> Result<State, ParseError> {
        use SyntaxErrorKind as K;
        use TokenKind as T;
        let name_tok = self
            .expect(&[T::Quoted, T::Unquoted])
            .map_err(|m| self.wrap(K::ExpectedLabelName, &m, "expected label name"))?;
        let name = self.unquote(&name_tok)?;
        let op = self
            .expect(&[T::Equals, T::NotEquals, T::Matches, T::NotMatches])
            .map_err(|m| {
                let reason = "expected an operator such as '=', '!=', '=~' or '!~'";
                self.wrap(K::ExpectedOperator, &m, reason)
            })?;
        let kind = match op.kind {
            T::NotEquals => MatchType::NotEqual,
            T::Matches => MatchType::Regexp,
            T::NotMatches => MatchType::NotRegexp,
            _ => MatchType::Equal,
        };
        let value_tok = self
            .expect(&[T::Unquoted, T::Quoted])
            .map_err(|m| self.wrap(K::ExpectedLabelValue, &m, "expected label value"))?;
        let value = self.unquote(&value_tok)?;
        let m = Matcher::new(kind, name, value).map_err(|e| match e {
            ParseError::InvalidRegex(msg) => ParseError::InvalidRegexUtf8(msg),
            other => other,
        })?;
        self.out.push(m);
        Ok(State::EndOfMatcher)
    }

    fn end_of_matcher(&mut self) -> Result<State, ParseError> {
        match self.peek_kind(&[TokenKind::Comma, TokenKind::CloseBrace]) {
            Ok(t) if t.kind == TokenKind::Comma => Ok(State::Comma),
            Ok(_) | Err(Miss::Eof) => Ok(State::CloseBrace),
            Err(m) => {
                let reason = "expected a comma or close brace";
                Err(self.wrap(SyntaxErrorKind::ExpectedCommaOrCloseBrace, &m, reason))
            }
        }
    }

    fn comma(&mut self) -> Result<State, ParseError> {
        use TokenKind as T;
        // The comma was just peeked, so this cannot fail.
        let _ = self.expect(&[T::Comma]);
        match self.peek_kind(&[T::CloseBrace, T::Unquoted, T::Quoted]) {
            Ok(t) if t.kind != T::CloseBrace => Ok(State::Matcher),
            Ok(_) | Err(Miss::Eof) => Ok(State::CloseBrace),
            Err(m) => {
                let reason = "expected a matcher or close brace after comma";
                Err(self.wrap(SyntaxErrorKind::ExpectedMatcherOrCloseBrace, &m, reason))
            }
        }
    }

    fn eof(&mut self) -> Result<(), ParseError> {
        let kind = SyntaxErrorKind::ExpectedEndOfInput;
        match self.lexer.scan() {
            Err(e) => {
                let msg = format!("{}: expected end of input", e.message);
                Err(syntax(kind, e.span, msg))
            }
            Ok(t) if t.kind != TokenKind::Eof => {
                let (s, e) = (t.span.column_start, t.span.column_end);
                Err(syntax(
                    kind,
                    t.span,
                    format!("{s}:{e}: {}: expected end of input", t.value),
                ))
            }
            Ok(_) => Ok(()),
        }
    }
}

fn syntax(kind: SyntaxErrorKind, span: Span, message: String) -> ParseError {
    ParseError::Syntax(SyntaxError {
        kind,
        column_start: span.column_start,
        column_end: span.column_end,
        message,
    })
}

fn lexical(e: LexError) -> ParseError {
    syntax(SyntaxErrorKind::Lexical, e.span, e.message)
}
