//! Tests of the protobuf state shared with Alertmanager and Grafana: hand-built golden bytes,
//! real snapshots captured from Prometheus Alertmanager, and robustness against bad input.

mod proto {
    mod delimited;
    mod golden;
    mod live;
    mod snapshot;
}
