//! The merged, untyped configuration: every section and key with its value and [`Source`].

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::ini::{DEFAULT_SECTION, IniFile};
use crate::source::{Source, redact_value};

/// One merged value and the layer that supplied it; `Debug` hides it if the key is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct RawValue {
    /// The value after all layers and expansion.
    pub value: String,
    /// Where the value came from.
    pub source: Source,
    /// The key this value belongs to (used to decide whether it is a secret).
    key: String,
}

/// One section of the merged configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct RawSection {
    /// Section name (`DEFAULT` for keys before the first section header).
    pub name: String,
    /// Keys in order of first appearance, with their values.
    pub entries: Vec<(String, RawValue)>,
}

/// Every section and key after merging all layers; `Debug` hides secret values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawConfig {
    sections: Vec<RawSection>,
}

impl RawConfig {
    /// Builds a configuration from a parsed file, naming each value's source with `source`.
    pub fn from_ini(file: &IniFile, source: impl Fn(usize) -> Source) -> RawConfig {
        let mut raw = RawConfig::default();
        for section in &file.sections {
            raw.section_mut(&section.name);
            for entry in &section.entries {
                raw.set(
                    &section.name,
                    &entry.key,
                    entry.value.clone(),
                    source(entry.line),
                );
            }
        }
        raw
    }

    /// All sections in order of first appearance.
    pub fn sections(&self) -> &[RawSection] {
        &self.sections
    }

    /// The section called `name`, if present.
    pub fn section(&self, name: &str) -> Option<&RawSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The value of `key` in `section`, if present.
    pub fn get(&self, section: &str, key: &str) -> Option<&RawValue> {
        let section = self.section(section)?;
        section
            .entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Sets (creating section and key if needed) the value of `key` in `section`.
    pub fn set(&mut self, section: &str, key: &str, value: String, source: Source) {
        let section = self.section_mut(section);
        let value = RawValue {
            value,
            source,
            key: key.to_string(),
        };
        match section.entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, existing)) => *existing = value,
            None => section.entries.push((key.to_string(), value)),
        }
    }

    /// Every `(section, key)` pair, in order.
    pub fn keys(&self) -> Vec<(String, String)> {
        self.sections
            .iter()
            .flat_map(|s| s.entries.iter().map(|(k, _)| (s.name.clone(), k.clone())))
            .collect()
    }

    fn section_mut(&mut self, name: &str) -> &mut RawSection {
        let index = match self.sections.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                self.sections.push(RawSection {
                    name: name.to_string(),
                    entries: Vec::new(),
                });
                self.sections.len() - 1
            }
        };
        &mut self.sections[index]
    }

    /// Looks `key` up in `section`, then in its parent sections (`a.b.c` → `a.b` → `a`), like
    /// go-ini; returns the value and the section it was found in.
    fn get_inherited<'a>(&'a self, section: &'a str, key: &str) -> Option<(&'a str, &'a RawValue)> {
        let mut name = section;
        loop {
            if let Some(value) = self.get(name, key) {
                return Some((name, value));
            }
            name = &name[..name.rfind('.')?];
        }
    }

    /// Applies go-ini's `%(name)s` references (as in `root_url = %(protocol)s://%(domain)s/`):
    /// `name` is looked up in `section` (and its parents), then in the default section; the
    /// replacement repeats up to 99 times and stops at the first reference it cannot resolve.
    pub fn interpolate(&self, section: &str, key: &str, value: &str) -> String {
        static REFERENCE: LazyLock<Option<Regex>> =
            LazyLock::new(|| Regex::new(r"%\(([^)]+)\)s").ok());
        let Some(reference) = REFERENCE.as_ref() else {
            return value.to_string();
        };
        let mut value = value.to_string();
        // Self-referencing values grow on every round; stop long before memory runs out.
        const MAX_LEN: usize = 1 << 16;
        for _ in 0..99 {
            if value.len() > MAX_LEN {
                break;
            }
            let Some(found) = reference.captures(&value) else {
                break;
            };
            let (whole, name) = (found[0].to_string(), found[1].to_string());
            let target = match self.get_inherited(section, &name) {
                Some((found_in, _)) if found_in == section && name == key => None,
                other => other,
            };
            let Some((_, target)) = target.or_else(|| self.get_inherited(DEFAULT_SECTION, &name))
            else {
                break;
            };
            value = value.replace(&whole, &target.value);
        }
        value
    }
}

impl fmt::Debug for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = redact_value(&self.key, &self.value);
        write!(f, "{value:?} ({})", self.source)
    }
}

impl fmt::Debug for RawSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in &self.entries {
            map.entry(key, value);
        }
        map.finish()
    }
}

impl fmt::Debug for RawConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for section in &self.sections {
            map.entry(&section.name, section);
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ini::parse;

    fn raw(text: &str) -> RawConfig {
        let (file, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        RawConfig::from_ini(&file, |line| Source::Defaults { line })
    }

    #[test]
    fn interpolates_like_go_ini() {
        let config = raw("\
name = wk
[server]
protocol = http
domain = example.com
http_port = 3000
root_url = %(protocol)s://%(domain)s:%(http_port)s/
self = a%(self)s
[server.sub]
inherited = %(domain)s/%(name)s
unknown = %(nope)s and %(protocol)s
");
        let cases = [
            ("server", "root_url", "http://example.com:3000/"),
            ("server.sub", "inherited", "example.com/wk"),
            ("server.sub", "unknown", "%(nope)s and %(protocol)s"),
            ("server", "self", "a%(self)s"),
        ];
        for (section, key, want) in cases {
            let value = config.get(section, key).map(|v| v.value.clone());
            let got = config.interpolate(section, key, &value.unwrap_or_default());
            assert_eq!(got, want, "[{section}] {key}");
        }
    }

    #[test]
    fn self_references_stay_bounded() {
        let config = raw("a = %(a)s%(a)s\n");
        let value = config.interpolate(DEFAULT_SECTION, "a", "%(a)s%(a)s");
        assert!(value.len() < 1 << 18, "{}", value.len());
    }

    #[test]
    fn set_creates_and_overwrites() {
        let mut config = raw("[a]\nk = 1\n");
        config.set("a", "k", "2".into(), Source::Env { var: "X".into() });
        config.set("b.c", "n", "3".into(), Source::Env { var: "Y".into() });
        assert_eq!(config.get("a", "k").map(|v| v.value.as_str()), Some("2"));
        assert_eq!(config.get("b.c", "n").map(|v| v.value.as_str()), Some("3"));
        assert_eq!(
            config.keys(),
            [
                ("a".to_string(), "k".to_string()),
                ("b.c".to_string(), "n".to_string())
            ]
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let config = raw("[security]\nadmin_password = hunter2\nadmin_user = root\n");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("root"), "{shown}");
    }
}
