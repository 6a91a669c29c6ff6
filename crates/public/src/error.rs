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
    #[error("storage: {0}")]
    Store(#[from] madoguchi_store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Arc<Layout>,
    title: &'static str,
    message: &'static str,
    restart: bool,
}

/// What an error response carries until [`render_error_pages`] turns it into a page.
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
                "ページの有効期限が切れました",
                "安全のため、このフォームは送信できませんでした。お手数ですが、お申込みの最初のページから、もう一度操作してください。",
                true,
            ),
            PublicError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "送信形式が正しくありません",
                "このページへはフォームから送信してください。",
                true,
            ),
            PublicError::BodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "送信内容が大きすぎます",
                "入力内容が長すぎるため受け付けられませんでした。各項目を短くして、もう一度送信してください。",
                true,
            ),
            PublicError::SessionExpired => (
                StatusCode::GONE,
                "お申込みの有効期限が切れました",
                "入力途中のお申込みが見つからないか、有効期限が切れました。お手数ですが、最初からお申込みください。",
                true,
            ),
            PublicError::ProductClosed => (
                StatusCode::NOT_FOUND,
                "現在お申込みを受け付けていません",
                "この商品のお申込みは現在受け付けておりません。",
                false,
            ),
            PublicError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "しばらくしてから、もう一度お試しください",
                "短い時間に多くの操作があったため、一時的に受付を止めています。1分ほどおいてから、もう一度お試しください。",
                false,
            ),
            PublicError::NotFound => (
                StatusCode::NOT_FOUND,
                "ページが見つかりません",
                "お探しのページは見つかりませんでした。アドレスをご確認ください。",
                false,
            ),
            PublicError::SlotUnavailable(code) => (
                StatusCode::CONFLICT,
                "この日時はご予約いただけません",
                slot_message(*code),
                false,
            ),
            PublicError::TooManyBookings => (
                StatusCode::CONFLICT,
                "これ以上ご予約いただけません",
                "このメールアドレスでお受けできるご予約の数の上限に達しています。ご予約済みの日時を変更するか、キャンセルしてからお申込みください。",
                false,
            ),
            PublicError::AlreadyBooked => (
                StatusCode::CONFLICT,
                "このご予約はすでに承っています",
                "同じ内容の予約フォームが2回送信されました。ご予約は1件だけ承っています。確認メールをご覧ください。",
                false,
            ),
            PublicError::BookingLinkInvalid => (
                StatusCode::NOT_FOUND,
                "ご予約が見つかりません",
                "リンクが正しくないか、有効期限が切れています。予約確認メールのリンクをもう一度開くか、お電話でお問い合わせください。",
                false,
            ),
            PublicError::BookingClosed => (
                StatusCode::CONFLICT,
                "ウェブでの変更・キャンセルの受付は終了しました",
                "ご来店日時が近いか、すでにキャンセル済みのため、ウェブでは変更・キャンセルを承れません。お手数ですが、お電話でお問い合わせください。",
                false,
            ),
            PublicError::BookingChanged => (
                StatusCode::CONFLICT,
                "ご予約が変更されています",
                "別の画面でご予約が変更またはキャンセルされました。予約確認メールのリンクから、最新のご予約内容をご確認ください。",
                false,
            ),
            PublicError::Store(_) | PublicError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "ただいま処理できません",
                "システムで問題が発生しました。入力内容は保存されていません。しばらくしてから、もう一度お試しください。",
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
            PublicError::Store(_) | PublicError::Internal(_) => {
                tracing::error!(error = %self, "public request failed");
            }
            _ => tracing::info!(error = %self, "public request refused"),
        }
        let (status, text) = self.text();
        let mut response = status.into_response();
        if let PublicError::RateLimited {
            retry_after_seconds,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response.extensions_mut().insert(text);
        response
    }
}

fn slot_message(code: madoguchi_domain::ErrorCode) -> &'static str {
    use madoguchi_domain::ErrorCode;
    match code {
        ErrorCode::SlotFull => {
            "選択された日時は、ほかのお客さまのご予約で満席になりました。お手数ですが、別の日時をお選びください。入力内容は保存されていません。"
        }
        ErrorCode::SlotClosed => {
            "選択された日は休業日です。空き状況の一覧から別の日をお選びください。"
        }
        ErrorCode::SlotOutsideWindow => {
            "選択された日時は受付期間外か、すでに過ぎています。空き状況の一覧からお選びください。"
        }
        _ => {
            "選択された日時はご予約いただける時間枠ではありません。空き状況の一覧からお選びください。"
        }
    }
}

/// The answer for an unknown address.
pub async fn not_found() -> Response {
    let text = ErrorText {
        title: "ページが見つかりません",
        message: "お探しのページは見つかりませんでした。アドレスをご確認ください。",
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
        layout: state.layout.clone(),
        title: text.title,
        message: text.message,
        restart: text.restart,
    };
    // Keep the status and headers of the error (Retry-After, cookies); replace the body.
    let (mut parts, _) = response.into_parts();
    let (page_parts, body) = page.into_response().into_parts();
    parts.headers.extend(page_parts.headers);
    Response::from_parts(parts, body)
}
