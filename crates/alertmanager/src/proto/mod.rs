//! Protobuf state shared with Prometheus Alertmanager and Grafana peers.
//!
//! The messages come from Watchkeeper's own schemas in `proto/` (compiled by `build.rs`). Their
//! field numbers and wire types are identical to upstream's, so the bytes produced here can be
//! gossiped to, merged by and restored from real Alertmanager and Grafana instances:
//!
//! - [`nflog`]: notification log entries ([`nflog::MeshEntry`]);
//! - [`silence`]: silences ([`silence::MeshSilence`]);
//! - [`cluster`]: gossip envelopes ([`cluster::Part`], [`cluster::FullState`]);
//! - [`alerts`]: Watchkeeper's own alert records ([`alerts::Alert`]), which upstream never
//!   persists.
//!
//! Snapshots, gossip deltas and `Part.data` are streams of length-delimited messages
//! ([`encode_delimited`], [`decode_delimited`]); Grafana stores those same bytes base64-encoded
//! in its kvstore ([`to_kvstore_base64`], [`from_kvstore_base64`]).
//!
//! Upstream always writes every timestamp field (its Go types are non-nullable times), so
//! byte-identical output requires setting each `Option<Timestamp>` to `Some`.

mod delimited;
mod error;
mod kvstore;

pub use delimited::{decode_delimited, encode_delimited, encode_delimited_into};
pub use error::ProtoError;
pub use kvstore::{from_kvstore_base64, to_kvstore_base64};
pub use prost::Message;
pub use prost_types::Timestamp;

/// Notification log messages (upstream `nflogpb`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod nflog {
    include!(concat!(env!("OUT_DIR"), "/watchkeeper.nflog.rs"));
}

/// Silence messages (upstream `silencepb`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod silence {
    include!(concat!(env!("OUT_DIR"), "/watchkeeper.silence.rs"));
}

/// Watchkeeper's own alert records (no upstream counterpart), for the `alerts` kvstore key.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod alerts {
    include!(concat!(env!("OUT_DIR"), "/watchkeeper.alerts.rs"));
}

/// Cluster gossip envelopes (upstream `clusterpb`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod cluster {
    include!(concat!(env!("OUT_DIR"), "/watchkeeper.cluster.rs"));
}
