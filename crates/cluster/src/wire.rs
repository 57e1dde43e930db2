//! The envelopes Alertmanager's cluster package gossips (`clusterpb`): a [`Part`] is one state's
//! update or full state under its key; a [`FullState`] holds every state's part in a push/pull.

/// `clusterpb.Part`: `key` names the state (`nfl`, `silences:1`, ...), `data` is its bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Part {
    /// The state's key.
    #[prost(string, tag = "1")]
    pub key: String,
    /// The update or full state.
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
}

/// `clusterpb.FullState`: every registered state, sent in push/pull exchanges.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FullState {
    /// One part per state.
    #[prost(message, repeated, tag = "1")]
    pub parts: Vec<Part>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn part_encodes_as_upstream() {
        let p = Part {
            key: "sil".into(),
            data: vec![1, 2],
        };
        assert_eq!(p.encode_to_vec(), b"\x0a\x03sil\x12\x02\x01\x02");
        let f = FullState {
            parts: vec![p.clone()],
        };
        let bytes = f.encode_to_vec();
        assert_eq!(bytes[0], 0x0a);
        assert_eq!(FullState::decode(bytes.as_slice()).unwrap().parts, vec![p]);
    }
}
