//! When a rule runs within its interval: Grafana's jitter, a deterministic offset in ticks
//! from the group (default) or the rule, so every instance evaluates a rule on the same tick
//! while rules spread over the interval.

use crate::data::fnv1a;

/// How evaluations are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// By group: all rules of a group run on the same tick.
    #[default]
    ByGroup,
    /// By rule.
    ByRule,
    /// None: every rule runs on ticks that are multiples of its interval.
    Never,
}

/// The tick offset (in `0..ticks_per_interval`) of a rule.
pub fn offset(
    jitter: Jitter,
    org_id: i64,
    folder_uid: &str,
    group: &str,
    rule_uid: &str,
    ticks_per_interval: u64,
) -> u64 {
    if ticks_per_interval <= 1 {
        return 0;
    }
    let org = org_id.to_le_bytes();
    let hash = match jitter {
        Jitter::Never => return 0,
        Jitter::ByGroup => fnv1a(&[
            &org,
            b"\xff",
            folder_uid.as_bytes(),
            b"\xff",
            group.as_bytes(),
        ]),
        Jitter::ByRule => fnv1a(&[
            &org,
            b"\xff",
            folder_uid.as_bytes(),
            b"\xff",
            group.as_bytes(),
            b"\xff",
            rule_uid.as_bytes(),
        ]),
    };
    hash % ticks_per_interval
}

/// Whether a rule with `ticks_per_interval` and `offset` runs on tick number `tick`.
pub fn is_due(tick: u64, ticks_per_interval: u64, offset: u64) -> bool {
    ticks_per_interval > 0 && tick % ticks_per_interval == offset % ticks_per_interval
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_shares_its_offset_and_rules_spread() {
        let a = offset(Jitter::ByGroup, 1, "f", "g", "r1", 6);
        let b = offset(Jitter::ByGroup, 1, "f", "g", "r2", 6);
        assert_eq!(a, b);
        assert!(a < 6);
        let offsets: std::collections::BTreeSet<u64> = (0..50)
            .map(|i| offset(Jitter::ByRule, 1, "f", "g", &format!("r{i}"), 6))
            .collect();
        assert!(offsets.len() > 3, "{offsets:?}");
        assert_eq!(offset(Jitter::Never, 1, "f", "g", "r", 6), 0);
        assert_eq!(offset(Jitter::ByRule, 1, "f", "g", "r", 1), 0);
    }

    #[test]
    fn due_once_per_interval() {
        let due: Vec<u64> = (0..18).filter(|t| is_due(*t, 6, 2)).collect();
        assert_eq!(due, [2, 8, 14]);
        assert!(!is_due(3, 0, 0));
    }
}
