//! Decodes every packet and stream captured from Alertmanager 0.25 (tests/data/README.md),
//! checks fields, and re-encodes byte for byte (LZW included).

use std::path::PathBuf;

use wk_memberlist::compress::{compress_message, decompress_body};
use wk_memberlist::*;

const A: &str = "01M80D25CWG1EAZY5M9NCQJ3V4"; // 127.0.0.1:27194
const B: &str = "01M80D27C41P7K4AB525HHVYGD"; // 127.0.0.1:27195, killed with SIGKILL
const C: &str = "01M80D33CY00ED4HS529HXWAPA"; // 127.0.0.1:27196, stopped with SIGTERM
const VSN: [u8; 6] = [1, 5, 2, 0, 0, 0];
const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

fn data(path: &str) -> Vec<u8> {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", path]
        .iter()
        .collect();
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Parses a captured packet, checks it rebuilds byte for byte, and returns its messages.
fn packet(name: &str, crc: bool, compressed: bool) -> Vec<Message> {
    let raw = data(&format!("packets/{name}"));
    let parsed = parse_packet(&raw, &LabelPolicy::default()).unwrap();
    assert_eq!(parsed.had_crc, crc, "{name}: CRC");
    assert_eq!(parsed.truncated, 0);
    assert!(parsed.part_errors.is_empty(), "{:?}", parsed.part_errors);
    let start = if crc { 5 } else { 0 };
    assert_eq!(raw[start] == 9, compressed, "{name}: compressed");
    let msgs = parsed.decode_all().unwrap();
    // Every message re-encodes to the bytes Go wrote ...
    for (m, bytes) in msgs.iter().zip(&parsed.messages) {
        assert_eq!(&m.encode(), bytes, "{name}: {m:?}");
    }
    // ... and the whole packet rebuilds identically (compound, LZW, CRC).
    let encoded: Vec<Vec<u8>> = msgs.iter().map(Message::encode).collect();
    let opts = PacketOptions {
        compress: compressed,
        crc,
        label: LabelPolicy::default(),
    };
    assert_eq!(build_packets(&encoded, &opts).unwrap(), [raw], "{name}");
    msgs
}

fn ping(seq_no: u32, node: &str, port: u16, from: &str) -> Message {
    Message::Ping(Ping {
        seq_no,
        node: node.into(),
        source_addr: LOOPBACK.to_vec(),
        source_port: port,
        source_node: from.into(),
    })
}

fn alive(node: &str, port: u16, meta: Option<Vec<u8>>) -> Message {
    Message::Alive(Alive {
        incarnation: 1,
        node: node.into(),
        addr: Some(LOOPBACK.to_vec()),
        port,
        meta,
        vsn: Some(VSN.to_vec()),
    })
}

fn suspect(node: &str, from: &str) -> Message {
    Message::Suspect(Suspect {
        incarnation: 1,
        node: node.into(),
        from: from.into(),
    })
}

fn dead(node: &str, from: &str) -> Message {
    Message::Dead(Dead {
        incarnation: 1,
        node: node.into(),
        from: from.into(),
    })
}

fn ack(seq_no: u32) -> Message {
    Message::Ack(AckResp {
        seq_no,
        payload: Some(vec![]),
    })
}

#[test]
fn probes() {
    assert_eq!(packet("ping.bin", false, false), [ping(1, B, 27194, A)]);
    assert_eq!(packet("ack.bin", false, false), [ack(1)]);
    assert_eq!(
        packet("nack.bin", false, false),
        [Message::Nack(NackResp { seq_no: 25 })]
    );
    assert_eq!(
        packet("indirect-ping.bin", false, false),
        [Message::IndirectPing(IndirectPingReq {
            seq_no: 7,
            target: Some(LOOPBACK.to_vec()),
            port: 27195,
            node: B.into(),
            nack: true,
            source_addr: LOOPBACK.to_vec(),
            source_port: 27196,
            source_node: C.into(),
        })]
    );
}

#[test]
fn broadcasts_with_crc() {
    assert_eq!(
        packet("crc-alive.bin", true, false),
        [alive(C, 27196, None)]
    );
    assert_eq!(packet("crc-suspect.bin", true, false), [suspect(B, C)]);
    assert_eq!(packet("crc-dead.bin", true, false), [dead(B, A)]);
    assert_eq!(
        packet("crc-compound-alive-alive.bin", true, false),
        [alive(B, 27195, None), alive(A, 27194, Some(vec![]))]
    );
}

#[test]
fn compounds() {
    assert_eq!(
        packet("compound-nack-suspect.bin", false, false),
        [Message::Nack(NackResp { seq_no: 7 }), suspect(B, C)]
    );
    assert_eq!(
        packet("compound-ack-dead.bin", false, false),
        [ack(29), dead(B, C)]
    );
    assert_eq!(
        packet("compound-ping-suspect.bin", false, false),
        [ping(9, A, 27196, C), suspect(B, C)]
    );
}

#[test]
fn compressed_packets() {
    assert_eq!(
        packet("compressed-compound-ack-alive-alive-alive.bin", false, true),
        [
            ack(16),
            alive(B, 27195, None),
            alive(A, 27194, None),
            alive(C, 27196, Some(vec![]))
        ]
    );
    // C's graceful leave: a dead message about itself.
    assert_eq!(
        packet("compressed-compound-ping-dead.bin", false, true),
        [ping(19, A, 27196, C), dead(C, C)]
    );
    assert_eq!(
        packet("crc-compressed-compound-ping-suspect.bin", true, true),
        [ping(25, B, 27194, A), suspect(B, A)]
    );
    assert_eq!(
        packet("crc-compressed-compound-alive-alive-alive.bin", true, true),
        [
            alive(B, 27195, None),
            alive(A, 27194, None),
            alive(C, 27196, Some(vec![]))
        ]
    );
}

#[test]
fn gossiped_user_message() {
    let msgs = packet("crc-user.bin", true, false);
    let [Message::User(user)] = msgs.as_slice() else {
        panic!("{msgs:?}")
    };
    // clusterpb.Part{key: "sil", data: <MeshSilence>} carrying the small silence.
    assert!(user.starts_with(b"\x0a\x03sil\x12"));
    let needle = b"4acf551f-3ae7-44c3-a2da-808e3c0e66b0";
    assert!(user.windows(needle.len()).any(|w| w == needle));
}

/// Decodes a captured stream and checks it re-encodes byte for byte (LZW included).
fn stream(name: &str) -> StreamMessage {
    let raw = data(&format!("streams/{name}"));
    assert_eq!(raw[0], 9, "{name}: streams are always compressed");
    let (msg, used) = StreamMessage::decode_accepted(&raw, &LabelPolicy::default()).unwrap();
    assert_eq!(used, raw.len(), "{name}: one message per stream direction");
    assert_eq!(msg.encode(), raw, "{name}");
    // The LZW part alone is reproducible too.
    let plain = decompress_body(&raw[1..]).unwrap();
    assert_eq!(compress_message(&plain), raw);
    msg
}

fn node(name: &str, port: u16, meta: Option<Vec<u8>>) -> PushNodeState {
    PushNodeState {
        name: name.into(),
        addr: Some(LOOPBACK.to_vec()),
        port,
        meta,
        incarnation: 1,
        state: NodeState::Alive,
        vsn: Some(VSN.to_vec()),
    }
}

/// `clusterpb.FullState{parts: [{key: "nfl"}, {key: "sil"}]}` with both states empty.
const EMPTY_FULL_STATE: &[u8] = b"\x0a\x05\x0a\x03nfl\x0a\x05\x0a\x03sil";

#[test]
fn push_pull_join() {
    let StreamMessage::PushPull(req) = stream("pushpull-join-request.bin") else {
        panic!("not push/pull")
    };
    assert!(req.join);
    assert_eq!(req.nodes, [node(B, 27195, Some(vec![]))]);
    assert_eq!(req.user_state, EMPTY_FULL_STATE);
    let StreamMessage::PushPull(reply) = stream("pushpull-join-reply.bin") else {
        panic!("not push/pull")
    };
    assert!(reply.join, "the reply mirrors the request's Join flag");
    assert_eq!(reply.nodes, [node(A, 27194, Some(vec![]))]);
    assert_eq!(reply.user_state, EMPTY_FULL_STATE);
}

#[test]
fn push_pull_with_user_state() {
    let StreamMessage::PushPull(req) = stream("pushpull-state-request.bin") else {
        panic!("not push/pull")
    };
    assert!(!req.join);
    assert_eq!(
        req.nodes,
        [
            node(B, 27195, None),
            node(C, 27196, Some(vec![])),
            node(A, 27194, None)
        ]
    );
    assert_eq!(req.user_state.len(), 1170);
    assert!(req.user_state.starts_with(b"\x0a\x05\x0a\x03nfl\x0a"));
    let StreamMessage::PushPull(reply) = stream("pushpull-state-reply.bin") else {
        panic!("not push/pull")
    };
    assert_eq!(reply.nodes.len(), 3);
    assert_eq!(reply.nodes[2], node(A, 27194, Some(vec![])));
    assert_eq!(reply.user_state, req.user_state);
}

#[test]
fn reliable_user_message() {
    let StreamMessage::User(user) = stream("user-reliable.bin") else {
        panic!("not a user message")
    };
    // The oversized silence (> 700 bytes) goes by SendReliable.
    assert_eq!(user.len(), 1029);
    assert!(user.starts_with(b"\x0a\x03sil\x12"));
    let needle = b"0899a058-6242-4c7f-acfe-b13a50830720";
    assert!(user.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn labelled_packet_built_from_a_capture() {
    // Alertmanager 0.25 has no --cluster.label, so the label header is added here, per label.go.
    let raw = data("packets/crc-alive.bin");
    let prod = LabelPolicy::new("prod", false).unwrap();
    let labelled = prod.add_header(&raw);
    assert_eq!(&labelled[..6], b"\xf4\x04prod");
    let parsed = parse_packet(&labelled, &prod).unwrap();
    assert_eq!(parsed.decode_all().unwrap(), [alive(C, 27196, None)]);
    assert!(matches!(
        parse_packet(&labelled, &LabelPolicy::default()),
        Err(Error::LabelMismatch { .. })
    ));
    assert!(matches!(
        parse_packet(&raw, &prod),
        Err(Error::LabelMismatch { .. })
    ));
    let opts = PacketOptions {
        compress: false,
        crc: true,
        label: prod,
    };
    assert_eq!(
        build_packet(&alive(C, 27196, None).encode(), &opts),
        labelled
    );
}

#[test]
fn corrupted_capture_is_rejected_with_context() {
    let mut raw = data("packets/crc-alive.bin");
    let last = raw.len() - 1;
    raw[last] ^= 0xff;
    let err = parse_packet(&raw, &LabelPolicy::default()).unwrap_err();
    assert!(err.to_string().starts_with("CRC mismatch"), "{err}");
    let mut ping = data("packets/ping.bin");
    ping.truncate(40);
    let err = Message::decode(&ping).unwrap_err();
    assert!(err.to_string().starts_with("ping.SeqNo"), "{err}");
}
