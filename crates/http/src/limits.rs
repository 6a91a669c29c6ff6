use std::time::Duration;

use axum::http::StatusCode;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// The largest form body accepted. Application forms are a few kilobytes.
pub const MAX_FORM_BODY_BYTES: usize = 64 * 1024;

/// A request that takes longer than this (a slow client, a stuck query) is cut off.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client that has not sent a request's whole header by then is disconnected (slowloris).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take: to send a request's header (counted from its first byte, or
/// from the end of the previous request on a kept-alive connection), and to get its answer
/// once the header is in (the body's upload included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub header_read: Duration,
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            header_read: HEADER_READ_TIMEOUT,
            request: REQUEST_TIMEOUT,
        }
    }
}

impl Timeouts {
    /// The layer that answers 408 when a request (its body's upload included) runs longer
    /// than [`Timeouts::request`].
    pub fn request_layer(&self) -> TimeoutLayer {
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, self.request)
    }
}

/// Body size limit for a router.
pub fn body_limit(max_body: usize) -> RequestBodyLimitLayer {
    RequestBodyLimitLayer::new(max_body)
}
