//! The message type byte and memberlist's message structs with their msgpack encoding.
//!
//! Structs are msgpack maps keyed by the Go field names, written in the order go-msgpack v0.5.x
//! writes them: sorted by field name (byte order), not declaration order. `omitempty` fields
//! (only ping's and indirectPingReq's `SourceAddr`, `SourcePort`, `SourceNode`) are left out when
//! zero. A `[]byte` field that is not `omitempty` is `Option<Vec<u8>>`: `None` is Go's nil slice,
//! written as msgpack nil (Alertmanager sends `Meta` as nil but ack `Payload` as an empty string).
//! Decoding ignores unknown fields and reads missing ones as zero, as Go does.

use crate::error::Error;
use crate::msgpack::{
    MsgpackError, Reader, write_bool, write_int, write_map_len, write_opt_bytes, write_raw,
    write_uint,
};

/// memberlist's message type byte (append-only numbering, `net.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// `ping` probe.
    Ping = 0,
    /// `indirectPingReq`.
    IndirectPing = 1,
    /// `ackResp`.
    AckResp = 2,
    /// `suspect` broadcast.
    Suspect = 3,
    /// `alive` broadcast.
    Alive = 4,
    /// `dead` broadcast.
    Dead = 5,
    /// Push/pull state exchange (streams only).
    PushPull = 6,
    /// Compound envelope.
    Compound = 7,
    /// User message (delegate payload).
    User = 8,
    /// Compress envelope.
    Compress = 9,
    /// Encrypt envelope (not supported here).
    Encrypt = 10,
    /// `nackResp`.
    NackResp = 11,
    /// CRC envelope.
    HasCrc = 12,
    /// `errResp` (streams only).
    Err = 13,
    /// Label header.
    HasLabel = 244,
}

impl MessageType {
    /// The Go name of the type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::IndirectPing => "indirectPing",
            Self::AckResp => "ackResp",
            Self::Suspect => "suspect",
            Self::Alive => "alive",
            Self::Dead => "dead",
            Self::PushPull => "pushPull",
            Self::Compound => "compound",
            Self::User => "user",
            Self::Compress => "compress",
            Self::Encrypt => "encrypt",
            Self::NackResp => "nackResp",
            Self::HasCrc => "hasCrc",
            Self::Err => "err",
            Self::HasLabel => "hasLabel",
        }
    }
}

impl TryFrom<u8> for MessageType {
    type Error = Error;

    fn try_from(b: u8) -> Result<Self, Error> {
        Ok(match b {
            0 => Self::Ping,
            1 => Self::IndirectPing,
            2 => Self::AckResp,
            3 => Self::Suspect,
            4 => Self::Alive,
            5 => Self::Dead,
            6 => Self::PushPull,
            7 => Self::Compound,
            8 => Self::User,
            9 => Self::Compress,
            10 => Self::Encrypt,
            11 => Self::NackResp,
            12 => Self::HasCrc,
            13 => Self::Err,
            244 => Self::HasLabel,
            other => return Err(Error::UnknownType(other)),
        })
    }
}

/// A memberlist struct with its Go name and msgpack map encoding.
pub trait Body: Sized {
    /// The Go struct name, used in errors.
    const NAME: &'static str;
    /// Appends the msgpack map.
    fn encode_body(&self, out: &mut Vec<u8>);
    /// Reads the msgpack map.
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error>;

    /// The msgpack bytes alone.
    fn to_body_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_body(&mut out);
        out
    }

    /// Decodes one struct from the start of `buf` (trailing bytes are ignored, as in Go).
    fn from_body_bytes(buf: &[u8]) -> Result<Self, Error> {
        Self::decode_body(&mut Reader::new(buf))
    }
}

/// A struct sent as a message of its own: type byte then body.
pub trait Typed: Body {
    /// Its type byte.
    const TYPE: MessageType;

    /// Type byte followed by the msgpack body.
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![Self::TYPE as u8];
        self.encode_body(&mut out);
        out
    }
}

/// Reads a struct map, handing each key to `field`; a field error names the struct and the key.
fn read_struct<'a>(
    r: &mut Reader<'a>,
    message: &'static str,
    mut field: impl FnMut(&[u8], &mut Reader<'a>) -> Result<(), MsgpackError>,
) -> Result<(), Error> {
    let len = r
        .read_map_len()
        .map_err(|source| Error::Struct { message, source })?;
    for _ in 0..len {
        let key = r
            .read_opt_raw()
            .map_err(|source| Error::Struct { message, source })?
            .unwrap_or_default();
        field(key, r).map_err(|source| Error::Field {
            message,
            field: String::from_utf8_lossy(key).into_owned(),
            source,
        })?;
    }
    Ok(())
}

fn key(out: &mut Vec<u8>, name: &str) {
    write_raw(out, name.as_bytes());
}

/// Direct probe (`ping`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ping {
    /// `SeqNo`.
    pub seq_no: u32,
    /// `Node`: the intended recipient's name.
    pub node: String,
    /// `SourceAddr` (omitempty): where to send the ack.
    pub source_addr: Vec<u8>,
    /// `SourcePort` (omitempty).
    pub source_port: u16,
    /// `SourceNode` (omitempty).
    pub source_node: String,
}

impl Body for Ping {
    const NAME: &'static str = "ping";

    fn encode_body(&self, out: &mut Vec<u8>) {
        let n = 2
            + usize::from(!self.source_addr.is_empty())
            + usize::from(!self.source_node.is_empty())
            + usize::from(self.source_port != 0);
        write_map_len(out, n);
        key(out, "Node");
        write_raw(out, self.node.as_bytes());
        key(out, "SeqNo");
        write_uint(out, self.seq_no.into());
        if !self.source_addr.is_empty() {
            key(out, "SourceAddr");
            write_raw(out, &self.source_addr);
        }
        if !self.source_node.is_empty() {
            key(out, "SourceNode");
            write_raw(out, self.source_node.as_bytes());
        }
        if self.source_port != 0 {
            key(out, "SourcePort");
            write_uint(out, self.source_port.into());
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"SeqNo" => m.seq_no = r.read_u32()?,
                b"Node" => m.node = r.read_string()?,
                b"SourceAddr" => m.source_addr = r.read_opt_bytes()?.unwrap_or_default(),
                b"SourcePort" => m.source_port = r.read_u16()?,
                b"SourceNode" => m.source_node = r.read_string()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for Ping {
    const TYPE: MessageType = MessageType::Ping;
}

/// Request to probe another node on our behalf (`indirectPingReq`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndirectPingReq {
    /// `SeqNo`.
    pub seq_no: u32,
    /// `Target`: the IP to probe (nil in Go when unset).
    pub target: Option<Vec<u8>>,
    /// `Port`.
    pub port: u16,
    /// `Node`: the target's name.
    pub node: String,
    /// `Nack`: whether a nack is wanted.
    pub nack: bool,
    /// `SourceAddr` (omitempty).
    pub source_addr: Vec<u8>,
    /// `SourcePort` (omitempty).
    pub source_port: u16,
    /// `SourceNode` (omitempty).
    pub source_node: String,
}

impl Body for IndirectPingReq {
    const NAME: &'static str = "indirectPingReq";

    fn encode_body(&self, out: &mut Vec<u8>) {
        let n = 5
            + usize::from(!self.source_addr.is_empty())
            + usize::from(!self.source_node.is_empty())
            + usize::from(self.source_port != 0);
        write_map_len(out, n);
        key(out, "Nack");
        write_bool(out, self.nack);
        key(out, "Node");
        write_raw(out, self.node.as_bytes());
        key(out, "Port");
        write_uint(out, self.port.into());
        key(out, "SeqNo");
        write_uint(out, self.seq_no.into());
        if !self.source_addr.is_empty() {
            key(out, "SourceAddr");
            write_raw(out, &self.source_addr);
        }
        if !self.source_node.is_empty() {
            key(out, "SourceNode");
            write_raw(out, self.source_node.as_bytes());
        }
        if self.source_port != 0 {
            key(out, "SourcePort");
            write_uint(out, self.source_port.into());
        }
        key(out, "Target");
        write_opt_bytes(out, self.target.as_deref());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"SeqNo" => m.seq_no = r.read_u32()?,
                b"Target" => m.target = r.read_opt_bytes()?,
                b"Port" => m.port = r.read_u16()?,
                b"Node" => m.node = r.read_string()?,
                b"Nack" => m.nack = r.read_bool()?,
                b"SourceAddr" => m.source_addr = r.read_opt_bytes()?.unwrap_or_default(),
                b"SourcePort" => m.source_port = r.read_u16()?,
                b"SourceNode" => m.source_node = r.read_string()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for IndirectPingReq {
    const TYPE: MessageType = MessageType::IndirectPing;
}

/// Answer to a ping (`ackResp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckResp {
    /// `SeqNo`.
    pub seq_no: u32,
    /// `Payload` from the ping delegate (Alertmanager: empty, not nil).
    pub payload: Option<Vec<u8>>,
}

impl Body for AckResp {
    const NAME: &'static str = "ackResp";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 2);
        key(out, "Payload");
        write_opt_bytes(out, self.payload.as_deref());
        key(out, "SeqNo");
        write_uint(out, self.seq_no.into());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"SeqNo" => m.seq_no = r.read_u32()?,
                b"Payload" => m.payload = r.read_opt_bytes()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for AckResp {
    const TYPE: MessageType = MessageType::AckResp;
}

/// Failed indirect probe (`nackResp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NackResp {
    /// `SeqNo`.
    pub seq_no: u32,
}

impl Body for NackResp {
    const NAME: &'static str = "nackResp";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 1);
        key(out, "SeqNo");
        write_uint(out, self.seq_no.into());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"SeqNo" => m.seq_no = r.read_u32()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for NackResp {
    const TYPE: MessageType = MessageType::NackResp;
}

/// Error relayed over a stream (`errResp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrResp {
    /// `Error`.
    pub error: String,
}

impl Body for ErrResp {
    const NAME: &'static str = "errResp";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 1);
        key(out, "Error");
        write_raw(out, self.error.as_bytes());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"Error" => m.error = r.read_string()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for ErrResp {
    const TYPE: MessageType = MessageType::Err;
}

/// `suspect` and `dead` share one shape: `{Incarnation, Node, From}`.
fn encode_claim(out: &mut Vec<u8>, incarnation: u32, node: &str, from: &str) {
    write_map_len(out, 3);
    key(out, "From");
    write_raw(out, from.as_bytes());
    key(out, "Incarnation");
    write_uint(out, incarnation.into());
    key(out, "Node");
    write_raw(out, node.as_bytes());
}

fn decode_claim(r: &mut Reader<'_>, message: &'static str) -> Result<(u32, String, String), Error> {
    let (mut incarnation, mut node, mut from) = (0, String::new(), String::new());
    read_struct(r, message, |k, r| {
        match k {
            b"Incarnation" => incarnation = r.read_u32()?,
            b"Node" => node = r.read_string()?,
            b"From" => from = r.read_string()?,
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok((incarnation, node, from))
}

/// A node is suspected of failure (`suspect`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suspect {
    /// `Incarnation`.
    pub incarnation: u32,
    /// `Node`: the suspect.
    pub node: String,
    /// `From`: who suspects it.
    pub from: String,
}

impl Body for Suspect {
    const NAME: &'static str = "suspect";

    fn encode_body(&self, out: &mut Vec<u8>) {
        encode_claim(out, self.incarnation, &self.node, &self.from);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let (incarnation, node, from) = decode_claim(r, Self::NAME)?;
        Ok(Self {
            incarnation,
            node,
            from,
        })
    }
}

impl Typed for Suspect {
    const TYPE: MessageType = MessageType::Suspect;
}

/// A node is dead, or left when `node == from` (`dead`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dead {
    /// `Incarnation`.
    pub incarnation: u32,
    /// `Node`: the dead node.
    pub node: String,
    /// `From`: who declares it (itself for a graceful leave).
    pub from: String,
}

impl Body for Dead {
    const NAME: &'static str = "dead";

    fn encode_body(&self, out: &mut Vec<u8>) {
        encode_claim(out, self.incarnation, &self.node, &self.from);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let (incarnation, node, from) = decode_claim(r, Self::NAME)?;
        Ok(Self {
            incarnation,
            node,
            from,
        })
    }
}

impl Typed for Dead {
    const TYPE: MessageType = MessageType::Dead;
}

/// A node is alive, or joins (`alive`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alive {
    /// `Incarnation`.
    pub incarnation: u32,
    /// `Node`: its name.
    pub node: String,
    /// `Addr`: its IP (4 or 16 bytes).
    pub addr: Option<Vec<u8>>,
    /// `Port`.
    pub port: u16,
    /// `Meta`: node metadata (Alertmanager sends nil).
    pub meta: Option<Vec<u8>>,
    /// `Vsn`: `[pmin, pmax, pcur, dmin, dmax, dcur]`.
    pub vsn: Option<Vec<u8>>,
}

impl Body for Alive {
    const NAME: &'static str = "alive";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 6);
        key(out, "Addr");
        write_opt_bytes(out, self.addr.as_deref());
        key(out, "Incarnation");
        write_uint(out, self.incarnation.into());
        key(out, "Meta");
        write_opt_bytes(out, self.meta.as_deref());
        key(out, "Node");
        write_raw(out, self.node.as_bytes());
        key(out, "Port");
        write_uint(out, self.port.into());
        key(out, "Vsn");
        write_opt_bytes(out, self.vsn.as_deref());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"Incarnation" => m.incarnation = r.read_u32()?,
                b"Node" => m.node = r.read_string()?,
                b"Addr" => m.addr = r.read_opt_bytes()?,
                b"Port" => m.port = r.read_u16()?,
                b"Meta" => m.meta = r.read_opt_bytes()?,
                b"Vsn" => m.vsn = r.read_opt_bytes()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for Alive {
    const TYPE: MessageType = MessageType::Alive;
}

/// Push/pull stream header (`pushPullHeader`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushPullHeader {
    /// `Nodes`: how many node states follow.
    pub nodes: i64,
    /// `UserStateLen`: bytes of delegate state after the node states.
    pub user_state_len: i64,
    /// `Join`: a join rather than anti-entropy.
    pub join: bool,
}

impl Body for PushPullHeader {
    const NAME: &'static str = "pushPullHeader";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 3);
        key(out, "Join");
        write_bool(out, self.join);
        key(out, "Nodes");
        write_int(out, self.nodes);
        key(out, "UserStateLen");
        write_int(out, self.user_state_len);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"Nodes" => m.nodes = r.read_i64()?,
                b"UserStateLen" => m.user_state_len = r.read_i64()?,
                b"Join" => m.join = r.read_bool()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

/// A member's state as memberlist gossips it (`NodeStateType`, a Go `int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeState {
    /// 0.
    #[default]
    Alive,
    /// 1.
    Suspect,
    /// 2.
    Dead,
    /// 3: left gracefully.
    Left,
    /// A value this version does not know; kept so it re-encodes unchanged.
    Other(i64),
}

impl NodeState {
    /// The Go integer value.
    pub fn as_i64(self) -> i64 {
        match self {
            Self::Alive => 0,
            Self::Suspect => 1,
            Self::Dead => 2,
            Self::Left => 3,
            Self::Other(v) => v,
        }
    }

    /// From the Go integer value.
    pub fn from_i64(v: i64) -> Self {
        match v {
            0 => Self::Alive,
            1 => Self::Suspect,
            2 => Self::Dead,
            3 => Self::Left,
            v => Self::Other(v),
        }
    }
}

/// One member in a push/pull exchange (`pushNodeState`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushNodeState {
    /// `Name`.
    pub name: String,
    /// `Addr`.
    pub addr: Option<Vec<u8>>,
    /// `Port`.
    pub port: u16,
    /// `Meta`.
    pub meta: Option<Vec<u8>>,
    /// `Incarnation`.
    pub incarnation: u32,
    /// `State`.
    pub state: NodeState,
    /// `Vsn`: `[pmin, pmax, pcur, dmin, dmax, dcur]`.
    pub vsn: Option<Vec<u8>>,
}

impl Body for PushNodeState {
    const NAME: &'static str = "pushNodeState";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 7);
        key(out, "Addr");
        write_opt_bytes(out, self.addr.as_deref());
        key(out, "Incarnation");
        write_uint(out, self.incarnation.into());
        key(out, "Meta");
        write_opt_bytes(out, self.meta.as_deref());
        key(out, "Name");
        write_raw(out, self.name.as_bytes());
        key(out, "Port");
        write_uint(out, self.port.into());
        key(out, "State");
        write_int(out, self.state.as_i64());
        key(out, "Vsn");
        write_opt_bytes(out, self.vsn.as_deref());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"Name" => m.name = r.read_string()?,
                b"Addr" => m.addr = r.read_opt_bytes()?,
                b"Port" => m.port = r.read_u16()?,
                b"Meta" => m.meta = r.read_opt_bytes()?,
                b"Incarnation" => m.incarnation = r.read_u32()?,
                b"State" => m.state = NodeState::from_i64(r.read_i64()?),
                b"Vsn" => m.vsn = r.read_opt_bytes()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

/// Header of a user message sent over a stream (`userMsgHeader`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserMsgHeader {
    /// `UserMsgLen`: bytes of the user message that follow.
    pub user_msg_len: i64,
}

impl Body for UserMsgHeader {
    const NAME: &'static str = "userMsgHeader";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 1);
        key(out, "UserMsgLen");
        write_int(out, self.user_msg_len);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"UserMsgLen" => m.user_msg_len = r.read_i64()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

/// The compress envelope's body (`compress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compress {
    /// `Algo`: 0 is LZW, the only one defined.
    pub algo: u8,
    /// `Buf`: the compressed bytes.
    pub buf: Option<Vec<u8>>,
}

impl Body for Compress {
    const NAME: &'static str = "compress";

    fn encode_body(&self, out: &mut Vec<u8>) {
        write_map_len(out, 2);
        key(out, "Algo");
        write_uint(out, self.algo.into());
        key(out, "Buf");
        write_opt_bytes(out, self.buf.as_deref());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut m = Self::default();
        read_struct(r, Self::NAME, |k, r| {
            match k {
                b"Algo" => m.algo = r.read_u8()?,
                b"Buf" => m.buf = r.read_opt_bytes()?,
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(m)
    }
}

impl Typed for Compress {
    const TYPE: MessageType = MessageType::Compress;
}

/// A message that travels in packets, after envelopes (compound, compress, CRC, label) are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `ping`.
    Ping(Ping),
    /// `indirectPingReq`.
    IndirectPing(IndirectPingReq),
    /// `ackResp`.
    Ack(AckResp),
    /// `nackResp`.
    Nack(NackResp),
    /// `suspect`.
    Suspect(Suspect),
    /// `alive`.
    Alive(Alive),
    /// `dead`.
    Dead(Dead),
    /// A user message: the raw delegate bytes after the `[8]` type byte.
    User(Vec<u8>),
}

impl Message {
    /// Decodes a message from its type byte and body.
    pub fn decode(raw: &[u8]) -> Result<Self, Error> {
        let (&t, body) = raw.split_first().ok_or(Error::Empty)?;
        let t = MessageType::try_from(t)?;
        Ok(match t {
            MessageType::Ping => Self::Ping(Ping::from_body_bytes(body)?),
            MessageType::IndirectPing => {
                Self::IndirectPing(IndirectPingReq::from_body_bytes(body)?)
            }
            MessageType::AckResp => Self::Ack(AckResp::from_body_bytes(body)?),
            MessageType::NackResp => Self::Nack(NackResp::from_body_bytes(body)?),
            MessageType::Suspect => Self::Suspect(Suspect::from_body_bytes(body)?),
            MessageType::Alive => Self::Alive(Alive::from_body_bytes(body)?),
            MessageType::Dead => Self::Dead(Dead::from_body_bytes(body)?),
            MessageType::User => Self::User(body.to_vec()),
            other => {
                return Err(Error::UnexpectedType {
                    found: other.name(),
                    context: "as a packet message",
                });
            }
        })
    }

    /// Encodes the type byte and body.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Ping(m) => m.encode(),
            Self::IndirectPing(m) => m.encode(),
            Self::Ack(m) => m.encode(),
            Self::Nack(m) => m.encode(),
            Self::Suspect(m) => m.encode(),
            Self::Alive(m) => m.encode(),
            Self::Dead(m) => m.encode(),
            Self::User(b) => {
                let mut out = Vec::with_capacity(1 + b.len());
                out.push(MessageType::User as u8);
                out.extend_from_slice(b);
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bytes_round_trip_and_unknown_is_an_error() {
        for b in (0u8..=13).chain([244]) {
            assert_eq!(MessageType::try_from(b).unwrap() as u8, b);
        }
        assert_eq!(MessageType::try_from(14), Err(Error::UnknownType(14)));
    }

    #[test]
    fn omitempty_fields_are_left_out() {
        let ping = Ping {
            seq_no: 1,
            node: "n".into(),
            ..Ping::default()
        };
        assert_eq!(ping.encode(), b"\x00\x82\xa4Node\xa1n\xa5SeqNo\x01");
    }

    #[test]
    fn field_errors_name_the_struct_and_field() {
        // alive{Port: 70000}
        let body = b"\x81\xa4Port\xce\x00\x01\x11\x70";
        let err = Alive::from_body_bytes(body).unwrap_err();
        assert_eq!(
            err.to_string(),
            "alive.Port: integer 70000 out of range for uint16"
        );
        let err = Message::decode(&[3, 0x92]).unwrap_err();
        assert!(
            err.to_string().starts_with("suspect: expected map"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let body = b"\x82\xa5Extra\x92\x01\xa1x\xa5SeqNo\x07";
        assert_eq!(NackResp::from_body_bytes(body).unwrap().seq_no, 7);
    }
}
