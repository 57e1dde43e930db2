//! Upstream Alertmanager's black-box acceptance scenarios (`test/with_api_v2/acceptance`),
//! ported to the `watchkeeper` binary: alerts are pushed over the Alertmanager API v2 at fixed
//! times after a base time, and the notifications a local webhook receives are checked for
//! content and arrival window (see `common::acceptance`). Times are seconds after the base.
//!
//! The two cluster scenarios (ClusterDeduplication, ClusterVSInstance) run three servers as one
//! memberlist cluster; the `classic-mode` ones run with `alertmanager_classic_mode`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::acceptance::{AcceptanceTest, Ctx, Hook, Options, alert, between, silence};
use serde_json::{Value, json};

/// A route tree with only a root: receiver "default", and these timers and grouping.
fn route(group_by: &[&str], gw: &str, gi: &str, ri: &str) -> Value {
    json!({
        "receiver": "default",
        "group_by": group_by,
        "group_wait": gw,
        "group_interval": gi,
        "repeat_interval": ri,
    })
}

/// The receiver "default" with one webhook per entry (each entry's extra fields merged in).
fn receivers(hooks: &[(&str, Value)]) -> Value {
    let hooks: Vec<Value> = hooks
        .iter()
        .map(|(url, extra)| {
            let mut h = json!({ "url": url });
            if let (Some(h), Some(extra)) = (h.as_object_mut(), extra.as_object()) {
                h.extend(extra.clone());
            }
            h
        })
        .collect();
    json!([{ "name": "default", "webhook_configs": hooks }])
}

// ---------------------------------------------------------------------------------------------
// send_test.go

async fn merge_alerts_scenario(ends_at: bool) {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": route(&["alertname"], "1s", "1s", "1ms"),
        "receivers": receivers(&[(co.url(), json!({"send_resolved": true}))]),
    }));
    let test = || alert(&["alertname", "test"]);

    // Refresh an alert several times: the start stays at the earliest point in time.
    t.push(1.0, &[test().active_maybe_ends(1.1, ends_at)]);
    // Another Prometheus might send later with an earlier start.
    t.push(1.2, &[test().active(1.0)]);
    co.want(between(2.0, 2.5), &[test().active(1.0)]);

    t.push(
        2.1,
        &[test()
            .annotate(&["ann", "v1"])
            .active_maybe_ends(2.0, ends_at)],
    );
    co.want(
        between(3.0, 3.5),
        &[test().annotate(&["ann", "v1"]).active(1.0)],
    );

    // Annotations are always overwritten by the alert that arrived most recently.
    t.push(
        3.6,
        &[test()
            .annotate(&["ann", "v2"])
            .active_maybe_ends(1.5, ends_at)],
    );
    co.want(
        between(4.0, 4.5),
        &[test().annotate(&["ann", "v2"]).active(1.0)],
    );

    // Resolved twice: the latest resolve time wins.
    t.push(
        4.6,
        &[test().annotate(&["ann", "v2"]).active_until(3.0, 4.5)],
    );
    t.push(
        4.8,
        &[test().annotate(&["ann", "v3"]).active_until(2.9, 4.8)],
    );
    t.push(
        4.8,
        &[test().annotate(&["ann", "v3"]).active_until(2.9, 4.1)],
    );
    co.want(
        between(5.0, 5.5),
        &[test().annotate(&["ann", "v3"]).active_until(1.0, 4.8)],
    );

    // Reactivated after being resolved: no overlap, no merge.
    t.push(5.3, &[test().active_maybe_ends(5.0, ends_at)]);
    co.want(between(6.0, 6.5), &[test().active(5.0)]);

    t.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_alerts() {
    merge_alerts_scenario(false).await;
}

/// Like `merge_alerts`, but firing alerts carry `endsAt = startsAt + 3s` (Prometheus ≥ 2.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_alerts_with_ends_at() {
    merge_alerts_scenario(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": route(&["alertname"], "1s", "1s", "1ms"),
        "receivers": receivers(&[(co.url(), json!({}))]),
    }));
    t.push(1.0, &[alert(&["alertname", "test"]).active(1.0)]);
    t.push(3.5, &[alert(&["alertname", "test"]).active_until(1.0, 3.0)]);
    co.want(
        between(2.0, 2.5),
        &[alert(&["alertname", "test"]).active(1.0)],
    );
    co.want(
        between(3.0, 3.5),
        &[alert(&["alertname", "test"]).active(1.0)],
    );
    co.want(
        between(4.0, 4.5),
        &[alert(&["alertname", "test"]).active_until(1.0, 3.0)],
    );
    t.run().await;
}

/// One receiver with two webhooks; the second silently drops everything before 4.5. Each
/// integration has its own notification log entry, so the first is not notified again until
/// the repeat interval has passed, and the second gets its first delivery at the tick after 4.5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry() {
    let mut t = AcceptanceTest::single();
    let co1 = t.collector("webhook").await;
    let co2 = t.collector("webhook_failing").await;
    co2.set_hook(|ts| if ts < 4.5 { Hook::Drop } else { Hook::Record });
    t.config(json!({
        "route": route(&["alertname"], "1s", "2s", "3s"),
        "receivers": receivers(&[(co1.url(), json!({})), (co2.url(), json!({}))]),
    }));
    t.push(1.0, &[alert(&["alertname", "test1"])]);
    co1.want(
        between(2.0, 2.5),
        &[alert(&["alertname", "test1"]).active(1.0)],
    );
    co1.want(
        between(6.0, 6.5),
        &[alert(&["alertname", "test1"]).active(1.0)],
    );
    co2.want(
        between(6.0, 6.5),
        &[alert(&["alertname", "test1"]).active(1.0)],
    );
    t.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(json!({
        // A repeat interval slightly below 5s avoids timing issues (as upstream).
        "route": route(&[], "1s", "1s", "4900ms"),
        "receivers": receivers(&[(co.url(), json!({}))]),
    }));
    let a = |name: &str, start: f64| alert(&["alertname", name]).active(start);
    t.push(1.1, &[a("test1", 1.0)]);
    t.push(1.7, &[a("test5", 1.0)]);
    co.want(between(2.0, 2.5), &[a("test1", 1.0), a("test5", 1.0)]);

    t.push(3.3, &[a("test2", 1.5), a("test3", 1.5), a("test4", 1.6)]);
    let all = [
        a("test1", 1.0),
        a("test5", 1.0),
        a("test2", 1.5),
        a("test3", 1.5),
        a("test4", 1.6),
    ];
    co.want(between(4.1, 4.5), &all);
    // Nothing changes: nothing more until the repeat interval has passed.
    co.want(between(9.1, 9.5), &all);
    t.run().await;
}

/// Alerts without an end resolve after `resolve_timeout` (run twice, as upstream).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved() {
    for _ in 0..2 {
        let mut t = AcceptanceTest::single();
        let co = t.collector("webhook").await;
        t.config(json!({
            "global": {"resolve_timeout": "10s"},
            "route": {"receiver": "default", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "5s"},
            "receivers": receivers(&[(co.url(), json!({}))]),
        }));
        let a = |v: &str| alert(&["alertname", "test", "lbl", v]);
        t.push(1.0, &[a("v1"), a("v2"), a("v3")]);
        co.want(
            between(2.0, 2.5),
            &[
                a("v1").active(1.0),
                a("v2").active(1.0),
                a("v3").active(1.0),
            ],
        );
        co.want(
            between(12.0, 13.0),
            &[
                a("v1").active_until(1.0, 11.0),
                a("v2").active_until(1.0, 11.0),
                a("v3").active_until(1.0, 11.0),
            ],
        );
        t.run().await;
    }
}

/// Resolved alerts filtered out by `send_resolved: false` must still be recorded as notified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_filter() {
    let mut t = AcceptanceTest::single();
    let co1 = t.collector("webhook1").await;
    let co2 = t.collector("webhook2").await;
    t.config(json!({
        "global": {"resolve_timeout": "10s"},
        "route": {"receiver": "default", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "5s"},
        "receivers": receivers(&[
            (co1.url(), json!({"send_resolved": true})),
            (co2.url(), json!({"send_resolved": false})),
        ]),
    }));
    let a = |v: &str| alert(&["alertname", "test", "lbl", v]);
    t.push(1.0, &[a("v1"), a("v2")]);
    t.push(3.0, &[a("v1").active_until(1.0, 4.0), a("v3")]);
    t.push(8.0, &[a("v3").active(3.0)]);

    co1.want(
        between(2.0, 2.5),
        &[a("v1").active(1.0), a("v2").active(1.0)],
    );
    co1.want(
        between(7.0, 7.5),
        &[
            a("v1").active_until(1.0, 4.0),
            a("v2").active(1.0),
            a("v3").active(3.0),
        ],
    );
    // v2 resolves by the time-out.
    co1.want(
        between(12.0, 12.5),
        &[a("v2").active_until(1.0, 11.0), a("v3").active(3.0)],
    );

    co2.want(
        between(2.0, 2.5),
        &[a("v1").active(1.0), a("v2").active(1.0)],
    );
    co2.want(
        between(7.0, 7.5),
        &[a("v2").active(1.0), a("v3").active(3.0)],
    );
    // The firing set only shrank and send_resolved is false: nothing.
    co2.want_nothing(between(12.0, 12.5));
    t.run().await;
}

/// `[unified_alerting] alertmanager_dispatch_start_delay = 5s` (upstream's
/// `--dispatch.start-delay`): groups are created but not flushed until 5s after the server
/// started (about 1s before the base time, hence the window [4,5]); a reload keeps the same
/// start time and the group interval applies on top.
///
/// Upstream expects test2 `Active(4)` although it is pushed at 2 without `startsAt`; an alert
/// without `startsAt` starts when it is received (upstream's API does the same), so it is
/// expected here with `Active(2)`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start() {
    let mut t = AcceptanceTest::new(Options {
        args: vec!["cfg:unified_alerting.alertmanager_dispatch_start_delay=5s".into()],
        ..Options::default()
    });
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": route(&[], "1s", "6s", "10m"),
        "receivers": receivers(&[(co.url(), json!({}))]),
    }));
    t.push(1.0, &[alert(&["alertname", "test1"]).active(-100.0)]);
    t.push(2.0, &[alert(&["alertname", "test2"])]);
    co.want(
        between(4.0, 5.0),
        &[
            alert(&["alertname", "test1"]).active(1.0),
            alert(&["alertname", "test2"]).active(2.0),
        ],
    );
    t.reload(5.0);
    t.push(6.0, &[alert(&["alertname", "test3"]).active(-100.0)]);
    t.push(7.0, &[alert(&["alertname", "test4"])]);
    co.want(
        between(11.0, 11.5),
        &[
            alert(&["alertname", "test1"]).active(1.0),
            alert(&["alertname", "test2"]).active(2.0),
            alert(&["alertname", "test3"]).active(6.0),
            alert(&["alertname", "test4"]).active(7.0),
        ],
    );
    t.run().await;
}

/// A reload (posting the configuration again) resets the timers: the old alert flushes at
/// once and is deduplicated by the notification log, and the next tick is 6s after the reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": route(&[], "1s", "6s", "10m"),
        "receivers": receivers(&[(co.url(), json!({}))]),
    }));
    t.push(1.0, &[alert(&["alertname", "test1"])]);
    t.reload(3.0);
    t.push(4.0, &[alert(&["alertname", "test2"])]);
    co.want(
        between(2.0, 2.5),
        &[alert(&["alertname", "test1"]).active(1.0)],
    );
    co.want(
        between(9.0, 9.5),
        &[
            alert(&["alertname", "test1"]).active(1.0),
            alert(&["alertname", "test2"]).active(4.0),
        ],
    );
    t.run().await;
}

/// The webhook `timeout` cuts slow requests off, and the notification is retried within the
/// same flush.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_timeout() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    co.set_hook(|ts| {
        if ts < 3.0 {
            Hook::SleepThenDrop(Duration::from_secs(1))
        } else {
            Hook::Record
        }
    });
    t.config(json!({
        "route": route(&["alertname"], "1s", "1m", "1m"),
        "receivers": receivers(&[(co.url(), json!({"timeout": "500ms"}))]),
    }));
    t.push(1.0, &[alert(&["alertname", "test1"])]);
    co.want(
        between(3.0, 4.0),
        &[alert(&["alertname", "test1"]).active(1.0)],
    );
    t.run().await;
}

// ---------------------------------------------------------------------------------------------
// silence_test.go

fn silence_config(url: &str) -> Value {
    json!({
        "route": route(&[], "1s", "1s", "1ms"),
        "receivers": receivers(&[(url, json!({}))]),
    })
}

/// POSTs JSON to the first server with its credentials and returns status and body.
async fn post(ctx: &Ctx, url: &str, body: &Value) -> (u16, Value) {
    let r = ctx.members[0]
        .auth(ctx.http.post(url))
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GETs from the first server with its credentials and query pairs; expects 200 and returns
/// the body.
async fn get(ctx: &Ctx, url: &str, query: &[(&str, &str)]) -> Value {
    let r = ctx.members[0]
        .auth(ctx.http.get(url))
        .query(query)
        .send()
        .await
        .expect("GET");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(status, 200, "GET {url} {query:?}: {text}");
    serde_json::from_str(&text).expect("JSON body")
}

/// One server, in Alertmanager's classic mode when `classic`.
fn mode(classic: bool) -> Options {
    Options {
        args: if classic {
            vec!["cfg:unified_alerting.alertmanager_classic_mode=true".into()]
        } else {
            Vec::new()
        },
        ..Options::default()
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Upstream runs this in `classic-mode`; the matcher is valid in both modes, so it runs in both.
async fn add_silence_scenario(classic: bool) {
    let mut t = AcceptanceTest::new(mode(classic));
    let co = t.collector("webhook").await;
    t.config(silence_config(co.url()));
    let ctx = t.start().await;
    let now = chrono::Utc::now();
    let (status, body) = post(
        &ctx,
        &ctx.members[0].api("/silences"),
        &json!({
            "comment": "test",
            "createdBy": "test",
            "matchers": [{"name": "foo", "isEqual": true, "isRegex": false, "value": "bar"}],
            "startsAt": rfc3339(now),
            "endsAt": rfc3339(now + chrono::TimeDelta::hours(24)),
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["silenceID"].as_str().is_some_and(|id| !id.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_silence() {
    add_silence_scenario(false).await;
}

/// The same in classic mode (`alertmanager_classic_mode`), as upstream runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_silence_classic_mode() {
    add_silence_scenario(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silencing() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(silence_config(co.url()));
    let a = |n: &str| alert(&["alertname", n]).active(1.0);
    t.push(1.0, &[a("test1")]);
    t.push(1.0, &[a("test2")]);
    co.want(between(2.0, 2.5), &[a("test1"), a("test2")]);
    let sil = Arc::new(silence(2.5, 4.5).matching("alertname", "test1"));
    t.set_silence(2.3, &sil);
    co.want(between(3.0, 3.5), &[a("test2")]);
    co.want(between(4.0, 4.5), &[a("test2")]);
    // The silence has expired.
    co.want(between(5.0, 5.5), &[a("test1"), a("test2")]);
    t.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_delete() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(silence_config(co.url()));
    let a = |n: &str| alert(&["alertname", n]).active(1.0);
    t.push(1.0, &[a("test1")]);
    t.push(1.0, &[a("test2")]);
    let sil = Arc::new(silence(1.5, 100.0).matching_re("alertname", ".+"));
    t.set_silence(1.3, &sil);
    t.del_silence(3.5, &sil);
    // Nothing before the deletion (the total count checks it), both after.
    co.want(between(3.5, 4.5), &[a("test1"), a("test2")]);
    t.run().await;
}

// ---------------------------------------------------------------------------------------------
// inhibit_test.go

fn inhibit_config(url: &str) -> Value {
    json!({
        "route": route(&[], "1s", "1s", "1s"),
        "receivers": receivers(&[(url, json!({}))]),
        "inhibit_rules": [{
            "source_match": {"alertname": "JobDown"},
            "target_match": {"alertname": "InstanceDown"},
            "equal": ["job", "zone"],
        }],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inhibiting() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(inhibit_config(co.url()));
    let a = |n: &str, zone: &str| alert(&["alertname", n, "job", "testjob", "zone", zone]);
    t.push(1.0, &[a("test1", "aa")]);
    t.push(1.0, &[a("InstanceDown", "aa")]);
    t.push(1.0, &[a("InstanceDown", "ab")]);
    // JobDown inhibits InstanceDown in zone aa while it fires.
    t.push(2.2, &[a("JobDown", "aa")]);
    t.push(3.6, &[a("JobDown", "aa").active_until(2.2, 3.6)]);
    co.want(
        between(2.0, 2.5),
        &[
            a("test1", "aa").active(1.0),
            a("InstanceDown", "aa").active(1.0),
            a("InstanceDown", "ab").active(1.0),
        ],
    );
    co.want(
        between(3.0, 3.5),
        &[
            a("test1", "aa").active(1.0),
            a("InstanceDown", "ab").active(1.0),
            a("JobDown", "aa").active(2.2),
        ],
    );
    co.want(
        between(4.0, 4.5),
        &[
            a("test1", "aa").active(1.0),
            a("InstanceDown", "aa").active(1.0),
            a("InstanceDown", "ab").active(1.0),
            a("JobDown", "aa").active_until(2.2, 3.6),
        ],
    );
    t.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_inhibiting() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(inhibit_config(co.url()));
    let a = |n: &str| alert(&["alertname", n, "job", "testjob", "zone", "aa"]);
    t.push(1.0, &[a("InstanceDown")]);
    t.push(1.0, &[a("JobDown")]);
    t.push(2.6, &[a("JobDown").active_until(1.0, 2.6)]);
    t.push(2.6, &[a("InstanceDown").active_until(1.0, 2.6)]);
    co.want(between(2.0, 2.5), &[a("JobDown").active(1.0)]);
    // A resolved source no longer inhibits.
    co.want(
        between(3.0, 3.5),
        &[
            a("InstanceDown").active_until(1.0, 2.6),
            a("JobDown").active_until(1.0, 2.6),
        ],
    );
    t.run().await;
}

/// `inhibit_rules: [ - ]` (a null entry) is accepted and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_inhibition_rule() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": route(&[], "1s", "1s", "1s"),
        "receivers": receivers(&[(co.url(), json!({}))]),
        "inhibit_rules": [null],
    }));
    t.run().await;
    // Still serving, with the rule in its configuration.
    let ctx = t.start().await;
    let status = get(&ctx, &ctx.members[0].api("/status"), &[]).await;
    assert!(
        status["config"]["original"]
            .as_str()
            .is_some_and(|c| c.contains("inhibit_rules")),
        "{status}"
    );
}

// ---------------------------------------------------------------------------------------------
// api_test.go

fn api_config(url: &str, inhibit: bool) -> Value {
    let mut c = json!({
        "route": route(&[], "1s", "10m", "1h"),
        "receivers": receivers(&[(url, json!({}))]),
    });
    if inhibit {
        c["inhibit_rules"] = json!([{
            "source_match": {"severity": "critical"},
            "target_match": {"severity": "warning"},
            "equal": ["alertname"],
        }]);
    }
    c
}

/// A firing alert (now → now+5m) with these labels, in the API form.
fn postable(labels: Value) -> Value {
    let now = chrono::Utc::now();
    json!({
        "labels": labels,
        "startsAt": rfc3339(now),
        "endsAt": rfc3339(now + chrono::TimeDelta::minutes(5)),
    })
}

/// Prometheus' label-set fingerprint (FNV-1a 64 over sorted `name 0xff value 0xff`), as
/// the API prints it (16 hex digits).
fn fingerprint(labels: &[(&str, &str)]) -> String {
    let mut sorted = labels.to_vec();
    sorted.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (n, v) in sorted {
        for b in n.bytes().chain([0xff]).chain(v.bytes()).chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Upstream runs this in `classic-mode`: UTF-8 label *values* are valid there too.
async fn add_alerts_utf8_scenario(classic: bool) {
    let mut t = AcceptanceTest::new(mode(classic));
    let co = t.collector("webhook").await;
    t.config(api_config(co.url(), false));
    let ctx = t.start().await;
    let (status, body) = post(
        &ctx,
        &ctx.members[0].api("/alerts"),
        &json!([postable(
            json!({"a": "b", "b": "Σ", "c": "\u{1F642}", "d": "eΘ"})
        )]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_alerts_utf8() {
    add_alerts_utf8_scenario(false).await;
}

/// The same in classic mode, as upstream runs it: UTF-8 label *values* are fine there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_alerts_utf8_classic_mode() {
    add_alerts_utf8_scenario(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_get_returns_current_status() {
    let mut t = AcceptanceTest::new(Options {
        tolerance: Duration::from_secs(1),
        ..Options::default()
    });
    let co = t.collector("webhook").await;
    t.config(api_config(co.url(), true));
    let ctx = t.start().await;
    let alerts_url = ctx.members[0].api("/alerts");
    let now = chrono::Utc::now();
    let (starts, ends) = (rfc3339(now), rfc3339(now + chrono::TimeDelta::minutes(5)));
    let warning = json!([{
        "labels": {"alertname": "test1", "severity": "warning"},
        "startsAt": starts, "endsAt": ends,
    }]);
    let fp = fingerprint(&[("alertname", "test1"), ("severity", "warning")]);
    let critical_fp = fingerprint(&[("alertname", "test1"), ("severity", "critical")]);

    let (status, body) = post(&ctx, &alerts_url, &warning).await;
    assert_eq!(status, 200, "{body}");
    let got = get(&ctx, &alerts_url, &[]).await;
    let list = got.as_array().expect("alerts array");
    assert_eq!(list.len(), 1, "{got}");
    for a in list {
        assert_eq!(a["status"]["state"], "active", "{got}");
    }

    // Upstream sleeps 2s here; scheduled on the timeline instead.
    tokio::time::sleep_until(ctx.base.instant(2.0)).await;

    let (status, body) = post(
        &ctx,
        &ctx.members[0].api("/silences"),
        &json!({
            "comment": "a", "createdBy": "a",
            "matchers": [{"name": "alertname", "value": "test1", "isRegex": false}],
            "startsAt": starts, "endsAt": ends,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let silence_id = body["silenceID"].as_str().expect("silence id").to_owned();

    let got = get(&ctx, &alerts_url, &[]).await;
    let list = got.as_array().expect("alerts array");
    assert_eq!(list.len(), 1, "{got}");
    for a in list {
        assert_eq!(a["status"]["state"], "suppressed", "{got}");
        assert_eq!(a["fingerprint"], fp.as_str(), "{got}");
        assert_eq!(a["status"]["silencedBy"], json!([silence_id]), "{got}");
    }

    let mut critical = warning.clone();
    critical[0]["labels"]["severity"] = json!("critical");
    let (status, body) = post(&ctx, &alerts_url, &critical).await;
    assert_eq!(status, 200, "{body}");
    let got = get(&ctx, &alerts_url, &[]).await;
    let list = got.as_array().expect("alerts array");
    assert_eq!(list.len(), 2, "{got}");
    for a in list {
        assert_eq!(a["status"]["silencedBy"], json!([silence_id]), "{got}");
        if a["fingerprint"] == fp.as_str() {
            assert_eq!(a["status"]["state"], "suppressed", "{got}");
            assert_eq!(a["status"]["inhibitedBy"], json!([critical_fp]), "{got}");
        } else {
            assert_eq!(a["fingerprint"], critical_fp.as_str(), "{got}");
        }
    }

    let url = ctx.members[0].api(&format!("/silence/{silence_id}"));
    let r = ctx.members[0]
        .auth(ctx.http.delete(&url))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), 200);

    let got = get(&ctx, &alerts_url, &[]).await;
    let list = got.as_array().expect("alerts array");
    assert_eq!(list.len(), 2, "{got}");
    for a in list {
        assert_eq!(a["status"]["silencedBy"], json!([]), "{got}");
        if a["fingerprint"] == critical_fp.as_str() {
            assert_eq!(a["status"]["state"], "active", "{got}");
        } else {
            assert_eq!(a["status"]["state"], "suppressed", "{got}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_alert_request() {
    let mut t = AcceptanceTest::new(Options {
        tolerance: Duration::from_secs(1),
        ..Options::default()
    });
    let co = t.collector("webhook").await;
    t.config(api_config(co.url(), true));
    let ctx = t.start().await;
    let alerts_url = ctx.members[0].api("/alerts");
    let (status, body) = post(
        &ctx,
        &alerts_url,
        &json!([
            postable(json!({"alertname": "test1", "severity": "warning"})),
            postable(json!({"system": "foo", "severity": "critical"})),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let got = get(
        &ctx,
        &alerts_url,
        &[
            ("filter", "alertname=test1"),
            ("filter", "severity=warning"),
        ],
    )
    .await;
    let list = got.as_array().expect("alerts array");
    assert_eq!(list.len(), 1, "{got}");
    for a in list {
        assert_eq!(a["status"]["state"], "active", "{got}");
    }
}

// ---------------------------------------------------------------------------------------------
// utf8_test.go

/// UTF-8 label names are accepted, returned as posted, and usable in filters on `/alerts`
/// and `/alerts/groups` (upstream's classic-mode rejection is not ported: no such mode).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_alerts() {
    let mut t = AcceptanceTest::new(Options {
        tolerance: Duration::from_secs(1),
        ..Options::default()
    });
    let co = t.collector("webhook").await;
    t.config(api_config(co.url(), false));
    let ctx = t.start().await;
    let labels = json!({"a": "a", "00": "b", "Σ": "c", "\u{1F642}": "dΘ"});
    let (status, body) = post(
        &ctx,
        &ctx.members[0].api("/alerts"),
        &json!([postable(labels.clone())]),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let filters = [
        ("filter", "00=b"),
        ("filter", "Σ=c"),
        ("filter", r#""\xf0\x9f\x99\x82"=dΘ"#),
    ];
    for query in [&[][..], &filters[..]] {
        let got = get(&ctx, &ctx.members[0].api("/alerts"), query).await;
        assert_eq!(got.as_array().map(Vec::len), Some(1), "{query:?}: {got}");
        assert_eq!(got[0]["labels"], labels, "{query:?}: {got}");

        let got = get(&ctx, &ctx.members[0].api("/alerts/groups"), query).await;
        assert_eq!(got.as_array().map(Vec::len), Some(1), "{query:?}: {got}");
        assert_eq!(
            got[0]["alerts"].as_array().map(Vec::len),
            Some(1),
            "{query:?}: {got}"
        );
        assert_eq!(got[0]["alerts"][0]["labels"], labels, "{query:?}: {got}");
    }
}

/// A UTF-8 matcher is accepted, round-trips, and filters `/silences`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_silences() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(silence_config(co.url()));
    let ctx = t.start().await;
    let now = chrono::Utc::now();
    let matchers = json!([{"name": "fooΣ", "isEqual": true, "isRegex": false, "value": "bar🙂"}]);
    let (status, body) = post(
        &ctx,
        &ctx.members[0].api("/silences"),
        &json!({
            "comment": "test", "createdBy": "test",
            "matchers": matchers,
            "startsAt": rfc3339(now),
            "endsAt": rfc3339(now + chrono::TimeDelta::hours(24)),
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for query in [&[][..], &[("filter", "fooΣ=bar🙂")][..]] {
        let got = get(&ctx, &ctx.members[0].api("/silences"), query).await;
        assert_eq!(got.as_array().map(Vec::len), Some(1), "{query:?}: {got}");
        assert_eq!(got[0]["matchers"], matchers, "{query:?}: {got}");
    }
}

/// Classic mode rejects the UTF-8 label names of the two scenarios above: the alert with a 400
/// saying "invalid label set", the silence with a 400, and a UTF-8 `filter` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_names_rejected_in_classic_mode() {
    let mut t = AcceptanceTest::new(mode(true));
    let co = t.collector("webhook").await;
    t.config(silence_config(co.url()));
    let ctx = t.start().await;
    let m = &ctx.members[0];
    let labels = json!({"a": "a", "00": "b", "Σ": "c", "\u{1F642}": "dΘ"});
    let (status, body) = post(&ctx, &m.api("/alerts"), &json!([postable(labels)])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("invalid label set"), "{body}");

    let now = chrono::Utc::now();
    let (status, body) = post(
        &ctx,
        &m.api("/silences"),
        &json!({
            "comment": "test", "createdBy": "test",
            "matchers": [{"name": "fooΣ", "isEqual": true, "isRegex": false, "value": "bar🙂"}],
            "startsAt": rfc3339(now),
            "endsAt": rfc3339(now + chrono::TimeDelta::hours(24)),
        }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let r = m
        .auth(ctx.http.get(m.api("/silences")))
        .query(&[("filter", "fooΣ=bar")])
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 400);
}

/// Upstream's `TestSendAlertsToUTF8Route`: a UTF-8 matcher and `group_by` in a child route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_alerts_to_utf8_route() {
    let mut t = AcceptanceTest::single();
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": {
            "receiver": "default",
            "routes": [{
                "receiver": "webhook",
                "matchers": ["foo🙂=bar"],
                "group_by": ["foo🙂"],
                "group_wait": "1s",
            }],
        },
        "receivers": [
            {"name": "default"},
            {"name": "webhook", "webhook_configs": [{"url": co.url()}]},
        ],
    }));
    t.push(1.0, &[alert(&["foo🙂", "bar"]).active(1.0)]);
    co.want(between(2.0, 2.5), &[alert(&["foo🙂", "bar"]).active(1.0)]);
    t.run().await;
}

// ---------------------------------------------------------------------------------------------
// web_test.go

/// Upstream's `--web.route-prefix=/foo` is Grafana's `root_url` with a path plus
/// `serve_from_sub_path`: every route is served under `/foo` (the harness polls
/// `/foo/api/health`), `/` redirects there and other paths are not found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_with_prefix() {
    let mut t = AcceptanceTest::new(Options {
        args: vec![
            "cfg:server.root_url=http://localhost:3000/foo/".into(),
            "cfg:server.serve_from_sub_path=true".into(),
        ],
        prefix: "/foo".into(),
        ..Options::default()
    });
    t.config(json!({
        "route": route(&[], "1s", "1s", "1h"),
        "receivers": [{"name": "default"}],
    }));
    let ctx = t.start().await;
    let m = &ctx.members[0];
    let status = get(&ctx, &m.api("/status"), &[]).await;
    assert!(status["config"]["original"].is_string(), "{status}");

    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = plain
        .get(m.server.url("/api/health"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 404, "outside the sub path");
    let r = plain.get(m.server.url("/")).send().await.expect("GET");
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/foo/")
    );
    t.run().await;
}

// ---------------------------------------------------------------------------------------------
// cluster_test.go

/// Three clustered servers get the same alert: exactly one notification. Stronger than
/// upstream (whose run ends before positions 1 and 2 wake): `ha_peer_timeout` is 1s and the run
/// lasts past both waits, so the total must still be one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_deduplication() {
    let mut t = AcceptanceTest::new(Options {
        servers: 3,
        cluster: true,
        args: vec!["cfg:unified_alerting.ha_peer_timeout=1s".into()],
        tolerance: Duration::from_secs(1),
        ..Options::default()
    });
    let co = t.collector("webhook").await;
    t.config(json!({
        "route": route(&[], "1s", "1s", "1h"),
        "receivers": receivers(&[(co.url(), json!({}))]),
    }));
    let test1 = || alert(&["alertname", "test1"]);
    t.push(1.0, &[test1().active(1.0)]);
    co.want(between(2.0, 3.0), &[test1().active(1.0)]);
    co.want_nothing(between(3.0, 6.0));
    t.run().await;
}

/// A single server and a three-server cluster side by side receive the same alerts; both
/// collectors end up with the same notifications.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_vs_instance() {
    let config = |url: &str| {
        json!({
            "route": route(&["alertname"], "1s", "1s", "1h"),
            "receivers": receivers(&[(url, json!({}))]),
        })
    };
    let mut single = AcceptanceTest::new(Options {
        tolerance: Duration::from_secs(2),
        ..Options::default()
    });
    let mut cluster = AcceptanceTest::new(Options {
        servers: 3,
        cluster: true,
        args: vec!["cfg:unified_alerting.ha_peer_timeout=1s".into()],
        tolerance: Duration::from_secs(2),
        ..Options::default()
    });
    let co_single = single.collector("single").await;
    let co_cluster = cluster.collector("cluster").await;
    single.config(config(co_single.url()));
    cluster.config(config(co_cluster.url()));
    for (i, at) in [(0, 1.0), (2, 2.0), (4, 3.0), (6, 4.0), (8, 5.0)] {
        let name = format!("test1-{i}");
        for (t, co) in [(&mut single, &co_single), (&mut cluster, &co_cluster)] {
            let a = || alert(&["alertname", &name]);
            t.push(at, &[a().active(at)]);
            co.want(between(at, at + 5.0), &[a().active(at)]);
        }
    }
    tokio::join!(single.run(), cluster.run());
    let names = |co: &common::acceptance::Collector| {
        let mut v: Vec<String> = co
            .received()
            .iter()
            .flat_map(|b| {
                b.alerts
                    .iter()
                    .map(|a| a.labels.get("alertname").cloned().unwrap_or_default())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&co_single), names(&co_cluster));
}
