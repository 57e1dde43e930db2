//! Varint-length-delimited message streams, as written by Go's `pbutil.WriteDelimited` and
//! `protodelim`: each message is preceded by its length as an unsigned LEB128 varint, and the
//! records are simply concatenated. This is the format of Alertmanager's `nflog` and `silences`
//! snapshot files, of gossip deltas and of every `Part.data`.

use prost::Message;

use super::ProtoError;

/// Encodes each message with a varint length prefix and concatenates the records.
pub fn encode_delimited<M: Message>(msgs: &[M]) -> Vec<u8> {
    let mut buf = Vec::new();
    for msg in msgs {
        encode_delimited_into(msg, &mut buf);
    }
    buf
}

/// Appends one length-prefixed message to `buf`.
pub fn encode_delimited_into<M: Message>(msg: &M, buf: &mut Vec<u8>) {
    buf.extend_from_slice(&msg.encode_length_delimited_to_vec());
}

/// Decodes a stream of length-prefixed messages; an empty stream gives no messages.
///
/// Never panics: any malformed input is reported with the byte offset of the faulty record.
pub fn decode_delimited<M: Message + Default>(bytes: &[u8]) -> Result<Vec<M>, ProtoError> {
    let mut msgs = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let (len, prefix_len) = read_uvarint(&bytes[offset..], offset)?;
        let start = offset + prefix_len;
        let available = bytes.len() - start;
        let len = match usize::try_from(len) {
            Ok(len) if len <= available => len,
            _ => {
                return Err(ProtoError::LengthPastEnd {
                    offset,
                    len,
                    available,
                });
            }
        };
        let msg =
            M::decode(&bytes[start..start + len]).map_err(|source| ProtoError::InvalidMessage {
                offset,
                len,
                source,
            })?;
        msgs.push(msg);
        offset = start + len;
    }
    Ok(msgs)
}

/// Reads an unsigned LEB128 varint (at most 10 bytes, like Go's `binary.Uvarint`).
///
/// Returns the value and the number of bytes it occupied; `offset` is only used in errors.
fn read_uvarint(bytes: &[u8], offset: usize) -> Result<(u64, usize), ProtoError> {
    let mut value: u64 = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if i == 9 && byte > 1 {
            return Err(ProtoError::MalformedLength { offset });
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok((value, i + 1));
        }
        if i == 9 {
            return Err(ProtoError::MalformedLength { offset });
        }
    }
    Err(ProtoError::TruncatedLength { offset })
}
