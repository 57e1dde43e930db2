//! Snapshot files captured from Debian's Prometheus Alertmanager 0.25 (`--storage.path`, written
//! on SIGTERM): decoding them gives what was posted, and re-encoding gives the same bytes.

use wk_alertmanager::proto::nflog::MeshEntry;
use wk_alertmanager::proto::silence::matcher::Type;
use wk_alertmanager::proto::silence::{Matcher, MeshSilence, Silence};
use wk_alertmanager::proto::{
    Timestamp, decode_delimited, encode_delimited, from_kvstore_base64, to_kvstore_base64,
};

const SILENCES: &[u8] = include_bytes!("../data/proto/silences.snapshot");
const NFLOG: &[u8] = include_bytes!("../data/proto/nflog.snapshot");

/// Alertmanager's default `--data.retention` (120h), added to `ends_at` to get `expires_at`.
const RETENTION_SECS: i64 = 120 * 3600;

fn matcher(r#type: Type, name: &str, pattern: &str) -> Matcher {
    Matcher {
        r#type: r#type.into(),
        name: name.into(),
        pattern: pattern.into(),
    }
}

fn find<'a>(silences: &'a [MeshSilence], id: &str) -> (&'a Silence, &'a Timestamp) {
    let mesh = silences
        .iter()
        .find(|m| m.silence.as_ref().is_some_and(|s| s.id == id))
        .unwrap_or_else(|| panic!("silence {id} missing from snapshot"));
    let silence = mesh.silence.as_ref().expect("checked above");
    (
        silence,
        mesh.expires_at
            .as_ref()
            .expect("Alertmanager always writes expires_at"),
    )
}

fn secs(ts: &Option<Timestamp>) -> i64 {
    ts.as_ref()
        .expect("Alertmanager always writes timestamps")
        .seconds
}

#[test]
fn captured_silences_decode_to_what_was_posted() {
    let silences = decode_delimited::<MeshSilence>(SILENCES).expect("snapshot decodes");
    assert_eq!(silences.len(), 2);

    let (first, expires) = find(&silences, "612decb3-f41b-4971-9ebf-6cf097f7b13d");
    let want = [
        matcher(Type::Regexp, "alertname", "Disk.*"),
        matcher(Type::NotEqual, "env", "prod"),
    ];
    assert_eq!(first.matchers, want);
    assert_eq!(first.created_by, "watchkeeper-test");
    assert_eq!(first.comment, "capture ✓");
    assert_eq!(secs(&first.starts_at), 1_893_456_000); // 2030-01-01T00:00:00Z
    assert_eq!(secs(&first.ends_at), 1_893_542_400); // 2030-01-02T00:00:00Z
    assert!(first.updated_at.is_some());
    assert_eq!(expires.seconds, secs(&first.ends_at) + RETENTION_SECS);
    assert!(first.comments.is_empty() && first.matcher_sets.is_empty());

    let (second, _) = find(&silences, "2267e3ef-891f-422d-8c5c-566e2fada4af");
    let want = [
        matcher(Type::NotRegexp, "team", "db|web"),
        matcher(Type::Equal, "severity", "page"),
    ];
    assert_eq!(second.matchers, want);
    assert_eq!(second.created_by, "ops@example.org");
    assert_eq!(second.comment, "second");
    assert_eq!(secs(&second.starts_at), 1_896_134_400); // 2030-02-01T00:00:00Z
    assert_eq!(secs(&second.ends_at), 1_896_134_400 + 6 * 3600 + 1800);
}

#[test]
fn captured_silences_reencode_identically() {
    let silences = decode_delimited::<MeshSilence>(SILENCES).expect("snapshot decodes");
    assert_eq!(encode_delimited(&silences), SILENCES);
}

#[test]
fn captured_nflog_decodes_and_reencodes_identically() {
    let entries = decode_delimited::<MeshEntry>(NFLOG).expect("snapshot decodes");
    assert_eq!(entries.len(), 1);
    let mesh = &entries[0];
    let entry = mesh.entry.as_ref().expect("entry present");
    assert_eq!(entry.group_key, br#"{}:{alertname="HighLoad"}"#);
    let receiver = entry.receiver.as_ref().expect("receiver present");
    assert_eq!(
        (receiver.group_name.as_str(), receiver.integration.as_str()),
        ("hook", "webhook")
    );
    assert_eq!(receiver.idx, 0);
    assert_eq!(entry.firing_alerts.len(), 2, "two alerts were posted");
    assert!(entry.resolved_alerts.is_empty() && !entry.resolved && entry.group_hash.is_empty());
    // expires_at = now + 2 × repeat_interval (1h in the capture config), below the 120h retention.
    assert_eq!(secs(&mesh.expires_at), secs(&entry.timestamp) + 2 * 3600);
    assert_eq!(encode_delimited(&entries), NFLOG);
}

#[test]
fn kvstore_base64_round_trips_snapshots() {
    let value = to_kvstore_base64(SILENCES);
    assert!(value.starts_with("lAEKiQEKJD")); // 0x94 0x01 0x0a 0x89 0x01 0x0a 0x24 …
    assert_eq!(from_kvstore_base64(&value).expect("valid base64"), SILENCES);
    let silences: Vec<MeshSilence> =
        decode_delimited(&from_kvstore_base64(&value).expect("valid base64")).expect("decodes");
    assert_eq!(silences.len(), 2);
}

#[test]
fn kvstore_base64_matches_go_std_encoding() {
    assert_eq!(to_kvstore_base64(b""), "");
    assert_eq!(to_kvstore_base64(b"\x01\x02\x03\x04"), "AQIDBA==");
    assert_eq!(
        from_kvstore_base64("").expect("empty is an empty state"),
        b""
    );
    assert_eq!(
        from_kvstore_base64("AQID\r\nBA==").expect("newlines ignored"),
        b"\x01\x02\x03\x04"
    );
    assert!(
        from_kvstore_base64("AQIDBA").is_err(),
        "padding is required"
    );
    assert!(
        from_kvstore_base64("AQ-_").is_err(),
        "URL alphabet is rejected"
    );
}
