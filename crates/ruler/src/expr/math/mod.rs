//! The math expression: free-form formulas over query results (`$A > 5`, `abs($A - ${B})`),
//! parsed once ([`lexer`], [`parser`]) and evaluated with Grafana's union semantics ([`eval`]).

pub mod eval;
pub mod lexer;
pub mod parser;

use crate::data::{Results, Value};

use super::ExprError;
use parser::{Func, Node};

/// Why a math expression does not parse, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at position {pos}: {kind}")]
pub struct MathError {
    /// Byte offset (from 0) in the expression text where the problem is.
    pub pos: usize,
    /// What the problem is.
    pub kind: MathErrorKind,
}

impl MathError {
    /// A new error at byte offset `pos`.
    pub fn new(pos: usize, kind: MathErrorKind) -> Self {
        Self { pos, kind }
    }
}

/// The kinds of math syntax errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MathErrorKind {
    /// Nothing but whitespace.
    #[error("empty expression")]
    Empty,
    /// A character that starts no token.
    #[error("unexpected character {found:?}{hint}")]
    UnexpectedChar {
        /// The character.
        found: char,
        /// A hint on what may have been meant (may be empty).
        hint: &'static str,
    },
    /// A malformed numeric literal.
    #[error("bad number syntax {0:?}")]
    BadNumber(String),
    /// `${` without `}`.
    #[error("unterminated variable: missing closing \"}}\"")]
    UnterminatedVar,
    /// `$` or `${}` without a name.
    #[error("incomplete variable: expected a refId after \"$\"")]
    EmptyVar,
    /// A character not allowed in `${...}`.
    #[error("unsupported character {0:?} in variable name")]
    BadVarChar(char),
    /// A token where another was expected.
    #[error("unexpected {found}, expected {expected}")]
    Unexpected {
        /// The token found.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A call to a function that does not exist.
    #[error("unknown function {0:?} (known functions: {known})", known = Func::NAMES.join(", "))]
    UnknownFunction(String),
    /// A function called with the wrong number of arguments.
    #[error("function {name} takes {expected} argument(s), got {got}")]
    Arity {
        /// The function.
        name: String,
        /// How many it takes.
        expected: usize,
        /// How many it was given.
        got: usize,
    },
    /// Too many nested parentheses/unary operators, or too long an operator chain.
    #[error("expression is nested too deeply or is too long")]
    TooDeep,
}

/// A parsed math expression.
#[derive(Debug, Clone, PartialEq)]
pub struct MathExpression {
    /// This expression's refId.
    pub ref_id: String,
    /// The expression text.
    pub expression: String,
    root: Node,
    vars: Vec<String>,
}

impl MathExpression {
    /// Parses `expression` for the expression `ref_id`.
    pub fn new(ref_id: &str, expression: &str) -> Result<Self, ExprError> {
        let root = parser::parse(expression).map_err(|source| ExprError::Math {
            ref_id: ref_id.to_string(),
            expression: expression.to_string(),
            source,
        })?;
        let mut vars = Vec::new();
        root.collect_vars(&mut vars);
        Ok(Self {
            ref_id: ref_id.to_string(),
            expression: expression.to_string(),
            root,
            vars,
        })
    }

    /// The refIds the expression reads, first appearance first, without repeats.
    pub fn vars(&self) -> &[String] {
        &self.vars
    }

    /// The syntax tree.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Evaluates the expression over `results`.
    pub fn evaluate(&self, results: &Results) -> Result<Value, ExprError> {
        eval::eval(&self.root, results, &self.ref_id)
    }
}
