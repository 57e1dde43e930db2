//! Lexer of the UTF-8 matcher syntax (`matcher/parse/lexer.go`): braces, commas, operators,
//! double-quoted strings and unquoted runs of non-reserved characters; columns count chars.

use super::is_reserved;

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Eof,
    OpenBrace,
    CloseBrace,
    Comma,
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    Quoted,
    Unquoted,
}

/// Byte offsets and character columns of a token or error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub offset_start: usize,
    pub offset_end: usize,
    pub column_start: usize,
    pub column_end: usize,
}

/// A token with its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    pub value: &'a str,
    pub span: Span,
}

impl Token<'_> {
    const EOF: Token<'static> = Token {
        kind: TokenKind::Eof,
        value: "",
        span: Span {
            offset_start: 0,
            offset_end: 0,
            column_start: 0,
            column_end: 0,
        },
    };
}

/// A lexical error with upstream's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub span: Span,
    pub message: String,
}

/// The lexer; after an error every further scan returns the same error.
#[derive(Debug, Clone)]
pub(crate) struct Lexer<'a> {
    input: &'a str,
    err: Option<LexError>,
    start: usize,
    pos: usize,
    width: usize,
    column: usize,
    cols: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Self {
            input,
            err: None,
            start: 0,
            pos: 0,
            width: 0,
            column: 0,
            cols: 0,
        }
    }

    /// Number of characters consumed so far.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Scans the next token (`Eof` at the end).
    pub fn scan(&mut self) -> Result<Token<'a>, LexError> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        let result = self.scan_inner();
        if let Err(e) = &result {
            self.err = Some(e.clone());
        }
        result
    }

    /// Scans the next token without consuming it (a lexical error still sticks).
    pub fn peek(&mut self) -> Result<Token<'a>, LexError> {
        let saved = (self.start, self.pos, self.width, self.column, self.cols);
        let result = self.scan();
        (self.start, self.pos, self.width, self.column, self.cols) = saved;
        result
    }

    fn scan_inner(&mut self) -> Result<Token<'a>, LexError> {
        while let Some(c) = self.next() {
            match c {
                '{' => return Ok(self.emit(TokenKind::OpenBrace)),
                '}' => return Ok(self.emit(TokenKind::CloseBrace)),
                ',' => return Ok(self.emit(TokenKind::Comma)),
                '=' | '!' => {
                    self.rewind();
                    return self.scan_operator();
                }
                '"' => {
                    self.rewind();
                    return self.scan_quoted();
                }
                c if !is_reserved(c) => {
                    self.rewind();
                    return Ok(self.scan_unquoted());
                }
                c if c.is_whitespace() => self.skip(),
                _ => return Err(self.error("invalid input")),
            }
        }
        Ok(Token::EOF)
    }

    fn scan_operator(&mut self) -> Result<Token<'a>, LexError> {
        if self.accept(&['!']) {
            if self.accept(&['=']) {
                return Ok(self.emit(TokenKind::NotEquals));
            }
            if self.accept(&['~']) {
                return Ok(self.emit(TokenKind::NotMatches));
            }
            return Err(self.expected("=~"));
        }
        if self.accept(&['=']) {
            if self.accept(&['~']) {
                return Ok(self.emit(TokenKind::Matches));
            }
            return Ok(self.emit(TokenKind::Equals));
        }
        Err(self.expected("!="))
    }

    fn scan_quoted(&mut self) -> Result<Token<'a>, LexError> {
        if !self.accept(&['"']) {
            return Err(self.expected("\""));
        }
        let mut escaped = false;
        while let Some(c) = self.next() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.rewind();
                break;
            }
        }
        if !self.accept(&['"']) {
            return Err(self.error("missing end \""));
        }
        Ok(self.emit(TokenKind::Quoted))
    }

    fn scan_unquoted(&mut self) -> Token<'a> {
        while let Some(c) = self.next() {
            if is_reserved(c) {
                self.rewind();
                break;
            }
        }
        self.emit(TokenKind::Unquoted)
    }

    fn span(&self) -> Span {
        Span {
            offset_start: self.start,
            offset_end: self.pos,
            column_start: self.column,
            column_end: self.cols,
        }
    }

    fn text(&self, span: Span) -> &'a str {
        self.input
            .get(span.offset_start..span.offset_end)
            .unwrap_or("")
    }

    /// `start:end: text: what`.
    fn error(&self, what: &str) -> LexError {
        let span = self.span();
        let message = format!(
            "{}:{}: {}: {what}",
            span.column_start,
            span.column_end,
            self.text(span)
        );
        LexError { span, message }
    }

    fn expected(&self, expected: &str) -> LexError {
        let span = self.span();
        let message = if span.offset_end >= self.input.len() {
            format!(
                "{}:{}: unexpected end of input, expected one of '{expected}'",
                span.column_start, span.column_end
            )
        } else {
            format!(
                "{}:{}: {}: expected one of '{expected}'",
                span.column_start,
                span.column_end,
                self.text(span)
            )
        };
        LexError { span, message }
    }

    fn accept(&mut self, valid: &[char]) -> bool {
        match self.next() {
            Some(c) if valid.contains(&c) => true,
            _ => {
                self.rewind();
                false
            }
        }
    }

    fn emit(&mut self, kind: TokenKind) -> Token<'a> {
        let span = self.span();
        let token = Token {
            kind,
            value: self.text(span),
            span,
        };
        self.start = self.pos;
        self.column = self.cols;
        token
    }

    fn next(&mut self) -> Option<char> {
        let Some(c) = self
            .input
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        else {
            self.width = 0;
            return None;
        };
        self.width = c.len_utf8();
        self.pos += self.width;
        self.cols += 1;
        Some(c)
    }

    fn rewind(&mut self) {
        self.pos -= self.width;
        if self.width > 0 {
            self.cols -= 1;
        }
    }

    fn skip(&mut self) {
        self.start = self.pos;
        self.column = self.cols;
    }
}
