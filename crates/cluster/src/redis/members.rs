//! Membership in Redis: one sorted set `<prefix>members` whose members are
//! `<start ms, 20 digits>/<name>/<host>` and whose scores are the last heartbeat (unix ms). One
//! key means no cross-slot command and no SCAN in Redis Cluster; sorting the live members by
//! that string orders them by start time, so position 0 is the oldest live instance and stays so
//! when others restart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The sorted-set member string of an instance.
pub(crate) fn member(start_ms: u64, name: &str, host: &str) -> String {
    format!("{start_ms:020}/{name}/{host}")
}

/// Name and host of a member string (the whole string as name if it is not ours).
pub(crate) fn parse(member: &str) -> (&str, &str) {
    member
        .split_once('/')
        .and_then(|(_, rest)| rest.rsplit_once('/'))
        .unwrap_or((member, ""))
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The heartbeat commands: record ours, drop members silent for five timeouts, list the live.
/// Nothing is ignored, so a refused write (a replica after a failover) fails the heartbeat.
pub(crate) fn heartbeat(key: &str, me: &str, now_ms: u64, timeout: Duration) -> redis::Pipeline {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let mut p = redis::pipe();
    p.cmd("ZADD").arg(key).arg(now_ms).arg(me);
    p.cmd("ZREMRANGEBYSCORE").arg(key).arg("-inf").arg(format!(
        "({}",
        now_ms.saturating_sub(timeout_ms.saturating_mul(5))
    ));
    p.cmd("ZRANGEBYSCORE")
        .arg(key)
        .arg(now_ms.saturating_sub(timeout_ms))
        .arg("+inf");
    p
}

/// The live members, ordered by start time (then name).
pub(crate) fn ordered(mut live: Vec<String>) -> Vec<String> {
    live.sort();
    live.dedup();
    live
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_sort_by_start_time_then_name() {
        let old = member(1_700_000_000_000, "peer-z", "h1");
        let new = member(1_800_000_000_000, "peer-a", "h2");
        let tie = member(1_700_000_000_000, "peer-b", "h3");
        assert_eq!(
            ordered(vec![new.clone(), old.clone(), tie.clone(), old.clone()]),
            vec![tie, old, new]
        );
        // Zero padding keeps shorter numbers first.
        assert!(member(9, "a", "") < member(10, "a", ""));
    }

    #[test]
    fn member_strings_parse_back() {
        assert_eq!(parse(&member(5, "peer-1", "host-a")), ("peer-1", "host-a"));
        assert_eq!(parse("odd"), ("odd", ""));
        assert_eq!(parse(&member(5, "pod/1", "h")), ("pod/1", "h"));
    }
}
