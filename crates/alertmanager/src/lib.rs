//! The embedded Alertmanager, behaviour-compatible with Prometheus Alertmanager: label sets and
//! fingerprints, matchers, time intervals, and the protobuf state shared with other instances.
//! It knows nothing of SQL or HTTP; later slices add the alert store, routing, grouping,
//! inhibition, silences, the notification log and the delivery pipeline.
pub mod labels;
pub mod matchers;
pub mod proto;
pub mod timeinterval;
