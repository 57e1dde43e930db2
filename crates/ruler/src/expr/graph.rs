//! Dependencies between queries and expressions: topological ordering with cycle detection,
//! and a [`Pipeline`] that evaluates a rule's expressions in order over fetched query results.

use std::collections::{BTreeMap, BTreeSet};

use crate::data::{Labels, Results, TimeRange};

use super::{ExprError, Expression, evaluate_with_firing};

/// Orders nodes given as `(refId, refIds it reads)` so that every node comes after the nodes it
/// reads; ties keep the input order. Fails on a duplicate refId, a reference to an unknown
/// refId, or a cycle (naming the refIds on it).
pub fn order_nodes<'a>(nodes: &[(&'a str, Vec<&'a str>)]) -> Result<Vec<&'a str>, ExprError> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (ref_id, _)) in nodes.iter().enumerate() {
        if index.insert(ref_id, i).is_some() {
            return Err(ExprError::DuplicateRef {
                ref_id: ref_id.to_string(),
            });
        }
    }
    // deps[i]: indexes node i reads; readers[j]: nodes that read j.
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, (ref_id, reads)) in nodes.iter().enumerate() {
        let mut d = Vec::new();
        for r in reads {
            let j = *index.get(r).ok_or_else(|| ExprError::UnknownRef {
                ref_id: ref_id.to_string(),
                missing: r.to_string(),
            })?;
            if !d.contains(&j) {
                d.push(j);
                if let Some(list) = readers.get_mut(j) {
                    list.push(i);
                }
            }
        }
        deps.push(d);
    }
    // Kahn's algorithm, always taking the earliest ready node.
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..nodes.len())
        .filter(|i| waiting.get(*i) == Some(&0))
        .collect();
    let mut out = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop_first() {
        if let Some((ref_id, _)) = nodes.get(i) {
            out.push(*ref_id);
        }
        for &r in readers.get(i).map(Vec::as_slice).unwrap_or_default() {
            if let Some(w) = waiting.get_mut(r) {
                *w = w.saturating_sub(1);
                if *w == 0 {
                    ready.insert(r);
                }
            }
        }
    }
    if out.len() == nodes.len() {
        return Ok(out);
    }
    Err(ExprError::Cycle {
        ref_ids: find_cycle(nodes, &deps, &waiting),
    })
}

/// Finds one cycle among the nodes left waiting by Kahn's algorithm.
fn find_cycle(nodes: &[(&str, Vec<&str>)], deps: &[Vec<usize>], waiting: &[usize]) -> Vec<String> {
    let stuck = |i: usize| waiting.get(i).is_some_and(|w| *w > 0);
    let Some(start) = (0..nodes.len()).find(|i| stuck(*i)) else {
        return Vec::new();
    };
    // Every stuck node reads at least one stuck node, so walking stuck dependencies must
    // revisit a node; the walk from its first visit is the cycle.
    let mut path: Vec<usize> = vec![start];
    let mut current = start;
    loop {
        let next = deps
            .get(current)
            .and_then(|d| d.iter().copied().find(|j| stuck(*j)));
        let Some(next) = next else {
            break;
        };
        if let Some(pos) = path.iter().position(|p| *p == next) {
            path.drain(..pos);
            break;
        }
        path.push(next);
        if path.len() > nodes.len() {
            break;
        }
        current = next;
    }
    path.iter()
        .filter_map(|i| nodes.get(*i).map(|n| n.0.to_string()))
        .collect()
}

/// Orders data-source queries (which read nothing) and expressions so that every refId comes
/// after the refIds it reads; see [`order_nodes`] for the errors.
pub fn order(query_ref_ids: &[&str], expressions: &[Expression]) -> Result<Vec<String>, ExprError> {
    let refs: Vec<Vec<String>> = expressions.iter().map(Expression::refs).collect();
    let mut nodes: Vec<(&str, Vec<&str>)> =
        query_ref_ids.iter().map(|q| (*q, Vec::new())).collect();
    for (e, r) in expressions.iter().zip(&refs) {
        nodes.push((e.ref_id(), r.iter().map(String::as_str).collect()));
    }
    Ok(order_nodes(&nodes)?
        .into_iter()
        .map(str::to_string)
        .collect())
}

/// A rule's expressions in evaluation order, checked for unknown references and cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    steps: Vec<Expression>,
}

impl Pipeline {
    /// Orders `expressions`, which may read each other and the queries `query_ref_ids`.
    pub fn new(query_ref_ids: &[&str], expressions: Vec<Expression>) -> Result<Self, ExprError> {
        let ordered = order(query_ref_ids, &expressions)?;
        let mut by_ref: BTreeMap<String, Expression> = expressions
            .into_iter()
            .map(|e| (e.ref_id().to_string(), e))
            .collect();
        let steps = ordered
            .iter()
            .filter_map(|r| by_ref.remove(r.as_str()))
            .collect();
        Ok(Self { steps })
    }

    /// The expressions in evaluation order.
    pub fn steps(&self) -> &[Expression] {
        &self.steps
    }

    /// Evaluates every expression in order, adding each result to `queries` (the fetched query
    /// results), and returns all results.
    pub fn evaluate(&self, queries: Results, range: TimeRange) -> Result<Results, ExprError> {
        self.evaluate_with_firing(queries, range, &BTreeSet::new())
    }

    /// Like [`Pipeline::evaluate`], with the label sets currently firing for thresholds with a
    /// recovery condition.
    pub fn evaluate_with_firing(
        &self,
        queries: Results,
        range: TimeRange,
        firing: &BTreeSet<Labels>,
    ) -> Result<Results, ExprError> {
        let mut results = queries;
        for step in &self.steps {
            let value = evaluate_with_firing(step, &results, range, firing)?;
            results.insert(step.ref_id().to_string(), value);
        }
        Ok(results)
    }
}

/// Orders `expressions` against the refIds of `queries` and evaluates them all: the
/// one-call form of [`Pipeline`].
pub fn evaluate_all(
    expressions: Vec<Expression>,
    queries: Results,
    range: TimeRange,
    firing: &BTreeSet<Labels>,
) -> Result<Results, ExprError> {
    let query_refs: Vec<&str> = queries.keys().map(String::as_str).collect();
    let pipeline = Pipeline::new(&query_refs, expressions)?;
    pipeline.evaluate_with_firing(queries, range, firing)
}
