//! Signing in with a passkey instead of a TOTP code: the second-factor page carries an
//! authentication ceremony for the member of staff's passkeys, and `POST /sign-in/passkey`
//! takes the browser's answer. A wrong answer counts as a failed sign-in exactly like a wrong
//! code (five in a row lock the account).

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use webauthn_rs::prelude::PublicKeyCredential;

use super::attempt::Attempt;
use super::current_session_id;
use super::forms::{after_second_factor, failed, locked_out, second_factor_page, signed_out_with};
use crate::OfficeState;
use crate::authz::stage_page;
use crate::error::OfficeError;
use crate::passkeys::{Ceremony, keep, parse_passkey, take, to_json};
use crate::session::{Actor, StaffSession, Stage};

/// The options of a fresh authentication ceremony for `staff`'s passkeys (kept with the
/// session), or `None` when passkeys are off or they have none.
pub(super) async fn sign_in_options(
    state: &OfficeState,
    headers: &HeaderMap,
    staff: &StaffSession,
) -> Result<Option<String>, OfficeError> {
    let (Some(rp), Some(session)) = (&state.inner.passkeys, current_session_id(state, headers))
    else {
        return Ok(None);
    };
    let rows = state.store().staff_passkeys(staff.staff_id).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let passkeys = rows
        .iter()
        .map(|r| parse_passkey(&r.passkey))
        .collect::<Result<Vec<_>, _>>()?;
    let (options, authentication) = rp
        .webauthn()
        .start_passkey_authentication(&passkeys)
        .map_err(|e| OfficeError::Internal(format!("passkey sign-in: {e}")))?;
    keep(
        state,
        &session,
        &Ceremony::Authentication {
            state: authentication,
        },
    )
    .await?;
    Ok(Some(to_json(&options)?))
}

#[derive(Deserialize)]
pub(crate) struct PasskeyForm {
    #[serde(default)]
    credential: String,
}

/// POST /sign-in/passkey
pub(crate) async fn sign_in(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
    Form(form): Form<PasskeyForm>,
) -> Result<Response, OfficeError> {
    if staff.stage != Stage::SecondFactor {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    let (Some(rp), Some(session)) = (&state.inner.passkeys, current_session_id(&state, &headers))
    else {
        return second_factor_page(&state, &headers, &staff, Some(NOT_AVAILABLE)).await;
    };
    // No answer at all (no JavaScript): nothing was tried, nothing is counted.
    if form.credential.trim().is_empty() {
        return second_factor_page(&state, &headers, &staff, Some(NO_ANSWER)).await;
    }
    let address = Some(peer.ip().to_string());
    let mut attempt = Attempt::of_session();
    if !attempt.claim_account(&state, staff.staff_id).await? {
        return locked_out(&state, &staff, address, "passkey-locked").await;
    }
    let ceremony = take(&state, &session).await?;
    let answer = serde_json::from_str::<PublicKeyCredential>(&form.credential).ok();
    let verified = match (ceremony, answer) {
        (Some(Ceremony::Authentication { state: challenge }), Some(answer)) => rp
            .webauthn()
            .finish_passkey_authentication(&answer, &challenge)
            .ok(),
        _ => None,
    };
    let Some(result) = verified else {
        let locked = attempt.failed(&state).await?;
        failed(
            &state,
            Some(&staff),
            address,
            Some(staff.staff_id),
            "passkey",
        )
        .await?;
        if let Some(until) = locked {
            return Ok(signed_out_with(
                &state,
                super::forms::locked_message(until, true),
            ));
        }
        return second_factor_page(&state, &headers, &staff, Some(WRONG_PASSKEY)).await;
    };
    if !attempt.succeeded(&state).await? {
        return locked_out(&state, &staff, address, "passkey-locked").await;
    }
    // Remember the new signature counter (a cloned authenticator shows as a counter gone back).
    for row in state.store().staff_passkeys(staff.staff_id).await? {
        let mut passkey = parse_passkey(&row.passkey)?;
        if passkey.cred_id() == result.cred_id() {
            passkey.update_credential(&result);
            let json = to_json(&passkey)?;
            state
                .store()
                .use_staff_passkey(row.id, &json, OffsetDateTime::now_utc())
                .await?;
        }
    }
    after_second_factor(&state, &headers, &staff, address).await
}

const NOT_AVAILABLE: &str = "パスキーは使えません。確認コードを入力してください。";
const NO_ANSWER: &str =
    "パスキーの応答がありません。JavaScript を有効にするか、確認コードを入力してください。";
const WRONG_PASSKEY: &str =
    "パスキーを確認できませんでした。もう一度お試しいただくか、確認コードを入力してください。";
