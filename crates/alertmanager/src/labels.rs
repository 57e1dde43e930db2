//! Label sets, their fingerprints and hashes, and label-name validation, behaving like
//! Prometheus `model.LabelSet` (prometheus/common) and Alertmanager's `notify.hashAlert`.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
///
/// Stored compactly: one shared allocation holding `name 0xFF value 0xFF` for each label in
/// name order (the byte layout the fingerprint hashes; `0xFF` never occurs in UTF-8), so a
/// clone is a reference-count increment. The fingerprint is computed once and cached.
#[derive(Default)]
pub struct LabelSet {
    buf: Option<Arc<[u8]>>,
    len: u32,
    /// The cached fingerprint plus one; 0 when not computed yet.
    fp: AtomicU64,
}

impl Clone for LabelSet {
    fn clone(&self) -> Self {
        Self {
            buf: self.buf.clone(),
            len: self.len,
            fp: AtomicU64::new(self.fp.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for LabelSet {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for LabelSet {}

impl Hash for LabelSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A label name or value slice as text; slices always come from `str`s, so this never fails.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

impl LabelSet {
    /// An empty label set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the set from pairs sorted by name without duplicates.
    fn from_sorted<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let size: usize = pairs.clone().map(|(k, v)| k.len() + v.len() + 2).sum();
        if size == 0 {
            return Self::default();
        }
        // One allocation, written in place (the `Arc` is not shared yet).
        let mut buf: Arc<[u8]> = std::iter::repeat_n(SEPARATOR_BYTE, size).collect();
        let mut len = 0u32;
        if let Some(mut rest) = Arc::get_mut(&mut buf) {
            for (k, v) in pairs {
                for part in [k, v] {
                    let (dst, tail) = rest.split_at_mut(part.len());
                    dst.copy_from_slice(part.as_bytes());
                    // The separator is already in place.
                    rest = tail.get_mut(1..).unwrap_or_default();
                }
                len += 1;
            }
        }
        Self {
            buf: Some(buf),
            len,
            fp: AtomicU64::new(0),
        }
    }

    /// The hashed byte layout: `name 0xFF value 0xFF` per label in name order.
    fn bytes(&self) -> &[u8] {
        self.buf.as_deref().unwrap_or_default()
    }

    /// Labels as byte slices, in name order.
    fn raw(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        let mut rest = self.bytes();
        let mut next = move || {
            // Names and values are short: a plain scan beats memchr's setup here.
            let end = rest.iter().position(|b| *b == SEPARATOR_BYTE)?;
            let part = &rest[..end];
            rest = &rest[end + 1..];
            Some(part)
        };
        let len = self.len as usize;
        std::iter::from_fn(move || Some((next()?, next()?))).take(len)
    }

    /// Sets `name` to `value`, returning the previous value.
    pub fn insert(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Option<String> {
        let (name, value) = (name.as_ref(), value.as_ref());
        let old = self.get(name).map(str::to_owned);
        let others = self.iter().filter(|(k, _)| *k != name);
        let mut pairs: Vec<(&str, &str)> = others.chain([(name, value)]).collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        *self = Self::from_sorted(pairs.into_iter());
        old
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = name.as_bytes();
        self.raw().find(|(k, _)| *k == name).map(|(_, v)| text(v))
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let old = self.get(name).map(str::to_owned)?;
        let rest = Self::from_sorted(self.iter().filter(|(k, _)| *k != name));
        *self = rest;
        Some(old)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Labels in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.raw().map(|(k, v)| (text(k), text(v)))
    }

    /// The labels as a sorted map (a copy).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// FNV-1a 64 over `name ‖ 0xFF ‖ value ‖ 0xFF` for each label in name order; computed
    /// once per set and cached.
    pub fn fingerprint(&self) -> Fingerprint {
        let cached = self.fp.load(Ordering::Relaxed);
        if cached != 0 {
            return Fingerprint(cached.wrapping_sub(1));
        }
        let h = self.bytes().iter().fold(FNV_OFFSET64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME64)
        });
        self.fp.store(h.wrapping_add(1), Ordering::Relaxed);
        Fingerprint(h)
    }

    /// xxHash64 (seed 0) over the same byte layout as the fingerprint (`notify.hashAlert`).
    pub fn alert_hash(&self) -> u64 {
        xxhash_rust::xxh64::xxh64(self.bytes(), 0)
    }

    /// Ordering used to sort alerts (`LabelSet.Before`): fewer labels first, then by the
    /// first differing label in name order, where a missing label sorts first.
    pub fn before(&self, other: &LabelSet) -> bool {
        if self.len() != other.len() {
            return self.len() < other.len();
        }
        let mut names: Vec<&str> = self.iter().chain(other.iter()).map(|(k, _)| k).collect();
        names.sort();
        for name in names {
            let Some(mine) = self.get(name) else {
                return true;
            };
            let Some(theirs) = other.get(name) else {
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
        match self.iter().find(|(n, _)| !is_valid_label_name(n, mode)) {
            Some((bad, _)) => Err(InvalidLabelName(bad.to_owned())),
            None => Ok(()),
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for LabelSet {
    /// Sorts by name; of pairs with the same name the last wins, like a map.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut pairs: Vec<(K, V)> = iter.into_iter().collect();
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut kept: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
        for (k, v) in &pairs {
            match kept.last_mut() {
                Some(last) if last.0 == k.as_ref() => last.1 = v.as_ref(),
                _ => kept.push((k.as_ref(), v.as_ref())),
            }
        }
        Self::from_sorted(kept.into_iter())
    }
}

impl From<BTreeMap<String, String>> for LabelSet {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self::from_sorted(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

impl fmt::Display for LabelSet {
    /// Renders like Prometheus `LabelSet.String()`: `{a="x", b="y"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.iter().enumerate() {
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
    fn map_semantics() {
        let mut set = ls(&[("b", "2"), ("a", "1"), ("b", "3")]);
        assert_eq!(set.len(), 2, "a repeated name keeps one entry");
        assert_eq!(set.get("b"), Some("3"), "the last value wins, like a map");
        assert_eq!(set.get("c"), None);
        assert_eq!(set.insert("c", ""), None);
        assert_eq!(set.insert("a", "9"), Some("1".to_owned()));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [("a", "9"), ("b", "3"), ("c", "")]
        );
        assert_eq!(set.remove("b"), Some("3".to_owned()));
        assert_eq!(set.remove("b"), None);
        assert_eq!(
            set.to_map(),
            BTreeMap::from([("a".into(), "9".into()), ("c".into(), "".into())])
        );
        assert_eq!(set, ls(&[("c", ""), ("a", "9")]));
        assert_ne!(set, ls(&[("a", "9")]));
        assert_eq!(set.remove("a"), Some("9".to_owned()));
        assert_eq!(set.remove("c"), Some(String::new()));
        assert!(set.is_empty());
        assert_eq!(set, LabelSet::new());
        assert_eq!(set.fingerprint(), LabelSet::new().fingerprint());
    }

    #[test]
    fn cached_fingerprint_follows_changes() {
        let mut set = ls(&[("a", "1")]);
        let first = set.fingerprint();
        assert_eq!(set.clone().fingerprint(), first);
        set.insert("b", "2");
        assert_eq!(
            set.fingerprint(),
            ls(&[("a", "1"), ("b", "2")]).fingerprint()
        );
        assert_ne!(set.fingerprint(), first);
        set.remove("b");
        assert_eq!(set.fingerprint(), first);
    }

    #[test]
    fn names_and_values_may_hold_any_text() {
        let set = ls(&[("", "x"), ("ä\u{0}", "\u{0}\u{10ffff}"), ("z", "")]);
        assert_eq!(set.len(), 3);
        assert_eq!(set.get(""), Some("x"));
        assert_eq!(set.get("ä\u{0}"), Some("\u{0}\u{10ffff}"));
        assert_eq!(set.get("z"), Some(""));
        let from_map = LabelSet::from(set.to_map());
        assert_eq!(from_map, set);
        let mut h1 = std::collections::hash_map::DefaultHasher::new();
        let mut h2 = std::collections::hash_map::DefaultHasher::new();
        set.hash(&mut h1);
        from_map.hash(&mut h2);
        assert_eq!(h1.finish(), h2.finish());
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
