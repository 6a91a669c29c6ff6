//! Staff sign-in (SPEC §5): password (Argon2id), then the second factor (TOTP), then — after
//! a one-time password — a password of their own; lock-out, sessions, sign-out and signing in
//! again before sensitive actions.
//!
//! The stages of a session ([`Stage`]): the password is accepted → `SecondFactor` (or
//! `EnrollTotp` when no authenticator is registered yet) → `ChangePassword` when the password
//! was one-time → `Active`. Each stage has one page (`crate::authz::stage_page`), reachable
//! with `Access::SigningIn`; every other page redirects there until the session is active.
//!
//! Failures: five in a row (passwords, or second-factor codes after a right password) lock
//! the account for fifteen minutes, doubled for each lock-out in a row; even the right
//! password is refused meanwhile. Every attempt is counted before it is checked
//! ([`attempt`]), so a burst of parallel requests is checked no more often than one at a
//! time would be. Each failure is audited (`staff.sign-in`, outcome `failed`), never with
//! what was typed.

mod attempt;
mod forms;
mod passkey;
pub mod password;
pub mod token;
pub mod totp;

use axum::http::request::Parts;
use madoguchi_domain::staff::{Role, Scope};
use madoguchi_http::read_cookie;
use time::{Duration, OffsetDateTime};

use crate::OfficeState;
use crate::error::OfficeError;
use crate::session::StaffSession;

pub(crate) use passkey::sign_in as passkey_sign_in;

pub(crate) use forms::{
    enroll, enroll_form, form, password, password_form, reauth, reauth_form, second_factor,
    second_factor_form, sign_out, submit,
};

/// Failures in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked the first time; each lock-out in a row without a
/// complete sign-in doubles it.
pub const LOCK_DURATION: Duration = Duration::minutes(15);
/// The longest lock-out.
pub const MAX_LOCK_DURATION: Duration = Duration::hours(24);
/// `last_seen_at` is written at most this often (a write per request would be one per click).
const TOUCH_EVERY: Duration = Duration::seconds(15);

/// The session named by the request's cookie: `None` without one, or when it ended, expired
/// (idle for [`token::IDLE_LIMIT`], or older than [`token::ABSOLUTE_LIMIT`]) or its member of
/// staff was disabled. Extends the idle expiry.
pub(crate) async fn load_session(
    state: &OfficeState,
    parts: &Parts,
) -> Result<Option<StaffSession>, OfficeError> {
    let Some(id) = current_session_id(state, &parts.headers) else {
        return Ok(None);
    };
    let store = state.store();
    let Some(row) = store.staff_session(&id).await? else {
        return Ok(None);
    };
    if row.ended_at.is_some() || row.disabled_at.is_some() || row.held_at.is_some() {
        return Ok(None);
    }
    let now = OffsetDateTime::now_utc();
    if now - row.last_seen_at > token::IDLE_LIMIT || now - row.created_at > token::ABSOLUTE_LIMIT {
        store.end_staff_session(&id, now).await?;
        return Ok(None);
    }
    let (Some(stage), Ok(role), Ok(scope)) = (
        token::parse_stage(&row.stage),
        Role::parse(&row.role),
        Scope::parse(&row.scope),
    ) else {
        tracing::error!(staff = %row.staff_id, "a staff session's stage, role or scope is not valid");
        return Ok(None);
    };
    if now - row.last_seen_at >= TOUCH_EVERY {
        store.touch_staff_session(&id, now).await?;
    }
    Ok(Some(StaffSession {
        staff_id: row.staff_id,
        username: row.username,
        role,
        scope,
        stage,
        audit_id: token::audit_id(&id),
        authenticated_at: row.authenticated_at,
        csrf_token: state.inner.keys.csrf().token_for(&id),
    }))
}

/// The session id named by the request's cookie (not checked against the database).
pub(crate) fn current_session_id(
    state: &OfficeState,
    headers: &axum::http::HeaderMap,
) -> Option<[u8; 32]> {
    read_cookie(headers, state.cookies(), token::COOKIE).and_then(|v| token::session_id(&v))
}
