//! Errors of the back office: logged in full, shown to staff as a plain page without
//! internals.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error("storage: {0}")]
    Store(#[from] madoguchi_store::StoreError),
    #[error("the audit event could not be written, so nothing is shown: {0}")]
    Audit(madoguchi_store::StoreError),
    #[error("a key could not open a record: {0}")]
    Open(#[from] madoguchi_keyring::OpenError),
    #[error("the path parameters could not be read")]
    BadPath,
    /// Detection held the member of staff (the alert is raised; the session has ended).
    #[error("the member of staff was held by detection")]
    Held,
    /// Too many password checks at once in this process: try again shortly (503).
    #[error("too many password checks at once")]
    Busy,
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for OfficeError {
    fn into_response(self) -> Response {
        match self {
            OfficeError::Held => return held_page(),
            OfficeError::Busy => return busy_page(),
            _ => {}
        }
        tracing::error!(error = %self, "back-office request failed");
        status_page(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A page for a status: Japanese first, no detail of what went wrong inside.
pub(crate) fn status_page(status: StatusCode) -> Response {
    let (title, text) = match status {
        StatusCode::NOT_FOUND => ("見つかりません", "お探しのページは見つかりません。"),
        StatusCode::FORBIDDEN => (
            "権限がありません",
            "この操作を行う権限がありません。必要な場合は管理者にお問い合わせください。",
        ),
        StatusCode::UNAUTHORIZED => (
            "サインインしてください",
            "セッションが終了しました。もう一度サインインしてください。",
        ),
        _ => (
            "エラーが発生しました",
            "処理を完了できませんでした。時間をおいてもう一度お試しください。",
        ),
    };
    let body = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head><body><main><h1>{title}</h1><p>{text}</p><p><a href=\"/\">トップへ</a></p>\
         </main></body></html>"
    );
    (status, Html(body)).into_response()
}

/// 503 with Retry-After: the password checks of this process are all taken.
fn busy_page() -> Response {
    let mut answer = status_page(StatusCode::SERVICE_UNAVAILABLE);
    answer.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("2"),
    );
    answer
}

/// What a member of staff held by detection sees: no detail of the rule (an intruder learns
/// nothing of the limits), only whom to call.
fn held_page() -> Response {
    let body = "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
        <title>アカウントを停止しました</title></head><body><main>\
        <h1>アカウントを停止しました</h1>\
        <p>セキュリティ上の理由により、このアカウントを停止し、サインインを終了しました。\
        業務を再開するには、システム管理者に連絡してください。</p>\
        <p>This account has been suspended for security reasons. Contact your administrator.</p>\
        </main></body></html>";
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}
