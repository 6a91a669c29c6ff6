//! The client's address behind a declared TLS-terminating proxy.
//!
//! Behind nginx every connection comes from the proxy, so rate limits, the audit log's
//! addresses and detection's per-address counts would all see one address. A proxy declared
//! with `--tls-proxy` passes the client's address in `X-Forwarded-For` (the deploy's nginx
//! sets it to `$remote_addr`, replacing whatever the client sent). The header is believed only
//! from a declared proxy: from anyone else it is ignored, so a client cannot choose its address.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The TCP peer of a connection (the proxy, when there is one). The back office's address
/// allowlist applies to it: the proxy enforces its own list for the clients behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionPeer(pub SocketAddr);

/// The client's address: the last `X-Forwarded-For` entry when `peer` is one of `proxies`
/// and the entry is an address; otherwise `peer` itself. (Port 0: the proxy does not say.)
pub fn client_address(peer: SocketAddr, headers: &HeaderMap, proxies: &[IpAddr]) -> SocketAddr {
    if !proxies.contains(&peer.ip()) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .map_or(peer, |ip| SocketAddr::new(ip, 0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_a_declared_proxy_is_believed() {
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        let proxies = ["127.0.0.1".parse().unwrap()];
        let forwarded = headers(&["203.0.113.7"]);
        assert_eq!(
            client_address(proxy, &forwarded, &proxies),
            "203.0.113.7:0".parse().unwrap()
        );
        assert_eq!(client_address(stranger, &forwarded, &proxies), stranger);
        assert_eq!(client_address(proxy, &forwarded, &[]), proxy);
    }

    #[test]
    fn the_last_entry_counts_and_garbage_falls_back_to_the_peer() {
        let proxy: SocketAddr = "10.0.0.2:443".parse().unwrap();
        let proxies = ["10.0.0.2".parse().unwrap()];
        // A client-supplied first entry is not the address the proxy saw.
        let chain = headers(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(
            client_address(proxy, &chain, &proxies).ip(),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let two = headers(&["1.2.3.4", "2001:db8::5"]);
        assert_eq!(
            client_address(proxy, &two, &proxies).ip(),
            "2001:db8::5".parse::<IpAddr>().unwrap()
        );
        for bad in ["unknown", "", "203.0.113.7:8080"] {
            assert_eq!(
                client_address(proxy, &headers(&[bad]), &proxies),
                proxy,
                "{bad}"
            );
        }
        assert_eq!(client_address(proxy, &HeaderMap::new(), &proxies), proxy);
    }
}
