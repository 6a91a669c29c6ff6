use std::time::Duration;

use axum::http::StatusCode;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// The largest form body accepted. Application forms are a few kilobytes.
pub const MAX_FORM_BODY_BYTES: usize = 64 * 1024;

/// A request that takes longer than this (a slow client, a stuck query) is cut off.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Body size limit and timeout for a router.
pub fn request_limits(max_body: usize) -> (RequestBodyLimitLayer, TimeoutLayer) {
    (
        RequestBodyLimitLayer::new(max_body),
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT),
    )
}
