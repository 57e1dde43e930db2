//! The load: distinct alerts of one realistic shape, serialized into `POST /api/v2/alerts`
//! batches before the clock starts, and sent over a few concurrent keep-alive connections.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

/// Label names every alert carries, documented in the output.
pub const LABELS: &[&str] = &[
    "alertname",
    "instance",
    "job",
    "severity",
    "namespace",
    "cluster",
];
/// Annotation names every alert carries.
pub const ANNOTATIONS: &[&str] = &["summary", "description"];

const ALERTNAMES: &[&str] = &[
    "HostHighCpuLoad",
    "HostOutOfMemory",
    "HostDiskWillFillIn24Hours",
    "HostNetworkReceiveErrors",
    "HostClockSkew",
    "KubePodCrashLooping",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "KubeContainerWaiting",
    "KubeJobFailed",
    "TargetDown",
    "HttpHighErrorRate",
    "HttpHighLatencyP99",
    "PostgresReplicationLag",
    "PostgresTooManyConnections",
    "RedisMemoryHigh",
    "KafkaConsumerLag",
    "CertificateExpiringSoon",
    "BlackboxProbeFailed",
    "NodeFilesystemAlmostOutOfFiles",
];
const JOBS: &[&str] = &[
    "node-exporter",
    "kube-state-metrics",
    "api-gateway",
    "postgres-exporter",
    "blackbox",
];
const SEVERITIES: &[&str] = &["critical", "warning", "info"];
const CLUSTERS: &[&str] = &["eu-west-1-prod", "us-east-1-prod", "ap-south-1-staging"];

/// The `i`-th alert: distinct `instance` per `i`, the other labels cycling through small sets.
pub fn alert(i: usize, starts_at: &str, ends_at: &str) -> Value {
    let name = ALERTNAMES[i % ALERTNAMES.len()];
    let job = JOBS[i % JOBS.len()];
    let instance = format!(
        "10.{}.{}.{}:9100",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    );
    json!({
        "labels": {
            "alertname": name,
            "instance": instance,
            "job": job,
            "severity": SEVERITIES[i % SEVERITIES.len()],
            "namespace": format!("team-{:02}", i % 40),
            "cluster": CLUSTERS[i % CLUSTERS.len()],
        },
        "annotations": {
            "summary": format!("{name} on {instance}"),
            "description": format!(
                "{name} has been firing for more than 5 minutes on {instance} (job {job}); see the runbook."
            ),
        },
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": format!("http://prometheus.example.internal:9090/graph?g0.expr=ALERTS%7Balertname%3D%22{name}%22%7D&i={i}"),
    })
}

/// The alerts `range` as JSON bodies of at most `batch` alerts each; they start now and end a
/// week from now, so they stay active for the whole run.
pub fn batches(range: std::ops::Range<usize>, batch: usize) -> Result<Vec<Vec<u8>>> {
    let now: DateTime<Utc> = Utc::now();
    let starts = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let ends = (now + TimeDelta::days(7)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let ids: Vec<usize> = range.collect();
    ids.chunks(batch.max(1))
        .map(|chunk| {
            let alerts: Vec<Value> = chunk.iter().map(|&i| alert(i, &starts, &ends)).collect();
            serde_json::to_vec(&alerts).context("serializing a batch")
        })
        .collect()
}

/// How requests are authenticated.
#[derive(Clone, Debug)]
pub enum Auth {
    /// No `Authorization` header (prometheus-alertmanager).
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic <user:password>`.
    Basic(String, String),
}

impl Auth {
    /// Adds the header to a request.
    pub fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
        }
    }
}

/// What one ingest phase measured on the client side.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// Alerts posted.
    pub alerts: usize,
    /// Requests sent.
    pub requests: usize,
    /// Wall-clock time from the first request to the last response.
    pub wall: Duration,
    /// Median request latency.
    pub median_request: Duration,
}

/// Posts `bodies` to `url` over `concurrency` clients, each its own keep-alive HTTP/1.1
/// connection; every response must be 200.
pub async fn ingest(
    url: &str,
    auth: &Auth,
    bodies: Vec<Vec<u8>>,
    alerts: usize,
    concurrency: usize,
) -> Result<Sent> {
    let requests = bodies.len();
    let queue = Arc::new(Mutex::new(bodies.into_iter()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let client = client()?;
        let queue = queue.clone();
        let url = url.to_owned();
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some(body) = next else {
                    return Ok::<_, anyhow::Error>(latencies);
                };
                let t = Instant::now();
                let req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body);
                let resp = auth.apply(req).send().await.context("POST alerts")?;
                let status = resp.status();
                let text = resp.text().await.context("reading the POST answer")?;
                if !status.is_success() {
                    bail!("POST alerts answered {status}: {text}");
                }
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    for task in tasks {
        latencies.extend(task.await.context("client task")??);
    }
    let wall = start.elapsed();
    Ok(Sent {
        alerts,
        requests,
        wall,
        median_request: median(&mut latencies),
    })
}

/// A client holding one HTTP/1.1 keep-alive connection at a time.
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(300))
        .build()
        .context("building the HTTP client")
}

/// What `GET /api/v2/alerts` measured.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Median time to the end of the body.
    pub median: Duration,
    /// Every sample, in order.
    pub samples: Vec<Duration>,
    /// Body size of the first answer.
    pub body_bytes: usize,
    /// Alerts in the first answer.
    pub alerts: usize,
}

/// Times `times` sequential `GET url` requests (full body read) after one untimed warm-up.
pub async fn list(url: &str, auth: &Auth, times: usize) -> Result<Listed> {
    let client = client()?;
    let get = |client: reqwest::Client| async move {
        let resp = auth
            .apply(client.get(url))
            .send()
            .await
            .context("GET alerts")?;
        let status = resp.status();
        let body = resp.bytes().await.context("reading GET alerts")?;
        if !status.is_success() {
            bail!("GET alerts answered {status}");
        }
        Ok::<_, anyhow::Error>(body)
    };
    let first = get(client.clone()).await?;
    let parsed: Value = serde_json::from_slice(&first).context("GET alerts is not JSON")?;
    let alerts = parsed.as_array().map_or(0, Vec::len);
    let mut samples = Vec::new();
    for _ in 0..times.max(1) {
        let t = Instant::now();
        get(client.clone()).await?;
        samples.push(t.elapsed());
    }
    let mut sorted = samples.clone();
    Ok(Listed {
        median: median(&mut sorted),
        samples,
        body_bytes: first.len(),
        alerts,
    })
}

/// The median of `d` (the upper one of an even count); zero when empty.
pub fn median(d: &mut [Duration]) -> Duration {
    d.sort();
    d.get(d.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_distinct_and_carry_the_documented_labels() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000 {
            let a = alert(i, "s", "e");
            let labels = a["labels"].as_object().cloned().unwrap_or_default();
            let names: Vec<&str> = labels.keys().map(String::as_str).collect();
            let mut want = LABELS.to_vec();
            want.sort_unstable();
            assert_eq!(names, want);
            assert!(seen.insert(serde_json::to_string(&labels).unwrap_or_default()));
        }
    }

    #[test]
    fn batches_split_the_range() {
        let b = batches(0..250, 100).expect("batches");
        assert_eq!(b.len(), 3);
        let last: Vec<Value> = serde_json::from_slice(&b[2]).expect("json");
        assert_eq!(last.len(), 50);
        assert_eq!(last[0]["labels"]["instance"], "10.0.0.200:9100");
    }

    #[test]
    fn median_takes_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(&mut [ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(median(&mut []), Duration::ZERO);
    }
}
