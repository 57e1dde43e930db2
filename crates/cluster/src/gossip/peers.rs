//! Finding the other members: `ha_peers` names resolved to every A/AAAA record (a Kubernetes
//! headless service gives every pod), the initial join, reconnecting to failed peers every
//! 10 s, forgetting them after the reconnect timeout, and re-resolving the names every 15 s to
//! join addresses not yet in the cluster (Alertmanager's `resolvePeers`, `reconnect`,
//! `removeFailedPeers` and `refresh`).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

/// How often names are re-resolved (`DefaultRefreshInterval`).
pub(crate) const REFRESH_INTERVAL: Duration = Duration::from_secs(15);
/// How often empty lookups are retried at start.
const EMPTY_RETRY: Duration = Duration::from_secs(2);

/// Resolves `host:port` items to socket addresses, without `own`. A name that does not resolve
/// is logged and skipped; with `wait_if_empty`, an empty result is retried every 2 s until
/// `timeout`.
pub(crate) async fn resolve(
    peers: &[String],
    own: SocketAddr,
    wait_if_empty: bool,
    timeout: Duration,
) -> Vec<SocketAddr> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for peer in peers {
            match tokio::time::timeout_at(deadline, tokio::net::lookup_host(peer.as_str())).await {
                Ok(Ok(addrs)) => {
                    for a in addrs {
                        if a != own && seen.insert(a) {
                            out.push(a);
                        }
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(peer = %peer, error = %e, "resolving a cluster peer failed")
                }
                Err(_) => tracing::warn!(peer = %peer, "resolving a cluster peer timed out"),
            }
        }
        if !out.is_empty() || !wait_if_empty || peers.is_empty() {
            return out;
        }
        if tokio::time::Instant::now() + EMPTY_RETRY > deadline {
            tracing::warn!(peers = ?peers, "no cluster peer resolved; starting alone");
            return out;
        }
        tokio::time::sleep(EMPTY_RETRY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_expand_to_every_address_and_self_is_removed() {
        let own: SocketAddr = "127.0.0.1:9094".parse().unwrap();
        let peers = vec![
            "127.0.0.1:9094".to_owned(),
            "127.0.0.2:9094".to_owned(),
            "localhost:9095".to_owned(),
        ];
        let got = resolve(&peers, own, false, Duration::from_secs(5)).await;
        assert!(!got.contains(&own));
        assert!(got.contains(&"127.0.0.2:9094".parse().unwrap()));
        assert!(got.iter().any(|a| a.port() == 9095 && a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn unresolvable_names_are_skipped() {
        let own: SocketAddr = "127.0.0.1:9094".parse().unwrap();
        let peers = vec![
            "no-such-host.invalid:9094".to_owned(),
            "127.0.0.3:1".to_owned(),
        ];
        let got = resolve(&peers, own, false, Duration::from_secs(5)).await;
        assert_eq!(got, vec!["127.0.0.3:1".parse::<SocketAddr>().unwrap()]);
    }
}
