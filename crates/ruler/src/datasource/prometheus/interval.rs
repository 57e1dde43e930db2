//! Grafana's interval strings (its `gtime` package), shared by the Prometheus and SQL data
//! sources: parsing `15s`, `1m30s`, `1.5h`, `2d`, `>10s`, bare seconds; rounding a computed
//! interval to a "nice" one; and formatting intervals as Grafana and PromQL expect them.
//! Everything is in milliseconds.

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

/// Parses an interval as Grafana does for a query's min step, a data source's scrape interval
/// or a `$__timeGroup` argument: one `<` and one `>` are dropped, a bare number is seconds,
/// `<n>d`, `<n>w`, `<n>M` (30 days) and `<n>y` (365 days) are whole units, anything else is a
/// Go duration (`1h30m`, `1.5s`, `250ms`; `d`, `w` and `y` are accepted there too). `None` for
/// anything else, negative durations included; sub-millisecond parts are truncated.
pub(crate) fn parse(text: &str) -> Option<i64> {
    let text = text.replacen('<', "", 1).replacen('>', "", 1);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok()?.checked_mul(SECOND);
    }
    if let Some(n) = text.strip_suffix('M')
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return n.parse::<i64>().ok()?.checked_mul(30 * DAY);
    }
    go_duration(text)
}

/// A Go duration (`time.ParseDuration`), plus `d`, `w` and `y`.
fn go_duration(text: &str) -> Option<i64> {
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest == "0" {
        return Some(0);
    }
    let mut total_ns: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let ns = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86_400e9,
            "w" => 7.0 * 86_400e9,
            "y" => 365.0 * 86_400e9,
            _ => return None,
        };
        total_ns += value * ns;
        rest = tail;
    }
    let ms = (total_ns / 1e6).trunc();
    (ms.is_finite() && ms < i64::MAX as f64).then_some(ms as i64)
}

/// Grafana's `roundInterval`: the "nice" interval for a computed one (e.g. 73 s → 1 m).
pub(crate) fn round(ms: i64) -> i64 {
    const TABLE: &[(i64, i64)] = &[
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, SECOND),
        (3_500, 2 * SECOND),
        (7_500, 5 * SECOND),
        (12_500, 10 * SECOND),
        (17_500, 15 * SECOND),
        (25_000, 20 * SECOND),
        (45_000, 30 * SECOND),
        (90_000, MINUTE),
        (210_000, 2 * MINUTE),
        (450_000, 5 * MINUTE),
        (750_000, 10 * MINUTE),
        (1_050_000, 15 * MINUTE),
        (1_500_000, 20 * MINUTE),
        (2_700_000, 30 * MINUTE),
        (5_400_000, HOUR),
        (9_000_000, 2 * HOUR),
        (16_200_000, 3 * HOUR),
        (32_400_000, 6 * HOUR),
        (86_400_000, 12 * HOUR),
        (172_800_000, DAY),
        (604_800_000, DAY),
        (1_814_400_000, 7 * DAY),
    ];
    if let Some((_, nice)) = TABLE.iter().find(|(limit, _)| ms <= *limit) {
        return *nice;
    }
    if ms < 3_628_800_000 { 30 * DAY } else { YEAR }
}

/// Grafana's `FormatInterval` (what `$__interval` becomes): the largest whole unit, truncated
/// (`90s` → `1m`), `1ms` at least.
pub(crate) fn format(ms: i64) -> String {
    for (unit, suffix) in [
        (YEAR, "y"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
    ] {
        if ms >= unit {
            return format!("{}{suffix}", ms / unit);
        }
    }
    format!("{}ms", ms.max(1))
}

/// A duration as Go prints it (`1m0s`, `1h30m0s`, `16s`, `500ms`), which PromQL accepts; a
/// fractional second is written as milliseconds (`15s500ms`) where Go would print `15.5s`,
/// which PromQL rejects.
pub(crate) fn go_string(ms: i64) -> String {
    if ms <= 0 {
        return "0s".into();
    }
    if ms < SECOND {
        return format!("{ms}ms");
    }
    let (h, m, s, frac) = (
        ms / HOUR,
        ms % HOUR / MINUTE,
        ms % MINUTE / SECOND,
        ms % SECOND,
    );
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h{m}m"));
    } else if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{s}s"));
    if frac > 0 {
        out.push_str(&format!("{frac}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grafana_intervals() {
        assert_eq!(parse("15s"), Some(15_000));
        assert_eq!(parse(">10s"), Some(10_000));
        assert_eq!(parse("<1m>"), Some(60_000));
        assert_eq!(parse("30"), Some(30_000));
        assert_eq!(parse("1m30s"), Some(90_000));
        assert_eq!(parse("1.5h"), Some(5_400_000));
        assert_eq!(parse("250ms"), Some(250));
        assert_eq!(parse("2d"), Some(2 * DAY));
        assert_eq!(parse("1w"), Some(7 * DAY));
        assert_eq!(parse("1M"), Some(30 * DAY));
        assert_eq!(parse("1y"), Some(YEAR));
        assert_eq!(parse("0"), Some(0));
        for bad in ["", "abc", "1x", "-5s", "s", "1.2.3s", "$__interval"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rounds_like_grafana() {
        assert_eq!(round(0), 1);
        assert_eq!(round(13), 10);
        assert_eq!(round(327), 200);
        assert_eq!(round(1_000), SECOND);
        assert_eq!(round(73_000), MINUTE);
        assert_eq!(round(400_000), 5 * MINUTE);
        assert_eq!(round(3 * DAY), DAY);
        assert_eq!(round(20 * DAY), 7 * DAY);
        assert_eq!(round(41 * DAY), 30 * DAY);
        assert_eq!(round(50 * DAY), YEAR);
    }

    #[test]
    fn formats() {
        assert_eq!(format(0), "1ms");
        assert_eq!(format(500), "500ms");
        assert_eq!(format(1_000), "1s");
        assert_eq!(format(90_000), "1m");
        assert_eq!(format(2 * DAY), "2d");
        assert_eq!(go_string(60_000), "1m0s");
        assert_eq!(go_string(3_600_000), "1h0m0s");
        assert_eq!(go_string(16_000), "16s");
        assert_eq!(go_string(500), "500ms");
        assert_eq!(go_string(15_500), "15s500ms");
        assert_eq!(go_string(5_430_000), "1h30m30s");
    }
}
