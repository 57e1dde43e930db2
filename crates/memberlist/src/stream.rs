//! TCP stream framing: push/pull (`[6] header nodeState×N userState`), reliable user messages
//! (`[8] userMsgHeader raw bytes`), the TCP fallback ping/ack and `errResp`, each sent as one
//! compress envelope (Go always compresses streams). Only the dialing side writes a label header.

use crate::compress::decompress;
use crate::error::Error;
use crate::label::LabelPolicy;
use crate::messages::{
    AckResp, Body, Compress, ErrResp, MessageType, Ping, PushNodeState, PushPullHeader, Typed,
    UserMsgHeader,
};
use crate::msgpack::Reader;

/// Most delegate state accepted in a push/pull (`maxPushStateBytes`).
pub const MAX_PUSH_STATE_BYTES: usize = 20 * 1024 * 1024;
/// Most node states accepted in a push/pull (`maxPushStateNodes`).
pub const MAX_PUSH_STATE_NODES: usize = 1024 * 1024;
/// Largest user message accepted from a stream (`maxUserMsgBytes`).
pub const MAX_USER_MSG_BYTES: usize = 20 * 1024 * 1024;

/// A full-state exchange: our members and the delegate's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushPull {
    /// A join rather than a periodic anti-entropy run.
    pub join: bool,
    /// Every member we know, dead and left ones included.
    pub nodes: Vec<PushNodeState>,
    /// The delegate's `LocalState` (empty for none).
    pub user_state: Vec<u8>,
}

/// One message on a stream connection (each direction carries one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamMessage {
    /// Push/pull state.
    PushPull(PushPull),
    /// A reliable user message (`SendReliable`).
    User(Vec<u8>),
    /// TCP fallback ping.
    Ping(Ping),
    /// Answer to a TCP ping.
    Ack(AckResp),
    /// An error relayed by the remote end.
    Err(ErrResp),
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl StreamMessage {
    /// The uncompressed message: type byte, msgpack header(s), raw trailing bytes.
    pub fn encode_plain(&self) -> Vec<u8> {
        match self {
            Self::PushPull(pp) => {
                let mut out = vec![MessageType::PushPull as u8];
                PushPullHeader {
                    nodes: len_i64(pp.nodes.len()),
                    user_state_len: len_i64(pp.user_state.len()),
                    join: pp.join,
                }
                .encode_body(&mut out);
                for node in &pp.nodes {
                    node.encode_body(&mut out);
                }
                out.extend_from_slice(&pp.user_state);
                out
            }
            Self::User(msg) => {
                let mut out = vec![MessageType::User as u8];
                UserMsgHeader {
                    user_msg_len: len_i64(msg.len()),
                }
                .encode_body(&mut out);
                out.extend_from_slice(msg);
                out
            }
            Self::Ping(m) => m.encode(),
            Self::Ack(m) => m.encode(),
            Self::Err(m) => m.encode(),
        }
    }

    /// The bytes Go writes on the wire: the compress envelope around [`Self::encode_plain`].
    pub fn encode(&self) -> Vec<u8> {
        crate::compress::compress_message(&self.encode_plain())
    }

    /// The bytes a dialer writes: label header (if any), then [`Self::encode`].
    pub fn encode_dialer(&self, label: &LabelPolicy) -> Vec<u8> {
        label.add_header(&self.encode())
    }

    /// Decodes one message from the start of a stream (compressed or not), returning it and
    /// the number of bytes it took.
    pub fn decode(buf: &[u8]) -> Result<(Self, usize), Error> {
        let (&t, _) = buf.split_first().ok_or(Error::Empty)?;
        match MessageType::try_from(t)? {
            MessageType::Compress => {
                let mut r = Reader::new(&buf[1..]);
                let c = Compress::decode_body(&mut r)?;
                let (msg, _) = Self::decode_plain(&decompress(&c)?)?;
                Ok((msg, 1 + r.position()))
            }
            MessageType::Encrypt => Err(Error::Encrypted),
            _ => Self::decode_plain(buf),
        }
    }

    /// Decodes a stream read by the accepting side: label check, then [`Self::decode`].
    pub fn decode_accepted(buf: &[u8], label: &LabelPolicy) -> Result<(Self, usize), Error> {
        let rest = label.check(buf)?;
        let header = buf.len() - rest.len();
        let (msg, used) = Self::decode(rest)?;
        Ok((msg, header + used))
    }

    fn decode_plain(buf: &[u8]) -> Result<(Self, usize), Error> {
        let (&t, body) = buf.split_first().ok_or(Error::Empty)?;
        let mut r = Reader::new(body);
        let msg = match MessageType::try_from(t)? {
            MessageType::PushPull => Self::PushPull(decode_push_pull(&mut r)?),
            MessageType::User => {
                let header = UserMsgHeader::decode_body(&mut r)?;
                let len = checked_len(
                    "user message length",
                    header.user_msg_len,
                    MAX_USER_MSG_BYTES,
                )?;
                Self::User(take(&mut r, "user message", len)?.to_vec())
            }
            MessageType::Ping => Self::Ping(Ping::decode_body(&mut r)?),
            MessageType::AckResp => Self::Ack(AckResp::decode_body(&mut r)?),
            MessageType::Err => Self::Err(ErrResp::decode_body(&mut r)?),
            other => {
                return Err(Error::UnexpectedType {
                    found: other.name(),
                    context: "on a stream",
                });
            }
        };
        Ok((msg, 1 + r.position()))
    }
}

fn checked_len(what: &'static str, value: i64, limit: usize) -> Result<usize, Error> {
    usize::try_from(value)
        .ok()
        .filter(|v| *v <= limit)
        .ok_or(Error::LimitExceeded { what, value, limit })
}

fn take<'a>(r: &mut Reader<'a>, what: &'static str, len: usize) -> Result<&'a [u8], Error> {
    let available = r.remaining().len();
    r.take(len).map_err(|_| Error::StreamTruncated {
        what,
        needed: len,
        available,
    })
}

fn decode_push_pull(r: &mut Reader<'_>) -> Result<PushPull, Error> {
    let header = PushPullHeader::decode_body(r)?;
    let count = checked_len(
        "number of nodes in header",
        header.nodes,
        MAX_PUSH_STATE_NODES,
    )?;
    let mut nodes = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        nodes.push(PushNodeState::decode_body(r)?);
    }
    let len = checked_len(
        "user state length",
        header.user_state_len,
        MAX_PUSH_STATE_BYTES,
    )?;
    let user_state = take(r, "user state", len)?.to_vec();
    Ok(PushPull {
        join: header.join,
        nodes,
        user_state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::NodeState;

    fn sample() -> PushPull {
        PushPull {
            join: true,
            nodes: vec![PushNodeState {
                name: "a".into(),
                addr: Some(vec![127, 0, 0, 1]),
                port: 9094,
                meta: None,
                incarnation: 3,
                state: NodeState::Suspect,
                vsn: Some(vec![1, 5, 2, 0, 0, 0]),
            }],
            user_state: b"state".to_vec(),
        }
    }

    #[test]
    fn push_pull_round_trip_compressed_and_plain() {
        let msg = StreamMessage::PushPull(sample());
        let wire = msg.encode();
        assert_eq!(wire[0], MessageType::Compress as u8);
        assert_eq!(
            StreamMessage::decode(&wire).unwrap(),
            (msg.clone(), wire.len())
        );
        let plain = msg.encode_plain();
        assert_eq!(StreamMessage::decode(&plain).unwrap(), (msg, plain.len()));
    }

    #[test]
    fn dialer_label_and_accept_check() {
        let label = LabelPolicy::new("x", false).unwrap();
        let wire = StreamMessage::User(b"hi".to_vec()).encode_dialer(&label);
        assert_eq!(&wire[..3], b"\xf4\x01x");
        let (msg, used) = StreamMessage::decode_accepted(&wire, &label).unwrap();
        assert_eq!(
            (msg, used),
            (StreamMessage::User(b"hi".to_vec()), wire.len())
        );
        assert!(StreamMessage::decode_accepted(&wire, &LabelPolicy::default()).is_err());
    }

    #[test]
    fn limits_and_truncation() {
        let mut plain = StreamMessage::User(b"hello".to_vec()).encode_plain();
        plain.truncate(plain.len() - 1);
        assert_eq!(
            StreamMessage::decode(&plain).unwrap_err().to_string(),
            "user message: truncated, 5 bytes announced, 4 available"
        );
        let mut neg = vec![MessageType::PushPull as u8];
        PushPullHeader {
            nodes: -1,
            user_state_len: 0,
            join: false,
        }
        .encode_body(&mut neg);
        assert!(matches!(
            StreamMessage::decode(&neg),
            Err(Error::LimitExceeded { value: -1, .. })
        ));
        let mut big = vec![MessageType::User as u8];
        UserMsgHeader {
            user_msg_len: (MAX_USER_MSG_BYTES + 1) as i64,
        }
        .encode_body(&mut big);
        assert!(matches!(
            StreamMessage::decode(&big),
            Err(Error::LimitExceeded { .. })
        ));
        assert!(matches!(
            StreamMessage::decode(&[MessageType::Alive as u8, 0x80]),
            Err(Error::UnexpectedType { .. })
        ));
    }
}
