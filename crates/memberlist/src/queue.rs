//! The transmit-limited broadcast queue (memberlist's `TransmitLimitedQueue`): each message is
//! sent `retransmit_mult × ceil(log10(n + 1))` times, least-sent first, and a newer message about
//! the same node replaces an older one.

use std::sync::Mutex;

/// Called once a broadcast leaves the queue (sent enough times, replaced, or pruned).
pub type Finished = Box<dyn FnOnce() + Send>;

struct Item {
    /// Which node the message is about; a newer message with the same name replaces it.
    name: Option<String>,
    msg: Vec<u8>,
    transmits: usize,
    /// Insertion order; newer first among equal transmit counts.
    id: u64,
    finished: Option<Finished>,
}

#[derive(Default)]
struct Inner {
    items: Vec<Item>,
    next_id: u64,
}

/// Broadcasts waiting to be piggybacked on packets.
pub struct TransmitLimitedQueue {
    retransmit_mult: usize,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for TransmitLimitedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransmitLimitedQueue")
            .field("retransmit_mult", &self.retransmit_mult)
            .field("len", &self.len())
            .finish()
    }
}

/// How many times each message is sent in a cluster of `nodes`.
pub fn retransmit_limit(retransmit_mult: usize, nodes: usize) -> usize {
    let scale = ((nodes as f64) + 1.0).log10().ceil() as usize;
    retransmit_mult * scale.max(1)
}

impl TransmitLimitedQueue {
    /// An empty queue sending each message `retransmit_mult × ceil(log10(n + 1))` times.
    pub fn new(retransmit_mult: usize) -> Self {
        Self {
            retransmit_mult: retransmit_mult.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `msg`; with a `name`, any queued message about the same node is dropped first.
    pub fn queue(&self, name: Option<String>, msg: Vec<u8>, finished: Option<Finished>) {
        let mut replaced = Vec::new();
        {
            let mut inner = self.lock();
            if let Some(n) = &name {
                let mut i = 0;
                while i < inner.items.len() {
                    if inner.items[i].name.as_deref() == Some(n.as_str()) {
                        let old = inner.items.swap_remove(i);
                        replaced.extend(old.finished);
                    } else {
                        i += 1;
                    }
                }
            }
            let id = inner.next_id;
            inner.next_id += 1;
            inner.items.push(Item {
                name,
                msg,
                transmits: 0,
                id,
                finished,
            });
        }
        for f in replaced {
            f();
        }
    }

    /// Takes messages that fit `limit` bytes, each costing its length plus `overhead`, for a
    /// cluster of `nodes`; messages sent often enough leave the queue.
    pub fn get_broadcasts(&self, overhead: usize, limit: usize, nodes: usize) -> Vec<Vec<u8>> {
        let max_transmits = retransmit_limit(self.retransmit_mult, nodes);
        let mut done = Vec::new();
        let mut out = Vec::new();
        {
            let mut inner = self.lock();
            inner
                .items
                .sort_by(|a, b| a.transmits.cmp(&b.transmits).then(b.id.cmp(&a.id)));
            let mut used = 0;
            let mut i = 0;
            while i < inner.items.len() {
                let cost = inner.items[i].msg.len() + overhead;
                if used + cost > limit {
                    i += 1;
                    continue;
                }
                used += cost;
                out.push(inner.items[i].msg.clone());
                inner.items[i].transmits += 1;
                if inner.items[i].transmits >= max_transmits {
                    let item = inner.items.remove(i);
                    done.extend(item.finished);
                } else {
                    i += 1;
                }
            }
        }
        for f in done {
            f();
        }
        out
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the oldest messages until at most `max` remain; returns how many were dropped.
    pub fn prune(&self, max: usize) -> usize {
        let mut dropped = Vec::new();
        {
            let mut inner = self.lock();
            if inner.items.len() <= max {
                return 0;
            }
            inner.items.sort_by_key(|i| std::cmp::Reverse(i.id));
            dropped.extend(inner.items.drain(max..));
        }
        let n = dropped.len();
        for item in dropped {
            if let Some(f) = item.finished {
                f();
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn limit_scales_with_log10_of_cluster_size() {
        assert_eq!(retransmit_limit(3, 1), 3);
        assert_eq!(retransmit_limit(3, 9), 3);
        assert_eq!(retransmit_limit(3, 10), 6);
        assert_eq!(retransmit_limit(4, 100), 12);
    }

    #[test]
    fn messages_leave_after_their_transmits() {
        let q = TransmitLimitedQueue::new(2);
        q.queue(None, b"a".to_vec(), None);
        assert_eq!(q.get_broadcasts(0, 100, 3), vec![b"a".to_vec()]);
        assert_eq!(q.get_broadcasts(0, 100, 3), vec![b"a".to_vec()]);
        assert!(q.get_broadcasts(0, 100, 3).is_empty());
    }

    #[test]
    fn least_sent_and_newest_go_first_within_the_budget() {
        let q = TransmitLimitedQueue::new(3);
        q.queue(None, vec![1; 10], None);
        assert_eq!(q.get_broadcasts(2, 12, 3).len(), 1);
        q.queue(None, vec![2; 10], None);
        // Only one fits: the one sent fewer times.
        assert_eq!(q.get_broadcasts(2, 12, 3), vec![vec![2; 10]]);
        // Too big for the budget: nothing.
        assert!(q.get_broadcasts(2, 5, 3).is_empty());
    }

    #[test]
    fn a_message_about_the_same_node_replaces_the_older_one() {
        let q = TransmitLimitedQueue::new(3);
        let finished = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&finished);
        q.queue(
            Some("n1".into()),
            b"old".to_vec(),
            Some(Box::new(move || {
                f.fetch_add(1, Ordering::SeqCst);
            })),
        );
        q.queue(Some("n1".into()), b"new".to_vec(), None);
        q.queue(Some("n2".into()), b"other".to_vec(), None);
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        let mut got = q.get_broadcasts(0, 100, 3);
        got.sort();
        assert_eq!(got, vec![b"new".to_vec(), b"other".to_vec()]);
    }

    #[test]
    fn prune_keeps_the_newest() {
        let q = TransmitLimitedQueue::new(3);
        for i in 0..5u8 {
            q.queue(None, vec![i], None);
        }
        assert_eq!(q.prune(2), 3);
        let mut got = q.get_broadcasts(0, 100, 3);
        got.sort();
        assert_eq!(got, vec![vec![3], vec![4]]);
    }
}
