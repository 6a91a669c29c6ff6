//! The back office (SPEC §5): served on its own listener, loopback by default, never by the
//! public one.
//!
//! Invariants:
//! - it shares no handler and no route with the public site (`madoguchi-public`);
//! - it answers only clients from loopback addresses (an allowlist comes with the deployment
//!   checks of `madoguchi doctor`);
//! - until staff sign-in exists, no route here shows, counts or lists any application: the
//!   only page is a sign-in placeholder.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use madoguchi_http::{MAX_FORM_BODY_BYTES, request_limits, security_headers};

/// The back office's router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that the client address is known.
pub fn router(bank_name: String) -> Router {
    let (body_limit, timeout) = request_limits(MAX_FORM_BODY_BYTES);
    Router::new()
        .route("/", get(move || sign_in(bank_name.clone())))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn(loopback_only))
        .layer(middleware::from_fn(security_headers))
        .layer(body_limit)
        .layer(timeout)
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    bank_name: String,
}

async fn sign_in(bank_name: String) -> impl IntoResponse {
    SignInPage { bank_name }
}

/// Refuses every client that is not on this machine.
async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    match peer {
        Some(addr) if addr.ip().is_loopback() => next.run(request).await,
        _ => {
            tracing::warn!(peer = ?peer, "back office refused a non-loopback client");
            (StatusCode::FORBIDDEN, "forbidden").into_response()
        }
    }
}
