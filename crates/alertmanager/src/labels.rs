//! Label sets, their fingerprints and hashes, and label-name validation, behaving like
//! Prometheus `model.LabelSet` (prometheus/common) and Alertmanager's `notify.hashAlert`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// FNV-1a 64 offset basis: the fingerprint of the empty label set.
pub const FNV_OFFSET64: u64 = 14_695_981_039_346_656_037;
/// FNV-1a 64 prime.
pub const FNV_PRIME64: u64 = 1_099_511_628_211;
/// Byte written after every label name and value when hashing (`model.SeparatorByte`).
pub const SEPARATOR_BYTE: u8 = 0xFF;

/// The identity of an alert: FNV-1a 64 over its sorted labels (`model.Fingerprint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Error returned when a fingerprint is not 1 to 16 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fingerprint {0:?}: expected 1 to 16 hexadecimal digits")]
pub struct FingerprintParseError(pub String);

impl FromStr for Fingerprint {
    type Err = FingerprintParseError;

    /// Parses like Go's `strconv.ParseUint(s, 16, 64)`: no sign, no `0x` prefix, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FingerprintParseError(s.to_owned()));
        }
        u64::from_str_radix(s, 16)
            .map(Fingerprint)
            .map_err(|_| FingerprintParseError(s.to_owned()))
    }
}

/// Which label names are accepted: Prometheus' legacy rule or any UTF-8 (Alertmanager ≥ 0.27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    /// `^[a-zA-Z_][a-zA-Z0-9_]*$`.
    #[default]
    Classic,
    /// Any non-empty string (Rust strings are always valid UTF-8).
    Utf8,
}

/// Whether `name` matches `^[a-zA-Z_][a-zA-Z0-9_]*$`.
pub fn is_valid_classic_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether `name` is a valid label name under the given validation mode.
pub fn is_valid_label_name(name: &str, mode: NameValidation) -> bool {
    match mode {
        NameValidation::Classic => is_valid_classic_label_name(name),
        NameValidation::Utf8 => !name.is_empty(),
    }
}

/// Error returned by [`LabelSet::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name {0:?}")]
pub struct InvalidLabelName(pub String);

/// A set of labels, kept sorted by name (byte-wise), like Prometheus `model.LabelSet`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSet(BTreeMap<String, String>);

impl LabelSet {
    /// An empty label set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, returning the previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(name.into(), value.into())
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Labels in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The underlying sorted map.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// FNV-1a 64 over `name ‖ 0xFF ‖ value ‖ 0xFF` for each label in name order.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = FNV_OFFSET64;
        self.for_each_hashed_byte(|b| {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME64);
        });
        Fingerprint(h)
    }

    /// xxHash64 (seed 0) over the same byte layout as the fingerprint (`notify.hashAlert`).
    pub fn alert_hash(&self) -> u64 {
        let mut buf = Vec::with_capacity(self.0.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        self.for_each_hashed_byte(|b| buf.push(b));
        xxhash_rust::xxh64::xxh64(&buf, 0)
    }

    fn for_each_hashed_byte(&self, mut f: impl FnMut(u8)) {
        for (name, value) in &self.0 {
            name.bytes().for_each(&mut f);
            f(SEPARATOR_BYTE);
            value.bytes().for_each(&mut f);
            f(SEPARATOR_BYTE);
        }
    }

    /// Ordering used to sort alerts (`LabelSet.Before`): fewer labels first, then by the
    /// first differing label in name order, where a missing label sorts first.
    pub fn before(&self, other: &LabelSet) -> bool {
        if self.len() != other.len() {
            return self.len() < other.len();
        }
        let mut names: Vec<&String> = self.0.keys().chain(other.0.keys()).collect();
        names.sort();
        for name in names {
            let Some(mine) = self.0.get(name) else {
                return true;
            };
            let Some(theirs) = other.0.get(name) else {
                return false;
            };
            if mine != theirs {
                return mine < theirs;
            }
        }
        false
    }

    /// Checks every label name under `mode` (values are always valid UTF-8 in Rust).
    pub fn validate(&self, mode: NameValidation) -> Result<(), InvalidLabelName> {
        match self.0.keys().find(|n| !is_valid_label_name(n, mode)) {
            Some(bad) => Err(InvalidLabelName(bad.clone())),
            None => Ok(()),
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for LabelSet {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl From<BTreeMap<String, String>> for LabelSet {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

impl fmt::Display for LabelSet {
    /// Renders like Prometheus `LabelSet.String()`: `{a="x", b="y"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={}", go_quote(value))?;
        }
        f.write_str("}")
    }
}

/// Quotes `s` like Go's `strconv.Quote`.
///
/// Go decides printability with `unicode.IsPrint` (Unicode tables); this uses
/// [`is_go_printable`], which matches it except that unassigned code points are treated as
/// printable (Go escapes them as `\u`/`\U`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_printable(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7F}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Approximates Go's `unicode.IsPrint`: false for controls, for spaces other than U+0020,
/// for format characters (Cf), private-use characters and noncharacters.
pub fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format_or_private = matches!(u,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xE000..=0xF8FF
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F
        | 0xF0000..=0x10FFFF
    );
    let noncharacter = (u & 0xFFFE) == 0xFFFE || (0xFDD0..=0xFDEF).contains(&u);
    !(format_or_private || noncharacter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    /// FNV-1a computed independently, byte by byte, from the definition.
    fn reference_fnv(pairs: &[(&str, &str)]) -> u64 {
        let mut sorted = pairs.to_vec();
        sorted.sort();
        let mut bytes = Vec::new();
        for (n, v) in sorted {
            bytes.extend_from_slice(n.as_bytes());
            bytes.push(0xFF);
            bytes.extend_from_slice(v.as_bytes());
            bytes.push(0xFF);
        }
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    #[test]
    fn fingerprint_upstream_vectors() {
        assert_eq!(
            LabelSet::new().fingerprint(),
            Fingerprint(14695981039346656037)
        );
        let set = ls(&[("name", "garland, briggs"), ("fear", "love is not enough")]);
        assert_eq!(set.fingerprint(), Fingerprint(5799056148416392346));
    }

    #[test]
    fn fingerprint_matches_reference() {
        let cases: &[&[(&str, &str)]] = &[
            &[("alertname", "Up")],
            &[("b", "2"), ("a", "1"), ("c", "")],
            &[("ä", "ö"), ("Z", "z"), ("_", "\u{FF}")],
        ];
        for pairs in cases {
            assert_eq!(ls(pairs).fingerprint().0, reference_fnv(pairs), "{pairs:?}");
        }
    }

    #[test]
    fn fingerprint_render_and_parse() {
        let fp = Fingerprint(0xab);
        assert_eq!(fp.to_string(), "00000000000000ab");
        assert_eq!("00000000000000AB".parse::<Fingerprint>(), Ok(fp));
        assert_eq!("ab".parse::<Fingerprint>(), Ok(fp));
        for bad in ["", "+ab", "0xab", "g", "11112222333344445", "-1"] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
        let fp = LabelSet::new().fingerprint();
        assert_eq!(fp.to_string(), "cbf29ce484222325");
        assert_eq!(fp.to_string().parse::<Fingerprint>(), Ok(fp));
    }

    #[test]
    fn alert_hash_is_xxh64_of_layout() {
        let set = ls(&[("b", "2"), ("a", "1")]);
        let expected = xxhash_rust::xxh64::xxh64(b"a\xff1\xffb\xff2\xff", 0);
        assert_eq!(set.alert_hash(), expected);
        assert_eq!(LabelSet::new().alert_hash(), 0xef46_db37_51d8_e999);
        assert_ne!(set.alert_hash(), set.fingerprint().0);
    }

    #[test]
    fn display_like_prometheus() {
        assert_eq!(LabelSet::new().to_string(), "{}");
        let set = ls(&[("foo", "bar"), ("more", "less\n\"q\"\\")]);
        assert_eq!(set.to_string(), r#"{foo="bar", more="less\n\"q\"\\"}"#);
    }

    #[test]
    fn go_quote_vectors() {
        let cases = [
            ("", r#""""#),
            ("abc", r#""abc""#),
            ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
            ("\u{1}\u{7f}", r#""\x01\x7f""#),
            ("☺ ü", "\"☺ ü\""),
            ("\u{a0}\u{200b}\u{feff}", r#""\u00a0\u200b\ufeff""#),
            ("\u{e0001}\u{10ffff}", r#""\U000e0001\U0010ffff""#),
            ("\u{85}", r#""\u0085""#),
            ("🙂", "\"🙂\""),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn before_ordering() {
        let a = ls(&[("a", "1")]);
        let ab = ls(&[("a", "1"), ("b", "1")]);
        assert!(a.before(&ab));
        assert!(!ab.before(&a));
        assert!(ls(&[("a", "1")]).before(&ls(&[("a", "2")])));
        assert!(!ls(&[("a", "2")]).before(&ls(&[("a", "1")])));
        // Same size, missing name in self sorts first.
        assert!(!ls(&[("a", "9")]).before(&ls(&[("b", "1")])));
        assert!(ls(&[("b", "1")]).before(&ls(&[("a", "9")])));
        assert!(!a.before(&a.clone()));
    }

    #[test]
    fn name_validation() {
        for good in ["a", "_", "A_9", "__name__"] {
            assert!(is_valid_classic_label_name(good), "{good}");
        }
        for bad in ["", "9a", "a-b", "a:b", "ä", "a b"] {
            assert!(!is_valid_classic_label_name(bad), "{bad}");
            assert_eq!(
                is_valid_label_name(bad, NameValidation::Utf8),
                !bad.is_empty()
            );
        }
        let set = ls(&[("ok", "1"), ("not ok", "2")]);
        assert_eq!(
            set.validate(NameValidation::Classic),
            Err(InvalidLabelName("not ok".into()))
        );
        assert_eq!(set.validate(NameValidation::Utf8), Ok(()));
    }
}
