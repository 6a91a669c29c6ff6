//! The auditor's page: the audit log, newest first, 100 events a page. Events hold names of
//! fields and purposes, never values, so the page shows no personal data.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::OfficeState;
use crate::error::OfficeError;
use crate::review::jst;
use crate::session::Actor;
use crate::view::Layout;

const PAGE_SIZE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditParams {
    /// Events before this position (the last one of the previous page).
    before: Option<String>,
}

pub(crate) struct EventLine {
    pub at: String,
    pub actor: String,
    pub address: String,
    pub session: String,
    pub action: String,
    pub subject: String,
    pub fields: String,
    pub purpose: String,
    pub detail: String,
    pub outcome: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    layout: Layout,
    events: Vec<EventLine>,
    next: Option<i64>,
}

pub(crate) async fn page(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Query(params): Query<AuditParams>,
) -> Result<AuditPage, OfficeError> {
    let before = params.before.and_then(|b| b.parse::<i64>().ok());
    let mut rows = state
        .store()
        .audit_events_page(before, PAGE_SIZE + 1)
        .await?;
    let next = if rows.len() > PAGE_SIZE as usize {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let events = rows
        .into_iter()
        .map(|r| EventLine {
            at: jst(r.at),
            actor: r.actor,
            address: r.actor_address.unwrap_or_default(),
            session: r.session.unwrap_or_default(),
            action: r.action,
            subject: match (r.subject_kind, r.subject_id) {
                (Some(kind), Some(id)) => format!("{kind}:{id}"),
                (Some(kind), None) => kind,
                _ => String::new(),
            },
            fields: r.fields,
            purpose: r
                .purpose
                .map(|p| {
                    crate::review::purpose_label(&p)
                        .map_or_else(|| p.clone(), |label| format!("{label}（{p}）"))
                })
                .unwrap_or_default(),
            detail: r.detail.unwrap_or_default(),
            outcome: r.outcome,
        })
        .collect();
    Ok(AuditPage {
        layout: Layout::new(&state, Some(&staff), "監査ログ"),
        events,
        next,
    })
}
