//! Templating of alert rule labels and annotations, as Grafana's
//! `pkg/services/ngalert/state/template` does it: each value is a Go text/template executed
//! with `$labels`, `$values` and `$value` in scope and Prometheus' template functions
//! (`humanize`, `reReplaceAll`, `externalURL`, ...) plus Grafana's own (`graphLink`,
//! `filterLabels`, ...).
//!
//! Templates run on the `gotmpl` crate. What it does differently from Go is worked around
//! here, never by changing the crate: Go's parse-time checks (block structure, undefined
//! variables and functions) are made by [`check`]; printing goes through a function appended to
//! every action so floats and Grafana's `Labels`/`Value` types print as in Go; execution errors
//! are located by re-running shortened trees (gotmpl reports no position); and a budget bounds
//! the work one expansion may do.
//!
//! Text the template prints as `<no value>` (a missing label) becomes `[no value]`, like
//! Grafana. On failure Grafana keeps the template text unchanged ([`expand_or_error`]).

mod check;
mod funcs;
mod gofmt;
mod locate;
mod rewrite;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use gotmpl::parse::ListNode;
use gotmpl::{FuncMap, Template, TemplateError as GoError, Value};

use crate::data::Labels;
use funcs::Kinds;

/// Text Grafana puts before every template: the variables `$labels`, `$values` and `$value`.
pub const PREFIX: &str =
    "{{- $labels := .Labels -}}{{- $values := .Values -}}{{- $value := .Value -}}";

/// Most bytes one expansion may produce.
pub const MAX_OUTPUT: usize = 1 << 20;

/// Most `{{range}}` iterations one expansion may run.
pub const MAX_RANGE_ITERATIONS: u64 = 100_000;

/// Most re-runs spent locating an execution error.
const LOCATE_RUNS: usize = 32;

/// The labels and value of one query or expression (`$values.B`): Grafana's `Value`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateValue {
    /// The labels of the result (`$values.B.Labels`).
    pub labels: Labels,
    /// The number (`$values.B.Value`); `None` (no data) is NaN in templates.
    pub value: Option<f64>,
}

/// What a template sees: Grafana's `template.Data`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateData {
    /// The alert instance's labels (`$labels`).
    pub labels: Labels,
    /// Values of the rule's reduce, math and threshold expressions by refId (`$values`).
    pub values: BTreeMap<String, TemplateValue>,
    /// The evaluation string (`$value`), e.g. `[ var='B' labels={host=a} value=3 ]`.
    pub value: String,
}

impl TemplateData {
    /// Template data whose `$value` is the evaluation string of `values` ([`value_string`]).
    pub fn new(labels: Labels, values: BTreeMap<String, TemplateValue>) -> Self {
        let value = value_string(&values);
        TemplateData {
            labels,
            values,
            value,
        }
    }
}

/// Grafana's evaluation string for the values, in refId order:
/// `[ var='B' labels={host=a} value=3 ], [ var='C' labels={host=a} value=1 ]`
/// (`value=null` for no data; numbers as Go's `%v` prints them).
pub fn value_string(values: &BTreeMap<String, TemplateValue>) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|(ref_id, v)| {
            let labels: Vec<String> = v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let value = v.value.map_or_else(|| "null".to_string(), gofmt::float_v);
            format!(
                "[ var='{ref_id}' labels={{{}}} value={value} ]",
                labels.join(", ")
            )
        })
        .collect();
    parts.join(", ")
}

/// When a template failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template text is not a valid template.
    Parse,
    /// The template failed while running.
    Execute,
}

impl ErrorKind {
    fn verb(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parsing",
            ErrorKind::Execute => "executing",
        }
    }
}

/// A template that could not be expanded; displays as Grafana's `ExpandError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to expand template '{template}': error {} template {name}: {message}", .kind.verb())]
pub struct TemplateError {
    /// The template's name as Go sees it: `__alert_` and the rule title.
    pub name: String,
    /// The text executed: [`PREFIX`] and the label or annotation value.
    pub template: String,
    /// Parse or execution error.
    pub kind: ErrorKind,
    /// 1-based line in [`template`](Self::template), when known.
    pub line: Option<usize>,
    /// 1-based column (in characters, [`PREFIX`] included) when known.
    pub column: Option<usize>,
    /// Go's text/template message, e.g. `template: __alert_r:1:79: executing "__alert_r" at
    /// <humanize $value>: error calling humanize: ...` (parse errors name only the line).
    pub message: String,
}

/// Go's template name for a rule: `__alert_` and the rule title.
pub fn template_name(rule_title: &str) -> String {
    format!("__alert_{rule_title}")
}

/// Expands one label or annotation value of the rule titled `name`. `external_url` is what
/// `externalURL` returns (`pathPrefix` gives its path).
pub fn expand(
    name: &str,
    text: &str,
    data: &TemplateData,
    external_url: &str,
) -> Result<String, TemplateError> {
    // A bug in the engine must cost one annotation, not the evaluation (Prometheus recovers
    // panics here too).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        expand_unguarded(name, text, data, external_url)
    }))
    .unwrap_or_else(|_| {
        let name = template_name(name);
        Err(TemplateError {
            message: format!("panic expanding template {name}"),
            name,
            template: format!("{PREFIX}{text}"),
            kind: ErrorKind::Execute,
            line: None,
            column: None,
        })
    })
}

fn expand_unguarded(
    name: &str,
    text: &str,
    data: &TemplateData,
    external_url: &str,
) -> Result<String, TemplateError> {
    let name = template_name(name);
    let src = format!("{PREFIX}{text}");
    let fail = |kind: ErrorKind, line: Option<usize>, column: Option<usize>, message: String| {
        TemplateError {
            name: name.clone(),
            template: src.clone(),
            kind,
            line,
            column,
            message,
        }
    };

    let parsed = Template::new(&name).parse(&src).map_err(|e| match e {
        GoError::Parse {
            line, col, message, ..
        }
        | GoError::Lex {
            line, col, message, ..
        } => fail(
            ErrorKind::Parse,
            Some(line),
            Some(col),
            format!("template: {name}:{line}: {message}"),
        ),
        other => fail(
            ErrorKind::Parse,
            None,
            None,
            format!("template: {name}: {}", funcs::go_message(&other)),
        ),
    })?;

    let kinds = Arc::new(Kinds::default());
    let func_map = funcs::func_map(&kinds, external_url);
    let known: HashSet<&str> = func_map
        .keys()
        .map(String::as_str)
        .chain(funcs::BUILTINS.iter().copied())
        .collect();
    let mut trees: Vec<(String, ListNode)> = Vec::new();
    let mut issue = check::structure(&src);
    for tree_name in parsed.templates() {
        if let Some(tree) = parsed.lookup(tree_name) {
            let found = check::tree(tree, &known);
            issue = match (issue, found) {
                (Some(a), Some(b)) if b.offset < a.offset => Some(b),
                (a, b) => a.or(b),
            };
            trees.push((tree_name.to_string(), tree.clone()));
        }
    }
    if let Some(issue) = issue {
        let (line, col) = position(&src, issue.offset);
        return Err(fail(
            ErrorKind::Parse,
            Some(line),
            Some(col),
            format!("template: {name}:{line}: {}", issue.message),
        ));
    }
    for (tree_name, tree) in &mut trees {
        rewrite::rewrite(tree, *tree_name != name);
    }

    let run = Runner {
        name: &name,
        trees: &trees,
        funcs: &func_map,
        kinds: &kinds,
        data: to_value(data, &kinds),
    };
    match run.run(None) {
        Ok(out) => Ok(out.replace("<no value>", "[no value]")),
        Err(e) => {
            let msg = message(&e);
            let main = trees.iter().find(|(n, _)| *n == name).map(|(_, t)| t);
            // Exhausted budgets concern the whole template; re-running it would cost as much.
            let budget = matches!(e, GoError::Write | GoError::RangeIterLimit)
                || msg.starts_with(funcs::BUDGET_MESSAGE);
            let located = main.filter(|_| !budget).and_then(|main| {
                locate::locate(main, &src, &msg, LOCATE_RUNS, &mut |variant| {
                    run.run(Some(variant)).err().map(|e| message(&e))
                })
            });
            Err(match located {
                Some(at) => {
                    let (line, col) = position(&src, at.offset);
                    // Go wraps the comparison builtins' errors like any function's.
                    let msg = match at.func.as_deref() {
                        Some(f @ ("eq" | "ne" | "lt" | "le" | "gt" | "ge"))
                            if !msg.starts_with("wrong number of args") =>
                        {
                            format!("error calling {f}: {msg}")
                        }
                        _ => msg,
                    };
                    fail(
                        ErrorKind::Execute,
                        Some(line),
                        Some(col),
                        format!(
                            "template: {name}:{line}:{}: executing {} at <{}>: {msg}",
                            go_column(&src, at.offset),
                            gofmt::quote(&name),
                            at.context
                        ),
                    )
                }
                None => fail(
                    ErrorKind::Execute,
                    None,
                    None,
                    format!("template: {name}: {msg}"),
                ),
            })
        }
    }
}

/// Expands `text`, or gives what Grafana keeps when the template fails: the text unchanged
/// (the error is logged).
pub fn expand_or_error(name: &str, text: &str, data: &TemplateData, external_url: &str) -> String {
    match expand(name, text, data, external_url) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "error in expanding template");
            text.to_string()
        }
    }
}

/// Expands every value of a rule's labels or annotations (keys are not templates). A value that
/// fails keeps its template text and its error is returned, as Grafana does; entries whose
/// value expands to the empty string are dropped (Grafana's Alertmanager drops empty labels and
/// annotations on receipt, so the alerts are the same).
pub fn expand_map(
    name: &str,
    map: &BTreeMap<String, String>,
    data: &TemplateData,
    external_url: &str,
) -> (BTreeMap<String, String>, Vec<TemplateError>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (key, text) in map {
        let value = match expand(name, text, data, external_url) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                text.clone()
            }
        };
        if !value.is_empty() {
            out.insert(key.clone(), value);
        }
    }
    (out, errors)
}

/// Everything one expansion runs with.
struct Runner<'a> {
    name: &'a str,
    trees: &'a [(String, ListNode)],
    funcs: &'a FuncMap,
    kinds: &'a Kinds,
    data: Value,
}

impl Runner<'_> {
    /// Executes the templates, with `main` in place of the main tree when given.
    fn run(&self, main: Option<ListNode>) -> Result<String, GoError> {
        self.kinds.reset_ticks();
        let mut t = Template::new(self.name)
            .funcs(self.funcs.clone())
            .max_range_iters(MAX_RANGE_ITERATIONS);
        let mut main = main;
        for (n, tree) in self.trees {
            let tree = if n == self.name {
                main.take().unwrap_or_else(|| tree.clone())
            } else {
                tree.clone()
            };
            t = t.add_parse_tree(n, tree);
        }
        let mut out = Capped::default();
        t.execute_template_fmt(&mut out, self.name, &self.data)?;
        Ok(out.0)
    }
}

/// Output buffer that refuses to grow past [`MAX_OUTPUT`].
#[derive(Default)]
struct Capped(String);

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.0.len() + s.len() > MAX_OUTPUT {
            return Err(std::fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}

/// Go's text for an execution error (writing fails only when the output cap is reached).
fn message(e: &GoError) -> String {
    match e {
        GoError::Write => format!("template output exceeds {MAX_OUTPUT} bytes"),
        GoError::RangeIterLimit => format!(
            "{} of {MAX_RANGE_ITERATIONS} range iterations",
            funcs::BUDGET_MESSAGE
        ),
        other => funcs::go_message(other),
    }
}

/// 1-based line and character column of a byte offset.
fn position(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = src
        .get(start..offset)
        .map_or(offset - start, |s| s.chars().count())
        + 1;
    (line, column)
}

/// Go's column in execution errors: the byte offset within the line.
fn go_column(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(offset, |i| offset - (i + 1))
}

/// The template data as gotmpl values: `.Labels`, `.Values` and `.Value`.
fn to_value(data: &TemplateData, kinds: &Kinds) -> Value {
    let values: BTreeMap<Arc<str>, Value> = data
        .values
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), kinds.value(&v.labels, v.value)))
        .collect();
    let mut root: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    root.insert(Arc::from("Labels"), kinds.labels(&data.labels));
    root.insert(Arc::from("Values"), Value::Map(Arc::new(values)));
    root.insert(Arc::from("Value"), Value::from(data.value.as_str()));
    let root = Value::Map(Arc::new(root));
    kinds.set_data(&root);
    root
}
