//! Errors of the public site, each answered with a page in Japanese that says what to do.
//! Internal details are logged (never with personal data) and never shown.

use askama::Template;
use askama_web::WebTemplate;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::{Layout, PublicState};

#[derive(Debug, thiserror::Error)]
pub enum PublicError {
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("request body too large or unreadable")]
    BodyTooLarge,
    #[error("the application session has expired")]
    SessionExpired,
    #[error("product not offered")]
    ProductClosed,
    #[error("rate limited for {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// Every upload slot of this process is taken: try again shortly (503).
    #[error("too many uploads at once")]
    Busy,
    /// The e-mail address received its hour's code e-mails (whoever asked).
    #[error("code e-mails to this address limited for {retry_after_seconds} s")]
    RecipientLimited { retry_after_seconds: u64 },
    #[error("no such page")]
    NotFound,
    #[error("slot cannot be booked: {0}")]
    SlotUnavailable(madoguchi_domain::ErrorCode),
    #[error("too many future bookings for this e-mail address")]
    TooManyBookings,
    #[error("this booking form was already submitted")]
    AlreadyBooked,
    #[error("unknown or expired booking link")]
    BookingLinkInvalid,
    #[error("the booking can no longer be changed online")]
    BookingClosed,
    #[error("the booking was changed meanwhile")]
    BookingChanged,
    #[error("the bank has suspended this service")]
    Suspended,
    #[error("storage: {0}")]
    Store(#[from] madoguchi_store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
    /// The document storage (an S3-compatible bucket) did not answer: nothing was stored.
    #[error("document storage unavailable: {0}")]
    StorageUnavailable(String),
}

/// `Retry-After` of a 503 while the database is unreachable (a restart takes seconds).
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Arc<Layout>,
    title: String,
    message: String,
    restart: bool,
    /// The bank's own notice (a suspended service), as plain text.
    notice: Option<String>,
}

/// What an error response carries until [`render_error_pages`] turns it into a page: the
/// catalogue keys (`[pages]`) of its title and message, worded in the applicant's language.
#[derive(Debug, Clone, Copy)]
struct ErrorText {
    title: &'static str,
    message: &'static str,
    restart: bool,
}

impl PublicError {
    fn text(&self) -> (StatusCode, ErrorText) {
        let (status, title, message, restart) = match self {
            PublicError::Csrf => (
                StatusCode::FORBIDDEN,
                "error.csrf.title",
                "error.csrf.message",
                true,
            ),
            PublicError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "error.media-type.title",
                "error.media-type.message",
                true,
            ),
            PublicError::BodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "error.too-large.title",
                "error.too-large.message",
                true,
            ),
            PublicError::SessionExpired => (
                StatusCode::GONE,
                "error.session-expired.title",
                "error.session-expired.message",
                true,
            ),
            PublicError::ProductClosed => (
                StatusCode::NOT_FOUND,
                "error.product-closed.title",
                "error.product-closed.message",
                false,
            ),
            PublicError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "error.rate-limited.title",
                "error.rate-limited.message",
                false,
            ),
            PublicError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.rate-limited.title",
                "error.rate-limited.message",
                false,
            ),
            PublicError::RecipientLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "error.recipient-limited.title",
                "error.recipient-limited.message",
                false,
            ),
            PublicError::NotFound => (
                StatusCode::NOT_FOUND,
                "error.not-found.title",
                "error.not-found.message",
                false,
            ),
            PublicError::SlotUnavailable(code) => (
                StatusCode::CONFLICT,
                "error.slot.title",
                slot_message(*code),
                false,
            ),
            PublicError::TooManyBookings => (
                StatusCode::CONFLICT,
                "error.too-many-bookings.title",
                "error.too-many-bookings.message",
                false,
            ),
            PublicError::AlreadyBooked => (
                StatusCode::CONFLICT,
                "error.already-booked.title",
                "error.already-booked.message",
                false,
            ),
            PublicError::BookingLinkInvalid => (
                StatusCode::NOT_FOUND,
                "error.booking-link.title",
                "error.booking-link.message",
                false,
            ),
            PublicError::BookingClosed => (
                StatusCode::CONFLICT,
                "error.booking-closed.title",
                "error.booking-closed.message",
                false,
            ),
            PublicError::BookingChanged => (
                StatusCode::CONFLICT,
                "error.booking-changed.title",
                "error.booking-changed.message",
                false,
            ),
            PublicError::Suspended => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.suspended.title",
                "error.suspended.message",
                false,
            ),
            // The database is restarting or failing over, or the document storage does not
            // answer: nothing was stored, try again.
            PublicError::StorageUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.internal.title",
                "error.internal.message",
                true,
            ),
            PublicError::Store(e) if e.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.internal.title",
                "error.internal.message",
                true,
            ),
            PublicError::Store(_) | PublicError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal.title",
                "error.internal.message",
                true,
            ),
        };
        (
            status,
            ErrorText {
                title,
                message,
                restart,
            },
        )
    }
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        match &self {
            PublicError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %self, "public request: the database is unavailable");
            }
            PublicError::StorageUnavailable(_) => {
                tracing::error!(error = %self, "public request: the document storage is unavailable");
            }
            PublicError::Store(_) | PublicError::Internal(_) => {
                tracing::error!(error = %self, "public request failed");
            }
            _ => tracing::info!(error = %self, "public request refused"),
        }
        let (status, text) = self.text();
        let mut response = status.into_response();
        if let PublicError::RateLimited {
            retry_after_seconds,
        }
        | PublicError::RecipientLimited {
            retry_after_seconds,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE && !matches!(self, PublicError::Suspended) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_SECONDS),
            );
        }
        response.extensions_mut().insert(text);
        response
    }
}

fn slot_message(code: madoguchi_domain::ErrorCode) -> &'static str {
    use madoguchi_domain::ErrorCode;
    match code {
        ErrorCode::SlotFull => "error.slot.full",
        ErrorCode::SlotClosed => "error.slot.closed",
        ErrorCode::SlotOutsideWindow => "error.slot.outside-window",
        _ => "error.slot.not-offered",
    }
}

/// The answer for an unknown address.
pub async fn not_found() -> Response {
    let text = ErrorText {
        title: "error.not-found.title",
        message: "error.not-found.message",
        restart: false,
    };
    let mut response = StatusCode::NOT_FOUND.into_response();
    response.extensions_mut().insert(text);
    response
}

/// Renders error responses as pages with the bank's layout (errors are raised where the
/// layout is not at hand).
pub async fn render_error_pages(
    State(state): State<PublicState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let Some(text) = response.extensions().get::<ErrorText>().copied() else {
        return response;
    };
    let page = ErrorPage {
        layout: state.layout(),
        title: state.catalog().t(text.title).to_owned(),
        message: state.catalog().t(text.message).to_owned(),
        restart: text.restart,
        notice: response
            .extensions()
            .get::<crate::suspension::SuspensionNotice>()
            .map(|n| n.0.clone()),
    };
    // Keep the status and headers of the error (Retry-After, cookies); replace the body.
    let (mut parts, _) = response.into_parts();
    let (page_parts, body) = page.into_response().into_parts();
    parts.headers.extend(page_parts.headers);
    Response::from_parts(parts, body)
}
