//! The back office (SPEC §5): served on its own listener, loopback by default, never by the
//! public one.
//!
//! Its job: let bank staff sign in with a second factor, review applications with masked
//! fields and audited reveals, approve them under four eyes, hand them off to core banking,
//! work the loan centres' reservation calendars, and manage staff — each request allowed or
//! refused by one table ([`routes`]) and one middleware ([`authz`]).
//!
//! Invariants:
//! - it shares no handler and no route with the public site (`madoguchi-public`);
//! - deny by default: the router is built from the table, and a route without a row cannot
//!   exist; no handler compares roles or scopes;
//! - it answers only clients from loopback addresses and the configured allowlist;
//! - every value a customer typed is rendered by askama's HTML escaping (never `|safe`), and
//!   every CSV cell passes `csv::cell` (formula injection);
//! - personal data is decrypted only through [`audit::record`] first: no event, no data.

pub mod audit;
mod audit_log;
pub mod authz;
mod calendar;
pub mod csv;
pub mod detection;
mod error;
pub mod handoff;
mod home;
pub mod key_rotation;
mod mail;
mod outbox;
pub mod passkeys;
pub mod reindex;
mod review;
pub mod routes;
pub mod session;
pub mod sign_in;
pub mod staff_admin;
mod state;
mod view;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use madoguchi_http::{MAX_FORM_BODY_BYTES, body_limit, security_headers};

pub use error::OfficeError;
pub use routes::{RouteInfo, route_table};
pub use state::{OfficeDeps, OfficeState};

/// The back office's router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that the client address is known.
/// The routes that answer without a session (method, path), for `madoguchi doctor` to hold
/// against its allowlist.
pub fn unauthenticated_routes() -> Vec<(axum::http::Method, &'static str)> {
    routes::table()
        .into_iter()
        .filter(|r| matches!(r.policy.access, authz::Access::Anyone))
        .map(|r| (r.method, r.path))
        .collect()
}

pub fn router(state: OfficeState) -> Router {
    let table = routes::table();
    let policies: authz::Policies = Arc::new(
        table
            .iter()
            .map(|r| ((r.method.clone(), r.path.to_owned()), r.policy))
            .collect(),
    );
    let allowed: Arc<[IpAddr]> = state.inner.allowed_clients.clone().into();
    let mut router = Router::new();
    for route in table {
        router = router.route(route.path, route.handler);
    }
    router
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), policies),
            authz::enforce,
        ))
        .fallback(|| async { error::status_page(StatusCode::NOT_FOUND) })
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            allowed,
            allowed_clients_only,
        ))
        .layer(middleware::from_fn(scripts_from_here))
        .layer(middleware::from_fn(security_headers))
        .layer(body_limit(MAX_FORM_BODY_BYTES))
}

/// A personal field's name as staff read it (e.g. `family_name` → 「氏名（姓）」).
pub fn field_label(name: &str) -> &str {
    review::field_label(name)
}

/// The stylesheet of every page.
pub(crate) async fn stylesheet() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        include_str!("../static/office.css"),
    )
        .into_response()
}

/// The shared policy, plus this site's own script files (the passkey ceremony needs the
/// browser's WebAuthn API): still no inline script, nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn scripts_from_here(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    // A handler's own policy stands (an identity document is served with `sandbox`).
    response
        .headers_mut()
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

/// Refuses every client that is neither on this machine nor on the allowlist.
async fn allowed_clients_only(
    State(allowed): State<Arc<[IpAddr]>>,
    request: Request,
    next: Next,
) -> Response {
    // The connection's peer: behind a declared proxy, the proxy (which keeps its own list of
    // staff networks); otherwise the client.
    let peer = request
        .extensions()
        .get::<madoguchi_http::ConnectionPeer>()
        .map(|p| p.0.ip())
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
    match peer {
        Some(ip) if ip.is_loopback() || allowed.contains(&ip) => next.run(request).await,
        _ => {
            tracing::warn!(peer = ?peer, "back office refused a client not on its allowlist");
            (StatusCode::FORBIDDEN, "forbidden").into_response()
        }
    }
}
