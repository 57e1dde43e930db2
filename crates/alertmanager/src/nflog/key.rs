//! Receiver keys and the state keys entries are stored under.

use std::fmt;

use crate::proto::nflog::Receiver;

/// One integration of one receiver: the `Receiver` message of the notification log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ReceiverKey {
    /// The receiver's name in the routing configuration.
    pub group_name: String,
    /// The integration kind, e.g. `webhook`.
    pub integration: String,
    /// The integration's index among the receiver's integrations.
    pub idx: u32,
}

impl ReceiverKey {
    /// Builds a key from its three parts.
    pub fn new(group_name: impl Into<String>, integration: impl Into<String>, idx: u32) -> Self {
        Self {
            group_name: group_name.into(),
            integration: integration.into(),
            idx,
        }
    }

    /// The protobuf form of this key.
    pub fn to_proto(&self) -> Receiver {
        Receiver {
            group_name: self.group_name.clone(),
            integration: self.integration.clone(),
            idx: self.idx,
        }
    }

    /// The key of a protobuf `Receiver`.
    pub fn from_proto(r: &Receiver) -> Self {
        Self::new(r.group_name.clone(), r.integration.clone(), r.idx)
    }
}

/// Formats as upstream's receiver key: `<group_name>/<integration>/<idx>`.
impl fmt::Display for ReceiverKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.group_name, self.integration, self.idx)
    }
}

/// The state key `"<groupKey>:<group_name>/<integration>/<idx>"` an entry is stored under.
pub fn state_key(group_key: &str, receiver: &ReceiverKey) -> String {
    format!("{group_key}:{receiver}")
}

/// The state key as raw bytes: group keys are protobuf `bytes`, so they need not be UTF-8.
/// Byte order is also Go's string order, which keeps snapshots sorted like upstream keys.
pub(crate) fn state_key_bytes(group_key: &[u8], receiver: &Receiver) -> Vec<u8> {
    let mut key = Vec::with_capacity(group_key.len() + receiver.group_name.len() + 16);
    key.extend_from_slice(group_key);
    key.push(b':');
    key.extend_from_slice(
        format!(
            "{}/{}/{}",
            receiver.group_name, receiver.integration, receiver.idx
        )
        .as_bytes(),
    );
    key
}
