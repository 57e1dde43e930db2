//! `validateSilence`: the checks a silence must pass before [`super::Silences::set`] stores it.

use super::{Silence, ValidationError};
use crate::labels::{NameValidation, is_valid_label_name};
use crate::matchers::{MatchType, Matcher};

/// Validates a silence like upstream's `validateSilence`.
///
/// At least one matcher set, none empty; every label name valid under `names`; in every set at
/// least one matcher that does not match the empty string; both times set; `ends_at >= starts_at`.
/// Regex compilation is checked when the matchers are built ([`Silence::from_proto`]). Unlike
/// the API, a start in the past or an end before now is accepted here.
pub fn validate_silence(s: &Silence, names: NameValidation) -> Result<(), ValidationError> {
    if s.matcher_sets.is_empty() {
        return Err(ValidationError::NoMatcherSets);
    }
    for (set, ms) in s.matcher_sets.iter().enumerate() {
        if ms.is_empty() {
            return Err(ValidationError::EmptyMatcherSet { set });
        }
        for (index, m) in ms.iter().enumerate() {
            if !is_valid_label_name(m.name(), names) {
                return Err(ValidationError::InvalidLabelName {
                    set,
                    index,
                    name: m.name().to_owned(),
                });
            }
        }
        if ms.iter().all(matches_empty) {
            return Err(ValidationError::AllMatchEmpty { set });
        }
    }
    let starts = s.starts_at.ok_or(ValidationError::ZeroStart)?;
    let ends = s.ends_at.ok_or(ValidationError::ZeroEnd)?;
    if ends < starts {
        return Err(ValidationError::EndBeforeStart);
    }
    Ok(())
}

/// Upstream's `matchesEmpty`: only `=` and `=~` are considered; negative matchers never count as
/// matching the empty string (so `{a!="x"}` alone is accepted, as real Alertmanager does).
fn matches_empty(m: &Matcher) -> bool {
    match m.kind() {
        MatchType::Equal | MatchType::Regexp => m.matches(""),
        MatchType::NotEqual | MatchType::NotRegexp => false,
    }
}
