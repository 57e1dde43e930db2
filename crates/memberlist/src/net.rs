//! Traffic: the UDP receive loop and packet handlers (ping, indirect ping, ack, nack, the
//! membership messages, user messages), packet sending with piggybacked broadcasts, and the TCP
//! side (accepting streams, push/pull, reliable user messages, the fallback ping).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::memberlist::{AckEvent, Inner};
use crate::messages::{AckResp, IndirectPingReq, Message, MessageType, NackResp, Ping};
use crate::node::{ip_bytes, ip_from_bytes};
use crate::packet::{PacketOptions, build_packet, parse_packet};
use crate::stream::{PushPull, StreamMessage};
use crate::transport::{self, Side, TransportError};

/// Bytes the compound header takes (type byte and part count).
const COMPOUND_HEADER_OVERHEAD: usize = 2;
/// Bytes each compound part's length takes.
const COMPOUND_OVERHEAD: usize = 2;
/// Most push/pulls served at once (memberlist's `maxPushPullRequests`).
const MAX_PUSH_PULLS: usize = 128;

pub(crate) async fn udp_loop(inner: Arc<Inner>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let received = tokio::select! {
            r = inner.udp.recv_from(&mut buf) => r,
            () = inner.stopped() => return,
        };
        match received {
            Ok((n, from)) => handle_packet(&inner, &buf[..n], from),
            Err(e) => {
                tracing::debug!(error = %e, "memberlist: UDP receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

fn handle_packet(inner: &Arc<Inner>, buf: &[u8], from: SocketAddr) {
    let parsed = match parse_packet(buf, &inner.config.label) {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(%from, error = %e, "memberlist: dropped a packet");
            return;
        }
    };
    for e in &parsed.part_errors {
        tracing::debug!(%from, error = %e, "memberlist: dropped a compound part");
    }
    for raw in &parsed.messages {
        match Message::decode(raw) {
            Ok(msg) => handle_message(inner, msg, from),
            Err(e) => tracing::debug!(%from, error = %e, "memberlist: undecodable message"),
        }
    }
}

fn handle_message(inner: &Arc<Inner>, msg: Message, from: SocketAddr) {
    match msg {
        Message::Ping(p) => {
            if !p.node.is_empty() && p.node != inner.config.name {
                tracing::debug!(%from, target = %p.node, "memberlist: ping for another node");
                return;
            }
            let to = reply_addr(&p.source_addr, p.source_port, from);
            let ack = Message::Ack(AckResp {
                seq_no: p.seq_no,
                payload: Some(Vec::new()),
            });
            send_msg(inner, to, &ack);
        }
        Message::IndirectPing(req) => {
            let inner = Arc::clone(inner);
            tokio::spawn(async move { indirect_ping(&inner, req, from).await });
        }
        Message::Ack(a) => deliver_ack(inner, a.seq_no, AckEvent::Ack(Instant::now())),
        Message::Nack(n) => deliver_ack(inner, n.seq_no, AckEvent::Nack),
        Message::Alive(a) => inner.alive_node(a, false),
        Message::Suspect(s) => inner.suspect_node(s),
        Message::Dead(d) => inner.dead_node(d),
        Message::User(b) => inner.delegate.notify_msg(&b),
    }
}

fn reply_addr(addr: &[u8], port: u16, from: SocketAddr) -> SocketAddr {
    match ip_from_bytes(addr) {
        Some(ip) if port != 0 => SocketAddr::new(ip, port),
        _ => from,
    }
}

fn deliver_ack(inner: &Inner, seq: u32, ev: AckEvent) {
    let acks = inner.acks.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = acks.get(&seq) {
        let _ = tx.send(ev);
    }
}

/// Waits for answers to `seq` until the returned guard is dropped.
pub(crate) struct AckWait {
    inner: Arc<Inner>,
    seq: u32,
    pub(crate) rx: mpsc::UnboundedReceiver<AckEvent>,
}

impl AckWait {
    pub(crate) fn new(inner: &Arc<Inner>, seq: u32) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        inner
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(seq, tx);
        Self {
            inner: Arc::clone(inner),
            seq,
            rx,
        }
    }

    /// The first ack before `deadline` (nacks are counted into `nacks`).
    pub(crate) async fn ack_until(
        &mut self,
        deadline: Instant,
        nacks: &mut usize,
    ) -> Option<Instant> {
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(AckEvent::Ack(at))) => return Some(at),
                Ok(Some(AckEvent::Nack)) => *nacks += 1,
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

impl Drop for AckWait {
    fn drop(&mut self) {
        self.inner
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.seq);
    }
}

/// Probes `req`'s target for the requester and relays the ack (or a nack).
async fn indirect_ping(inner: &Arc<Inner>, req: IndirectPingReq, from: SocketAddr) {
    let Some(ip) = req.target.as_deref().and_then(ip_from_bytes) else {
        return;
    };
    let target = SocketAddr::new(ip, req.port);
    let seq = inner.next_seq();
    let mut wait = AckWait::new(inner, seq);
    send_msg(
        inner,
        target,
        &Message::Ping(own_ping(inner, seq, &req.node)),
    );
    let requester = reply_addr(&req.source_addr, req.source_port, from);
    let mut nacks = 0;
    let deadline = Instant::now() + inner.config.probe_timeout;
    if wait.ack_until(deadline, &mut nacks).await.is_some() {
        let ack = Message::Ack(AckResp {
            seq_no: req.seq_no,
            payload: Some(Vec::new()),
        });
        send_msg(inner, requester, &ack);
    } else if req.nack {
        send_msg(
            inner,
            requester,
            &Message::Nack(NackResp { seq_no: req.seq_no }),
        );
    }
}

/// A ping from us to `node`, with our address so the ack can come straight back.
pub(crate) fn own_ping(inner: &Inner, seq: u32, node: &str) -> Ping {
    Ping {
        seq_no: seq,
        node: node.to_owned(),
        source_addr: ip_bytes(inner.advertise.ip()),
        source_port: inner.advertise.port(),
        source_node: inner.config.name.clone(),
    }
}

/// Broadcasts that fit `limit`: memberlist's own first, then the delegate's (as user messages).
pub(crate) fn get_broadcasts(inner: &Inner, overhead: usize, limit: usize) -> Vec<Vec<u8>> {
    let nodes = inner.num_members();
    let mut out = inner.broadcasts.get_broadcasts(overhead, limit, nodes);
    let used: usize = out.iter().map(|m| m.len() + overhead).sum();
    let avail = limit.saturating_sub(used);
    if avail > overhead + 1 {
        for user in inner.delegate.get_broadcasts(overhead + 1, avail) {
            let mut m = Vec::with_capacity(1 + user.len());
            m.push(MessageType::User as u8);
            m.extend_from_slice(&user);
            out.push(m);
        }
    }
    out
}

/// Sends one message with as many broadcasts piggybacked as fit (no CRC, like Go's `sendMsg`).
pub(crate) fn send_msg(inner: &Inner, to: SocketAddr, msg: &Message) {
    let encoded = msg.encode();
    let avail = inner
        .config
        .udp_buffer_size
        .saturating_sub(encoded.len() + COMPOUND_HEADER_OVERHEAD + inner.config.label.overhead());
    let mut msgs = vec![encoded];
    msgs.extend(get_broadcasts(inner, COMPOUND_OVERHEAD, avail));
    send_packets(inner, to, &msgs, false);
}

/// Sends messages in one packet (or compounds), optionally with the CRC header.
pub(crate) fn send_packets(inner: &Inner, to: SocketAddr, msgs: &[Vec<u8>], crc: bool) {
    let opts = PacketOptions {
        compress: inner.config.compress,
        crc,
        label: inner.config.label.clone(),
    };
    let packets = match crate::packet::build_packets(msgs, &opts) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "memberlist: could not build a packet");
            return;
        }
    };
    for p in packets {
        if let Err(e) = inner.udp.try_send_to(&p, to) {
            tracing::debug!(%to, error = %e, "memberlist: UDP send failed");
        }
    }
}

/// Sends one raw message (already encoded) in its own packet.
pub(crate) fn send_raw(inner: &Inner, to: SocketAddr, msg: &[u8], crc: bool) {
    let opts = PacketOptions {
        compress: inner.config.compress,
        crc,
        label: inner.config.label.clone(),
    };
    let p = build_packet(msg, &opts);
    if let Err(e) = inner.udp.try_send_to(&p, to) {
        tracing::debug!(%to, error = %e, "memberlist: UDP send failed");
    }
}

pub(crate) async fn tcp_loop(inner: Arc<Inner>, listener: TcpListener) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_PUSH_PULLS));
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = inner.stopped() => return,
        };
        match accepted {
            Ok((conn, from)) => {
                let inner = Arc::clone(&inner);
                let slots = Arc::clone(&slots);
                tokio::spawn(async move {
                    if let Err(e) = handle_stream(&inner, conn, from, &slots).await {
                        tracing::debug!(%from, error = %e, "memberlist: stream failed");
                    }
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "memberlist: TCP accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn handle_stream(
    inner: &Arc<Inner>,
    mut conn: TcpStream,
    from: SocketAddr,
    slots: &tokio::sync::Semaphore,
) -> Result<(), TransportError> {
    let _ = conn.set_nodelay(true);
    let timeout = inner.config.tcp_timeout;
    let msg = transport::read_message(
        &mut conn,
        from,
        Side::Accepted,
        &inner.config.label,
        timeout,
    )
    .await?;
    match msg {
        StreamMessage::PushPull(remote) => {
            let Ok(_slot) = slots.try_acquire() else {
                tracing::warn!(%from, "memberlist: too many push/pulls at once; refused");
                return Ok(());
            };
            let local = StreamMessage::PushPull(local_state(inner, remote.join));
            transport::write_all(&mut conn, from, &local.encode(), timeout).await?;
            merge_remote(inner, remote);
        }
        StreamMessage::User(b) => inner.delegate.notify_msg(&b),
        StreamMessage::Ping(p) => {
            if !p.node.is_empty() && p.node != inner.config.name {
                tracing::debug!(%from, target = %p.node, "memberlist: TCP ping for another node");
                return Ok(());
            }
            let ack = StreamMessage::Ack(AckResp {
                seq_no: p.seq_no,
                payload: Some(Vec::new()),
            });
            transport::write_all(&mut conn, from, &ack.encode(), timeout).await?;
        }
        StreamMessage::Ack(_) | StreamMessage::Err(_) => {
            tracing::debug!(%from, "memberlist: unexpected message opening a stream");
        }
    }
    Ok(())
}

fn local_state(inner: &Inner, join: bool) -> PushPull {
    let nodes = inner
        .table()
        .nodes
        .iter()
        .map(|e| e.node.to_push())
        .collect();
    PushPull {
        join,
        nodes,
        user_state: inner.delegate.local_state(join),
    }
}

fn merge_remote(inner: &Arc<Inner>, remote: PushPull) {
    inner.merge_state(remote.nodes);
    if !remote.user_state.is_empty() {
        inner
            .delegate
            .merge_remote_state(&remote.user_state, remote.join);
    }
}

/// Exchanges full state with `addr` (we send first, then read its answer, then merge).
pub(crate) async fn push_pull(
    inner: &Arc<Inner>,
    addr: SocketAddr,
    join: bool,
) -> Result<(), TransportError> {
    let timeout = inner.config.tcp_timeout;
    let mut conn = transport::dial(addr, timeout).await?;
    let local = StreamMessage::PushPull(local_state(inner, join));
    transport::write_all(
        &mut conn,
        addr,
        &local.encode_dialer(&inner.config.label),
        timeout,
    )
    .await?;
    let answer =
        transport::read_message(&mut conn, addr, Side::Dialed, &inner.config.label, timeout)
            .await?;
    match answer {
        StreamMessage::PushPull(remote) => {
            merge_remote(inner, remote);
            Ok(())
        }
        StreamMessage::Err(e) => Err(TransportError::Decode {
            addr,
            source: Box::new(crate::Error::InvalidField {
                message: "errResp",
                field: "Error",
                reason: e.error,
            }),
        }),
        _ => Err(TransportError::Decode {
            addr,
            source: Box::new(crate::Error::UnexpectedType {
                found: "non-pushPull",
                context: "in answer to a push/pull",
            }),
        }),
    }
}

/// Sends a user message over TCP (`SendReliable`).
pub(crate) async fn send_user_stream(
    inner: &Inner,
    addr: SocketAddr,
    msg: &[u8],
) -> Result<(), TransportError> {
    let timeout = inner.config.tcp_timeout;
    let mut conn = transport::dial(addr, timeout).await?;
    let bytes = StreamMessage::User(msg.to_vec()).encode_dialer(&inner.config.label);
    transport::write_all(&mut conn, addr, &bytes, timeout).await
}

/// The TCP fallback probe: true when `addr` answered our ping before `deadline`.
pub(crate) async fn tcp_ping(
    inner: &Inner,
    addr: SocketAddr,
    ping: Ping,
    deadline: Instant,
) -> Result<bool, TransportError> {
    let left = deadline.saturating_duration_since(Instant::now());
    let mut conn = transport::dial(addr, left).await?;
    let seq = ping.seq_no;
    let bytes = StreamMessage::Ping(ping).encode_dialer(&inner.config.label);
    let left = deadline.saturating_duration_since(Instant::now());
    transport::write_all(&mut conn, addr, &bytes, left).await?;
    let left = deadline.saturating_duration_since(Instant::now());
    let answer =
        transport::read_message(&mut conn, addr, Side::Dialed, &inner.config.label, left).await?;
    Ok(matches!(answer, StreamMessage::Ack(a) if a.seq_no == seq))
}
