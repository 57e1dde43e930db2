//! The alerts snapshot: the alerts an instance holds, written as a stream of length-delimited
//! `watchkeeper.alerts.Alert` messages (`proto/alerts.proto`, the same framing as the silences
//! and nflog snapshots) so a restarted instance can rebuild its aggregation groups. Upstream
//! never persists alerts; this format is Watchkeeper's own.
//!
//! Every field of [`Alert`] round-trips exactly, including nanoseconds and the `timeout` flag
//! (an `ends_at` filled in from `resolve_timeout` must stay overridable by a later firing
//! update). An unknown end ([`zero_time`]) is written as an absent `ends_at`. Decoding never
//! panics: a corrupt stream is an error, and a well-framed record that does not make a valid
//! alert is skipped and reported, so one bad record cannot block the others.

use std::borrow::Borrow;

use chrono::{DateTime, Utc};

use crate::alert::{Alert, AlertError, is_zero_time, zero_time};
use crate::labels::{LabelSet, NameValidation};
use crate::nflog::{from_timestamp, to_timestamp};
use crate::proto::alerts::Alert as AlertRecord;
use crate::proto::{ProtoError, Timestamp, decode_delimited, encode_delimited};

/// Why one record of an alerts snapshot was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertRecordError {
    /// A timestamp field is missing or out of range.
    #[error("record {index}: {field} is missing or out of range")]
    Timestamp {
        /// Position of the record in the stream (0-based).
        index: usize,
        /// `starts_at`, `ends_at` or `updated_at`.
        field: &'static str,
    },
    /// The alert fails validation (no labels, an invalid name, ends before it starts).
    #[error("record {index}: {source}")]
    Invalid {
        /// Position of the record in the stream (0-based).
        index: usize,
        /// The validation error.
        source: AlertError,
    },
}

/// The alerts read from a snapshot, and the records that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedAlerts {
    /// The valid alerts, in stream order.
    pub alerts: Vec<Alert>,
    /// Why each skipped record was skipped.
    pub skipped: Vec<AlertRecordError>,
}

fn to_record(alert: &Alert) -> AlertRecord {
    AlertRecord {
        labels: alert.labels.to_map(),
        annotations: alert.annotations.to_map(),
        starts_at: Some(to_timestamp(alert.starts_at)),
        ends_at: (!is_zero_time(alert.ends_at)).then(|| to_timestamp(alert.ends_at)),
        generator_url: alert.generator_url.clone(),
        updated_at: Some(to_timestamp(alert.updated_at)),
        timeout: alert.timeout,
    }
}

fn time_field(
    ts: Option<&Timestamp>,
    index: usize,
    field: &'static str,
) -> Result<DateTime<Utc>, AlertRecordError> {
    ts.and_then(from_timestamp)
        .ok_or(AlertRecordError::Timestamp { index, field })
}

fn from_record(index: usize, record: AlertRecord) -> Result<Alert, AlertRecordError> {
    let starts_at = time_field(record.starts_at.as_ref(), index, "starts_at")?;
    let ends_at = match record.ends_at.as_ref() {
        None => zero_time(),
        Some(ts) => time_field(Some(ts), index, "ends_at")?,
    };
    let updated_at = time_field(record.updated_at.as_ref(), index, "updated_at")?;
    let alert = Alert {
        labels: LabelSet::from(record.labels),
        annotations: LabelSet::from(record.annotations),
        starts_at,
        ends_at,
        generator_url: record.generator_url,
        updated_at,
        timeout: record.timeout,
    };
    alert
        .validate(NameValidation::Utf8)
        .map_err(|source| AlertRecordError::Invalid { index, source })?;
    Ok(alert)
}

/// Encodes alerts (owned or shared) as a stream of length-delimited `Alert` records, in the
/// order given.
pub fn encode_alerts<A: Borrow<Alert>>(alerts: &[A]) -> Vec<u8> {
    let records: Vec<AlertRecord> = alerts.iter().map(|a| to_record(a.borrow())).collect();
    encode_delimited(&records)
}

/// Decodes an alerts snapshot; an empty slice gives no alerts. Fails only when the stream
/// itself is corrupt; invalid records are skipped and listed in [`DecodedAlerts::skipped`].
pub fn decode_alerts(bytes: &[u8]) -> Result<DecodedAlerts, ProtoError> {
    let records: Vec<AlertRecord> = decode_delimited(bytes)?;
    let mut out = DecodedAlerts::default();
    for (index, record) in records.into_iter().enumerate() {
        match from_record(index, record) {
            Ok(alert) => out.alerts.push(alert),
            Err(e) => out.skipped.push(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::proto::Message;

    fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, nanos).single().expect("valid time")
    }

    fn alert(name: &str) -> Alert {
        Alert {
            labels: LabelSet::from_iter([("alertname", name), ("severity", "page")]),
            annotations: LabelSet::from_iter([("summary", "disk full ✓")]),
            starts_at: at(1_700_000_000, 123_456_789),
            ends_at: zero_time(),
            generator_url: "http://prometheus/graph?g0.expr=up".to_owned(),
            updated_at: at(1_700_000_060, 987_654_321),
            timeout: false,
        }
    }

    #[test]
    fn round_trips_every_field() {
        let firing = alert("Firing");
        let mut timed_out = alert("TimedOut");
        timed_out.ends_at = at(1_700_000_360, 5);
        timed_out.timeout = true;
        let mut resolved = alert("Resolved");
        resolved.ends_at = at(1_700_000_100, 0);
        resolved.annotations = LabelSet::new();
        resolved.generator_url = String::new();
        let alerts = vec![firing, timed_out, resolved];

        let bytes = encode_alerts(&alerts);
        let decoded = decode_alerts(&bytes).expect("decode");
        assert!(decoded.skipped.is_empty(), "{:?}", decoded.skipped);
        assert_eq!(decoded.alerts, alerts);
        assert!(decoded.alerts[1].timeout, "the Timeout flag must survive");
        // Deterministic: the same alerts give the same bytes.
        assert_eq!(encode_alerts(&decoded.alerts), bytes);
    }

    #[test]
    fn empty_snapshot_is_no_alerts() {
        assert_eq!(encode_alerts::<Alert>(&[]), Vec::<u8>::new());
        assert_eq!(
            decode_alerts(&[]).expect("decode"),
            DecodedAlerts::default()
        );
    }

    #[test]
    fn unknown_end_is_absent_on_the_wire() {
        let bytes = encode_alerts(&[alert("Firing")]);
        let records: Vec<AlertRecord> = decode_delimited(&bytes).expect("records");
        assert_eq!(records.len(), 1);
        assert!(records[0].ends_at.is_none());
        assert!(records[0].starts_at.is_some() && records[0].updated_at.is_some());
    }

    #[test]
    fn invalid_records_are_skipped_and_the_rest_kept() {
        let good = alert("Good");
        let mut no_start = to_record(&alert("NoStart"));
        no_start.starts_at = None;
        let mut bad_nanos = to_record(&alert("BadNanos"));
        bad_nanos.updated_at = Some(Timestamp {
            seconds: 0,
            nanos: -1,
        });
        let mut no_labels = to_record(&alert("NoLabels"));
        no_labels.labels.clear();
        let mut backwards = to_record(&alert("Backwards"));
        backwards.ends_at = Some(Timestamp {
            seconds: 1,
            nanos: 0,
        });
        let bytes =
            encode_delimited(&[no_start, to_record(&good), bad_nanos, no_labels, backwards]);

        let decoded = decode_alerts(&bytes).expect("decode");
        assert_eq!(decoded.alerts, vec![good]);
        assert_eq!(
            decoded.skipped,
            vec![
                AlertRecordError::Timestamp {
                    index: 0,
                    field: "starts_at"
                },
                AlertRecordError::Timestamp {
                    index: 2,
                    field: "updated_at"
                },
                AlertRecordError::Invalid {
                    index: 3,
                    source: AlertError::NoLabels
                },
                AlertRecordError::Invalid {
                    index: 4,
                    source: AlertError::EndsBeforeStart
                },
            ]
        );
    }

    #[test]
    fn corrupt_stream_is_an_error() {
        let mut bytes = encode_alerts(&[alert("A"), alert("B")]);
        bytes.truncate(bytes.len() - 3);
        assert!(matches!(
            decode_alerts(&bytes),
            Err(ProtoError::LengthPastEnd { .. })
        ));
        // A record whose body is not an Alert message.
        let garbage = [3u8, 0xff, 0xff, 0xff];
        assert!(matches!(
            decode_alerts(&garbage),
            Err(ProtoError::InvalidMessage { .. })
        ));
    }

    #[test]
    fn unknown_fields_from_a_later_version_are_ignored() {
        // A later version may add fields; an older reader keeps what it knows.
        let mut body = to_record(&alert("Future")).encode_to_vec();
        // Field 99, varint wire type, value 1.
        body.extend_from_slice(&[0x98, 0x06, 0x01]);
        let mut bytes = Vec::new();
        prost::encoding::encode_varint(body.len() as u64, &mut bytes);
        bytes.extend_from_slice(&body);
        let decoded = decode_alerts(&bytes).expect("decode");
        assert_eq!(decoded.alerts, vec![alert("Future")]);
    }
}
