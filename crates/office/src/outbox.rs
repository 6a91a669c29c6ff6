//! The e-mail queue at a glance, for administrators: how many messages wait, how many failed
//! at least once and when they are tried next. Counts and times only — the messages are
//! sealed to the mail worker and nobody here can read them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::OfficeState;
use crate::error::OfficeError;
use crate::review::jst;
use crate::session::Actor;
use crate::view::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
pub(crate) struct OutboxPage {
    layout: Layout,
    pending: i64,
    retrying: i64,
    max_attempts: i64,
    oldest: Option<String>,
    next_attempt: Option<String>,
}

/// GET /outbox
pub(crate) async fn page(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
) -> Result<OutboxPage, OfficeError> {
    let summary = state.store().outbox_summary().await?;
    Ok(OutboxPage {
        layout: Layout::new(&state, Some(&staff), "メール送信キュー"),
        pending: summary.pending,
        retrying: summary.retrying,
        max_attempts: summary.max_attempts,
        oldest: summary.oldest.map(jst),
        next_attempt: summary.next_attempt.map(jst),
    })
}
