//! Error reporting of `decode_delimited`, and a deterministic fuzz pass: no input may panic.

use wk_alertmanager::proto::cluster::{FullState, Part};
use wk_alertmanager::proto::nflog::MeshEntry;
use wk_alertmanager::proto::silence::MeshSilence;
use wk_alertmanager::proto::{ProtoError, decode_delimited, encode_delimited};

const SILENCES: &[u8] = include_bytes!("../data/proto/silences.snapshot");
const NFLOG: &[u8] = include_bytes!("../data/proto/nflog.snapshot");

#[test]
fn empty_stream_is_empty_state() {
    assert!(
        decode_delimited::<MeshSilence>(&[])
            .expect("empty is valid")
            .is_empty()
    );
    assert!(encode_delimited::<MeshSilence>(&[]).is_empty());
}

#[test]
fn truncated_length_prefix() {
    let err = decode_delimited::<Part>(&[0x80, 0x80]).expect_err("prefix never ends");
    assert!(
        matches!(err, ProtoError::TruncatedLength { offset: 0 }),
        "{err}"
    );
}

#[test]
fn overlong_length_prefix() {
    let err = decode_delimited::<Part>(&[0xff; 11]).expect_err("varint over 10 bytes");
    assert!(
        matches!(err, ProtoError::MalformedLength { offset: 0 }),
        "{err}"
    );
    // A 10th byte above 1 overflows 64 bits.
    let mut bytes = vec![0xff; 9];
    bytes.push(0x02);
    let err = decode_delimited::<Part>(&bytes).expect_err("overflow");
    assert!(
        matches!(err, ProtoError::MalformedLength { offset: 0 }),
        "{err}"
    );
}

#[test]
fn length_past_end_reports_the_record_offset() {
    let mut bytes = encode_delimited(&[Part {
        key: "k".into(),
        data: vec![],
    }]);
    let second = bytes.len();
    bytes.extend_from_slice(&[0x05, 0x0a, 0x00]);
    let err = decode_delimited::<Part>(&bytes).expect_err("declares 5, has 2");
    let ProtoError::LengthPastEnd {
        offset,
        len,
        available,
    } = err
    else {
        panic!("unexpected error {err}");
    };
    assert_eq!((offset, len, available), (second, 5, 2));
    // The largest possible length must not overflow anything.
    let mut huge = vec![0xff; 9];
    huge.push(0x01);
    let err = decode_delimited::<Part>(&huge).expect_err("u64::MAX bytes");
    assert!(
        matches!(err, ProtoError::LengthPastEnd { len: u64::MAX, .. }),
        "{err}"
    );
}

#[test]
fn invalid_message_bytes() {
    // Field 1 (string) with wire type 0 (varint) is a type mismatch; then a bad tag.
    for body in [&[0x08, 0x01][..], &[0xff][..], &[0x0a, 0x05, b'a'][..]] {
        let mut bytes = vec![0x00];
        bytes.push(u8::try_from(body.len()).expect("short"));
        bytes.extend_from_slice(body);
        let err = decode_delimited::<Part>(&bytes).expect_err("invalid Part");
        let ProtoError::InvalidMessage { offset, len, .. } = &err else {
            panic!("unexpected error {err}");
        };
        assert_eq!((*offset, *len), (1, body.len()));
        assert!(err.to_string().contains("at byte 1"), "{err}");
    }
}

#[test]
fn every_truncation_of_a_real_snapshot_is_rejected_or_whole() {
    // The first record has a two-byte prefix (0x94 0x01 = 148) and 148 bytes of message.
    let first = usize::from(SILENCES[0] & 0x7f) + 128 * usize::from(SILENCES[1]) + 2;
    assert_eq!(first, 150);
    let boundaries = [0, first, SILENCES.len()];
    for cut in 0..=SILENCES.len() {
        let result = decode_delimited::<MeshSilence>(&SILENCES[..cut]);
        assert_eq!(
            result.is_ok(),
            boundaries.contains(&cut),
            "cut at {cut}: {result:?}"
        );
    }
}

/// A small xorshift generator, so the fuzz inputs are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }
}

fn decode_all(bytes: &[u8]) {
    let _ = decode_delimited::<MeshSilence>(bytes);
    let _ = decode_delimited::<MeshEntry>(bytes);
    let _ = decode_delimited::<FullState>(bytes);
    let _ = decode_delimited::<Part>(bytes);
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5_000 {
        let len = usize::from(rng.byte() % 96);
        let bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        decode_all(&bytes);
    }
    // Flip bits in and overwrite bytes of real snapshots, so most records stay plausible.
    for snapshot in [SILENCES, NFLOG] {
        for _ in 0..3_000 {
            let mut bytes = snapshot.to_vec();
            for _ in 0..1 + rng.byte() % 4 {
                let at = (rng.next() % snapshot.len() as u64) as usize;
                bytes[at] = if rng.byte().is_multiple_of(2) {
                    bytes[at] ^ (1 << (rng.byte() % 8))
                } else {
                    rng.byte()
                };
            }
            decode_all(&bytes);
        }
    }
}
