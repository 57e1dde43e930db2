//! `GET|POST /alerts` and `GET /alerts/groups`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use wk_alertmanager::alert::{Alert, PostedAlert};
use wk_alertmanager::instance::{AlertState, Alertmanager};
use wk_alertmanager::labels::LabelSet;
use wk_alertmanager::matchers::Matchers;

use super::V2Error;
use super::{bool_param, filter_matchers, instance, params, time};
use crate::access::Caller;
use crate::{ApiError, AppState};

/// What the `GET /alerts` and `GET /alerts/groups` parameters select.
struct AlertFilter {
    active: bool,
    silenced: bool,
    inhibited: bool,
    matchers: Matchers,
    receiver: Option<Regex>,
}

impl AlertFilter {
    fn parse(am: &Alertmanager, query: &[(String, String)]) -> Result<Self, ApiError> {
        let receiver = match params(query, "receiver").last() {
            Some(r) if !r.is_empty() => Some(
                Regex::new(&format!("^(?:{r})$"))
                    .map_err(|e| ApiError::bad_request(format!("receiver: {e}")))?,
            ),
            _ => None,
        };
        Ok(Self {
            active: bool_param(query, "active", true)?,
            silenced: bool_param(query, "silenced", true)?,
            inhibited: bool_param(query, "inhibited", true)?,
            matchers: filter_matchers(am, query)?,
            receiver,
        })
    }

    fn keep(&self, am: &Alertmanager, alert: &Alert, st: &AlertState) -> bool {
        if alert.resolved_at(am.now()) {
            return false;
        }
        if !self.matchers.matches(&alert.labels) {
            return false;
        }
        if let Some(re) = &self.receiver
            && !am
                .receivers_for(&alert.labels)
                .iter()
                .any(|r| re.is_match(r))
        {
            return false;
        }
        if !self.active && st.state == "active" {
            return false;
        }
        if !self.silenced && !st.silenced_by.is_empty() {
            return false;
        }
        if !self.inhibited && !st.inhibited_by.is_empty() {
            return false;
        }
        true
    }
}

/// A label set serialized as a JSON object straight from its sorted labels.
struct Labels<'a>(&'a LabelSet);

impl Serialize for Labels<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A value serialized as a JSON string through its `Display` (no intermediate `String`).
struct Displayed<T>(T);

impl<T: std::fmt::Display> Serialize for Displayed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// `{"name": ...}` of a receiver.
#[derive(Serialize)]
struct Receiver<'a> {
    name: &'a str,
}

/// The `status` object of a `gettableAlert`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    inhibited_by: &'a [String],
    muted_by: &'a [String],
    silenced_by: &'a [String],
    state: &'a str,
}

/// The `gettableAlert` JSON of an alert, borrowing from it; fields in the (alphabetical) order
/// the API has always written them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GettableAlert<'a> {
    annotations: Labels<'a>,
    ends_at: String,
    fingerprint: Displayed<wk_alertmanager::labels::Fingerprint>,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    labels: Labels<'a>,
    receivers: Vec<Receiver<'a>>,
    starts_at: String,
    status: Status<'a>,
    updated_at: String,
}

/// Builds the `gettableAlert` of an alert; a non-empty `muted_by` (time intervals muting its
/// group) makes the state `suppressed`. `receivers` are the names of its matching routes.
fn gettable<'a>(
    alert: &'a Alert,
    st: &'a AlertState,
    muted_by: &'a [String],
    receivers: &'a [String],
) -> GettableAlert<'a> {
    let state = if muted_by.is_empty() {
        st.state
    } else {
        "suppressed"
    };
    GettableAlert {
        annotations: Labels(&alert.annotations),
        ends_at: time(alert.ends_at),
        fingerprint: Displayed(alert.fingerprint()),
        generator_url: &alert.generator_url,
        labels: Labels(&alert.labels),
        receivers: receivers.iter().map(|name| Receiver { name }).collect(),
        starts_at: time(alert.starts_at),
        status: Status {
            inhibited_by: &st.inhibited_by,
            muted_by,
            silenced_by: &st.silenced_by,
            state,
        },
        updated_at: time(alert.updated_at),
    }
}

/// Rough size of one alert's JSON, to size the response buffer once.
fn estimated_size(alert: &Alert) -> usize {
    let labels: usize = alert
        .labels
        .iter()
        .chain(alert.annotations.iter())
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum();
    labels + alert.generator_url.len() + 320
}

/// A `200 application/json` answer with an already serialized body.
fn json_response(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Below this many items an answer is serialized on the request's own thread only.
const PARALLEL_MIN_ITEMS: usize = 4096;

/// Writes one item as a JSON value into the buffer.
type WriteItem<'w, I> = dyn Fn(&I, &mut Vec<u8>) -> Result<(), serde_json::Error> + Sync + 'w;

/// Writes `items` as comma-separated JSON values (no brackets) into `buf`.
fn write_elements<I>(
    buf: &mut Vec<u8>,
    items: &[I],
    write: &WriteItem<'_, I>,
) -> Result<(), serde_json::Error> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write(item, buf)?;
    }
    Ok(())
}

/// Serializes a JSON array of what `write` writes for every item into one buffer of about
/// `capacity` bytes; large arrays are written in two halves on two threads and joined.
fn write_array_split<I: Sync>(
    capacity: usize,
    items: &[I],
    write: &WriteItem<'_, I>,
) -> Result<Vec<u8>, ApiError> {
    let fail = |e: serde_json::Error| ApiError::internal("serializing alerts", &e);
    let mut buf = Vec::with_capacity(capacity + 2);
    buf.push(b'[');
    if items.len() < PARALLEL_MIN_ITEMS {
        write_elements(&mut buf, items, write).map_err(fail)?;
    } else {
        let (first, second) = items.split_at(items.len() / 2);
        let second_part = std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("alerts-json".into())
                .spawn_scoped(scope, || {
                    let mut part = Vec::with_capacity(capacity / 2 + 1);
                    write_elements(&mut part, second, write).map(|()| part)
                });
            write_elements(&mut buf, first, write)?;
            match helper {
                Ok(handle) => match handle.join() {
                    Ok(part) => part,
                    // The helper panicked: write the half here instead.
                    Err(_) => {
                        let mut part = Vec::new();
                        write_elements(&mut part, second, write).map(|()| part)
                    }
                },
                // No thread could be started: write the half here.
                Err(_) => {
                    let mut part = Vec::new();
                    write_elements(&mut part, second, write).map(|()| part)
                }
            }
        });
        let second_part = second_part.map_err(fail)?;
        buf.push(b',');
        buf.extend_from_slice(&second_part);
    }
    buf.push(b']');
    Ok(buf)
}

/// `GET /alerts`: sorted by fingerprint, serialized straight into the response body.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, V2Error> {
    let am = instance(&state, &caller).await?;
    let filter = AlertFilter::parse(&am, &query)?;
    let alerts = am.alerts(|a, st| filter.keep(&am, a, st));
    let mut sorted: Vec<(u64, &Alert, &AlertState)> = alerts
        .iter()
        .map(|(a, st)| {
            let a: &Alert = a;
            (a.fingerprint().0, a, st)
        })
        .collect();
    // The fingerprint's 16 zero-padded hex digits sort like the number.
    sorted.sort_unstable_by_key(|(fp, _, _)| *fp);
    let capacity = sorted.iter().map(|(_, a, _)| estimated_size(a)).sum();
    let body = write_array_split(capacity, &sorted, &|(_, a, st), buf| {
        let receivers = am.receivers_for(&a.labels);
        serde_json::to_writer(buf, &gettable(a, st, &[], &receivers))
    })?;
    Ok(json_response(body))
}

/// `POST /alerts`: 200 with an empty body, or 400 with the joined validation errors as a JSON
/// string (the valid alerts are stored either way).
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, V2Error> {
    let posted: Vec<PostedAlert> =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let am = instance(&state, &caller).await?;
    let errors = am.put_alerts(posted, am.now());
    if errors.is_empty() {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(ApiError::bad_request(errors.join(";")).into())
    }
}

/// One `alertGroup`, fields in the (alphabetical) order the API has always written them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertGroup<'a> {
    alerts: Vec<GettableAlert<'a>>,
    labels: Labels<'a>,
    receiver: Receiver<'a>,
    /// Routes carry no labels in our configuration; the field is always present upstream.
    route_labels: EmptyObject,
}

/// `{}`.
struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// `GET /alerts/groups`: sorted by group labels, then receiver; empty groups are left out.
/// `muted=false` leaves out groups muted by time intervals (evaluated at query time); the
/// alerts of a muted group carry the interval names in `mutedBy` and state `suppressed`.
pub(crate) async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, V2Error> {
    let am = instance(&state, &caller).await?;
    let filter = AlertFilter::parse(&am, &query)?;
    let show_muted = bool_param(&query, "muted", true)?;
    let now = am.now();
    let mut groups = am.groups();
    groups.sort_by_cached_key(|g| (g.labels.to_string(), g.receiver.clone()));
    // Per kept group: its mute intervals and, per kept alert, its state and receivers.
    type Kept<'g> = (&'g Alert, AlertState, Vec<String>);
    let mut kept: Vec<(usize, Vec<String>, Vec<Kept<'_>>)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if let Some(re) = &filter.receiver
            && !re.is_match(&g.receiver)
        {
            continue;
        }
        let muted_by = am.muted_by(&g.route_id, now);
        if !show_muted && !muted_by.is_empty() {
            continue;
        }
        let alerts: Vec<Kept<'_>> = g
            .alerts
            .iter()
            .filter_map(|a| {
                let a: &Alert = a;
                let st = am.alert_state(a, now);
                filter
                    .keep(&am, a, &st)
                    .then(|| (a, st, am.receivers_for(&a.labels)))
            })
            .collect();
        if alerts.is_empty() {
            continue;
        }
        kept.push((i, muted_by, alerts));
    }
    let capacity = kept
        .iter()
        .flat_map(|(_, _, alerts)| alerts.iter().map(|(a, _, _)| estimated_size(a)))
        .sum();
    let body = write_array_split(capacity, &kept, &|(i, muted_by, alerts), buf| {
        let g = &groups[*i];
        let group = AlertGroup {
            alerts: alerts
                .iter()
                .map(|(a, st, receivers)| gettable(a, st, muted_by, receivers))
                .collect(),
            labels: Labels(&g.labels),
            receiver: Receiver { name: &g.receiver },
            route_labels: EmptyObject,
        };
        serde_json::to_writer(buf, &group)
    })?;
    Ok(json_response(body))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::{Value, json};
    use wk_alertmanager::alert::{Alert, zero_time};
    use wk_alertmanager::instance::AlertState;
    use wk_alertmanager::labels::LabelSet;

    use super::super::{label_object, time};
    use super::{
        AlertGroup, EmptyObject, Labels, PARALLEL_MIN_ITEMS, Receiver, gettable, write_array_split,
    };

    /// The `serde_json::Value` the handler built before it streamed the structs.
    fn reference(
        alert: &Alert,
        st: &AlertState,
        muted_by: &[String],
        receivers: &[String],
    ) -> Value {
        let state = if muted_by.is_empty() {
            st.state
        } else {
            "suppressed"
        };
        json!({
            "labels": label_object(&alert.labels),
            "annotations": label_object(&alert.annotations),
            "startsAt": time(alert.starts_at),
            "updatedAt": time(alert.updated_at),
            "endsAt": time(alert.ends_at),
            "fingerprint": alert.fingerprint().to_string(),
            "receivers": receivers.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
            "generatorURL": alert.generator_url,
            "status": {
                "state": state,
                "silencedBy": st.silenced_by,
                "inhibitedBy": st.inhibited_by,
                "mutedBy": muted_by,
            },
        })
    }

    fn alert() -> Alert {
        Alert {
            labels: [
                ("alertname", "Disk \"full\" <&>"),
                ("zone", "é\u{1}\n"),
                ("instance", "10.0.0.1:9100"),
                ("a", ""),
            ]
            .into_iter()
            .collect::<LabelSet>(),
            annotations: [("summary", "s\tline"), ("description", "x/y")]
                .into_iter()
                .collect::<LabelSet>(),
            starts_at: Utc
                .timestamp_opt(1_700_000_000, 123_456_789)
                .single()
                .expect("time"),
            ends_at: zero_time(),
            generator_url: "http://prom/graph?g0.expr=up%3D%3D0&x=<y>".into(),
            updated_at: Utc.timestamp_opt(1_700_000_001, 0).single().expect("time"),
            timeout: false,
        }
    }

    #[test]
    fn split_writing_equals_one_serialization() {
        for n in [
            0usize,
            1,
            7,
            PARALLEL_MIN_ITEMS - 1,
            PARALLEL_MIN_ITEMS,
            10_001,
        ] {
            let items: Vec<(u32, String)> = (0..n as u32)
                .map(|i| (i, format!("v\"{i}\u{e9}")))
                .collect();
            let got = write_array_split(16, &items, &|(i, v), buf| {
                serde_json::to_writer(buf, &json!({"i": i, "v": v}))
            })
            .expect("serialize");
            let want: Vec<serde_json::Value> =
                items.iter().map(|(i, v)| json!({"i": i, "v": v})).collect();
            assert_eq!(
                got,
                serde_json::to_vec(&want).expect("reference"),
                "n = {n}"
            );
        }
    }

    #[test]
    fn gettable_alert_bytes_match_the_value_tree() {
        let a = alert();
        let b = Alert {
            labels: LabelSet::new(),
            annotations: LabelSet::new(),
            generator_url: String::new(),
            ..alert()
        };
        let st = AlertState {
            state: "active",
            silenced_by: vec!["s1".into(), "s\"2".into()],
            inhibited_by: vec!["00000000000000ab".into()],
        };
        let plain = AlertState {
            state: "suppressed",
            silenced_by: vec![],
            inhibited_by: vec![],
        };
        let muted = ["weekends".to_owned()];
        let receivers = vec!["default".to_owned(), "team \"x\"".to_owned()];
        for (alert, st, muted_by, receivers) in [
            (&a, &st, &[][..], &receivers[..]),
            (&a, &plain, &muted[..], &[][..]),
            (&b, &plain, &[][..], &receivers[..1]),
        ] {
            let want = serde_json::to_string(&reference(alert, st, muted_by, receivers))
                .expect("reference");
            let got =
                serde_json::to_string(&gettable(alert, st, muted_by, receivers)).expect("streamed");
            assert_eq!(got, want);
        }
        let st = [st, plain];
        let want = serde_json::to_vec(&Value::Array(vec![
            reference(&a, &st[0], &[], &receivers),
            reference(&b, &st[1], &[], &receivers),
        ]))
        .expect("reference");
        let pairs: Vec<(&Alert, &AlertState)> = [&a, &b].into_iter().zip(&st).collect();
        let got = write_array_split(10, &pairs, &|(a, s), buf| {
            serde_json::to_writer(buf, &gettable(a, s, &[], &receivers))
        })
        .expect("array");
        assert_eq!(
            String::from_utf8(got).expect("utf-8"),
            String::from_utf8(want).expect("utf-8")
        );
        let none: [u8; 0] = [];
        let empty: Vec<u8> =
            write_array_split(0, &none, &|_, buf| serde_json::to_writer(buf, &EmptyObject))
                .expect("empty");
        assert_eq!(empty, b"[]");
    }

    #[test]
    fn alert_group_bytes_match_the_value_tree() {
        let a = alert();
        let st = AlertState {
            state: "active",
            silenced_by: vec![],
            inhibited_by: vec![],
        };
        let muted = vec!["night".to_owned()];
        let receivers = vec!["default".to_owned()];
        let labels: LabelSet = [("alertname", "A"), ("grafana_folder", "f")]
            .into_iter()
            .collect();
        let want = json!({
            "labels": label_object(&labels),
            "routeLabels": {},
            "receiver": {"name": "default"},
            "alerts": [reference(&a, &st, &muted, &receivers)],
        });
        let got = AlertGroup {
            alerts: vec![gettable(&a, &st, &muted, &receivers)],
            labels: Labels(&labels),
            receiver: Receiver { name: "default" },
            route_labels: EmptyObject,
        };
        assert_eq!(
            serde_json::to_string(&got).expect("streamed"),
            serde_json::to_string(&want).expect("reference")
        );
    }
}
