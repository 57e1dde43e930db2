//! The hashicorp/memberlist wire protocol, ours: what Go's memberlist (as linked by Prometheus
//! Alertmanager) puts in UDP packets and TCP streams, so a Watchkeeper node can gossip with it.
//!
//! This crate owns the codec only, with no networking and no alerting knowledge:
//! - [`msgpack`]: msgpack as hashicorp/go-msgpack writes it (struct maps, old-spec raw strings);
//! - [`messages`]: the type byte and the message structs (`ping`, `alive`, `pushNodeState`, ...);
//! - [`compound`]: compound framing (255 parts each); [`compress`]: LZW and its envelope;
//! - [`label`]: the label header and the inbound label rules;
//! - [`packet`]: packet build order (message or compound → compress if smaller → CRC → label)
//!   and the reverse parse; [`stream`]: push/pull, reliable user message and TCP ping framing.
//!
//! Golden bytes captured from Alertmanager 0.25 are under `tests/data` (see its README).
//! Encryption (`[10]`) is not supported: Alertmanager does not use it.

pub mod compound;
pub mod compress;
pub mod error;
pub mod label;
pub mod messages;
pub mod msgpack;
pub mod packet;
pub mod stream;

pub use error::Error;
pub use label::LabelPolicy;
pub use messages::{
    AckResp, Alive, Body, Compress, Dead, ErrResp, IndirectPingReq, Message, MessageType, NackResp,
    NodeState, Ping, PushNodeState, PushPullHeader, Suspect, Typed, UserMsgHeader,
};
pub use packet::{PacketOptions, ParsedPacket, build_packet, build_packets, parse_packet};
pub use stream::{PushPull, StreamMessage};
