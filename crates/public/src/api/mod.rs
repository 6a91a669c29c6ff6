//! The JSON API under `/api/v1` (SPEC §4.3), for an app: the same services, validation and
//! error content as the HTML forms, described by the OpenAPI document at
//! `/api/v1/openapi.json`. No cookies, so no CSRF: every request stands alone, and a request
//! body must be `application/json` (which a cross-site HTML form cannot send).

mod applications;
mod body;
mod error;
pub(crate) use error::service_suspended;
mod reservations;
mod status;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::routes::Route;
use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "madoguchi public API",
        description = "Applications (savings account, internet banking, Visa debit card), their status, and visit reservations of the bank's loan centres. An application starts with an e-mail check (`/email-checks`): the code from the e-mail yields a `verification_token` for one submission, presented as `Authorization: Bearer`. Fields, codes and messages are those of the HTML forms. Times are RFC 3339. Messages (and loan-centre names and addresses) are in Japanese, or in English when the request's `Accept-Language` prefers English (`en` or any `en-*` ranked above `ja`, e.g. `Accept-Language: en-US`); without the header, or for any other language, Japanese. Errors carry a stable `code`, a `message` and, for invalid input, the refused `fields`. Rate limits per client address answer 429 with Retry-After.",
        version = "1"
    ),
    paths(
        applications::start_email_check,
        applications::confirm_email_check,
        applications::submit_savings_account,
        applications::submit_internet_banking,
        applications::submit_debit_card,
        status::start,
        status::confirm,
        reservations::centers,
        reservations::slots,
        reservations::book,
        reservations::lookup,
        reservations::change,
        reservations::cancel,
    ),
    modifiers(&BearerToken, &CommonErrors),
    tags(
        (name = "applications", description = "Web申込: e-mail check and the three applications"),
        (name = "status", description = "お申込み状況の確認: an application's status"),
        (name = "reservations", description = "来店予約サービス: loan-centre visit bookings"),
    )
)]
struct ApiDoc;

/// The refusals any request with a JSON body can meet before its handler looks at it (not
/// JSON, not UTF-8, not an object; wrong media type; too large; fields of the wrong type;
/// the rate limit), added to every POST operation that does not document them itself.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, RefOr, ResponseBuilder, Type,
        };
        let common = [
            ("400", "Not a JSON object in UTF-8 (`invalid-json`)"),
            ("413", "Body too large (`body-too-large`)"),
            ("415", "Not application/json (`unsupported-media-type`)"),
            (
                "422",
                "Fields to correct, or of the wrong type (`invalid-fields`)",
            ),
            (
                "429",
                "Too many requests from this address; see Retry-After (`rate-limited`)",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let Some(operation) = item.post.as_mut() else {
                continue;
            };
            for (status, description) in common {
                if operation.responses.responses.contains_key(status) {
                    continue;
                }
                let response = ResponseBuilder::new().description(description).content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                );
                operation
                    .responses
                    .responses
                    .insert(status.to_owned(), response.build().into());
            }
            if let Some(RefOr::T(limited)) = operation.responses.responses.get_mut("429") {
                limited.headers.insert(
                    "Retry-After".to_owned(),
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                        .description(Some("Seconds to wait"))
                        .build()
                        .into(),
                );
            }
        }
    }
}

/// The `verification_token` security scheme of the submissions.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "verification_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The `verification_token` from confirming the e-mail check: one submission of its product.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document, as served.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

/// The rows of the API, to mount under `/api/v1` (see [`crate::routes`]).
pub(crate) fn routes() -> Vec<Route> {
    use applications as apps;
    vec![
        Route::get("/openapi.json", "API: the OpenAPI document", openapi),
        Route::post(
            "/email-checks",
            "API: start an e-mail check",
            apps::start_email_check,
        ),
        Route::post(
            "/email-checks/{check_id}/confirm",
            "API: confirm an e-mail check",
            apps::confirm_email_check,
        ),
        Route::post(
            "/applications/savings-account",
            "API: submit a savings account application",
            apps::submit_savings_account,
        ),
        Route::post(
            "/applications/internet-banking",
            "API: submit an internet banking application",
            apps::submit_internet_banking,
        ),
        Route::post(
            "/applications/debit-card",
            "API: submit a debit card application",
            apps::submit_debit_card,
        ),
        Route::post("/status-checks", "API: start a status check", status::start),
        Route::post(
            "/status-checks/{check_id}/confirm",
            "API: confirm a status check, read the status",
            status::confirm,
        ),
        Route::get(
            "/loan-centers",
            "API: the loan centres",
            reservations::centers,
        ),
        Route::get(
            "/loan-centers/{center_id}/slots",
            "API: a centre's free slots",
            reservations::slots,
        ),
        Route::post("/bookings", "API: book a slot", reservations::book),
        Route::post(
            "/bookings/lookup",
            "API: read one's booking with its token",
            reservations::lookup,
        ),
        Route::post(
            "/bookings/change",
            "API: move one's booking",
            reservations::change,
        ),
        Route::post(
            "/bookings/cancel",
            "API: cancel one's booking",
            reservations::cancel,
        ),
    ]
}

/// What the API answers for a path under `/api/v1` it does not serve.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("api")
}

async fn openapi() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}
