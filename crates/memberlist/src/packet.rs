//! UDP packets: building (message or compound → compress if smaller → CRC → label) and the
//! reverse parse into the messages they carry.

use crate::compound::{decode_compound, encode_compounds};
use crate::compress::{compress_message, decompress_body};
use crate::error::Error;
use crate::label::LabelPolicy;
use crate::messages::{Message, MessageType};

/// Deepest nesting of compound/compress envelopes we unwrap (Go sets no bound; real traffic uses 2).
pub const MAX_ENVELOPE_DEPTH: usize = 4;

/// How outgoing packets are wrapped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketOptions {
    /// Compress when that makes the packet smaller (`EnableCompression`, on in Alertmanager).
    pub compress: bool,
    /// Add the CRC header (Go does when it knows the recipient speaks protocol 5 or later).
    pub crc: bool,
    /// The label header to prefix.
    pub label: LabelPolicy,
}

/// Wraps one message (type byte included), or an already built compound, into a packet.
pub fn build_packet(msg: &[u8], opts: &PacketOptions) -> Vec<u8> {
    let mut body = msg.to_vec();
    if opts.compress {
        let compressed = compress_message(&body);
        if compressed.len() < body.len() {
            body = compressed;
        }
    }
    if opts.crc {
        let crc = crc32fast::hash(&body);
        let mut with_crc = Vec::with_capacity(5 + body.len());
        with_crc.push(MessageType::HasCrc as u8);
        with_crc.extend_from_slice(&crc.to_be_bytes());
        with_crc.extend_from_slice(&body);
        body = with_crc;
    }
    opts.label.add_header(&body)
}

/// Packs messages into packets: one message alone, several as compounds of at most 255 parts.
pub fn build_packets<P: AsRef<[u8]>>(
    msgs: &[P],
    opts: &PacketOptions,
) -> Result<Vec<Vec<u8>>, Error> {
    match msgs {
        [] => Ok(Vec::new()),
        [one] => Ok(vec![build_packet(one.as_ref(), opts)]),
        many => Ok(encode_compounds(many)?
            .iter()
            .map(|c| build_packet(c, opts))
            .collect()),
    }
}

/// What an inbound packet carried, envelopes removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedPacket {
    /// Whether a valid CRC header was present.
    pub had_crc: bool,
    /// The messages, each as type byte plus body, in order (decode with [`Message::decode`]).
    pub messages: Vec<Vec<u8>>,
    /// Compound parts announced but cut off.
    pub truncated: usize,
    /// Errors in individual compound parts; the other parts are still delivered, as in Go.
    pub part_errors: Vec<Error>,
}

impl ParsedPacket {
    /// Decodes every message, stopping at the first that fails.
    pub fn decode_all(&self) -> Result<Vec<Message>, Error> {
        self.messages.iter().map(|m| Message::decode(m)).collect()
    }
}

/// Parses an inbound packet: label check, CRC check, then compound/compress unwrapping.
pub fn parse_packet(buf: &[u8], label: &LabelPolicy) -> Result<ParsedPacket, Error> {
    let mut buf = label.check(buf)?;
    let mut parsed = ParsedPacket::default();
    if buf.first() == Some(&(MessageType::HasCrc as u8)) {
        let (header, rest) = buf
            .split_at_checked(5)
            .ok_or(Error::CrcTruncated(buf.len()))?;
        let expected = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let actual = crc32fast::hash(rest);
        if expected != actual {
            return Err(Error::CrcMismatch { expected, actual });
        }
        parsed.had_crc = true;
        buf = rest;
    }
    if buf.first() == Some(&(MessageType::Encrypt as u8)) {
        return Err(Error::Encrypted);
    }
    unwrap_into(buf, 0, &mut parsed)?;
    Ok(parsed)
}

fn unwrap_into(buf: &[u8], depth: usize, out: &mut ParsedPacket) -> Result<(), Error> {
    if depth > MAX_ENVELOPE_DEPTH {
        return Err(Error::TooDeep(MAX_ENVELOPE_DEPTH));
    }
    let (&t, body) = buf.split_first().ok_or(Error::Empty)?;
    match MessageType::try_from(t)? {
        MessageType::Compound => {
            let parts = decode_compound(body)?;
            out.truncated += parts.truncated;
            for part in parts.parts {
                if let Err(e) = unwrap_into(part, depth + 1, out) {
                    out.part_errors.push(e);
                }
            }
        }
        MessageType::Compress => {
            let inner = decompress_body(body)?;
            unwrap_into(&inner, depth + 1, out)?;
        }
        MessageType::Ping
        | MessageType::IndirectPing
        | MessageType::AckResp
        | MessageType::NackResp
        | MessageType::Suspect
        | MessageType::Alive
        | MessageType::Dead
        | MessageType::User => out.messages.push(buf.to_vec()),
        other => {
            return Err(Error::UnexpectedType {
                found: other.name(),
                context: "in a packet",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{NackResp, Typed};

    fn opts(compress: bool, crc: bool, label: &str) -> PacketOptions {
        PacketOptions {
            compress,
            crc,
            label: LabelPolicy::new(label, false).unwrap(),
        }
    }

    #[test]
    fn build_order_is_compress_crc_label() {
        let msg = [vec![8u8], vec![b'a'; 200]].concat();
        let p = build_packet(&msg, &opts(true, true, "lab"));
        assert_eq!(&p[..6], b"\xf4\x03lab\x0c");
        assert_eq!(p[10], MessageType::Compress as u8);
        let parsed = parse_packet(&p, &LabelPolicy::new("lab", false).unwrap()).unwrap();
        assert!(parsed.had_crc);
        assert_eq!(parsed.messages, [msg]);
    }

    #[test]
    fn compression_only_when_smaller() {
        let msg = NackResp { seq_no: 1 }.encode();
        assert_eq!(build_packet(&msg, &opts(true, false, "")), msg);
    }

    #[test]
    fn crc_errors() {
        let mut p = build_packet(&NackResp { seq_no: 1 }.encode(), &opts(false, true, ""));
        let last = p.len() - 1;
        p[last] ^= 1;
        let none = LabelPolicy::default();
        assert!(matches!(
            parse_packet(&p, &none),
            Err(Error::CrcMismatch { .. })
        ));
        assert_eq!(
            parse_packet(&[12, 0, 0], &none),
            Err(Error::CrcTruncated(3))
        );
    }

    #[test]
    fn bad_parts_do_not_hide_good_ones() {
        let good = NackResp { seq_no: 3 }.encode();
        let c =
            crate::compound::encode_compound(&[&good[..], &[6u8][..], &[9u8, 0xc1][..]]).unwrap();
        let parsed = parse_packet(&c, &LabelPolicy::default()).unwrap();
        assert_eq!(parsed.messages, [good]);
        assert_eq!(parsed.part_errors.len(), 2);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut m = NackResp { seq_no: 1 }.encode();
        for _ in 0..=MAX_ENVELOPE_DEPTH {
            m = crate::compound::encode_compound(&[m]).unwrap();
        }
        let parsed = parse_packet(&m, &LabelPolicy::default()).unwrap();
        assert_eq!(parsed.part_errors, [Error::TooDeep(MAX_ENVELOPE_DEPTH)]);
    }
}
