//! The states registered with a peer, by key: what both peers do with them — hand out every
//! state as one `FullState`, and merge a received `Part` or `FullState` into the states they
//! name (unknown keys are logged and skipped, as upstream does).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use prost::Message;

use crate::State;
use crate::wire::{FullState, Part};

/// The registered states.
#[derive(Default)]
pub(crate) struct Registry(RwLock<BTreeMap<String, Arc<dyn State>>>);

impl Registry {
    /// Registers (or replaces) the state under `key`.
    pub(crate) fn insert(&self, key: &str, state: Arc<dyn State>) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), state);
    }

    /// Every state's full state, encoded as one `FullState`.
    pub(crate) fn full_state(&self) -> Vec<u8> {
        let parts = self
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(key, state)| Part {
                key: key.clone(),
                data: state.marshal(),
            })
            .collect();
        FullState { parts }.encode_to_vec()
    }

    /// Merges one part into the state it names.
    pub(crate) fn merge_part(&self, part: &Part) {
        let state = self
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&part.key)
            .cloned();
        match state {
            Some(state) => {
                if let Err(e) = state.merge(&part.data) {
                    tracing::warn!(key = %part.key, error = %e, "merging replicated state failed");
                }
            }
            None => tracing::debug!(key = %part.key, "received unknown state key"),
        }
    }

    /// Decodes and merges an update (`Part`).
    pub(crate) fn merge_update(&self, bytes: &[u8]) {
        match Part::decode(bytes) {
            Ok(part) => self.merge_part(&part),
            Err(e) => tracing::warn!(error = %e, "decoding a replicated update failed"),
        }
    }

    /// Decodes and merges a `FullState`, part by part.
    pub(crate) fn merge_full_state(&self, bytes: &[u8]) {
        match FullState::decode(bytes) {
            Ok(full) => full.parts.iter().for_each(|p| self.merge_part(p)),
            Err(e) => tracing::warn!(error = %e, "decoding a replicated full state failed"),
        }
    }
}
