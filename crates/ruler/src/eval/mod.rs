//! Evaluating one rule at one instant: its queries run against their data sources, its
//! expressions run in dependency order, and the condition's result becomes one outcome per
//! label set (Grafana's `eval.Results`), with the values the label and annotation templates
//! see.

mod outcome;
mod query;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use outcome::{Result as EvalResult, outcomes};
pub use query::run_query;

use crate::data::{Labels, Millis, Results, TimeRange};
use crate::datasource::{DataSourceConfig, QueryError};
use crate::expr::{Expression, Pipeline, is_expression_datasource};
use crate::rule::Rule;

/// A boxed future, as the ports return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where data source settings come from (the organization's data sources, secrets decrypted).
pub trait DataSources: Send + Sync {
    /// The data source `uid` of `org_id`; `Ok(None)` when there is none.
    fn get<'a>(
        &'a self,
        org_id: i64,
        uid: &'a str,
    ) -> BoxFuture<'a, Result<Option<DataSourceConfig>, String>>;
}

/// Runs rules' queries and expressions.
#[derive(Clone)]
pub struct Evaluator {
    sources: Arc<dyn DataSources>,
    query_timeout: Duration,
}

impl Evaluator {
    /// An evaluator reading data sources from `sources`; each query may take `query_timeout`.
    pub fn new(sources: Arc<dyn DataSources>, query_timeout: Duration) -> Self {
        Self {
            sources,
            query_timeout,
        }
    }

    /// Evaluates `rule` of `org_id` at `at`. `firing` holds the label sets currently firing
    /// (for recovery thresholds). A failing query or expression yields one Error result.
    pub async fn evaluate(
        &self,
        org_id: i64,
        rule: &Rule,
        at: Millis,
        firing: &BTreeSet<Labels>,
    ) -> Vec<EvalResult> {
        match self.results(org_id, rule, at, firing).await {
            Ok(results) => outcomes(&rule.condition, &results),
            Err(message) => vec![EvalResult::error(message)],
        }
    }

    /// Every refId's result, or why the evaluation failed.
    async fn results(
        &self,
        org_id: i64,
        rule: &Rule,
        at: Millis,
        firing: &BTreeSet<Labels>,
    ) -> Result<Results, String> {
        let mut expressions = Vec::new();
        let mut pending = Vec::new();
        for q in &rule.data {
            if is_expression_datasource(&q.datasource_uid) {
                expressions
                    .push(Expression::parse(&q.ref_id, &q.model).map_err(|e| e.to_string())?);
            } else {
                pending.push(q);
            }
        }
        let runs = pending.iter().map(|q| async move {
            let range = TimeRange {
                from: at.saturating_sub(q.relative_time_range.from.saturating_mul(1000)),
                to: at.saturating_sub(q.relative_time_range.to.saturating_mul(1000)),
            };
            let config = match self.sources.get(org_id, &q.datasource_uid).await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    return Err(format!(
                        "{}: data source {:?} not found",
                        q.ref_id, q.datasource_uid
                    ));
                }
                Err(e) => return Err(format!("{}: reading data source: {e}", q.ref_id)),
            };
            let value = tokio::time::timeout(
                self.query_timeout,
                run_query(&config, &q.model, range, self.query_timeout),
            )
            .await
            .unwrap_or(Err(QueryError::Timeout(self.query_timeout)))
            .map_err(|e| format!("{}: {e}", q.ref_id))?;
            Ok((q.ref_id.clone(), value))
        });
        let mut results = Results::new();
        for r in futures::future::join_all(runs).await {
            let (ref_id, value) = r?;
            results.insert(ref_id, value);
        }
        let query_ids: Vec<&str> = pending.iter().map(|q| q.ref_id.as_str()).collect();
        let pipeline = Pipeline::new(&query_ids, expressions).map_err(|e| e.to_string())?;
        pipeline
            .evaluate_with_firing(results, TimeRange { from: at, to: at }, firing)
            .map_err(|e| e.to_string())
    }
}
