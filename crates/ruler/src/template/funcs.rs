//! The functions rule templates may call: Prometheus' template functions as Grafana configures
//! them (`humanize`, `reReplaceAll`, `externalURL`, ...), Grafana's own (`graphLink`,
//! `filterLabels`, ...), and three internal helpers the expander inserts into the parse tree
//! (Go-style printing, print-argument conversion and an execution budget).
//!
//! gotmpl values carry no Go types, so the [`Kinds`] registry remembers which maps stand for
//! Grafana's `Labels` and `Value` types (by allocation) to print them the way their Go
//! `String()` methods do.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use gotmpl::{FuncMap, TemplateError as GoError, Value, ValueFunc};
use regex::Regex;

use super::gofmt;

/// Name of the internal function appended to every printing action.
pub(crate) const PRINT: &str = "__wk_print";
/// Name of the internal function wrapped around `print`/`printf`/`println` arguments.
pub(crate) const PRINT_ARG: &str = "__wk_arg";
/// Name of the internal function counting executed blocks.
pub(crate) const TICK: &str = "__wk_tick";

/// Most template bodies (range iterations and template calls) one expansion may execute.
pub(crate) const MAX_TICKS: u64 = 100_000;

/// Start of the error when [`MAX_TICKS`] is reached.
pub(crate) const BUDGET_MESSAGE: &str = "exceeded the execution budget";

/// Go's text/template builtins (gotmpl provides them).
pub(crate) const BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// The Go types of the maps one expansion works with, and its execution budget.
#[derive(Default)]
pub(crate) struct Kinds {
    /// Maps of Go type `template.Labels`, kept alive so their addresses stay unique.
    labels: Mutex<(HashSet<usize>, Vec<Value>)>,
    /// Maps of Go type `template.Value` (they live in the template data).
    values: Mutex<HashSet<usize>>,
    /// The template data (Go's `template.Data` struct).
    data: Mutex<Option<usize>>,
    /// Executed bodies in the current run.
    ticks: AtomicU64,
}

fn map_addr(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => Some(Arc::as_ptr(m) as *const () as usize),
        _ => None,
    }
}

impl Kinds {
    /// Wraps `map` as a value of Go type `template.Labels`.
    pub(crate) fn labels(&self, map: &BTreeMap<String, String>) -> Value {
        let m: BTreeMap<Arc<str>, Value> = map
            .iter()
            .map(|(k, v)| (Arc::from(k.as_str()), Value::from(v.as_str())))
            .collect();
        self.register_labels(m)
    }

    fn register_labels(&self, map: BTreeMap<Arc<str>, Value>) -> Value {
        let value = Value::Map(Arc::new(map));
        if let Some(addr) = map_addr(&value) {
            let mut guard = self.labels.lock().unwrap_or_else(PoisonError::into_inner);
            guard.0.insert(addr);
            guard.1.push(value.clone());
        }
        value
    }

    /// Wraps labels and a number as a value of Go type `template.Value`.
    pub(crate) fn value(&self, labels: &BTreeMap<String, String>, value: Option<f64>) -> Value {
        let mut m = BTreeMap::new();
        m.insert(Arc::from("Labels"), self.labels(labels));
        m.insert(Arc::from("Value"), Value::Float(value.unwrap_or(f64::NAN)));
        let v = Value::Map(Arc::new(m));
        if let Some(addr) = map_addr(&v) {
            self.values
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(addr);
        }
        v
    }

    /// Marks `v` as the template data, which prints as a Go struct.
    pub(crate) fn set_data(&self, v: &Value) {
        *self.data.lock().unwrap_or_else(PoisonError::into_inner) = map_addr(v);
    }

    fn is_data(&self, v: &Value) -> bool {
        map_addr(v)
            .is_some_and(|a| *self.data.lock().unwrap_or_else(PoisonError::into_inner) == Some(a))
    }

    fn is_labels(&self, v: &Value) -> bool {
        map_addr(v).is_some_and(|a| {
            self.labels
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .0
                .contains(&a)
        })
    }

    fn is_value(&self, v: &Value) -> bool {
        map_addr(v).is_some_and(|a| {
            self.values
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&a)
        })
    }

    /// Resets the execution budget before a run.
    pub(crate) fn reset_ticks(&self) {
        self.ticks.store(0, Ordering::Relaxed);
    }

    /// Go's name for the type of `v`, as its error messages print it.
    fn go_type(&self, v: &Value) -> &'static str {
        match v {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) if self.is_labels(v) => "template.Labels",
            Value::Map(_) if self.is_value(v) => "template.Value",
            Value::Map(_) if self.is_data(v) => "template.Data",
            Value::Map(_) => "map[string]interface {}",
            // Functions (and html-safe strings, should gotmpl's `html` feature be enabled).
            other => other.type_name(),
        }
    }

    /// Formats `v` the way Go's `fmt.Sprint` does for the Go value it stands for.
    pub(crate) fn go_print(&self, v: &Value) -> String {
        match v {
            Value::Nil => "<nil>".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Uint(n) => n.to_string(),
            Value::Float(f) => gofmt::float_v(*f),
            Value::String(s) => s.to_string(),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.go_print(i)).collect();
                format!("[{}]", parts.join(" "))
            }
            Value::Map(m) if self.is_labels(v) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}={}", self.go_print(v)))
                    .collect();
                parts.join(", ")
            }
            Value::Map(m) if self.is_value(v) => match m.get("Value") {
                Some(Value::Float(f)) => gofmt::float_f(*f),
                Some(other) => self.go_print(other),
                None => "0".to_string(),
            },
            Value::Map(m) if self.is_data(v) => {
                // Struct fields in declaration order: {Labels Values Value}.
                let parts: Vec<String> = ["Labels", "Values", "Value"]
                    .iter()
                    .map(|f| m.get(*f).map_or_else(String::new, |x| self.go_print(x)))
                    .collect();
                format!("{{{}}}", parts.join(" "))
            }
            Value::Map(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", self.go_print(v)))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
            // Functions (and html-safe strings, should gotmpl's `html` feature be enabled).
            other => other.to_string(),
        }
    }
}

fn err(msg: impl Into<String>) -> GoError {
    GoError::Exec(msg.into())
}

fn arity(name: &str, args: &[Value], want: usize) -> Result<(), GoError> {
    if args.len() == want {
        Ok(())
    } else {
        Err(err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        )))
    }
}

impl Kinds {
    fn string_arg<'a>(&self, v: &'a Value) -> Result<&'a str, GoError> {
        match v {
            Value::String(s) => Ok(s),
            Value::Nil => Err(err("invalid value; expected string")),
            other => Err(err(format!(
                "wrong type for value; expected string; got {}",
                self.go_type(other)
            ))),
        }
    }

    /// Prometheus' `convertToFloat`, wrapped the way text/template reports a function error.
    fn float_arg(&self, name: &str, v: &Value) -> Result<f64, GoError> {
        let r = match v {
            Value::Float(f) => Ok(*f),
            Value::Int(n) => Ok(*n as f64),
            Value::Uint(n) => Ok(*n as f64),
            Value::String(s) => gofmt::parse_float(s),
            other => Err(format!("can't convert {} to float", self.go_type(other))),
        };
        r.map_err(|e| err(format!("error calling {name}: {e}")))
    }

    fn labels_arg<'a>(&self, v: &'a Value) -> Result<&'a BTreeMap<Arc<str>, Value>, GoError> {
        match v {
            Value::Map(m) if m.values().all(|x| matches!(x, Value::String(_))) => Ok(m),
            Value::Nil => Err(err("invalid value; expected template.Labels")),
            other => Err(err(format!(
                "wrong type for value; expected template.Labels; got {}",
                self.go_type(other)
            ))),
        }
    }

    /// A query sample (`*template.sample`): a map with `Labels` and `Value`.
    fn sample_arg<'a>(
        &self,
        name: &str,
        v: &'a Value,
    ) -> Result<&'a BTreeMap<Arc<str>, Value>, GoError> {
        match v {
            Value::Map(m) if m.contains_key("Labels") || m.contains_key("Value") => Ok(m),
            Value::Nil => Err(err(format!(
                "error calling {name}: runtime error: invalid memory address or nil pointer dereference"
            ))),
            other => Err(err(format!(
                "wrong type for value; expected *template.sample; got {}",
                self.go_type(other)
            ))),
        }
    }
}

fn sample_label(sample: &BTreeMap<Arc<str>, Value>, label: &str) -> String {
    match sample.get("Labels") {
        Some(Value::Map(l)) => match l.get(label) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// Compiles `pattern` as Go's `regexp.MustCompile` would, reporting failures the way
/// text/template reports a panicking function.
fn must_compile(name: &str, pattern: &str) -> Result<Regex, GoError> {
    compile(pattern).map_err(|e| {
        err(format!(
            "error calling {name}: regexp: Compile({}): {e}",
            gofmt::backquote_or_quote(pattern)
        ))
    })
}

fn compile(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let text = e.to_string();
            let detail = text
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.lines().next().unwrap_or(""))
                .to_string();
            format!(
                "error parsing regexp: {detail}: {}",
                gofmt::backquote_or_quote(pattern)
            )
        })
}

/// Prometheus' `humanize`: SI prefixes, four significant digits.
pub(crate) fn humanize(mut v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return gofmt::float_g(v, 4);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", gofmt::float_g(v, 4))
}

/// Prometheus' `humanize1024`: binary prefixes, four significant digits.
pub(crate) fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return gofmt::float_g(v, 4);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", gofmt::float_g(v, 4))
}

/// Prometheus' `humanizeDuration` for a number of seconds.
pub(crate) fn humanize_duration(mut v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return gofmt::float_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", gofmt::float_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let mut sign = "";
        if v < 0.0 {
            sign = "-";
            v = -v;
        }
        let d = v as i64;
        let (seconds, minutes, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", gofmt::float_g(v, 4));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", gofmt::float_g(v, 4))
}

/// Prometheus' float-seconds to UTC time conversion (millisecond precision), as Go prints it.
fn float_to_time(v: f64) -> Result<String, String> {
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            gofmt::float_v(v)
        ));
    }
    let millis = (ns as i64) / 1_000_000;
    gofmt::utc_time_string(millis).ok_or_else(|| "time out of range".to_string())
}

/// Prometheus' `model.ParseDuration`, in seconds.
fn parse_duration(s: &str) -> Result<f64, String> {
    if s == "0" {
        return Ok(0.0);
    }
    if s.is_empty() {
        return Err("empty duration string".to_string());
    }
    let invalid = || format!("not a valid duration string: {}", gofmt::quote(s));
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    let mut rest = s;
    let mut next_unit = 0;
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (num, tail) = rest.split_at(digits);
        // Longest unit first so "ms" is not read as "m".
        let unit = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (u, _))| tail.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len());
        let Some((idx, (u, ms))) = unit else {
            return Err(invalid());
        };
        let n: u64 = num
            .parse()
            .map_err(|_| "duration out of range".to_string())?;
        total_ms = n
            .checked_mul(*ms)
            .and_then(|x| total_ms.checked_add(x))
            .filter(|x| *x <= i64::MAX as u64 / 1_000_000)
            .ok_or_else(|| "duration out of range".to_string())?;
        next_unit = idx + 1;
        rest = &tail[u.len()..];
    }
    Ok(total_ms as f64 / 1000.0)
}

/// Go's `net.SplitHostPort`, returning `None` where Go returns an error.
fn split_host_port(hp: &str) -> Option<(&str, &str)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let port = rest[end + 1..].strip_prefix(':')?;
        if port.contains(':') || port.contains('[') || port.contains(']') {
            return None;
        }
        return Some((host, port));
    }
    let idx = hp.rfind(':')?;
    let (host, port) = (&hp[..idx], &hp[idx + 1..]);
    if host.contains(':') || host.contains('[') || host.contains(']') || port.contains(']') {
        return None;
    }
    Some((host, port))
}

/// Prometheus' `title` (`cases.Title` without lowering): the first letter of each word upper.
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let word_start = prev.is_none_or(|p| !(p.is_alphanumeric() || p == '_' || p == '\''));
        if word_start && c.is_alphabetic() {
            out.push_str(&simple_upper(c));
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// Go's simple (one rune to one rune) upper-case mapping.
fn simple_upper(c: char) -> String {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u.to_string(),
        _ => c.to_string(),
    }
}

fn simple_lower(c: char) -> String {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l.to_string(),
        _ => c.to_string(),
    }
}

/// Grafana's `graphLink`/`tableLink`: an Explore link for `{"expr": ..., "datasource": ...}`.
fn explore_link(data: &str, instant: bool) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(data) else {
        return String::new();
    };
    let mut fields = [String::new(), String::new()];
    match &json {
        serde_json::Value::Null => {}
        serde_json::Value::Object(obj) => {
            for (i, name) in ["datasource", "expr"].iter().enumerate() {
                // Go's encoding/json prefers an exact key, else a case-insensitive one.
                let found = obj
                    .get(*name)
                    .or_else(|| {
                        obj.iter()
                            .find(|(k, _)| k.to_lowercase() == *name)
                            .map(|(_, v)| v)
                    })
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                match found {
                    serde_json::Value::String(s) => fields[i] = s,
                    serde_json::Value::Null => {}
                    _ => return String::new(),
                }
            }
        }
        _ => return String::new(),
    }
    let ds = gofmt::quote(&gofmt::query_escape(&fields[0]));
    let expr = gofmt::quote(&gofmt::query_escape(&fields[1]));
    format!(
        r#"/explore?left={{"datasource":{ds},"queries":[{{"datasource":{ds},"expr":{expr},"instant":{instant},"range":{},"refId":"A"}}],"range":{{"from":"now-1h","to":"now"}}}}"#,
        !instant
    )
}

/// The path of a URL, percent-decoded (Go's `url.URL.Path`).
fn url_path(url: &str) -> String {
    let without_fragment = url.split(['?', '#']).next().unwrap_or("");
    let path = match without_fragment.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => without_fragment,
    };
    gofmt::percent_decode(path)
}

/// Registers `f` under `name`.
fn add(
    m: &mut FuncMap,
    name: &str,
    f: impl Fn(&[Value]) -> Result<Value, GoError> + Send + Sync + 'static,
) {
    let f: ValueFunc = Arc::new(f);
    m.insert(name.to_string(), f);
}

/// Registers a one-argument numeric function returning a string.
fn add_numeric(m: &mut FuncMap, k: &Arc<Kinds>, name: &'static str, f: fn(f64) -> String) {
    let k = Arc::clone(k);
    add(m, name, move |a| {
        arity(name, a, 1)?;
        Ok(Value::from(f(k.float_arg(name, &a[0])?)))
    });
}

/// Registers a one-string-argument function returning a string.
fn add_string(m: &mut FuncMap, k: &Arc<Kinds>, name: &'static str, f: fn(&str) -> String) {
    let k = Arc::clone(k);
    add(m, name, move |a| {
        arity(name, a, 1)?;
        Ok(Value::from(f(k.string_arg(&a[0])?)))
    });
}

/// Registers a label filter: `(Labels, string) -> Labels` keeping entries where `keep` holds.
fn add_label_filter(
    m: &mut FuncMap,
    k: &Arc<Kinds>,
    name: &'static str,
    regex: bool,
    keep_matching: bool,
) {
    let k = Arc::clone(k);
    add(m, name, move |a| {
        arity(name, a, 2)?;
        let labels = k.labels_arg(&a[0])?;
        let pattern = k.string_arg(&a[1])?;
        let re = if regex {
            Some(must_compile(name, pattern)?)
        } else {
            None
        };
        let kept: BTreeMap<Arc<str>, Value> = labels
            .iter()
            .filter(|(key, _)| {
                let hit = match &re {
                    Some(re) => re.is_match(key),
                    None => key.as_ref() == pattern,
                };
                hit == keep_matching
            })
            .map(|(key, v)| (Arc::clone(key), v.clone()))
            .collect();
        Ok(k.register_labels(kept))
    });
}

/// The function map for one expansion: Prometheus' and Grafana's rule template functions plus
/// the internal helpers.
pub(crate) fn func_map(k: &Arc<Kinds>, external_url: &str) -> FuncMap {
    let mut m = FuncMap::new();

    add_numeric(&mut m, k, "humanize", humanize);
    add_numeric(&mut m, k, "humanize1024", humanize1024);
    add_numeric(&mut m, k, "humanizeDuration", humanize_duration);
    add_numeric(&mut m, k, "humanizePercentage", |v| {
        format!("{}%", gofmt::float_g(v * 100.0, 4))
    });
    {
        let k = Arc::clone(k);
        add(&mut m, "humanizeTimestamp", move |a| {
            arity("humanizeTimestamp", a, 1)?;
            let v = k.float_arg("humanizeTimestamp", &a[0])?;
            if v.is_nan() || v.is_infinite() {
                return Ok(Value::from(gofmt::float_g(v, 4)));
            }
            float_to_time(v)
                .map(Value::from)
                .map_err(|e| err(format!("error calling humanizeTimestamp: {e}")))
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "toTime", move |a| {
            arity("toTime", a, 1)?;
            let v = k.float_arg("toTime", &a[0])?;
            if v.is_nan() || v.is_infinite() {
                return Err(err("error calling toTime: value is NaN or Inf"));
            }
            float_to_time(v)
                .map(Value::from)
                .map_err(|e| err(format!("error calling toTime: {e}")))
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "parseDuration", move |a| {
            arity("parseDuration", a, 1)?;
            parse_duration(k.string_arg(&a[0])?)
                .map(Value::Float)
                .map_err(|e| err(format!("error calling parseDuration: {e}")))
        });
    }

    add_string(&mut m, k, "title", title);
    add_string(&mut m, k, "toUpper", |s| {
        s.chars().map(simple_upper).collect()
    });
    add_string(&mut m, k, "toLower", |s| {
        s.chars().map(simple_lower).collect()
    });
    add_string(&mut m, k, "safeHtml", str::to_string);
    add_string(&mut m, k, "stripPort", |hp| {
        split_host_port(hp).map_or(hp, |(h, _)| h).to_string()
    });
    add_string(&mut m, k, "stripDomain", |hp| {
        let (host, port) = split_host_port(hp).unwrap_or((hp, ""));
        if host.parse::<std::net::IpAddr>().is_ok() {
            return hp.to_string();
        }
        let host = host.split('.').next().unwrap_or("");
        if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    });
    add_string(&mut m, k, "graphLink", |d| explore_link(d, false));
    add_string(&mut m, k, "tableLink", |d| explore_link(d, true));

    {
        let k = Arc::clone(k);
        add(&mut m, "match", move |a| {
            arity("match", a, 2)?;
            let pattern = k.string_arg(&a[0])?;
            let text = k.string_arg(&a[1])?;
            let re = compile(pattern).map_err(|e| err(format!("error calling match: {e}")))?;
            Ok(Value::Bool(re.is_match(text)))
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "reReplaceAll", move |a| {
            arity("reReplaceAll", a, 3)?;
            let pattern = k.string_arg(&a[0])?;
            let repl = k.string_arg(&a[1])?;
            let text = k.string_arg(&a[2])?;
            let re = must_compile("reReplaceAll", pattern)?;
            Ok(Value::from(re.replace_all(text, repl).into_owned()))
        });
    }
    add(&mut m, "args", |a| {
        let map: BTreeMap<Arc<str>, Value> = a
            .iter()
            .enumerate()
            .map(|(i, v)| (Arc::from(format!("arg{i}").as_str()), v.clone()))
            .collect();
        Ok(Value::Map(Arc::new(map)))
    });
    {
        let url = external_url.to_string();
        add(&mut m, "externalURL", move |a| {
            arity("externalURL", a, 0)?;
            Ok(Value::from(url.as_str()))
        });
        let path = url_path(external_url);
        add(&mut m, "pathPrefix", move |a| {
            arity("pathPrefix", a, 0)?;
            Ok(Value::from(path.as_str()))
        });
    }

    // Query results: Grafana runs no queries from templates, so these see only samples a
    // template builds itself (`label`/`value` also accept `$values.X`).
    add(&mut m, "query", |a| {
        arity("query", a, 1)?;
        Err(err(
            "error calling query: query is not supported in Grafana-managed alert rule templates",
        ))
    });
    {
        let k = Arc::clone(k);
        add(&mut m, "first", move |a| {
            arity("first", a, 1)?;
            match &a[0] {
                Value::List(l) if !l.is_empty() => Ok(l[0].clone()),
                Value::List(_) | Value::Nil => Err(err(
                    "error calling first: first() called on vector with no elements",
                )),
                other => Err(err(format!(
                    "wrong type for value; expected template.queryResult; got {}",
                    k.go_type(other)
                ))),
            }
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "label", move |a| {
            arity("label", a, 2)?;
            let label = k.string_arg(&a[0])?;
            let sample = k.sample_arg("label", &a[1])?;
            Ok(Value::from(sample_label(sample, label)))
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "value", move |a| {
            arity("value", a, 1)?;
            let sample = k.sample_arg("value", &a[0])?;
            Ok(sample.get("Value").cloned().unwrap_or(Value::Float(0.0)))
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "strvalue", move |a| {
            arity("strvalue", a, 1)?;
            // Grafana's strvalue gives "" for its own values ($values.X).
            if k.is_value(&a[0]) {
                return Ok(Value::from(""));
            }
            let sample = k.sample_arg("strvalue", &a[0])?;
            Ok(Value::from(sample_label(sample, "__value__")))
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, "sortByLabel", move |a| {
            arity("sortByLabel", a, 2)?;
            let label = k.string_arg(&a[0])?;
            match &a[1] {
                Value::Nil => Ok(Value::List(Arc::from(Vec::new()))),
                Value::List(l) => {
                    let mut items: Vec<Value> = l.to_vec();
                    items.sort_by_cached_key(|v| match v {
                        Value::Map(s) => sample_label(s, label),
                        _ => String::new(),
                    });
                    Ok(Value::List(Arc::from(items)))
                }
                other => Err(err(format!(
                    "wrong type for value; expected template.queryResult; got {}",
                    k.go_type(other)
                ))),
            }
        });
    }

    add_label_filter(&mut m, k, "filterLabels", false, true);
    add_label_filter(&mut m, k, "filterLabelsRe", true, true);
    add_label_filter(&mut m, k, "removeLabels", false, false);
    add_label_filter(&mut m, k, "removeLabelslRe", true, false);

    // `index` on Go's map[string]string yields "" for a missing key.
    {
        let k = Arc::clone(k);
        add(&mut m, "index", move |a| {
            let Some((first, keys)) = a.split_first() else {
                return Err(err("wrong number of args for index: want at least 1 got 0"));
            };
            let mut item = first.clone();
            for key in keys {
                item = match (&item, key) {
                    (Value::Map(m), Value::String(s)) if k.is_labels(&item) => m
                        .get(s.as_ref())
                        .cloned()
                        .unwrap_or_else(|| Value::from("")),
                    (Value::Map(_), _) if k.is_value(&item) => {
                        return Err(err(
                            "error calling index: can't index item of type template.Value",
                        ));
                    }
                    _ => item
                        .index(key)
                        .map_err(|e| err(format!("error calling index: {}", go_message(&e))))?,
                };
            }
            Ok(item)
        });
    }

    // Internal helpers the expander inserts into the parse tree.
    {
        let k = Arc::clone(k);
        add(&mut m, PRINT, move |a| match a.first() {
            None | Some(Value::Nil) => Ok(Value::Nil),
            Some(Value::String(s)) => Ok(Value::String(Arc::clone(s))),
            Some(v) => Ok(Value::from(k.go_print(v))),
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, PRINT_ARG, move |a| match a.first() {
            Some(v @ (Value::Map(_) | Value::List(_))) => Ok(Value::from(k.go_print(v))),
            Some(v) => Ok(v.clone()),
            None => Ok(Value::Nil),
        });
    }
    {
        let k = Arc::clone(k);
        add(&mut m, TICK, move |_| {
            if k.ticks.fetch_add(1, Ordering::Relaxed) >= MAX_TICKS {
                return Err(err(format!(
                    "{BUDGET_MESSAGE} of {MAX_TICKS} range iterations and template calls"
                )));
            }
            Ok(Value::from(""))
        });
    }
    m
}

/// The text of a gotmpl error as Go's text/template would phrase it (without location).
pub(crate) fn go_message(e: &GoError) -> String {
    match e {
        GoError::Exec(s) => s.clone(),
        GoError::UndefinedTemplate(n) => format!("template {} not defined", gofmt::quote(n)),
        GoError::UndefinedFunction(n) => format!("function {} not defined", gofmt::quote(n)),
        GoError::UndefinedVariable(v) => format!("undefined variable: {v}"),
        GoError::RecursionLimit => "exceeded maximum template depth".to_string(),
        GoError::MissingKey { key } => format!("map has no entry for key {}", gofmt::quote(key)),
        GoError::ArgCount {
            name,
            expected,
            got,
        } => format!("wrong number of args for {name}: want {expected} got {got}"),
        other => other.to_string(),
    }
}
