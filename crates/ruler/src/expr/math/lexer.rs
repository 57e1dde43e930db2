//! The math expression lexer: turns the text into tokens with their byte positions.
//!
//! Numbers are decimal (`2.24`, `.5`, `-0.8e-2` with the sign as a unary operator), octal
//! with a leading zero (`072`) or hexadecimal (`0x2A`); variables are `$A` or `${my var}`;
//! identifiers name functions.

use super::{MathError, MathErrorKind};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `**`
    Pow,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Or => "||",
            Self::And => "&&",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
            Self::Pow => "**",
        }
    }
}

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A numeric literal.
    Num(f64),
    /// A variable (`$A`, `${A}`), by name.
    Var(String),
    /// A function name.
    Ident(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `!`
    Not,
    /// A binary operator (`-` is also unary minus).
    Op(BinOp),
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(f) => format!("number {f}"),
            Tok::Var(v) => format!("variable ${{{v}}}"),
            Tok::Ident(name) => format!("identifier {name:?}"),
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::Comma => "\",\"".into(),
            Tok::Not => "\"!\"".into(),
            Tok::Op(op) => format!("operator {:?}", op.symbol()),
            Tok::Eof => "end of expression".into(),
        }
    }
}

/// A token and its byte offset in the expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Whether `c` may appear in a variable name.
fn is_var_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, MathError> {
    let mut lexer = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
        out: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.out)
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|c| c.1)
    }

    fn pos_at(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.src.len(), |c| c.0)
    }

    fn push(&mut self, tok: Tok, pos: usize) {
        self.out.push(Token { tok, pos });
    }

    fn run(&mut self) -> Result<(), MathError> {
        while let Some(c) = self.peek_at(0) {
            let pos = self.pos_at(self.i);
            if c.is_whitespace() {
                self.i += 1;
                continue;
            }
            match c {
                '$' => self.var(pos)?,
                '0'..='9' | '.' => self.number(pos)?,
                '(' => self.single(Tok::LParen, pos),
                ')' => self.single(Tok::RParen, pos),
                ',' => self.single(Tok::Comma, pos),
                c if c.is_alphabetic() || c == '_' => self.ident(pos),
                _ => self.symbol(c, pos)?,
            }
        }
        let end = self.src.len();
        self.push(Tok::Eof, end);
        Ok(())
    }

    fn single(&mut self, tok: Tok, pos: usize) {
        self.i += 1;
        self.push(tok, pos);
    }

    fn symbol(&mut self, c: char, pos: usize) -> Result<(), MathError> {
        let next = self.peek_at(1);
        let two = match (c, next) {
            ('|', Some('|')) => Some(Tok::Op(BinOp::Or)),
            ('&', Some('&')) => Some(Tok::Op(BinOp::And)),
            ('=', Some('=')) => Some(Tok::Op(BinOp::Eq)),
            ('!', Some('=')) => Some(Tok::Op(BinOp::Ne)),
            ('>', Some('=')) => Some(Tok::Op(BinOp::Ge)),
            ('<', Some('=')) => Some(Tok::Op(BinOp::Le)),
            ('*', Some('*')) => Some(Tok::Op(BinOp::Pow)),
            _ => None,
        };
        if let Some(tok) = two {
            self.i += 2;
            self.push(tok, pos);
            return Ok(());
        }
        let one = match c {
            '!' => Tok::Not,
            '>' => Tok::Op(BinOp::Gt),
            '<' => Tok::Op(BinOp::Lt),
            '+' => Tok::Op(BinOp::Add),
            '-' => Tok::Op(BinOp::Sub),
            '*' => Tok::Op(BinOp::Mul),
            '/' => Tok::Op(BinOp::Div),
            '%' => Tok::Op(BinOp::Mod),
            '^' => {
                return Err(MathError::new(
                    pos,
                    MathErrorKind::UnexpectedChar {
                        found: c,
                        hint: " (the power operator is \"**\")",
                    },
                ));
            }
            '&' | '|' | '=' => {
                let hint = match c {
                    '&' => " (did you mean \"&&\"?)",
                    '|' => " (did you mean \"||\"?)",
                    _ => " (did you mean \"==\"?)",
                };
                return Err(MathError::new(
                    pos,
                    MathErrorKind::UnexpectedChar { found: c, hint },
                ));
            }
            _ => {
                return Err(MathError::new(
                    pos,
                    MathErrorKind::UnexpectedChar { found: c, hint: "" },
                ));
            }
        };
        self.single(one, pos);
        Ok(())
    }

    fn ident(&mut self, pos: usize) {
        let start = self.i;
        while self.peek_at(0).is_some_and(is_var_char) {
            self.i += 1;
        }
        let text: String = self.text(start, self.i);
        self.push(Tok::Ident(text), pos);
    }

    fn var(&mut self, pos: usize) -> Result<(), MathError> {
        self.i += 1; // '$'
        if self.peek_at(0) == Some('{') {
            self.i += 1;
            let start = self.i;
            loop {
                match self.peek_at(0) {
                    None => return Err(MathError::new(pos, MathErrorKind::UnterminatedVar)),
                    Some('}') => break,
                    Some(c) if is_var_char(c) || c == ' ' => self.i += 1,
                    Some(c) => {
                        let at = self.pos_at(self.i);
                        return Err(MathError::new(at, MathErrorKind::BadVarChar(c)));
                    }
                }
            }
            let name: String = self.text(start, self.i);
            self.i += 1; // '}'
            if name.trim().is_empty() {
                return Err(MathError::new(pos, MathErrorKind::EmptyVar));
            }
            self.push(Tok::Var(name), pos);
            return Ok(());
        }
        let start = self.i;
        while self.peek_at(0).is_some_and(is_var_char) {
            self.i += 1;
        }
        if start == self.i {
            return Err(MathError::new(pos, MathErrorKind::EmptyVar));
        }
        let name: String = self.text(start, self.i);
        self.push(Tok::Var(name), pos);
        Ok(())
    }

    fn number(&mut self, pos: usize) -> Result<(), MathError> {
        let start = self.i;
        let digits = |l: &mut Self, radix: u32| {
            let from = l.i;
            while l.peek_at(0).is_some_and(|c| c.is_digit(radix)) {
                l.i += 1;
            }
            l.i - from
        };
        let is_hex =
            self.peek_at(0) == Some('0') && matches!(self.peek_at(1), Some('x') | Some('X'));
        let value = if is_hex {
            self.i += 2;
            let first = self.i;
            let n = digits(self, 16);
            self.check_number_end(start, pos)?;
            if n == 0 {
                return Err(self.bad_number(start, pos));
            }
            self.text(first, self.i)
                .chars()
                .filter_map(|c| c.to_digit(16))
                .fold(0.0_f64, |acc, d| acc * 16.0 + f64::from(d))
        } else {
            let int_digits = digits(self, 10);
            let mut plain_int = true;
            let mut frac_digits = 0;
            if self.peek_at(0) == Some('.') {
                plain_int = false;
                self.i += 1;
                frac_digits = digits(self, 10);
            }
            if int_digits == 0 && frac_digits == 0 {
                self.check_number_end(start, pos)?;
                return Err(self.bad_number(start, pos));
            }
            if matches!(self.peek_at(0), Some('e') | Some('E')) {
                plain_int = false;
                self.i += 1;
                if matches!(self.peek_at(0), Some('+') | Some('-')) {
                    self.i += 1;
                }
                if digits(self, 10) == 0 {
                    self.check_number_end(start, pos)?;
                    return Err(self.bad_number(start, pos));
                }
            }
            self.check_number_end(start, pos)?;
            let text: String = self.text(start, self.i);
            let octal = plain_int
                && text.len() > 1
                && text.starts_with('0')
                && text.chars().all(|c| c.is_digit(8));
            if octal {
                text.chars()
                    .filter_map(|c| c.to_digit(8))
                    .fold(0.0_f64, |acc, d| acc * 8.0 + f64::from(d))
            } else {
                text.parse::<f64>()
                    .map_err(|_| MathError::new(pos, MathErrorKind::BadNumber(text.clone())))?
            }
        };
        self.push(Tok::Num(value), pos);
        Ok(())
    }

    /// A number must not run straight into letters, digits or another dot (`12ab`, `1.2.3`).
    fn check_number_end(&mut self, start: usize, pos: usize) -> Result<(), MathError> {
        if self
            .peek_at(0)
            .is_some_and(|c| c == '.' || c == '_' || c.is_alphanumeric())
        {
            while self
                .peek_at(0)
                .is_some_and(|c| c == '.' || c == '_' || c.is_alphanumeric())
            {
                self.i += 1;
            }
            return Err(self.bad_number(start, pos));
        }
        Ok(())
    }

    fn bad_number(&self, start: usize, pos: usize) -> MathError {
        MathError::new(pos, MathErrorKind::BadNumber(self.text(start, self.i)))
    }

    /// The characters from index `from` to `to` (empty if out of range).
    fn text(&self, from: usize, to: usize) -> String {
        self.chars
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .map(|c| c.1)
            .collect()
    }
}
