//! Warnings for sections and keys the user wrote that Watchkeeper does not read (typos,
//! Grafana features Watchkeeper does not have). They never stop start-up.

use std::collections::BTreeSet;

use crate::ini::DEFAULT_SECTION;
use crate::problem::ConfigWarning;
use crate::reader::Diagnostics;
use crate::settings::FREE_SECTIONS;
use crate::source::Source;

/// Sections and keys that came from the user (config file or `cfg:` arguments).
#[derive(Debug, Default)]
pub(crate) struct UserInput {
    /// `(section, where it was written)`.
    pub(crate) sections: Vec<(String, Source)>,
    /// `(section, key, value, where it was written)`.
    pub(crate) keys: Vec<(String, String, String, Source)>,
}

/// Adds a warning for every unknown section (once) and every unknown key in a known section.
/// "Known" means read by the typed settings (`diag.read_keys`).
pub(crate) fn warn_unknown(user: &UserInput, diag: &mut Diagnostics) {
    let known_sections: BTreeSet<&str> = diag
        .read_keys
        .iter()
        .map(|(section, _)| section.as_str())
        .chain(FREE_SECTIONS.iter().copied())
        .chain([DEFAULT_SECTION])
        .collect();
    let mut warnings = Vec::new();
    let mut reported = BTreeSet::new();
    for (section, source) in &user.sections {
        if known_sections.contains(section.as_str()) || !reported.insert(section.as_str()) {
            continue;
        }
        let message = unknown_section_message(section);
        warnings.push(ConfigWarning::new(
            Some(source.clone()),
            section,
            "",
            "",
            message,
        ));
    }
    for (section, key, value, source) in &user.keys {
        let known = diag.read_keys.contains(&(section.clone(), key.clone()));
        if known || FREE_SECTIONS.contains(&section.as_str()) || reported.contains(section.as_str())
        {
            continue;
        }
        let mut message = "unknown key; Watchkeeper ignores it".to_string();
        if let Some(suggestion) = closest_key(&diag.read_keys, section, key) {
            message.push_str(&format!(" (did you mean {suggestion:?}?)"));
        }
        warnings.push(ConfigWarning::new(
            Some(source.clone()),
            section,
            key,
            value,
            message,
        ));
    }
    diag.warnings.extend(warnings);
}

fn unknown_section_message(section: &str) -> String {
    if section == "alerting" {
        "legacy alerting is not supported and this section is ignored; use [unified_alerting]"
            .to_string()
    } else {
        "unknown section; Watchkeeper ignores it".to_string()
    }
}

/// The known key of `section` closest to `key`, if it is a likely typo.
fn closest_key<'a>(
    known: &'a BTreeSet<(String, String)>,
    section: &str,
    key: &str,
) -> Option<&'a str> {
    known
        .iter()
        .filter(|(s, _)| s == section)
        .map(|(_, k)| (edit_distance(k, key), k.as_str()))
        .filter(|&(distance, candidate)| distance <= 2.max(candidate.len() / 5))
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("http_port", "http_port"), 0);
        assert_eq!(edit_distance("htp_port", "http_port"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_close_keys_only() {
        let known: BTreeSet<(String, String)> = [("server", "http_port"), ("server", "domain")]
            .iter()
            .map(|(s, k)| (s.to_string(), k.to_string()))
            .collect();
        assert_eq!(closest_key(&known, "server", "htp_port"), Some("http_port"));
        assert_eq!(closest_key(&known, "server", "something_else"), None);
        assert_eq!(closest_key(&known, "log", "htp_port"), None);
    }
}
