//! The periodic work: probing one node per probe interval (direct ping, then indirect pings and
//! a TCP ping, then suspicion), gossiping broadcasts to a few random nodes per gossip interval,
//! and a full-state push/pull with one random node per push/pull interval.

use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use tokio::time::Instant;

use crate::memberlist::{Entry, Inner};
use crate::messages::{IndirectPingReq, Message, NodeState, Suspect};
use crate::net::{self, AckWait};
use crate::node::{Node, ip_bytes};

/// Up to `k` random nodes that `keep` accepts.
fn random_nodes(nodes: &[Entry], k: usize, keep: impl Fn(&Entry) -> bool) -> Vec<Node> {
    let mut picked: Vec<Node> = nodes
        .iter()
        .filter(|e| keep(e))
        .map(|e| e.node.clone())
        .collect();
    picked.shuffle(&mut rand::rng());
    picked.truncate(k);
    picked
}

pub(crate) async fn probe_loop(inner: Arc<Inner>) {
    loop {
        let interval = {
            let t = inner.table();
            t.awareness.scale(inner.config.probe_interval)
        };
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = inner.stopped() => return,
        }
        if let Some(node) = next_probe_target(&inner) {
            probe_node(&inner, node).await;
        }
    }
}

/// The next node to probe, round robin; dead ones long gone are reaped at each wrap-around.
fn next_probe_target(inner: &Inner) -> Option<Node> {
    let mut t = inner.table();
    let me = inner.config.name.as_str();
    let mut checked = 0;
    loop {
        if checked > t.nodes.len() {
            return None;
        }
        if t.probe_index >= t.nodes.len() {
            let dead_for = inner.config.gossip_to_the_dead_time;
            t.nodes
                .retain(|e| !(e.node.dead_or_left() && e.state_change.elapsed() > dead_for));
            t.nodes.shuffle(&mut rand::rng());
            t.probe_index = 0;
            checked += 1;
            continue;
        }
        let i = t.probe_index;
        t.probe_index += 1;
        let node = &t.nodes[i].node;
        if node.name == me || node.dead_or_left() {
            checked += 1;
            continue;
        }
        return Some(node.clone());
    }
}

async fn probe_node(inner: &Arc<Inner>, node: Node) {
    let (probe_interval, incarnation) = {
        let t = inner.table();
        (
            t.awareness.scale(inner.config.probe_interval),
            t.get(&node.name)
                .map_or(node.incarnation, |e| e.node.incarnation),
        )
    };
    let seq = inner.next_seq();
    let mut wait = AckWait::new(inner, seq);
    let ping = net::own_ping(inner, seq, &node.name);
    if node.state == NodeState::Alive {
        net::send_msg(inner, node.addr, &Message::Ping(ping.clone()));
    } else {
        let suspect = Message::Suspect(Suspect {
            incarnation,
            node: node.name.clone(),
            from: inner.config.name.clone(),
        });
        net::send_packets(
            inner,
            node.addr,
            &[Message::Ping(ping.clone()).encode(), suspect.encode()],
            node.protocol_max() >= 5,
        );
    }
    let sent = Instant::now();
    let deadline = sent + probe_interval;
    let mut nacks = 0;
    if let Some(at) = wait
        .ack_until(sent + inner.config.probe_timeout, &mut nacks)
        .await
    {
        inner.table().awareness.apply(-1);
        inner
            .delegate
            .notify_ping_complete(&node, at.saturating_duration_since(sent));
        return;
    }

    // Indirect probes through up to `indirect_checks` other alive nodes, plus a TCP ping.
    let helpers = {
        let t = inner.table();
        let me = inner.config.name.as_str();
        random_nodes(&t.nodes, inner.config.indirect_checks, |e| {
            e.node.name != me && e.node.name != node.name && e.node.state == NodeState::Alive
        })
    };
    let mut expected_nacks = 0;
    for helper in &helpers {
        let nack = helper.protocol_max() >= 4;
        expected_nacks += usize::from(nack);
        let req = IndirectPingReq {
            seq_no: seq,
            target: Some(ip_bytes(node.addr.ip())),
            port: node.addr.port(),
            node: node.name.clone(),
            nack,
            source_addr: ip_bytes(inner.advertise.ip()),
            source_port: inner.advertise.port(),
            source_node: inner.config.name.clone(),
        };
        net::send_msg(inner, helper.addr, &Message::IndirectPing(req));
    }
    let tcp = {
        let inner = Arc::clone(inner);
        let addr = node.addr;
        let ping = ping.clone();
        tokio::spawn(async move { net::tcp_ping(&inner, addr, ping, deadline).await })
    };
    if wait.ack_until(deadline, &mut nacks).await.is_some() {
        inner.table().awareness.apply(-1);
        tcp.abort();
        return;
    }
    match tcp.await {
        Ok(Ok(true)) => {
            tracing::warn!(
                node = %node.name,
                addr = %node.addr,
                "memberlist: reached the node over TCP but UDP probes failed; is UDP blocked?"
            );
            inner.table().awareness.apply(-1);
            return;
        }
        Ok(Err(e)) => tracing::debug!(node = %node.name, error = %e, "memberlist: TCP ping failed"),
        _ => {}
    }
    let delta = if expected_nacks > 0 {
        expected_nacks.saturating_sub(nacks)
    } else {
        1
    };
    inner
        .table()
        .awareness
        .apply(i32::try_from(delta).unwrap_or(i32::MAX));
    tracing::debug!(node = %node.name, "memberlist: probe failed; suspecting");
    inner.delegate.notify_probe_failed(&node);
    inner.suspect_node(Suspect {
        incarnation,
        node: node.name,
        from: inner.config.name.clone(),
    });
}

pub(crate) async fn gossip_loop(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.config.gossip_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = inner.stopped() => return,
        }
        gossip(&inner);
    }
}

/// Sends pending broadcasts to `gossip_nodes` random live nodes (and recently dead ones).
fn gossip(inner: &Inner) {
    let targets = {
        let t = inner.table();
        let me = inner.config.name.as_str();
        let dead_for = inner.config.gossip_to_the_dead_time;
        random_nodes(&t.nodes, inner.config.gossip_nodes, |e| {
            e.node.name != me
                && match e.node.state {
                    NodeState::Alive | NodeState::Suspect => true,
                    NodeState::Dead => e.state_change.elapsed() <= dead_for,
                    _ => false,
                }
        })
    };
    let avail = inner
        .config
        .udp_buffer_size
        .saturating_sub(2 + inner.config.label.overhead());
    for node in targets {
        let msgs = net::get_broadcasts(inner, 2, avail);
        if msgs.is_empty() {
            return;
        }
        let crc = node.protocol_max() >= 5;
        match msgs.as_slice() {
            [one] => net::send_raw(inner, node.addr, one, crc),
            _ => net::send_packets(inner, node.addr, &msgs, crc),
        }
    }
}

/// `interval`, stretched for clusters above 32 nodes as memberlist does.
fn push_pull_scale(interval: Duration, nodes: usize) -> Duration {
    if nodes <= 32 {
        return interval;
    }
    let mult = ((nodes as f64).log2() - 32f64.log2()).ceil() as u32 + 1;
    interval.saturating_mul(mult)
}

pub(crate) async fn push_pull_loop(inner: Arc<Inner>) {
    if inner.config.push_pull_interval.is_zero() {
        return;
    }
    // A random first delay spreads the exchanges of nodes started together.
    let stagger = inner
        .config
        .push_pull_interval
        .mul_f64(rand::random_range(0.0..1.0));
    tokio::select! {
        () = tokio::time::sleep(stagger) => {}
        () = inner.stopped() => return,
    }
    loop {
        let target = {
            let t = inner.table();
            let me = inner.config.name.as_str();
            random_nodes(&t.nodes, 1, |e| {
                e.node.name != me && e.node.state == NodeState::Alive
            })
            .pop()
        };
        if let Some(node) = target
            && let Err(e) = net::push_pull(&inner, node.addr, false).await
        {
            tracing::debug!(node = %node.name, error = %e, "memberlist: push/pull failed");
        }
        let interval = push_pull_scale(inner.config.push_pull_interval, inner.num_members());
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = inner.stopped() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pull_interval_grows_beyond_32_nodes() {
        let s = Duration::from_secs(60);
        assert_eq!(push_pull_scale(s, 3), s);
        assert_eq!(push_pull_scale(s, 32), s);
        assert_eq!(push_pull_scale(s, 33), s * 2);
        assert_eq!(push_pull_scale(s, 64), s * 2);
        assert_eq!(push_pull_scale(s, 65), s * 3);
    }
}
