//! The JSON API under `/api/v1` (SPEC §4.3), for an app: the same services, validation and
//! error content as the HTML forms, described by the OpenAPI document at
//! `/api/v1/openapi.json`. No cookies, so no CSRF: every request stands alone, and a request
//! body must be `application/json` (which a cross-site HTML form cannot send).

mod body;
mod error;
mod reservations;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::state::PublicState;
use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "madoguchi public API",
        description = "Visit reservations of the bank's loan centres. Times are RFC 3339 in Japan time; messages are in Japanese. Errors carry a stable `code`, a `message` and, for invalid input, the refused `fields`.",
        version = "1"
    ),
    paths(
        reservations::centers,
        reservations::slots,
        reservations::book,
        reservations::lookup,
        reservations::change,
        reservations::cancel,
    ),
    tags((name = "reservations", description = "来店予約サービス: loan-centre visit bookings"))
)]
struct ApiDoc;

/// The OpenAPI document, as served.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

/// The routes under `/api/v1`.
pub fn routes() -> Router<PublicState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/loan-centers", get(reservations::centers))
        .route("/loan-centers/{center_id}/slots", get(reservations::slots))
        .route("/bookings", post(reservations::book))
        .route("/bookings/lookup", post(reservations::lookup))
        .route("/bookings/change", post(reservations::change))
        .route("/bookings/cancel", post(reservations::cancel))
        .fallback(|| async { ApiError::not_found("API") })
}

async fn openapi() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}
