//! Errors of the expressions engine: what is wrong and where (refId, field path, position in
//! a math expression).

use super::math::MathError;

/// Everything that can go wrong parsing, ordering or evaluating expressions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    /// The query model is not a JSON object.
    #[error("expression {ref_id}: the model must be a JSON object")]
    NotAnObject {
        /// The expression's refId.
        ref_id: String,
    },
    /// A required field is absent (or null).
    #[error("expression {ref_id}: missing field `{field}`")]
    MissingField {
        /// The expression's refId.
        ref_id: String,
        /// Path of the field, e.g. `conditions[0].evaluator.type`.
        field: String,
    },
    /// A field is present but its value is not acceptable.
    #[error("expression {ref_id}: field `{field}`: {reason}")]
    InvalidField {
        /// The expression's refId.
        ref_id: String,
        /// Path of the field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `type` field names no expression type this engine knows.
    #[error(
        "expression {ref_id}: field `type`: unknown expression type {kind:?} \
         (expected one of: math, reduce, resample, threshold, classic_conditions)"
    )]
    UnknownType {
        /// The expression's refId.
        ref_id: String,
        /// The type given.
        kind: String,
    },
    /// A reducer (or downsampler) name is not known.
    #[error(
        "expression {ref_id}: field `{field}`: unknown reducer {reducer:?} (expected one of: {expected})"
    )]
    UnknownReducer {
        /// The expression's refId.
        ref_id: String,
        /// Path of the field.
        field: String,
        /// The name given.
        reducer: String,
        /// The accepted names, comma separated.
        expected: String,
    },
    /// A math expression does not parse.
    #[error(
        "expression {ref_id}: field `expression`: invalid math expression {expression:?}: {source}"
    )]
    Math {
        /// The expression's refId.
        ref_id: String,
        /// The math expression text.
        expression: String,
        /// What is wrong, and where.
        #[source]
        source: MathError,
    },
    /// At evaluation, a referenced refId has no result.
    #[error("expression {ref_id}: referenced refId {missing} has no result")]
    MissingRef {
        /// The expression's refId.
        ref_id: String,
        /// The refId that has no result.
        missing: String,
    },
    /// When ordering, an expression reads a refId that is neither a query nor an expression.
    #[error("expression {ref_id}: references unknown refId {missing}")]
    UnknownRef {
        /// The expression's refId.
        ref_id: String,
        /// The unknown refId.
        missing: String,
    },
    /// Two queries or expressions share a refId.
    #[error("duplicate refId {ref_id}")]
    DuplicateRef {
        /// The repeated refId.
        ref_id: String,
    },
    /// Expressions depend on each other in a loop.
    #[error("dependency cycle between refIds: {}", cycle_text(.ref_ids))]
    Cycle {
        /// The refIds on the cycle, in dependency order (each reads the next; the last reads the first).
        ref_ids: Vec<String>,
    },
    /// The input data cannot be processed by this expression (wrong type, bad time range...).
    #[error("expression {ref_id}: {reason}")]
    InvalidInput {
        /// The expression's refId.
        ref_id: String,
        /// What is wrong.
        reason: String,
    },
}

/// Renders a cycle as `A -> B -> A`.
fn cycle_text(ref_ids: &[String]) -> String {
    let mut parts: Vec<&str> = ref_ids.iter().map(String::as_str).collect();
    if let Some(first) = ref_ids.first() {
        parts.push(first);
    }
    parts.join(" -> ")
}
