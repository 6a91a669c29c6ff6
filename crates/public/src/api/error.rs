//! Errors of the JSON API: the same field, code and message as the HTML forms, as JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use madoguchi_domain::FieldErrors;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::PublicError;
use crate::messages::{Catalog, Catalogs};

/// One refused field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The request field, as named in the request body.
    pub field: String,
    /// A stable code (`invalid-phone`, `required`, …).
    pub code: String,
    /// What to fix, in the request's language (`Accept-Language`: English for `en`, else
    /// Japanese).
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable code: `invalid-fields`, `slot-full`, `not-found`, `rate-limited`, …
    pub code: String,
    /// What happened and what to do, in the request's language (as `FieldProblem::message`).
    pub message: String,
    /// The refused fields, for `invalid-fields`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

/// An error answer: status, body and, for rate limits, the seconds to wait.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: Problem,
    retry_after: Option<u64>,
}

impl ApiError {
    fn with_message(status: StatusCode, code: &str, message: String) -> ApiError {
        ApiError {
            status,
            problem: Problem {
                code: code.to_owned(),
                message,
                fields: Vec::new(),
            },
            retry_after: None,
        }
    }

    /// An answer with the catalogue's `[api]` message for `code`, in the request's language.
    pub fn new(status: StatusCode, code: &str) -> ApiError {
        ApiError::with_message(status, code, api_message(code))
    }

    /// 422 with a message per refused field, worded as on the forms.
    pub fn fields(catalog: &Catalog, fields: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-fields");
        error.problem.fields = fields
            .into_iter()
            .map(|(field, code)| FieldProblem {
                message: catalog.message(&field, &code),
                field,
                code,
            })
            .collect();
        error
    }

    pub fn field_errors(catalog: &Catalog, errors: &FieldErrors) -> Self {
        Self::fields(
            catalog,
            errors
                .iter()
                .map(|e| (e.field.to_owned(), e.code.as_str().to_owned())),
        )
    }

    /// 404 `not-found`, saying what was not found (`[api]` key `not-found.{what}`).
    pub fn not_found(what: &str) -> Self {
        ApiError::with_message(
            StatusCode::NOT_FOUND,
            "not-found",
            api_message(&format!("not-found.{what}")),
        )
    }

    pub fn bad_request(code: &str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code)
    }

    /// 401, answered with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(code: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code)
    }

    /// An error about one field, with the forms' message, under its own status and code
    /// (e.g. 410 `code-expired` for the field `code`).
    pub fn field(catalog: &Catalog, status: StatusCode, field: &str, code: &str) -> Self {
        let mut error = ApiError::with_message(status, code, catalog.message(field, code));
        error.problem.fields = vec![FieldProblem {
            field: field.to_owned(),
            code: code.to_owned(),
            message: catalog.message(field, code),
        }];
        error
    }
}

/// The `[api]` message for `key` in the language of the request being answered.
fn api_message(key: &str) -> String {
    Catalogs::compiled()
        .get(crate::language::current())
        .api(key)
        .to_owned()
}

/// 503 `service-suspended` with `Retry-After`: the bank has stopped this service.
pub(crate) fn service_suspended(retry_after: u64) -> Response {
    let mut error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "service-suspended");
    error.retry_after = Some(retry_after);
    error.into_response()
}

impl From<PublicError> for ApiError {
    fn from(error: PublicError) -> Self {
        match error {
            PublicError::RateLimited {
                retry_after_seconds,
            } => {
                let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
                e.retry_after = Some(retry_after_seconds);
                e
            }
            PublicError::RecipientLimited {
                retry_after_seconds,
            } => {
                let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "recipient-limited");
                e.retry_after = Some(retry_after_seconds);
                e
            }
            PublicError::BodyTooLarge => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large")
            }
            PublicError::ProductClosed => ApiError::new(StatusCode::CONFLICT, "product-closed"),
            PublicError::StorageUnavailable(e) => {
                tracing::error!(error = %e, "api request: the document storage is unavailable");
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
                e.retry_after = Some(crate::error::UNAVAILABLE_RETRY_SECONDS);
                e
            }
            PublicError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "api request: the database is unavailable");
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
                e.retry_after = Some(crate::error::UNAVAILABLE_RETRY_SECONDS);
                e
            }
            PublicError::UnsupportedMediaType => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            other => {
                tracing::error!(error = %other, "api request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.problem)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use crate::messages::{Catalogs, Lang};

    /// The string literals of `text` that look like an answer code (`slot-full`).
    fn codes_after(text: &str, marker: &str) -> Vec<String> {
        text.match_indices(marker)
            .filter_map(|(at, _)| {
                let rest = &text[at + marker.len()..];
                let end = rest.find('"')?;
                Some(rest[..end].to_owned())
            })
            .collect()
    }

    #[test]
    fn every_api_code_has_a_message_in_both_languages() {
        let sources = [
            include_str!("applications.rs"),
            include_str!("body.rs"),
            include_str!("mod.rs"),
            include_str!("reservations.rs"),
            include_str!("status.rs"),
            include_str!("error.rs"),
        ];
        let mut keys = Vec::new();
        for text in sources {
            for marker in ["bad_request(\"", "unauthorized(\"", "conflict(\""] {
                keys.extend(codes_after(text, marker));
            }
            keys.extend(
                codes_after(text, "not_found(\"")
                    .into_iter()
                    .map(|what| format!("not-found.{what}")),
            );
        }
        // The answers to the common refusals, made in `From<PublicError>`.
        let error = include_str!("error.rs");
        let from = &error[error.find("impl From<PublicError>").unwrap_or(0)..];
        let from = &from[..from.find("impl IntoResponse").unwrap_or(from.len())];
        keys.extend(
            from.split('"')
                .skip(1)
                .step_by(2)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
                .map(str::to_owned),
        );
        keys.push("invalid-fields".to_owned());
        assert!(keys.len() >= 15, "found only {keys:?}");
        let catalogs = Catalogs::load().expect("catalogues");
        for lang in [Lang::Ja, Lang::En] {
            for key in &keys {
                assert_ne!(
                    catalogs.get(lang).api(key),
                    key,
                    "{lang:?} lacks [api] {key}"
                );
            }
        }
    }
}
