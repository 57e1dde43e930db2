//! The embedded Alertmanager, behaviour-compatible with Prometheus Alertmanager. This crate owns
//! label sets and fingerprints ([`labels`]), matchers and their string syntaxes ([`matchers`]),
//! alerts and their ingest rules ([`alert`]), the in-memory alert store ([`alerts`]), time
//! intervals ([`timeinterval`]), silences ([`silences`]), the notification log ([`nflog`]), the
//! protobuf state exchanged with other instances and Alertmanagers ([`proto`]), the
//! Alertmanager YAML configuration ([`config`]), the route tree, aggregation groups and the
//! dispatcher ([`dispatch`]), inhibition ([`inhibit`]), the notification pipeline with the
//! webhook integration ([`notify`]), the nflog and silences as replicated
//! cluster state ([`gossip`]) and the metrics, under upstream's names ([`metrics`]). It knows nothing of SQL or HTTP serving: it hands out
//! snapshot bytes and merges what peers send, and talks to other instances only through
//! `wk_cluster::Peer`.

pub mod alert;
pub mod alerts;
pub mod config;
pub mod dispatch;
pub mod gossip;
pub mod inhibit;
pub mod instance;
pub mod labels;
pub mod matchers;
pub mod metrics;
pub mod nflog;
pub mod notify;
pub mod proto;
pub mod silences;
pub mod timeinterval;
