//! Compiles Go (RE2) regular expressions with the `regex` crate.
//!
//! The two syntaxes nearly coincide. Differences handled here: Go's `\d \w \s \b` (and their
//! negations) are ASCII-only while Rust's are Unicode, so they are rewritten to ASCII
//! classes; `\Q…\E` literals are expanded; inside a class, `[` (other than `[:name:]`), `&`
//! and `~` are literal in Go but special in Rust, so they are escaped. Not handled: Rust
//! accepts a few constructs Go rejects (e.g. `(?x)`, repetition counts above 1000).

use ::regex::Regex;

use super::ParseError;

/// Compiles `^(?:pattern)$` with Go semantics.
pub(crate) fn compile_anchored(pattern: &str) -> Result<Regex, ParseError> {
    let translated = translate(pattern);
    Regex::new(&format!("^(?:{translated})$")).map_err(|e| ParseError::InvalidRegex(e.to_string()))
}

fn perl_class(c: char) -> Option<(&'static str, bool)> {
    match c {
        'd' => Some(("0-9", false)),
        'D' => Some(("0-9", true)),
        'w' => Some(("0-9A-Za-z_", false)),
        'W' => Some(("0-9A-Za-z_", true)),
        's' => Some((r"\t\n\x0C\r ", false)),
        'S' => Some((r"\t\n\x0C\r ", true)),
        _ => None,
    }
}

/// Rewrites a Go pattern into an equivalent Rust pattern (see the module docs).
pub(crate) fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut class_body_start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                out.push('\\');
                break;
            };
            i += 2;
            if let Some((set, negated)) = perl_class(n) {
                match (in_class, negated) {
                    (false, false) => out.push_str(&format!("[{set}]")),
                    (_, true) => out.push_str(&format!("[^{set}]")),
                    (true, false) => out.push_str(set),
                }
            } else if !in_class && (n == 'b' || n == 'B') {
                out.push_str(&format!("(?-u:\\{n})"));
            } else if !in_class && n == 'Q' {
                let rest: String = chars[i..].iter().collect();
                let (lit, consumed) = match rest.find("\\E") {
                    Some(end) => (&rest[..end], end + 2),
                    None => (rest.as_str(), rest.len()),
                };
                out.push_str(&::regex::escape(lit));
                i += rest[..consumed].chars().count();
            } else {
                out.push('\\');
                out.push(n);
            }
            continue;
        }
        i += 1;
        if !in_class {
            out.push(c);
            if c == '[' {
                in_class = true;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_body_start = i;
            }
            continue;
        }
        match c {
            ']' if i - 1 == class_body_start => out.push_str("\\]"),
            ']' => {
                out.push(']');
                in_class = false;
            }
            '[' if chars.get(i) == Some(&':') => {
                // POSIX class `[:name:]`: copy through the closing `:]`.
                out.push('[');
                while i < chars.len() {
                    let d = chars[i];
                    out.push(d);
                    i += 1;
                    if d == ']' && chars.get(i.wrapping_sub(2)) == Some(&':') {
                        break;
                    }
                }
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(p: &str, s: &str) -> bool {
        compile_anchored(p).map(|r| r.is_match(s)).unwrap_or(false)
    }

    #[test]
    fn ascii_perl_classes() {
        assert!(full(r"\d+", "123"));
        assert!(!full(r"\d", "٣"));
        assert!(full(r"\D", "٣"));
        assert!(!full(r"\w", "é"));
        assert!(full(r"[\w.]+", "a.b_1"));
        assert!(full(r"[^\d]", "x"));
        assert!(full(r"[\D]", "x"));
        assert!(!full(r"\s", "\u{a0}"));
        assert!(full(r"a\b.*", "a b"));
        assert!(full(r"a\Q.*\E", "a.*"));
        assert!(!full(r"a\Q.*\E", "abc"));
    }

    #[test]
    fn class_literals() {
        assert!(full(r"[]a]+", "]a"));
        assert!(full(r"[^]a]", "b"));
        assert!(full(r"[a[]+", "a["));
        assert!(full(r"[a&&b]+", "a&b"));
        assert!(full(r"[[:alpha:]]+", "abc"));
        assert!(full(r"[x[:digit:]]+", "x1"));
        assert!(compile_anchored(r"[abc").is_err());
        assert!(compile_anchored("\\").is_err());
    }
}
