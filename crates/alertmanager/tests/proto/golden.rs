//! Golden encodings written out by hand from the protobuf wire rules
//! (tag byte = field << 3 | wire type; 0 = varint, 2 = length-delimited; packed repeated scalars
//! are one length-delimited field). Go's marshallers emit fields in ascending number order and
//! skip proto3 defaults, as prost does, so these are the bytes Alertmanager produces.

use std::collections::BTreeMap;

use wk_alertmanager::proto::cluster::{FullState, MemberlistMessage, Part, memberlist_message};
use wk_alertmanager::proto::nflog::receiver_data_value::Value;
use wk_alertmanager::proto::nflog::{Entry, MeshEntry, Receiver, ReceiverDataValue};
use wk_alertmanager::proto::silence::matcher::Type;
use wk_alertmanager::proto::silence::{Comment, Matcher, MatcherSet, MeshSilence, Silence};
use wk_alertmanager::proto::{Message, Timestamp, decode_delimited, encode_delimited};

/// Concatenates hand-written byte pieces.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn ts(seconds: i64, nanos: i32) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos })
}

/// Asserts `value` encodes to `golden`, decodes back from it, and survives the delimited stream.
fn check<M: Message + Default + PartialEq + std::fmt::Debug + Clone>(value: &M, golden: &[u8]) {
    assert_eq!(
        value.encode_to_vec(),
        golden,
        "encoding differs from golden bytes"
    );
    assert_eq!(&M::decode(golden).expect("golden bytes decode"), value);
    let len = u8::try_from(golden.len()).expect("golden messages are shorter than 128 bytes");
    assert!(len < 0x80, "single-byte length prefix expected");
    let stream = cat(&[&[len], golden, &[len], golden]);
    assert_eq!(encode_delimited(&[value.clone(), value.clone()]), stream);
    assert_eq!(
        decode_delimited::<M>(&stream).expect("stream decodes"),
        vec![value.clone(); 2]
    );
}

fn mesh_entry() -> MeshEntry {
    MeshEntry {
        entry: Some(Entry {
            group_key: br#"{}:{a="1"}"#.to_vec(),
            receiver: Some(Receiver {
                group_name: "team".into(),
                integration: "webhook".into(),
                idx: 2,
            }),
            group_hash: vec![0xde, 0xad],
            resolved: true,
            timestamp: ts(1_700_000_000, 5),
            firing_alerts: vec![1, 300, u64::MAX],
            resolved_alerts: vec![7],
            receiver_data: BTreeMap::new(),
        }),
        expires_at: ts(1_700_432_000, 0),
    }
}

#[test]
fn mesh_entry_golden() {
    let receiver = cat(&[b"\x0a\x04team", b"\x12\x07webhook", b"\x18\x02"]); // 17 bytes
    let timestamp = cat(&[b"\x08\x80\xe2\xcf\xaa\x06", b"\x10\x05"]); // 1700000000 s, 5 ns
    let entry = cat(&[
        b"\x0a\x0a{}:{a=\"1\"}",
        b"\x12\x11",
        &receiver,
        b"\x1a\x02\xde\xad",
        b"\x20\x01",
        b"\x2a\x08",
        &timestamp,
        // packed [1, 300, u64::MAX]: 1 + 2 + 10 bytes
        b"\x32\x0d\x01\xac\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        b"\x3a\x01\x07",
    ]);
    assert_eq!(entry.len(), 0x41);
    let golden = cat(&[b"\x0a\x41", &entry, b"\x12\x06\x08\x80\x91\xea\xaa\x06"]);
    check(&mesh_entry(), &golden);
}

#[test]
fn receiver_data_golden() {
    let mut entry = Entry::default();
    entry.receiver_data.insert(
        "k".into(),
        ReceiverDataValue {
            value: Some(Value::IntVal(-1)),
        },
    );
    // map entry {1: "k", 2: {2: int64 -1 (ten-byte varint)}}
    let golden = cat(&[
        b"\x42\x10\x0a\x01k\x12\x0b\x10",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    ]);
    check(&entry, &golden);
}

fn mesh_silence() -> MeshSilence {
    let eq = Matcher {
        r#type: Type::Equal.into(),
        name: "a".into(),
        pattern: "1".into(),
    };
    let not_re = Matcher {
        r#type: Type::NotRegexp.into(),
        name: "b".into(),
        pattern: "x.*".into(),
    };
    let recv = Matcher {
        r#type: Type::Regexp.into(),
        name: "receiver".into(),
        pattern: "r".into(),
    };
    MeshSilence {
        silence: Some(Silence {
            id: "s1".into(),
            matchers: vec![eq.clone(), not_re],
            starts_at: ts(1_893_456_000, 0),
            ends_at: ts(1_893_542_400, 0),
            updated_at: ts(1_893_459_600, 123_456_789),
            comments: vec![Comment {
                author: "al".into(),
                comment: "hi".into(),
                timestamp: ts(1_893_456_000, 0),
            }],
            created_by: "me".into(),
            comment: "why".into(),
            annotations: BTreeMap::from([("k".into(), "v".into())]),
            matcher_sets: vec![MatcherSet { matchers: vec![eq] }],
            receiver_matcher_sets: vec![MatcherSet {
                matchers: vec![recv],
            }],
        }),
        expires_at: ts(1_893_974_400, 0),
    }
}

#[test]
fn mesh_silence_golden() {
    let eq = b"\x12\x01a\x1a\x01\x31"; // type EQUAL is the default, so absent
    let not_re = b"\x08\x03\x12\x01b\x1a\x03x.*";
    let recv = b"\x08\x01\x12\x08receiver\x1a\x01r";
    let silence = cat(&[
        b"\x0a\x02s1",
        b"\x12\x06",
        eq,
        b"\x12\x0a",
        not_re,
        b"\x1a\x06\x08\x80\xb1\xef\x86\x07", // 2030-01-01T00:00:00Z
        b"\x22\x06\x08\x80\xd4\xf4\x86\x07", // 2030-01-02T00:00:00Z
        b"\x2a\x0b\x08\x90\xcd\xef\x86\x07\x10\x95\x9a\xef\x3a", // 01:00:00.123456789
        b"\x3a\x10\x0a\x02al\x12\x02hi\x1a\x06\x08\x80\xb1\xef\x86\x07",
        b"\x42\x02me",
        b"\x4a\x03why",
        b"\x52\x06\x0a\x01k\x12\x01v",
        b"\x5a\x08\x0a\x06",
        eq,
        b"\x62\x11\x0a\x0f",
        recv,
    ]);
    assert_eq!(silence.len(), 0x75);
    let golden = cat(&[b"\x0a\x75", &silence, b"\x12\x06\x08\x80\x83\x8f\x87\x07"]);
    check(&mesh_silence(), &golden);
}

#[test]
fn part_golden() {
    let part = Part {
        key: "sil".into(),
        data: vec![0x01, 0x02],
    };
    check(&part, b"\x0a\x03sil\x12\x02\x01\x02");
}

#[test]
fn full_state_golden() {
    let state = FullState {
        parts: vec![
            Part {
                key: "nfl".into(),
                data: vec![0xaa],
            },
            Part {
                key: "sil".into(),
                data: vec![0x01, 0x02],
            },
        ],
    };
    let golden = cat(&[
        b"\x0a\x08\x0a\x03nfl\x12\x01\xaa",
        b"\x0a\x09\x0a\x03sil\x12\x02\x01\x02",
    ]);
    check(&state, &golden);
}

#[test]
fn memberlist_message_golden() {
    let msg = MemberlistMessage {
        version: "v0.1.0".into(),
        kind: memberlist_message::Kind::Packet.into(),
        from_addr: "10.0.0.1:9094".into(),
        msg: vec![0x00, 0xff],
    };
    let golden = cat(&[
        b"\x0a\x06v0.1.0",
        b"\x10\x01",
        b"\x1a\x0d10.0.0.1:9094",
        b"\x22\x02\x00\xff",
    ]);
    check(&msg, &golden);
}

#[test]
fn enum_numbers_match_upstream() {
    assert_eq!(Type::Equal as i32, 0);
    assert_eq!(Type::Regexp as i32, 1);
    assert_eq!(Type::NotEqual as i32, 2);
    assert_eq!(Type::NotRegexp as i32, 3);
    assert_eq!(memberlist_message::Kind::Stream as i32, 0);
    assert_eq!(memberlist_message::Kind::Packet as i32, 1);
}

#[test]
fn empty_messages_encode_to_nothing() {
    assert!(MeshEntry::default().encode_to_vec().is_empty());
    assert!(MeshSilence::default().encode_to_vec().is_empty());
    assert_eq!(encode_delimited(&[MeshEntry::default()]), [0x00]);
    let decoded = decode_delimited::<MeshEntry>(&[0x00]).expect("zero-length record");
    assert_eq!(decoded, vec![MeshEntry::default()]);
}
