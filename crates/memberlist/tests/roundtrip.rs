//! Property-style round trips with a small deterministic generator (no proptest in the
//! workspace): every message type, compound framing, LZW, packets and streams.

use wk_memberlist::compound::{decode_compound, encode_compounds};
use wk_memberlist::compress::{lzw_compress, lzw_decompress};
use wk_memberlist::*;

/// xorshift64*: deterministic, so a failure reproduces from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    /// Integers biased towards msgpack width boundaries.
    fn u32(&mut self) -> u32 {
        const EDGES: [u32; 8] = [0, 1, 127, 128, 255, 256, 65535, 65536];
        match self.below(4) {
            0 => EDGES[self.below(8) as usize],
            1 => u32::MAX - self.below(3) as u32,
            _ => self.next() as u32,
        }
    }
    fn u16(&mut self) -> u16 {
        self.u32() as u16
    }
    fn len(&mut self) -> usize {
        match self.below(10) {
            0 => 0,
            1 => 31 + self.below(3) as usize,
            2 => 200 + self.below(400) as usize,
            _ => self.below(31) as usize,
        }
    }
    fn bytes(&mut self) -> Vec<u8> {
        let n = self.len();
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn opt_bytes(&mut self) -> Option<Vec<u8>> {
        if self.below(4) == 0 {
            None
        } else {
            Some(self.bytes())
        }
    }
    fn string(&mut self) -> String {
        const CHARS: [char; 6] = ['a', 'Z', '0', '-', 'é', '日'];
        let n = self.len();
        (0..n).map(|_| CHARS[self.below(6) as usize]).collect()
    }
}

fn random_message(r: &mut Rng) -> Message {
    match r.below(8) {
        0 => Message::Ping(Ping {
            seq_no: r.u32(),
            node: r.string(),
            source_addr: r.bytes(),
            source_port: r.u16(),
            source_node: r.string(),
        }),
        1 => Message::IndirectPing(IndirectPingReq {
            seq_no: r.u32(),
            target: r.opt_bytes(),
            port: r.u16(),
            node: r.string(),
            nack: r.bool(),
            source_addr: r.bytes(),
            source_port: r.u16(),
            source_node: r.string(),
        }),
        2 => Message::Ack(AckResp {
            seq_no: r.u32(),
            payload: r.opt_bytes(),
        }),
        3 => Message::Nack(NackResp { seq_no: r.u32() }),
        4 => Message::Suspect(Suspect {
            incarnation: r.u32(),
            node: r.string(),
            from: r.string(),
        }),
        5 => Message::Alive(Alive {
            incarnation: r.u32(),
            node: r.string(),
            addr: r.opt_bytes(),
            port: r.u16(),
            meta: r.opt_bytes(),
            vsn: r.opt_bytes(),
        }),
        6 => Message::Dead(Dead {
            incarnation: r.u32(),
            node: r.string(),
            from: r.string(),
        }),
        _ => Message::User(r.bytes()),
    }
}

fn random_node(r: &mut Rng) -> PushNodeState {
    PushNodeState {
        name: r.string(),
        addr: r.opt_bytes(),
        port: r.u16(),
        meta: r.opt_bytes(),
        incarnation: r.u32(),
        state: NodeState::from_i64(r.below(6) as i64 - 1),
        vsn: r.opt_bytes(),
    }
}

fn random_stream(r: &mut Rng) -> StreamMessage {
    match r.below(5) {
        0 | 1 => StreamMessage::PushPull(PushPull {
            join: r.bool(),
            nodes: (0..r.below(20)).map(|_| random_node(r)).collect(),
            user_state: r.bytes(),
        }),
        2 => StreamMessage::User(r.bytes()),
        3 => match random_message(r) {
            Message::Ping(p) => StreamMessage::Ping(p),
            Message::Ack(a) => StreamMessage::Ack(a),
            _ => StreamMessage::Err(ErrResp { error: r.string() }),
        },
        _ => StreamMessage::Err(ErrResp { error: r.string() }),
    }
}

#[test]
fn every_message_type_round_trips() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..5000 {
        let m = random_message(&mut r);
        let bytes = m.encode();
        assert_eq!(Message::decode(&bytes).as_ref(), Ok(&m), "case {case}");
    }
}

#[test]
fn compound_framing_round_trips() {
    let mut r = Rng(7);
    for case in 0..200 {
        let n = match r.below(4) {
            0 => 255 + r.below(3) as usize,
            1 => 500 + r.below(100) as usize,
            _ => 1 + r.below(40) as usize,
        };
        let parts: Vec<Vec<u8>> = (0..n).map(|_| r.bytes()).collect();
        let compounds = encode_compounds(&parts).unwrap();
        assert_eq!(compounds.len(), n.div_ceil(255), "case {case}");
        let mut back = Vec::new();
        for c in &compounds {
            let d = decode_compound(&c[1..]).unwrap();
            assert_eq!(d.truncated, 0);
            back.extend(d.parts.into_iter().map(<[u8]>::to_vec));
        }
        assert_eq!(back, parts, "case {case}");
    }
}

#[test]
fn lzw_round_trips() {
    let mut r = Rng(42);
    for case in 0..300 {
        let len = match r.below(4) {
            0 => r.below(20) as usize,
            1 => 20_000 + r.below(50_000) as usize, // past 4096 codes: table resets
            _ => r.below(3000) as usize,
        };
        let alphabet = 1 + r.below(256);
        let data: Vec<u8> = (0..len).map(|_| r.below(alphabet) as u8).collect();
        let c = lzw_compress(&data);
        assert_eq!(lzw_decompress(&c, usize::MAX).unwrap(), data, "case {case}");
    }
}

#[test]
fn packets_round_trip_through_every_wrapper() {
    let mut r = Rng(0xdead_beef);
    for case in 0..1000 {
        let msgs: Vec<Message> = (0..1 + r.below(5))
            .map(|_| random_message(&mut r))
            .collect();
        let label = if r.bool() { r.string() } else { String::new() };
        let label: String = label.chars().take(60).collect();
        let policy = LabelPolicy::new(label, false).unwrap();
        let opts = PacketOptions {
            compress: r.bool(),
            crc: r.bool(),
            label: policy.clone(),
        };
        let encoded: Vec<Vec<u8>> = msgs.iter().map(Message::encode).collect();
        let packets = build_packets(&encoded, &opts).unwrap();
        assert_eq!(packets.len(), 1);
        let parsed = parse_packet(&packets[0], &policy).unwrap();
        assert_eq!(parsed.had_crc, opts.crc, "case {case}");
        assert_eq!(parsed.decode_all().unwrap(), msgs, "case {case}");
    }
}

#[test]
fn streams_round_trip() {
    let mut r = Rng(99);
    for case in 0..500 {
        let msg = random_stream(&mut r);
        let label = LabelPolicy::new(if r.bool() { "cluster-a" } else { "" }, false).unwrap();
        let wire = msg.encode_dialer(&label);
        let (back, used) = StreamMessage::decode_accepted(&wire, &label).unwrap();
        assert_eq!((back, used), (msg.clone(), wire.len()), "case {case}");
        let plain = msg.encode_plain();
        assert_eq!(StreamMessage::decode(&plain).unwrap().0, msg, "case {case}");
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut r = Rng(5);
    let none = LabelPolicy::default();
    for _ in 0..20_000 {
        let mut b = r.bytes();
        if let Some(first) = b.first_mut() {
            *first %= 14;
        }
        let _ = parse_packet(&b, &none);
        let _ = StreamMessage::decode(&b);
        let _ = Message::decode(&b);
    }
}
