//! `/passkeys`: a member of staff's own passkeys — the list, registering one, removing one.
//! Every row of the table asks for a recent sign-in (password and TOTP code), so a session
//! left open cannot add a second factor of a stranger's.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_store::NewPasskey;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::{Ceremony, keep, parse_passkey, take, to_json};
use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession};
use crate::sign_in::current_session_id;
use crate::view::Layout;

/// The longest name of a passkey, in characters.
const MAX_NAME: usize = 40;

#[derive(Template, WebTemplate)]
#[template(path = "passkeys.html")]
pub(crate) struct PasskeysPage {
    layout: Layout,
    passkeys: Vec<PasskeyLine>,
    /// The registration options (JSON) when passkeys are on.
    options: Option<String>,
    /// Where passkeys work (the relying party's origin), when they are on.
    origin: Option<String>,
    message: Option<String>,
    error: Option<String>,
}

pub(crate) struct PasskeyLine {
    id: Uuid,
    name: String,
    created: String,
    last_used: String,
}

/// GET /passkeys
pub(crate) async fn page(
    State(state): State<OfficeState>,
    headers: HeaderMap,
    Actor(staff): Actor,
) -> Result<Response, OfficeError> {
    render(&state, &headers, &staff, None, None).await
}

/// The page, with a fresh registration ceremony kept with the session.
async fn render(
    state: &OfficeState,
    headers: &HeaderMap,
    staff: &StaffSession,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, OfficeError> {
    let rows = state.store().staff_passkeys(staff.staff_id).await?;
    let (options, origin) = match (&state.inner.passkeys, current_session_id(state, headers)) {
        (Some(rp), Some(session)) => {
            let registered = rows
                .iter()
                .map(|r| parse_passkey(&r.passkey).map(|p| p.cred_id().clone()))
                .collect::<Result<Vec<_>, _>>()?;
            let (options, registration) = rp
                .webauthn()
                .start_passkey_registration(
                    staff.staff_id,
                    &staff.username,
                    &staff.username,
                    Some(registered),
                )
                .map_err(|e| OfficeError::Internal(format!("passkey registration: {e}")))?;
            keep(
                state,
                &session,
                &Ceremony::Registration {
                    state: registration,
                },
            )
            .await?;
            (Some(to_json(&options)?), Some(rp.origin().to_owned()))
        }
        _ => (None, None),
    };
    let passkeys = rows
        .into_iter()
        .map(|r| PasskeyLine {
            id: r.id,
            name: r.name,
            created: crate::review::jst(r.created_at),
            last_used: r.last_used_at.map(crate::review::jst).unwrap_or_default(),
        })
        .collect();
    Ok(PasskeysPage {
        layout: Layout::new(state, Some(staff), "パスキー"),
        passkeys,
        options,
        origin,
        message,
        error,
    }
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    credential: String,
}

/// POST /passkeys: the browser's answer to the registration ceremony.
pub(crate) async fn register(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
    Form(form): Form<RegisterForm>,
) -> Result<Response, OfficeError> {
    let refuse = |error: &str| render(&state, &headers, &staff, None, Some(error.to_owned()));
    let (Some(rp), Some(session)) = (&state.inner.passkeys, current_session_id(&state, &headers))
    else {
        return refuse(NOT_CONFIGURED).await;
    };
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return refuse("パスキーの名前を40文字以内で入力してください（例：窓口端末3）。").await;
    }
    let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(&form.credential) else {
        return refuse(NO_ANSWER).await;
    };
    let Some(Ceremony::Registration {
        state: registration,
    }) = take(&state, &session).await?
    else {
        return refuse(EXPIRED).await;
    };
    let Ok(passkey) = rp
        .webauthn()
        .finish_passkey_registration(&answer, &registration)
    else {
        return refuse("パスキーを確認できませんでした。もう一度登録してください。").await;
    };
    let id = Uuid::now_v7();
    let added = state
        .store()
        .add_staff_passkey(&NewPasskey {
            id,
            staff_id: staff.staff_id,
            credential_id: passkey.cred_id().as_ref(),
            name,
            passkey: &super::to_json(&passkey)?,
            at: OffsetDateTime::now_utc(),
        })
        .await?;
    if !added {
        return refuse("このパスキーは登録済みです。").await;
    }
    audit_change(&state, &staff, peer, "staff.passkey-add", id).await?;
    render(
        &state,
        &headers,
        &staff,
        Some(format!("パスキー「{name}」を登録しました。")),
        None,
    )
    .await
}

/// POST /passkeys/{passkey}/delete: removes one of one's own passkeys.
pub(crate) async fn delete(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Actor(staff): Actor,
) -> Result<Response, OfficeError> {
    let Ok(id) = Uuid::parse_str(&id) else {
        return Ok(crate::error::status_page(axum::http::StatusCode::NOT_FOUND));
    };
    // The member's own passkeys only: the query is scoped to them, like a queue to a branch.
    if !state
        .store()
        .delete_staff_passkey(staff.staff_id, id)
        .await?
    {
        return Ok(crate::error::status_page(axum::http::StatusCode::NOT_FOUND));
    }
    audit_change(&state, &staff, peer, "staff.passkey-remove", id).await?;
    Ok(Redirect::to("/passkeys").into_response())
}

async fn audit_change(
    state: &OfficeState,
    staff: &StaffSession,
    peer: SocketAddr,
    action: &str,
    passkey: Uuid,
) -> Result<(), OfficeError> {
    audit::record(
        state,
        Some(staff),
        Some(peer.ip().to_string()),
        Event {
            action,
            subject_kind: Some("staff"),
            subject_id: Some(staff.staff_id.to_string()),
            fields: &[],
            purpose: None,
            detail: Some(format!("passkey={passkey}")),
            outcome: "ok",
        },
    )
    .await
}

const NOT_CONFIGURED: &str = "この管理システムではパスキーが設定されていません（--office-url）。確認コードを使ってください。";
const NO_ANSWER: &str =
    "パスキーの応答がありません。JavaScript を有効にして、もう一度お試しください。";
const EXPIRED: &str = "この登録の手続きは終了しています。もう一度登録してください。";
