//! Serving a router on a TCP listener, with the timeouts a slow client meets.
//!
//! `axum::serve` cannot bound how long a client takes to send a request's header: a client
//! that trickles one header byte at a time (slowloris) would hold its connection, and a task,
//! for as long as it likes. Here each connection is served by hyper's HTTP/1 server with a
//! header read timeout, and every request runs under the request timeout (the body's upload
//! included) and is answered 408 when it runs out. What the client sends passes through
//! `framing.rs` first, which answers 400 to a request with both Content-Length and
//! Transfer-Encoding (request smuggling). The client's address is handed to the router as
//! `ConnectInfo`, as `into_make_service_with_connect_info` would.

use std::net::IpAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use madoguchi_http::{ConnectionPeer, Timeouts, client_address, security_headers};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use framing::Guarded;

mod framing;

/// Serves `router` on `listener` until `stop` turns true, then lets open requests finish.
///
/// `proxies`: the declared TLS-terminating proxies (`--tls-proxy`), whose `X-Forwarded-For`
/// gives the client's address (`madoguchi_http::client_address`).
pub async fn serve_until(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    proxies: Arc<[IpAddr]>,
    mut stop: watch::Receiver<bool>,
    what: &'static str,
) {
    // The timeout's 408 passes through the security headers like every other answer.
    let router = router
        .layer(timeouts.request_layer())
        .layer(axum::middleware::from_fn(security_headers));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::error!(error = %e, listener = what, "cannot accept a connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        // The router, telling handlers the client's address.
        let router = router.clone();
        let proxies = Arc::clone(&proxies);
        let service = TowerToHyperService::new(tower::service_fn(
            move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                let client = client_address(peer, request.headers(), &proxies);
                request.extensions_mut().insert(ConnectInfo(client));
                request.extensions_mut().insert(ConnectionPeer(peer));
                router.clone().oneshot(request)
            },
        ));
        let connection = http
            .serve_connection(TokioIo::new(Guarded::new(stream)), service)
            .with_upgrades();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                () = stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}
