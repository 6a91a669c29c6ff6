//! Status moves. Reviewers (`/status`) start and resume a review, ask the applicant for more
//! information, mark an application reviewed, withdraw or expire it; deciders (`/decision`)
//! approve or reject, under four eyes: only when someone else marked it reviewed. The store
//! applies a move only if the application is still in the status the move was judged from,
//! and a decision only if its `reviewed_by` is set and is not the decider.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::{ApplicationStatus, OutgoingMail};
use madoguchi_store::{OutboxRow, ReviewRow, StatusMove};
use time::OffsetDateTime;
use uuid::Uuid;

use super::detail::refused;
use super::{actor_of, form_pairs, form_value, open_fields, product_label, record};
use crate::OfficeState;
use crate::audit::Event;
use crate::error::{OfficeError, status_page};
use crate::session::{Actor, StaffSession};

/// What reviewers may ask for on `/status`.
const REVIEW_MOVES: &[ApplicationStatus] = &[
    ApplicationStatus::InReview,
    ApplicationStatus::MoreInformationNeeded,
    ApplicationStatus::Withdrawn,
    ApplicationStatus::Expired,
];

/// What deciders may ask for on `/decision`.
const DECISIONS: &[ApplicationStatus] = &[ApplicationStatus::Approved, ApplicationStatus::Rejected];

/// `POST /applications/{application}/status`.
pub(crate) async fn change(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let pairs = form_pairs(&body);
    let to = form_value(&pairs, "to").unwrap_or("");
    let Some(app) = state.store().application_for_review(id).await? else {
        return Ok(status_page(StatusCode::NOT_FOUND));
    };
    if to == "reviewed" {
        return mark_reviewed(&state, &staff, client, &app).await;
    }
    match ApplicationStatus::parse(to) {
        Ok(to) if REVIEW_MOVES.contains(&to) => move_to(&state, &staff, client, &app, to).await,
        _ => refused(&state, &staff, id, StatusCode::BAD_REQUEST, "not-allowed").await,
    }
}

/// `POST /applications/{application}/decision`.
pub(crate) async fn decide(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let pairs = form_pairs(&body);
    let Some(app) = state.store().application_for_review(id).await? else {
        return Ok(status_page(StatusCode::NOT_FOUND));
    };
    match ApplicationStatus::parse(form_value(&pairs, "to").unwrap_or("")) {
        Ok(to) if DECISIONS.contains(&to) => move_to(&state, &staff, client, &app, to).await,
        _ => refused(&state, &staff, id, StatusCode::BAD_REQUEST, "not-allowed").await,
    }
}

async fn mark_reviewed(
    state: &OfficeState,
    staff: &StaffSession,
    client: SocketAddr,
    app: &ReviewRow,
) -> Result<Response, OfficeError> {
    let now = OffsetDateTime::now_utc();
    let marked = state
        .store()
        .mark_application_reviewed(app.id, staff.staff_id, &actor_of(staff), now)
        .await?;
    audit_change(
        state,
        staff,
        client,
        app.id,
        "application.reviewed",
        None,
        marked,
    )
    .await?;
    if !marked {
        return refused(state, staff, app.id, StatusCode::CONFLICT, "conflict").await;
    }
    Ok(Redirect::to(&format!("/applications/{}?m=reviewed", app.id)).into_response())
}

async fn move_to(
    state: &OfficeState,
    staff: &StaffSession,
    client: SocketAddr,
    app: &ReviewRow,
    to: ApplicationStatus,
) -> Result<Response, OfficeError> {
    let Ok(from) = ApplicationStatus::parse(&app.status) else {
        return Err(OfficeError::Internal(
            "a stored status is unknown".to_owned(),
        ));
    };
    if !from.can_move_to(to) {
        return refused(state, staff, app.id, StatusCode::CONFLICT, "not-allowed").await;
    }
    let decision = DECISIONS.contains(&to);
    if decision && (app.reviewed_by.is_none() || app.reviewed_by == Some(staff.staff_id)) {
        audit_change(
            state,
            staff,
            client,
            app.id,
            "application.status",
            Some(to),
            false,
        )
        .await?;
        return refused(state, staff, app.id, StatusCode::CONFLICT, "four-eyes").await;
    }
    let message = if to == ApplicationStatus::MoreInformationNeeded {
        Some(more_information_mail(state, staff, client, app).await?)
    } else {
        None
    };
    let actor = actor_of(staff);
    let moved = state
        .store()
        .move_application_status(&StatusMove {
            application_id: app.id,
            from: from.as_str(),
            to: to.as_str(),
            actor: &actor,
            at: OffsetDateTime::now_utc(),
            decided_by: decision.then_some(staff.staff_id),
            // New information arrived: the earlier review no longer covers it.
            clear_review: from == ApplicationStatus::MoreInformationNeeded,
            message: message.as_ref(),
            // An application that ends keeps no secret: nobody will ever hand it off.
            discard_secrets: to.is_terminal(),
        })
        .await?;
    audit_change(
        state,
        staff,
        client,
        app.id,
        "application.status",
        Some(to),
        moved,
    )
    .await?;
    if !moved {
        let code = if decision { "four-eyes" } else { "conflict" };
        return refused(state, staff, app.id, StatusCode::CONFLICT, code).await;
    }
    let shown = if message.is_some() { "mail" } else { "status" };
    Ok(Redirect::to(&format!("/applications/{}?m={shown}", app.id)).into_response())
}

/// Records a change (or its refusal): the new status only, nothing personal.
async fn audit_change(
    state: &OfficeState,
    staff: &StaffSession,
    client: SocketAddr,
    id: Uuid,
    action: &str,
    to: Option<ApplicationStatus>,
    done: bool,
) -> Result<(), OfficeError> {
    record(
        state,
        staff,
        client,
        Event {
            action,
            subject_kind: Some("application"),
            subject_id: Some(id.to_string()),
            fields: &[],
            purpose: None,
            detail: to.map(|s| format!("to:{s}")),
            outcome: if done { "ok" } else { "denied" },
        },
    )
    .await
    .map(|_| ())
}

/// The e-mail asking the applicant for more information: the product and the bank's support
/// contact, nothing of the application. Reading the address is audited first.
async fn more_information_mail(
    state: &OfficeState,
    staff: &StaffSession,
    client: SocketAddr,
    app: &ReviewRow,
) -> Result<OutboxRow, OfficeError> {
    let record_row = state
        .store()
        .encrypted_personal_record(app.id)
        .await?
        .ok_or_else(|| OfficeError::Internal("an application without its record".to_owned()))?;
    let proof = record(
        state,
        staff,
        client,
        Event {
            action: "application.notify",
            subject_kind: Some("application"),
            subject_id: Some(app.id.to_string()),
            fields: &["email"],
            purpose: Some("more-information-request"),
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    let opened = open_fields(state, &proof, app.id, &record_row, &["email"])?;
    let Some((_, to)) = opened.into_iter().next() else {
        return Err(OfficeError::Internal(
            "an application without an e-mail address".to_owned(),
        ));
    };
    let mail = compose(state, &to, &app.product);
    crate::mail::seal(state, &mail)
}

fn compose(state: &OfficeState, to: &str, product: &str) -> OutgoingMail {
    let profile = state.profile();
    let bank = profile.bank().name_ja();
    let support = profile.support();
    let status_page = format!("{}/status", state.inner.public_url.trim_end_matches('/'));
    OutgoingMail {
        to: to.to_owned(),
        subject: format!("【{bank}】お申込みについて追加のご確認のお願い"),
        body: format!(
            "{bank}をご利用いただき、ありがとうございます。\n\n\
             {product}のお申込みについて、追加でご確認させていただきたいことがございます。\n\
             お手数ですが、下記の窓口までお問い合わせください。\n\
             お申込みの状況は、当行ウェブサイトのお申込み状況の確認（{status_page}）でもご確認いただけます。\n\n\
             お問い合わせ窓口：{phone}（{hours}）\n\n\
             ※{bank}から、メールや電話で暗証番号・パスワードをお尋ねすることは決してありません。\n\
             ※このメールに心当たりのない場合は、お手数ですが破棄してください。\n",
            product = product_label(product),
            phone = support.phone(),
            hours = support.hours_ja(),
        ),
    }
}
