//! The step of a range query and the built-in variables of an expression, computed as Grafana's
//! Prometheus data source does (`calculatePrometheusInterval` and `interpolateVariables`).

use super::interval;
use crate::datasource::QueryError;

/// Most points per series Prometheus answers (its "exceeded maximum resolution" limit) and the
/// resolution Grafana never exceeds.
pub(crate) const MAX_POINTS: i64 = 11_000;

/// Grafana's default resolution when a query sets no `maxDataPoints`.
const DEFAULT_RESOLUTION: i64 = 1_500;

/// Grafana's minimum interval when neither the query nor the data source sets one.
const DEFAULT_MIN_INTERVAL: i64 = 15_000;

/// Default scrape interval for `$__rate_interval`.
const DEFAULT_SCRAPE: &str = "15s";

/// What the step depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepInput<'a> {
    /// The query's `interval` (its min step), when set.
    pub model_interval: Option<&'a str>,
    /// The query's `intervalMs`.
    pub interval_ms: i64,
    /// The query's `intervalFactor` (deprecated; 0 or 1 means none).
    pub interval_factor: i64,
    /// The query's `maxDataPoints` (0 for Grafana's default).
    pub max_data_points: i64,
    /// The data source's `jsonData.timeInterval` (scrape interval), when set.
    pub scrape_interval: Option<&'a str>,
    /// Length of the time range.
    pub range_ms: i64,
}

/// Grafana's interval variables; an `interval` set to one of them means "computed".
const INTERVAL_VARIABLES: &[&str] = &[
    "$__interval",
    "$__interval_ms",
    "$__rate_interval",
    "$__rate_interval_ms",
    "${__interval}",
    "${__interval_ms}",
    "${__rate_interval}",
    "${__rate_interval_ms}",
];

fn is_rate_variable(s: &str) -> bool {
    s == "$__rate_interval" || s == "${__rate_interval}"
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Grafana's `GetIntervalFrom`: the query's min step, else `intervalMs`, else the data
/// source's scrape interval, else 15 s.
fn min_interval(input: &StepInput<'_>) -> Result<i64, QueryError> {
    let query =
        non_empty(input.model_interval).filter(|i| *i != "0s" && !INTERVAL_VARIABLES.contains(i));
    if let Some(q) = query {
        return interval::parse(q).ok_or_else(|| {
            QueryError::invalid_field("interval", format!("invalid interval {q:?}"))
        });
    }
    if input.interval_ms > 0 {
        return Ok(input.interval_ms);
    }
    match non_empty(input.scrape_interval) {
        Some(s) => interval::parse(s).ok_or_else(|| {
            QueryError::InvalidSettings(format!("invalid jsonData.timeInterval {s:?}"))
        }),
        None => Ok(DEFAULT_MIN_INTERVAL),
    }
}

/// Grafana's `calculateRateInterval`: `max(interval + scrape, 4 × scrape)`; 0 if the scrape
/// interval does not parse.
fn rate_interval(interval_ms: i64, scrape: Option<&str>) -> i64 {
    match interval::parse(non_empty(scrape).unwrap_or(DEFAULT_SCRAPE)) {
        Some(s) => (interval_ms + s).max(4 * s),
        None => 0,
    }
}

/// The step of a range query in milliseconds: the larger of the minimum interval (or the
/// range spread over `maxDataPoints`, rounded) and the range spread over 11,000 points
/// (rounded), times `intervalFactor`; `$__rate_interval` as min step gives the rate interval.
/// Unlike Grafana, the step is then raised if needed so Prometheus never has to return more
/// than 11,000 points.
pub(crate) fn step(input: &StepInput<'_>) -> Result<i64, QueryError> {
    let min = min_interval(input)?;
    let range = input.range_ms.max(0);
    let resolution = if input.max_data_points > 0 {
        input.max_data_points
    } else {
        DEFAULT_RESOLUTION
    };
    let calculated = match range / resolution {
        c if c < min => min,
        c => interval::round(c),
    };
    let safe = interval::round(range / MAX_POINTS);
    let adjusted = calculated.max(safe);
    let step = if non_empty(input.model_interval).is_some_and(is_rate_variable) {
        rate_interval(adjusted, input.scrape_interval)
    } else {
        adjusted.saturating_mul(input.interval_factor.max(1))
    }
    .max(1);
    // Aligning start and end down to the step can add one step to the span.
    if range / step >= MAX_POINTS {
        return Ok((range + MAX_POINTS - 2) / (MAX_POINTS - 1));
    }
    Ok(step)
}

/// Replaces Grafana's built-in variables in `expr` (`$__interval`, `$__interval_ms`,
/// `$__range`, `$__range_s`, `$__range_ms`, `$__rate_interval`, `$__rate_interval_ms`, and
/// their `${…}` forms) as Grafana does, `step` being the computed step.
pub(crate) fn interpolate(expr: &str, input: &StepInput<'_>, step: i64) -> String {
    if !expr.contains('$') {
        return expr.to_owned();
    }
    let range_ms = input.range_ms;
    let range_s = (range_ms as f64 / 1000.0).round() as i64;
    let requested = non_empty(input.model_interval).unwrap_or("");
    let rate = if is_rate_variable(requested) {
        step
    } else {
        let min_step = match requested {
            "$__interval" | "${__interval}" => interval::go_string(step),
            "" => non_empty(input.scrape_interval).unwrap_or("").to_owned(),
            other => other.to_owned(),
        };
        rate_interval(input.interval_ms, Some(&min_step))
    };
    let replacements = [
        ("interval_ms", step.to_string()),
        ("interval", interval::format(step)),
        ("range_ms", range_ms.to_string()),
        ("range_s", range_s.to_string()),
        ("range", format!("{range_s}s")),
        ("rate_interval_ms", rate.to_string()),
        ("rate_interval", interval::go_string(rate)),
    ];
    let mut out = expr.to_owned();
    // Grafana's order: `$__interval_ms` before `$__interval` and so on, so the longer names
    // are not cut by the shorter ones, except `$__rate_interval_ms`, which `$__interval_ms`
    // cannot match as it is preceded by `rate`.
    for (name, value) in &replacements {
        out = out.replace(&format!("$__{name}"), value);
    }
    for (name, value) in &replacements {
        out = out.replace(&format!("${{__{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(range_ms: i64) -> StepInput<'static> {
        StepInput {
            model_interval: None,
            interval_ms: 1000,
            interval_factor: 0,
            max_data_points: 43_200,
            scrape_interval: None,
            range_ms,
        }
    }

    #[test]
    fn alert_defaults_step_by_interval_ms() {
        // 10 minutes at intervalMs 1000 and 43200 points: 1 s, as Grafana.
        assert_eq!(step(&input(600_000)).unwrap(), 1_000);
        // One day: 86400000/43200 = 2 s (rounded 2 s) vs 86400000/11000 = 7.8 s → 10 s.
        assert_eq!(step(&input(86_400_000)).unwrap(), 10_000);
    }

    #[test]
    fn min_step_and_factor() {
        let mut i = input(600_000);
        i.model_interval = Some("15s");
        assert_eq!(step(&i).unwrap(), 15_000);
        i.interval_factor = 2;
        assert_eq!(step(&i).unwrap(), 30_000);
        i.model_interval = Some("$__interval");
        i.interval_factor = 1;
        assert_eq!(step(&i).unwrap(), 1_000);
        i.model_interval = Some("bogus");
        assert!(matches!(step(&i), Err(QueryError::InvalidField { .. })));
    }

    #[test]
    fn scrape_interval_applies_only_without_interval_ms() {
        let mut i = input(600_000);
        i.scrape_interval = Some("30s");
        assert_eq!(step(&i).unwrap(), 1_000);
        i.interval_ms = 0;
        assert_eq!(step(&i).unwrap(), 30_000);
        i.scrape_interval = None;
        assert_eq!(step(&i).unwrap(), 15_000);
    }

    #[test]
    fn rate_interval_as_min_step() {
        let mut i = input(600_000);
        i.model_interval = Some("$__rate_interval");
        // max(1s + 15s, 60s)
        assert_eq!(step(&i).unwrap(), 60_000);
    }

    #[test]
    fn never_more_than_max_points() {
        let mut i = input(3_600_000);
        i.interval_ms = 100;
        i.max_data_points = 1_000_000;
        let s = step(&i).unwrap();
        assert!(3_600_000 / s < MAX_POINTS, "{s}");
    }

    #[test]
    fn interpolates_variables() {
        let i = input(600_000);
        let expr = "rate(x[$__rate_interval]) + $__interval_ms + ${__interval} + $__range + $__range_s + $__range_ms + $__rate_interval_ms";
        assert_eq!(
            interpolate(expr, &i, 1_000),
            "rate(x[1m0s]) + 1000 + 1s + 600s + 600 + 600000 + 60000"
        );
        let mut i = input(600_000);
        i.scrape_interval = Some("5s");
        assert_eq!(interpolate("[$__rate_interval]", &i, 1_000), "[20s]");
        assert_eq!(interpolate("up", &i, 1_000), "up");
    }
}
