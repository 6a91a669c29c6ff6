//! Errors of the JSON API: the same field, code and message as the HTML forms, as JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use madoguchi_domain::FieldErrors;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::PublicError;
use crate::messages::Catalog;

/// One refused field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The request field, as named in the request body.
    pub field: String,
    /// A stable code (`invalid-phone`, `required`, …).
    pub code: String,
    /// What to fix, in Japanese.
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable code: `invalid-fields`, `slot-full`, `not-found`, `rate-limited`, …
    pub code: String,
    /// What happened and what to do, in Japanese.
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
    pub fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            problem: Problem {
                code: code.to_owned(),
                message: message.to_owned(),
                fields: Vec::new(),
            },
            retry_after: None,
        }
    }

    /// 422 with a message per refused field, worded as on the forms.
    pub fn fields(catalog: &Catalog, fields: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut error = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fields",
            "入力内容に誤りがあります。fields の各項目をご確認ください。",
        );
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

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("{what}が見つかりません。"),
        )
    }

    pub fn bad_request(code: &str, message: &str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401, answered with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(code: &str, message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// An error about one field, with the forms' message, under its own status and code
    /// (e.g. 410 `code-expired` for the field `code`).
    pub fn field(catalog: &Catalog, status: StatusCode, field: &str, code: &str) -> Self {
        let mut error = ApiError::new(status, code, &catalog.message(field, code));
        error.problem.fields = vec![FieldProblem {
            field: field.to_owned(),
            code: code.to_owned(),
            message: catalog.message(field, code),
        }];
        error
    }
}

impl From<PublicError> for ApiError {
    fn from(error: PublicError) -> Self {
        match error {
            PublicError::RateLimited {
                retry_after_seconds,
            } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "短い時間に多くのリクエストがありました。Retry-After の秒数をおいてから、もう一度お試しください。",
                );
                e.retry_after = Some(retry_after_seconds);
                e
            }
            PublicError::BodyTooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "リクエストが大きすぎます。",
            ),
            PublicError::ProductClosed => ApiError::new(
                StatusCode::CONFLICT,
                "product-closed",
                "この商品のお申込みは現在受け付けておりません。",
            ),
            PublicError::UnsupportedMediaType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Content-Type: application/json で送信してください。",
            ),
            other => {
                tracing::error!(error = %other, "api request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "システムで問題が発生しました。しばらくしてから、もう一度お試しください。",
                )
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
