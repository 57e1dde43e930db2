//! What the cluster tests share: a replicated state that is a set of byte strings.

#![allow(dead_code)] // Each test file uses part of this module.

use std::collections::BTreeSet;
use std::sync::Mutex;

use wk_cluster::State;

/// A set of byte strings; a full state is the entries joined by 0x00.
#[derive(Default)]
pub struct Set(Mutex<BTreeSet<Vec<u8>>>);

impl Set {
    pub fn has(&self, v: &[u8]) -> bool {
        self.0.lock().unwrap().contains(v)
    }
}

impl State for Set {
    fn marshal(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(&0u8)
    }
    fn merge(&self, bytes: &[u8]) -> Result<(), String> {
        let mut s = self.0.lock().unwrap();
        for e in bytes.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            s.insert(e.to_vec());
        }
        Ok(())
    }
}
