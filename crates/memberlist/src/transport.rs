//! Sockets: one UDP socket and one TCP listener on the same port, the advertised address, and
//! reading and writing one [`StreamMessage`] on a TCP connection with a deadline.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::error::Error;
use crate::label::LabelPolicy;
use crate::stream::{MAX_PUSH_STATE_BYTES, StreamMessage};

/// Why the network failed us.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Binding the UDP and TCP sockets failed.
    #[error("binding memberlist to {addr} (UDP and TCP): {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A connection or read/write failed.
    #[error("{what} {addr}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The remote address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The deadline passed.
    #[error("{what} {addr}: timed out after {timeout:?}")]
    Timeout {
        /// What was being done.
        what: &'static str,
        /// The remote address.
        addr: SocketAddr,
        /// The deadline.
        timeout: Duration,
    },
    /// The remote end sent bytes we could not decode.
    #[error("decoding a stream from {addr}: {source}")]
    Decode {
        /// The remote address.
        addr: SocketAddr,
        /// What was wrong.
        #[source]
        source: Box<Error>,
    },
    /// The remote end closed the connection before a whole message arrived.
    #[error("stream from {addr} closed after {got} bytes, inside a message")]
    Closed {
        /// The remote address.
        addr: SocketAddr,
        /// Bytes received.
        got: usize,
    },
}

/// Binds UDP and TCP on the same port; port 0 picks one free for both (retried a few times).
pub fn bind(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), TransportError> {
    let err = |source| TransportError::Bind { addr, source };
    let attempts = if addr.port() == 0 { 10 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let tcp = std::net::TcpListener::bind(addr).map_err(err)?;
        let port = tcp.local_addr().map_err(err)?.port();
        match StdUdpSocket::bind(SocketAddr::new(addr.ip(), port)) {
            Ok(udp) => {
                tcp.set_nonblocking(true).map_err(err)?;
                udp.set_nonblocking(true).map_err(err)?;
                let tcp = TcpListener::from_std(tcp).map_err(err)?;
                let udp = UdpSocket::from_std(udp).map_err(err)?;
                return Ok((udp, tcp));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(err(last.unwrap_or_else(|| io::Error::other("no port"))))
}

/// The address to advertise for a socket bound to `bound`: an unspecified IP becomes the IP
/// this host uses for outbound traffic (loopback if it has no route).
pub fn advertise_for(bound: SocketAddr) -> SocketAddr {
    if !bound.ip().is_unspecified() {
        return bound;
    }
    let probe = || -> io::Result<IpAddr> {
        let s = StdUdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        // Documentation address: connecting a UDP socket only asks the kernel for a route.
        s.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
        Ok(s.local_addr()?.ip())
    };
    let ip = probe().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, bound.port())
}

/// Dials `addr` within `timeout`.
pub async fn dial(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, TransportError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(source)) => Err(TransportError::Io {
            what: "connecting to",
            addr,
            source,
        }),
        Err(_) => Err(TransportError::Timeout {
            what: "connecting to",
            addr,
            timeout,
        }),
    }
}

/// Writes `bytes` within `timeout`.
pub async fn write_all(
    conn: &mut TcpStream,
    addr: SocketAddr,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), TransportError> {
    match tokio::time::timeout(timeout, conn.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(TransportError::Io {
            what: "writing to",
            addr,
            source,
        }),
        Err(_) => Err(TransportError::Timeout {
            what: "writing to",
            addr,
            timeout,
        }),
    }
}

/// Whether the message is read by the accepting side (which checks the dialer's label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We accepted the connection: the stream starts with the dialer's label.
    Accepted,
    /// We dialed: the answer carries no label.
    Dialed,
}

/// Reads one message within `timeout`, reading exactly as many bytes as decoding needs.
pub async fn read_message(
    conn: &mut TcpStream,
    addr: SocketAddr,
    side: Side,
    label: &LabelPolicy,
    timeout: Duration,
) -> Result<StreamMessage, TransportError> {
    let read = async {
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut want = 1usize;
        loop {
            while buf.len() < want {
                let mut chunk = vec![0u8; (want - buf.len()).clamp(4096, 1 << 20)];
                let n = conn
                    .read(&mut chunk)
                    .await
                    .map_err(|source| TransportError::Io {
                        what: "reading from",
                        addr,
                        source,
                    })?;
                if n == 0 {
                    return Err(TransportError::Closed {
                        addr,
                        got: buf.len(),
                    });
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let decoded = match side {
                Side::Accepted => StreamMessage::decode_accepted(&buf, label),
                Side::Dialed => StreamMessage::decode(&buf),
            };
            match decoded {
                Ok((msg, _)) => return Ok(msg),
                Err(e) => match e.needed_bytes() {
                    Some(more) if buf.len() + more <= MAX_PUSH_STATE_BYTES * 2 => {
                        want = buf.len() + more;
                    }
                    _ => {
                        return Err(TransportError::Decode {
                            addr,
                            source: Box::new(e),
                        });
                    }
                },
            }
        }
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::Timeout {
            what: "reading from",
            addr,
            timeout,
        }),
    }
}
