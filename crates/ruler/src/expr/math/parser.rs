//! The math expression parser: a recursive-descent parser over the lexer's tokens with
//! Grafana's precedence, loosest first: `||`, `&&`, comparisons, `+ -`, `* / %`, `**`, then
//! unary `! -`, literals, variables, function calls and parentheses. All binary operators
//! are left-associative (as in Grafana, `2 ** 3 ** 2` is `(2 ** 3) ** 2`), and unary
//! operators bind tighter than `**` (`-2 ** 2` is 4).

use super::lexer::{BinOp, Tok, Token, lex};
use super::{MathError, MathErrorKind};

/// How deeply parentheses, unary operators and function calls may nest.
const MAX_NESTING: usize = 64;
/// How tall the syntax tree may grow (long operator chains), keeping evaluation recursion bounded.
const MAX_HEIGHT: usize = 256;

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `!x`: 1 if x is 0, else 0.
    Not,
}

/// A built-in math function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `abs(x)`
    Abs,
    /// `ceil(x)`
    Ceil,
    /// `floor(x)`
    Floor,
    /// `log(x)`: natural logarithm (NaN below 0).
    Log,
    /// `round(x)`: to the nearest integer, halves away from zero.
    Round,
    /// `is_nan(x)`: 1 for NaN, else 0.
    IsNan,
    /// `is_inf(x)`: 1 for ±Inf, else 0.
    IsInf,
    /// `is_null(x)`: 1 for null, else 0.
    IsNull,
    /// `is_number(x)`: 1 for a real number, 0 for null, NaN and ±Inf.
    IsNumber,
    /// `nan()`: a NaN scalar.
    Nan,
    /// `inf()`: a +Inf scalar.
    Inf,
    /// `infn()`: a -Inf scalar.
    Infn,
    /// `null()`: a null scalar.
    Null,
}

impl Func {
    /// The names of all functions.
    pub const NAMES: &'static [&'static str] = &[
        "abs",
        "ceil",
        "floor",
        "log",
        "round",
        "is_nan",
        "is_inf",
        "is_null",
        "is_number",
        "nan",
        "inf",
        "infn",
        "null",
    ];

    /// The function called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "abs" => Self::Abs,
            "ceil" => Self::Ceil,
            "floor" => Self::Floor,
            "log" => Self::Log,
            "round" => Self::Round,
            "is_nan" => Self::IsNan,
            "is_inf" => Self::IsInf,
            "is_null" => Self::IsNull,
            "is_number" => Self::IsNumber,
            "nan" => Self::Nan,
            "inf" => Self::Inf,
            "infn" => Self::Infn,
            "null" => Self::Null,
            _ => return None,
        })
    }

    /// How many arguments the function takes.
    pub fn arity(self) -> usize {
        match self {
            Self::Nan | Self::Inf | Self::Infn | Self::Null => 0,
            _ => 1,
        }
    }
}

/// A node of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A numeric constant.
    Number(f64),
    /// A reference to another query or expression result.
    Var {
        /// The refId.
        name: String,
        /// Byte offset of the `$`.
        pos: usize,
    },
    /// A unary operation.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        arg: Box<Node>,
    },
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Node>,
        /// Right operand.
        rhs: Box<Node>,
    },
    /// A function call.
    Call {
        /// The function.
        func: Func,
        /// Its arguments.
        args: Vec<Node>,
    },
}

impl Node {
    /// Appends the variables the tree reads, first appearance first, without repeats.
    pub fn collect_vars(&self, out: &mut Vec<String>) {
        match self {
            Node::Number(_) => {}
            Node::Var { name, .. } => {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            Node::Unary { arg, .. } => arg.collect_vars(out),
            Node::Binary { lhs, rhs, .. } => {
                lhs.collect_vars(out);
                rhs.collect_vars(out);
            }
            Node::Call { args, .. } => args.iter().for_each(|a| a.collect_vars(out)),
        }
    }
}

/// A node with the height of its tree.
struct Parsed {
    node: Node,
    height: usize,
}

/// Parses a math expression into a syntax tree.
pub(crate) fn parse(src: &str) -> Result<Node, MathError> {
    let tokens = lex(src)?;
    if tokens.first().is_some_and(|t| t.tok == Tok::Eof) {
        return Err(MathError::new(0, MathErrorKind::Empty));
    }
    let mut p = Parser {
        tokens,
        i: 0,
        nesting: 0,
    };
    let root = p.or()?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        let (pos, found) = (t.pos, t.tok.describe());
        return Err(MathError::new(
            pos,
            MathErrorKind::Unexpected {
                found,
                expected: "an operator or the end of the expression",
            },
        ));
    }
    Ok(root.node)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    nesting: usize,
}

/// The end-of-input token, for when the parser runs off the end (it never should).
static EOF: Token = Token {
    tok: Tok::Eof,
    pos: 0,
};

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens
            .get(self.i)
            .or(self.tokens.last())
            .unwrap_or(&EOF)
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() {
            self.i += 1;
        }
        t
    }

    fn unexpected(&self, expected: &'static str) -> MathError {
        let t = self.peek();
        MathError::new(
            t.pos,
            MathErrorKind::Unexpected {
                found: t.tok.describe(),
                expected,
            },
        )
    }

    fn enter(&mut self, pos: usize) -> Result<(), MathError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(MathError::new(pos, MathErrorKind::TooDeep));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// Parses a left-associative chain of `next` separated by the operators `ops` admits.
    fn chain(
        &mut self,
        next: fn(&mut Self) -> Result<Parsed, MathError>,
        ops: fn(BinOp) -> bool,
    ) -> Result<Parsed, MathError> {
        let mut lhs = next(self)?;
        loop {
            let op = match self.peek().tok {
                Tok::Op(op) if ops(op) => op,
                _ => return Ok(lhs),
            };
            let pos = self.advance().pos;
            let rhs = next(self)?;
            let height = lhs.height.max(rhs.height) + 1;
            if height > MAX_HEIGHT {
                return Err(MathError::new(pos, MathErrorKind::TooDeep));
            }
            lhs = Parsed {
                node: Node::Binary {
                    op,
                    lhs: Box::new(lhs.node),
                    rhs: Box::new(rhs.node),
                },
                height,
            };
        }
    }

    fn or(&mut self) -> Result<Parsed, MathError> {
        self.chain(Self::and, |op| op == BinOp::Or)
    }

    fn and(&mut self) -> Result<Parsed, MathError> {
        self.chain(Self::comparison, |op| op == BinOp::And)
    }

    fn comparison(&mut self) -> Result<Parsed, MathError> {
        self.chain(Self::additive, |op| {
            matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le
            )
        })
    }

    fn additive(&mut self) -> Result<Parsed, MathError> {
        self.chain(Self::multiplicative, |op| {
            matches!(op, BinOp::Add | BinOp::Sub)
        })
    }

    fn multiplicative(&mut self) -> Result<Parsed, MathError> {
        self.chain(Self::power, |op| {
            matches!(op, BinOp::Mul | BinOp::Div | BinOp::Mod)
        })
    }

    fn power(&mut self) -> Result<Parsed, MathError> {
        self.chain(Self::unary, |op| op == BinOp::Pow)
    }

    fn unary(&mut self) -> Result<Parsed, MathError> {
        let op = match self.peek().tok {
            Tok::Not => UnaryOp::Not,
            Tok::Op(BinOp::Sub) => UnaryOp::Neg,
            _ => return self.primary(),
        };
        let pos = self.advance().pos;
        self.enter(pos)?;
        let arg = self.unary()?;
        self.leave();
        let height = arg.height + 1;
        if height > MAX_HEIGHT {
            return Err(MathError::new(pos, MathErrorKind::TooDeep));
        }
        Ok(Parsed {
            node: Node::Unary {
                op,
                arg: Box::new(arg.node),
            },
            height,
        })
    }

    fn primary(&mut self) -> Result<Parsed, MathError> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Num(f) => {
                self.advance();
                Ok(Parsed {
                    node: Node::Number(f),
                    height: 1,
                })
            }
            Tok::Var(name) => {
                self.advance();
                Ok(Parsed {
                    node: Node::Var {
                        name,
                        pos: token.pos,
                    },
                    height: 1,
                })
            }
            Tok::LParen => {
                self.advance();
                self.enter(token.pos)?;
                let inner = self.or()?;
                self.leave();
                if self.peek().tok != Tok::RParen {
                    return Err(self.unexpected("\")\""));
                }
                self.advance();
                Ok(inner)
            }
            Tok::Ident(name) => self.call(name, token.pos),
            _ => Err(self.unexpected("a number, a variable, a function call or \"(\"")),
        }
    }

    fn call(&mut self, name: String, pos: usize) -> Result<Parsed, MathError> {
        let func = Func::from_name(&name)
            .ok_or_else(|| MathError::new(pos, MathErrorKind::UnknownFunction(name.clone())))?;
        self.advance();
        if self.peek().tok != Tok::LParen {
            return Err(self.unexpected("\"(\" after the function name"));
        }
        self.advance();
        self.enter(pos)?;
        let mut args = Vec::new();
        let mut height = 1;
        if self.peek().tok != Tok::RParen {
            loop {
                let arg = self.or()?;
                height = height.max(arg.height + 1);
                args.push(arg.node);
                match self.peek().tok {
                    Tok::Comma => {
                        self.advance();
                    }
                    Tok::RParen => break,
                    _ => return Err(self.unexpected("\",\" or \")\"")),
                }
            }
        }
        self.advance(); // ')'
        self.leave();
        if args.len() != func.arity() {
            return Err(MathError::new(
                pos,
                MathErrorKind::Arity {
                    name,
                    expected: func.arity(),
                    got: args.len(),
                },
            ));
        }
        if height > MAX_HEIGHT {
            return Err(MathError::new(pos, MathErrorKind::TooDeep));
        }
        Ok(Parsed {
            node: Node::Call { func, args },
            height,
        })
    }
}
