//! SWIM state transitions as memberlist applies them: `alive`, `suspect` and `dead` messages
//! (received, or raised by our own probes), refutation of rumours about this node, suspicion
//! timers, and merging the member list of a push/pull.

use std::sync::Arc;

use tokio::time::Instant;

use crate::memberlist::{Entry, Inner, Timer};
use crate::messages::{Alive, Dead, Message, NodeState, PushNodeState, Suspect};
use crate::node::{Node, ip_from_bytes, vsn_from};
use crate::suspicion::{Suspicion, suspicion_timeout};

/// A membership event to hand to the delegate once the table lock is released.
enum Event {
    Join(Node),
    Leave(Node),
    Update(Node),
    Alive(Node),
}

impl Inner {
    fn fire(&self, events: Vec<Event>) {
        for e in events {
            match e {
                Event::Join(n) => {
                    tracing::debug!(node = %n.name, addr = %n.addr, "memberlist: node joined");
                    self.delegate.notify_join(&n);
                }
                Event::Leave(n) => {
                    tracing::debug!(node = %n.name, state = ?n.state, "memberlist: node left");
                    self.delegate.notify_leave(&n);
                }
                Event::Update(n) => self.delegate.notify_update(&n),
                Event::Alive(n) => self.delegate.notify_alive(&n),
            }
        }
    }

    /// Queues one of memberlist's own messages about `node` (replacing older ones about it).
    pub(crate) fn broadcast(&self, node: &str, msg: &Message) {
        self.broadcasts
            .queue(Some(node.to_owned()), msg.encode(), None);
    }

    /// Applies an `alive` message (`bootstrap`: our own first announcement).
    pub(crate) fn alive_node(&self, a: Alive, bootstrap: bool) {
        let me = self.config.name.as_str();
        let is_local = a.node == me;
        if is_local && self.leaving.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Some(ip) = a.addr.as_deref().and_then(ip_from_bytes) else {
            tracing::warn!(node = %a.node, "memberlist: alive message without a valid address");
            return;
        };
        let addr = std::net::SocketAddr::new(ip, a.port);
        let vsn = vsn_from(a.vsn.as_deref());
        let meta = a.meta.clone().unwrap_or_default();
        let mut events = Vec::new();
        let mut refute_with = None;
        {
            let mut t = self.table();
            let now = Instant::now();
            if t.get(&a.node).is_none() {
                let entry = Entry {
                    node: Node {
                        name: a.node.clone(),
                        addr,
                        meta: meta.clone(),
                        state: NodeState::Dead,
                        incarnation: 0,
                        vsn,
                    },
                    state_change: now,
                };
                // Insert at a random position so new nodes are not all probed last.
                let at = if t.nodes.is_empty() {
                    0
                } else {
                    rand::random_range(0..=t.nodes.len())
                };
                t.nodes.insert(at, entry);
            }
            let Some(entry) = t.get_mut(&a.node) else {
                return;
            };
            let mut updates_node = false;
            if entry.node.addr != addr {
                if entry.node.dead_or_left() {
                    updates_node = true;
                } else {
                    tracing::warn!(
                        node = %a.node,
                        old = %entry.node.addr,
                        new = %addr,
                        "memberlist: conflicting address for a live node; ignored"
                    );
                    return;
                }
            }
            if a.incarnation <= entry.node.incarnation && !is_local && !updates_node {
                return;
            }
            if a.incarnation < entry.node.incarnation && is_local {
                return;
            }
            let old_state = entry.node.state;
            let old_meta = entry.node.meta.clone();
            if !bootstrap && is_local {
                if a.incarnation == entry.node.incarnation
                    && meta == entry.node.meta
                    && vsn == entry.node.vsn
                {
                    return;
                }
                refute_with = Some(a.incarnation);
            } else {
                entry.node.incarnation = a.incarnation;
                entry.node.meta = meta;
                entry.node.addr = addr;
                entry.node.vsn = vsn;
                if entry.node.state != NodeState::Alive {
                    entry.node.state = NodeState::Alive;
                    entry.state_change = now;
                }
                let node = entry.node.clone();
                t.timers.remove(&a.node);
                drop(t);
                let name = a.node.clone();
                self.broadcast(&name, &Message::Alive(a));
                events.push(Event::Alive(node.clone()));
                if matches!(old_state, NodeState::Dead | NodeState::Left) {
                    events.push(Event::Join(node));
                } else if old_meta != node.meta {
                    events.push(Event::Update(node));
                }
            }
        }
        if let Some(accused) = refute_with {
            self.refute(accused);
        }
        self.fire(events);
    }

    /// Bumps our incarnation past `accused` and announces that we are alive.
    pub(crate) fn refute(&self, accused: u32) {
        let me = self.local_node();
        let incarnation = {
            let mut t = self.table();
            let mut inc = t.incarnation + 1;
            if accused >= inc {
                inc = accused + 1;
            }
            t.incarnation = inc;
            t.awareness.apply(1);
            if let Some(e) = t.get_mut(&me.name) {
                e.node.incarnation = inc;
            }
            inc
        };
        tracing::warn!(incarnation, "memberlist: refuting a rumour about this node");
        let alive = me.to_alive(incarnation);
        self.broadcast(&me.name, &Message::Alive(alive));
    }

    /// Applies a `suspect` message (ours after a failed probe, or gossiped).
    pub(crate) fn suspect_node(self: &Arc<Self>, s: Suspect) {
        let mut t = self.table();
        let Some(entry) = t.get(&s.node) else {
            return;
        };
        if s.incarnation < entry.node.incarnation {
            return;
        }
        let state = entry.node.state;
        if let Some(timer) = t.timers.get_mut(&s.node) {
            if timer.suspicion.confirm(&s.from) {
                timer.changed.notify_one();
                drop(t);
                self.broadcast(&s.node.clone(), &Message::Suspect(s));
            }
            return;
        }
        if state != NodeState::Alive {
            return;
        }
        if s.node == self.config.name {
            drop(t);
            tracing::warn!(from = %s.from, "memberlist: suspected by another node");
            self.refute(s.incarnation);
            return;
        }
        let alive = t.alive_count();
        let Some(entry) = t.get_mut(&s.node) else {
            return;
        };
        entry.node.incarnation = s.incarnation;
        entry.node.state = NodeState::Suspect;
        let now = Instant::now();
        entry.state_change = now;
        let mut k = self.config.suspicion_mult.saturating_sub(2);
        if alive.saturating_sub(2) < k as usize {
            k = 0;
        }
        let min = suspicion_timeout(
            self.config.suspicion_mult,
            alive,
            self.config.probe_interval,
        );
        let max = min.saturating_mul(self.config.suspicion_max_timeout_mult);
        let suspicion = Suspicion::new(s.incarnation, &s.from, k, min, max);
        let changed = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(suspicion_task(
            Arc::downgrade(self),
            s.node.clone(),
            Arc::clone(&changed),
        ));
        t.timers.insert(
            s.node.clone(),
            Timer {
                suspicion,
                start: now,
                changed,
                task,
            },
        );
        drop(t);
        tracing::info!(node = %s.node, from = %s.from, "memberlist: node suspected");
        self.broadcast(&s.node.clone(), &Message::Suspect(s));
    }

    /// Applies a `dead` message (`node == from`: it left).
    pub(crate) fn dead_node(&self, d: Dead) {
        let mut t = self.table();
        let Some(entry) = t.get(&d.node) else {
            return;
        };
        if d.incarnation < entry.node.incarnation {
            return;
        }
        if entry.node.dead_or_left() {
            t.timers.remove(&d.node);
            return;
        }
        let is_local = d.node == self.config.name;
        if is_local && !self.leaving.load(std::sync::atomic::Ordering::SeqCst) {
            drop(t);
            tracing::warn!(from = %d.from, "memberlist: declared dead by another node");
            self.refute(d.incarnation);
            return;
        }
        let timer = t.timers.remove(&d.node);
        let Some(entry) = t.get_mut(&d.node) else {
            return;
        };
        entry.node.incarnation = d.incarnation;
        entry.node.state = if d.node == d.from {
            NodeState::Left
        } else {
            NodeState::Dead
        };
        entry.state_change = Instant::now();
        let node = entry.node.clone();
        drop(t);
        drop(timer);
        let msg = Message::Dead(d);
        if is_local {
            let sent = self.leave_sent.clone();
            self.broadcasts.queue(
                Some(node.name.clone()),
                msg.encode(),
                Some(Box::new(move || {
                    sent.send_replace(true);
                })),
            );
        } else {
            self.broadcast(&node.name, &msg);
        }
        self.fire(vec![Event::Leave(node)]);
    }

    /// Merges the member list of a push/pull: dead nodes are only suspected, left ones leave.
    pub(crate) fn merge_state(self: &Arc<Self>, remote: Vec<PushNodeState>) {
        for r in remote {
            match r.state {
                NodeState::Alive => self.alive_node(
                    Alive {
                        incarnation: r.incarnation,
                        node: r.name,
                        addr: r.addr,
                        port: r.port,
                        meta: r.meta,
                        vsn: r.vsn,
                    },
                    false,
                ),
                NodeState::Left => self.dead_node(Dead {
                    incarnation: r.incarnation,
                    from: r.name.clone(),
                    node: r.name,
                }),
                NodeState::Dead | NodeState::Suspect => self.suspect_node(Suspect {
                    incarnation: r.incarnation,
                    node: r.name,
                    from: self.config.name.clone(),
                }),
                NodeState::Other(_) => {}
            }
        }
    }
}

/// Declares `node` dead once its suspicion times out (the timeout shrinks with confirmations).
async fn suspicion_task(
    inner: std::sync::Weak<Inner>,
    node: String,
    changed: Arc<tokio::sync::Notify>,
) {
    loop {
        let deadline = {
            let Some(inner) = inner.upgrade() else { return };
            let t = inner.table();
            let Some(timer) = t.timers.get(&node) else {
                return;
            };
            timer.start + timer.suspicion.timeout()
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = changed.notified() => continue,
        }
        let Some(inner) = inner.upgrade() else { return };
        let incarnation = {
            let t = inner.table();
            match (t.timers.get(&node), t.get(&node)) {
                (Some(timer), Some(e)) if e.node.state == NodeState::Suspect => {
                    if Instant::now() < timer.start + timer.suspicion.timeout() {
                        continue;
                    }
                    timer.suspicion.incarnation.max(e.node.incarnation)
                }
                _ => return,
            }
        };
        tracing::info!(node = %node, "memberlist: suspect timed out, marking dead");
        let from = inner.config.name.clone();
        // dead_node removes (and aborts) this timer's task: run it detached from ourselves.
        tokio::spawn(async move {
            inner.dead_node(Dead {
                incarnation,
                node,
                from,
            });
        });
        return;
    }
}
