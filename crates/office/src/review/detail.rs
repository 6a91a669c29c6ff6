//! An application's page: operational values, history, identity documents (kind, type,
//! size), and every personal field as a placeholder with its label — nothing is decrypted
//! to draw it (the field names are stored in clear beside their ciphertexts). Values and notes
//! appear only on the answer to an audited reveal (`reveal.rs`).

use askama::Template;
use askama_web::WebTemplate;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_domain::ApplicationStatus;
use madoguchi_domain::mask::PLACEHOLDER;
use serde::Deserialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::queue::{Choice, purpose_choices};
use super::{OpenedNote, branch_label, field_label, field_names, jst, product_label, status_label};
use crate::OfficeState;
use crate::error::{OfficeError, status_page};
use crate::session::{Actor, StaffSession};
use crate::view::Layout;

pub(crate) struct FieldLine {
    pub name: String,
    pub label: String,
    /// The value when revealed; otherwise the page shows [`PLACEHOLDER`].
    pub value: Option<Zeroizing<String>>,
}

pub(crate) struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub what: String,
}

pub(crate) struct DocumentLine {
    pub id: String,
    pub kind: &'static str,
    pub content_type: String,
    pub size: String,
}

/// What an audited reveal opened.
pub(crate) struct Revealed {
    pub values: Vec<(String, Zeroizing<String>)>,
    pub notes: Option<Vec<OpenedNote>>,
    pub purpose: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "application.html")]
pub(crate) struct DetailPage {
    layout: Layout,
    id: String,
    receipt_number: String,
    product: String,
    status: String,
    branch: String,
    submitted: String,
    updated: String,
    reviewed: Option<String>,
    history: Vec<HistoryLine>,
    documents: Vec<DocumentLine>,
    fields: Vec<FieldLine>,
    placeholder: &'static str,
    note_count: i64,
    notes: Option<Vec<OpenedNote>>,
    revealed_purpose: Option<&'static str>,
    moves: Vec<Choice>,
    decisions: Vec<Choice>,
    purposes: Vec<Choice>,
    message: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageParams {
    /// A fixed message code after a change (never echoed as text).
    m: Option<String>,
}

/// Messages shown after a change, by code.
pub(crate) fn message(code: &str) -> Option<&'static str> {
    Some(match code {
        "status" => "ステータスを変更しました。",
        "reviewed" => "確認済みとして記録しました。承認・謝絶は別の承認者が行います。",
        "note" => "メモを追加しました。",
        "mail" => "ステータスを変更し、お客さまへ追加情報のお願いをメールで送りました。",
        _ => return None,
    })
}

/// Errors shown on the page, by code.
pub(crate) fn error_text(code: &str) -> &'static str {
    match code {
        "conflict" => {
            "他の職員が先に変更したため、変更できませんでした。最新の状態を確認してください。"
        }
        "four-eyes" => {
            "承認・謝絶には、別の職員が確認済みとした記録が必要です（自分で確認した申込は決裁できません）。"
        }
        "not-allowed" => "現在のステータスからは、その変更はできません。",
        "purpose" => "利用目的を選んでください。",
        "fields" => "表示する項目を選んでください。",
        "note" => "メモは1文字以上2000文字以内で入力してください。",
        _ => "入力内容を確認してください。",
    }
}

pub(crate) async fn page(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    Query(params): Query<PageParams>,
) -> Result<Response, OfficeError> {
    crate::detection::tripwire(&state, &staff, client.ip(), "application", id).await?;
    let message = params.m.as_deref().and_then(message);
    Ok(
        match build(&state, &staff, id, None, message, None).await? {
            Some(page) => page.into_response(),
            None => status_page(StatusCode::NOT_FOUND),
        },
    )
}

/// The page of application `id`, with what a reveal opened; `None` when there is none.
pub(crate) async fn build(
    state: &OfficeState,
    staff: &StaffSession,
    id: Uuid,
    revealed: Option<Revealed>,
    message: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<Option<DetailPage>, OfficeError> {
    let store = state.store();
    let Some(app) = store.application_for_review(id).await? else {
        return Ok(None);
    };
    let names = match store.encrypted_personal_record(id).await? {
        Some(record) => field_names(&record)?,
        None => Vec::new(),
    };
    let (mut values, notes, revealed_purpose) = match revealed {
        Some(r) => (r.values, r.notes, Some(r.purpose)),
        None => (Vec::new(), None, None),
    };
    let fields = names
        .into_iter()
        .map(|name| {
            let value = values
                .iter()
                .position(|(n, _)| *n == name)
                .map(|i| values.swap_remove(i).1);
            FieldLine {
                label: field_label(&name).to_owned(),
                name,
                value,
            }
        })
        .collect();
    let history = store
        .application_history(id)
        .await?
        .into_iter()
        .map(|h| HistoryLine {
            at: jst(h.at),
            actor: h.actor,
            what: if h.action == "reviewed" {
                "確認済み".to_owned()
            } else {
                format!(
                    "{} → {}",
                    status_label(&h.from_status),
                    status_label(&h.to_status)
                )
            },
        })
        .collect();
    let documents = store
        .application_documents(id)
        .await?
        .into_iter()
        .map(|d| DocumentLine {
            id: d.id.to_string(),
            kind: match d.kind.as_str() {
                "front" => "本人確認書類（表）",
                "back" => "本人確認書類（裏）",
                "selfie" => "容貌の画像",
                _ => "書類",
            },
            content_type: d.content_type,
            size: format!("{} KB", (d.size_bytes + 1023) / 1024),
        })
        .collect();
    let status = ApplicationStatus::parse(&app.status).ok();
    let can = |to: ApplicationStatus| status.is_some_and(|s| s.can_move_to(to));
    let choice = |value: &str, label: &str| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: false,
    };
    let mut moves: Vec<Choice> = [
        (ApplicationStatus::InReview, "審査を開始する／再開する"),
        (
            ApplicationStatus::MoreInformationNeeded,
            "追加情報を依頼する（お客さまにメール）",
        ),
        (ApplicationStatus::Withdrawn, "取下げとする"),
        (ApplicationStatus::Expired, "期限切れとする"),
    ]
    .into_iter()
    .filter(|(to, _)| can(*to))
    .map(|(to, label)| choice(to.as_str(), label))
    .collect();
    if status == Some(ApplicationStatus::InReview) && app.reviewed_by.is_none() {
        moves.insert(0, choice("reviewed", "確認済みとする（承認は別の承認者）"));
    }
    let decisions = [
        (ApplicationStatus::Approved, "承認する"),
        (ApplicationStatus::Rejected, "謝絶する"),
    ]
    .into_iter()
    .filter(|(to, _)| can(*to))
    .map(|(to, label)| choice(to.as_str(), label))
    .collect();
    let reviewed = app.reviewed_at.map(|at| {
        let who = if app.reviewed_by == Some(staff.staff_id) {
            "あなた".to_owned()
        } else {
            app.reviewed_by
                .map(|s| format!("staff:{s}"))
                .unwrap_or_default()
        };
        format!("{}（{}）", jst(at), who)
    });
    Ok(Some(DetailPage {
        layout: Layout::new(state, Some(staff), &format!("申込 {}", app.receipt_number)),
        id: app.id.to_string(),
        receipt_number: app.receipt_number,
        product: product_label(&app.product).to_owned(),
        status: status_label(&app.status).to_owned(),
        branch: branch_label(state, &app.branch_code),
        submitted: jst(app.submitted_at),
        updated: jst(app.updated_at),
        reviewed,
        history,
        documents,
        fields,
        placeholder: PLACEHOLDER,
        note_count: store.application_note_count(id).await?,
        notes,
        revealed_purpose,
        moves,
        decisions,
        purposes: purpose_choices(),
        message,
        error,
    }))
}

/// The application's page again with an error (nothing opened), answered with `status`.
pub(crate) async fn refused(
    state: &OfficeState,
    staff: &StaffSession,
    id: Uuid,
    status: StatusCode,
    code: &str,
) -> Result<Response, OfficeError> {
    Ok(
        match build(state, staff, id, None, None, Some(error_text(code))).await? {
            Some(page) => (status, page).into_response(),
            None => status_page(StatusCode::NOT_FOUND),
        },
    )
}
