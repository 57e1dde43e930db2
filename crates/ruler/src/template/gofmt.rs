//! Go formatting and parsing rules the templates must reproduce byte for byte: `fmt`'s `%v`
//! and `%.4g` for floats, `strconv.FormatFloat(v, 'f', -1, 64)`, `strconv.ParseFloat`,
//! `strconv.Quote`, `url.QueryEscape` and `time.Time.String()` for UTC times.

use std::fmt::Write as _;

/// Go's `fmt.Sprint(f)` (`%v`) for a float64: the shortest representation, in exponent form
/// when the decimal exponent is below -4 or at least 6.
pub(crate) fn float_v(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let (neg, digits, exp) = shortest_digits(f);
    layout_g(neg, &digits, exp, 6)
}

/// Go's `fmt.Sprintf("%.<prec>g", f)`: `prec` significant digits, trailing zeros removed.
pub(crate) fn float_g(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let prec = prec.max(1);
    let raw = format!("{:.*e}", prec - 1, f.abs());
    let (mantissa, exp) = split_exp(&raw);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    layout_g(f < 0.0, digits.trim_end_matches('0'), exp, prec as i32)
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest representation, never in exponent
/// form (`Inf` keeps its sign: `+Inf`).
pub(crate) fn float_f(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    // Rust's `Display` for f64 is the shortest round-trip digits without an exponent.
    format!("{f}")
}

/// `NaN`, `+Inf` and `-Inf` as Go prints them.
fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Sign, significant digits (no trailing zeros) and decimal exponent of the shortest
/// round-trip representation of a finite non-zero `f`.
fn shortest_digits(f: f64) -> (bool, String, i32) {
    let raw = format!("{:e}", f.abs());
    let (mantissa, exp) = split_exp(&raw);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (f < 0.0, digits.trim_end_matches('0').to_string(), exp)
}

/// Splits Rust's `1.23e4` into `("1.23", 4)`.
fn split_exp(raw: &str) -> (&str, i32) {
    match raw.split_once('e') {
        Some((m, e)) => (m, e.parse().unwrap_or(0)),
        None => (raw, 0),
    }
}

/// Go's `%g` layout: `digits` are the significant digits d1 d2 ... with the value
/// d1.d2... × 10^exp; exponent form when `exp < -4 || exp >= eprec`.
fn layout_g(neg: bool, digits: &str, exp: i32, eprec: i32) -> String {
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
        return out;
    }
    let nd = digits.len() as i32;
    let dp = exp + 1;
    if dp <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-dp) as usize));
        out.push_str(digits);
    } else if dp >= nd {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (dp - nd) as usize));
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Go's `strconv.ParseFloat(s, 64)`, with its error text
/// (`strconv.ParseFloat: parsing "x": invalid syntax`). Hexadecimal floats are not accepted.
pub(crate) fn parse_float(s: &str) -> Result<f64, String> {
    let invalid = || format!("strconv.ParseFloat: parsing {}: invalid syntax", quote(s));
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = unsigned.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Ok(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        // Go accepts no sign on NaN.
        return if unsigned.len() == s.len() {
            Ok(f64::NAN)
        } else {
            Err(invalid())
        };
    }
    // Only the decimal syntax: digits, one point, an optional exponent.
    let bytes = unsigned.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return Err(invalid());
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(invalid());
        }
    }
    if i != bytes.len() {
        return Err(invalid());
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_infinite() => Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            quote(s)
        )),
        Ok(f) => Ok(f),
        Err(_) => Err(invalid()),
    }
}

/// Go's `strconv.Quote`: a double-quoted string with Go escapes.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || c == '\u{feff}' => {
                if (c as u32) > 0xffff {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                } else {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `regexp` helper `quote`: backquoted when possible, else [`quote`].
pub(crate) fn backquote_or_quote(s: &str) -> String {
    let can_backquote = s
        .chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !c.is_control()));
    if can_backquote {
        format!("`{s}`")
    } else {
        quote(s)
    }
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Go's `url.PathUnescape`-like decoding of `%XX` (invalid escapes are kept as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Go's `time.Time.String()` for a UTC instant given in milliseconds since the epoch:
/// `2015-06-23 13:19:44.128 +0000 UTC` (fraction without trailing zeros, none when whole).
pub(crate) fn utc_time_string(millis: i64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp_millis(millis)?;
    let mut out = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let ms = millis.rem_euclid(1000);
    if ms != 0 {
        let frac = format!("{ms:03}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    Some(out)
}
