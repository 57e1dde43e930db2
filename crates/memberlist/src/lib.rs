//! The hashicorp/memberlist wire protocol, ours: what Go's memberlist (as linked by Prometheus
//! Alertmanager) puts in UDP packets and TCP streams, so a Watchkeeper node can gossip with it.
//!
//! The crate has no alerting knowledge. The codec:
//! - [`msgpack`]: msgpack as hashicorp/go-msgpack writes it (struct maps, old-spec raw strings);
//! - [`messages`]: the type byte and the message structs (`ping`, `alive`, `pushNodeState`, ...);
//! - [`compound`]: compound framing (255 parts each); [`compress`]: LZW and its envelope;
//! - [`label`]: the label header and the inbound label rules;
//! - [`packet`]: packet build order (message or compound → compress if smaller → CRC → label)
//!   and the reverse parse; [`stream`]: push/pull, reliable user message and TCP ping framing.
//!
//!
//! The runtime ([`Memberlist`]): [`transport`] (one UDP socket and one TCP listener on one port),
//! [`net`](crate::Memberlist) handlers for packets and streams, SWIM [`state`](crate::Memberlist)
//! transitions with Lifeguard [`suspicion`] timers and awareness, the periodic probe, gossip and
//! push/pull, the [`queue`] of broadcasts, and the [`Delegate`] through which the user plugs in
//! its messages, its full state and membership events. [`Config::new`] has Alertmanager's
//! timings.
//!
//! Golden bytes captured from Alertmanager 0.25 are under `tests/data` (see its README).
//! Encryption (`[10]`) is not supported: Alertmanager does not use it.

pub mod compound;
pub mod compress;
pub mod config;
pub mod error;
pub mod label;
mod memberlist;
pub mod messages;
pub mod msgpack;
mod net;
pub mod node;
pub mod packet;
pub mod queue;
mod schedule;
mod state;
pub mod stream;
pub mod suspicion;
pub mod transport;

pub use config::Config;
pub use error::Error;
pub use label::LabelPolicy;
pub use memberlist::{JoinError, Memberlist};
pub use messages::{
    AckResp, Alive, Body, Compress, Dead, ErrResp, IndirectPingReq, Message, MessageType, NackResp,
    NodeState, Ping, PushNodeState, PushPullHeader, Suspect, Typed, UserMsgHeader,
};
pub use node::{Delegate, Node};
pub use packet::{PacketOptions, ParsedPacket, build_packet, build_packets, parse_packet};
pub use queue::TransmitLimitedQueue;
pub use stream::{PushPull, StreamMessage};
pub use transport::TransportError;
