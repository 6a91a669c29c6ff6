//! The sign-in pages and what their forms do.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::staff::{StaffPasswordRefusal, Username, check_staff_password};
use madoguchi_http::{remove_strict_cookie, set_strict_cookie};
use madoguchi_store::{NewStaffSession, StaffRow};
use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::attempt::Attempt;
use super::{MAX_FAILURES, current_session_id, password as hashing, token, totp};
use crate::OfficeState;
use crate::audit::{self, Event};
use crate::authz::stage_page;
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession, Stage};
use crate::view::Layout;

const WRONG_CREDENTIALS: &str = "ユーザー名またはパスワードが正しくありません。";
const WRONG_CODE: &str = "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください。同じコードは2回使えません。";

// ---------------------------------------------------------------------------------------------
// Pages

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
pub(crate) struct SignInPage {
    layout: Layout,
    username: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in_second_factor.html")]
pub(crate) struct SecondFactorPage {
    layout: Layout,
    error: Option<String>,
    /// A passkey ceremony's options (JSON) when the member of staff has passkeys.
    passkey_options: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "totp_enroll.html")]
pub(crate) struct EnrollPage {
    layout: Layout,
    qr: totp::QrCode,
    /// The seed in base32, in groups of four for typing.
    secret: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
pub(crate) struct PasswordPage {
    layout: Layout,
    /// A voluntary change (active session): the current password is asked.
    ask_current: bool,
    errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "reauth.html")]
pub(crate) struct ReauthPage {
    layout: Layout,
    next: String,
    error: Option<String>,
}

/// The frame of a sign-in stage's page: no menu yet, but the session's CSRF token.
fn stage_layout(state: &OfficeState, staff: &StaffSession, title: &str) -> Layout {
    let mut layout = Layout::new(state, None, title);
    layout.csrf = staff.csrf_token.clone();
    layout
}

// ---------------------------------------------------------------------------------------------
// Username and password

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// GET /sign-in
pub(crate) async fn form(State(state): State<OfficeState>) -> SignInPage {
    SignInPage {
        layout: Layout::new(&state, None, "サインイン"),
        username: String::new(),
        error: None,
    }
}

/// POST /sign-in
pub(crate) async fn submit(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(input): Form<SignInForm>,
) -> Result<Response, OfficeError> {
    let address = Some(peer.ip().to_string());
    let now = OffsetDateTime::now_utc();
    let refuse = |error: String, username: &str| {
        SignInPage {
            layout: Layout::new(&state, None, "サインイン"),
            username: username.to_owned(),
            error: Some(error),
        }
        .into_response()
    };
    let Some(mut attempt) = Attempt::begin(&state, peer.ip()).await? else {
        refused_address(&state, address).await?;
        return Ok(refuse(ADDRESS_REFUSED.to_owned(), &input.username));
    };
    let typed = Zeroizing::new(input.password.clone());
    let staff = match Username::parse(&input.username) {
        Ok(name) => state.store().staff_by_username(name.as_str()).await?,
        Err(_) => None,
    };
    let usable = staff.as_ref().filter(|row| row.disabled_at.is_none());
    if let Some(row) = usable
        && !attempt.claim_account(&state, row.id).await?
    {
        attempt.failed(&state).await?;
        failed(&state, None, address, Some(row.id), "locked").await?;
        return Ok(refuse(
            refused_account(&state, row.id, now).await?,
            &input.username,
        ));
    }
    let checked =
        hashing::verify_blocking(usable.map(|row| row.password_hash.clone()), typed.clone()).await;
    let (attempt, verified) = attempt.unless_unchecked(&state, checked).await?;
    let Some(row) = usable.filter(|_| verified.matches) else {
        let locked = attempt.failed(&state).await?;
        let detail = if staff.is_some() && usable.is_none() {
            "disabled"
        } else {
            "password"
        };
        failed(&state, None, address, staff.as_ref().map(|r| r.id), detail).await?;
        let message = match locked {
            Some(until) => locked_message(until, false),
            None => WRONG_CREDENTIALS.to_owned(),
        };
        return Ok(refuse(message, &input.username));
    };
    if !attempt.succeeded(&state).await? {
        // Locked by the failures that ran beside this attempt.
        failed(&state, None, address, Some(row.id), "locked").await?;
        return Ok(refuse(
            refused_account(&state, row.id, now).await?,
            &input.username,
        ));
    }
    if row.held_at.is_some() {
        failed(&state, None, address, Some(row.id), "held").await?;
        return Ok(refuse(HELD.to_owned(), &input.username));
    }
    if verified.needs_rehash {
        let renewed = hashing::hash_blocking(typed).await?;
        state
            .store()
            .rehash_staff_password(row.id, &row.password_hash, &renewed)
            .await?;
    }
    let stage = if row.totp_enrolled_at.is_some() {
        Stage::SecondFactor
    } else {
        Stage::EnrollTotp
    };
    // A new token: whatever cookie the browser had before is ended, never upgraded.
    let replaces = current_session_id(&state, &headers);
    let cookie = start_session(&state, row.id, stage, replaces, now).await?;
    Ok((cookie, Redirect::to(stage_page(stage))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Second factor

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
}

/// GET /sign-in/second-factor
pub(crate) async fn second_factor_form(
    State(state): State<OfficeState>,
    headers: HeaderMap,
    Actor(staff): Actor,
) -> Result<Response, OfficeError> {
    if staff.stage != Stage::SecondFactor {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    second_factor_page(&state, &headers, &staff, None).await
}

/// The second-factor page (a TOTP code, or a passkey when the member of staff has one).
pub(super) async fn second_factor_page(
    state: &OfficeState,
    headers: &HeaderMap,
    staff: &StaffSession,
    error: Option<&str>,
) -> Result<Response, OfficeError> {
    Ok(SecondFactorPage {
        layout: stage_layout(state, staff, "確認コードの入力"),
        error: error.map(str::to_owned),
        passkey_options: super::passkey::sign_in_options(state, headers, staff).await?,
    }
    .into_response())
}

/// POST /sign-in/second-factor
pub(crate) async fn second_factor(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
    Form(input): Form<CodeForm>,
) -> Result<Response, OfficeError> {
    if staff.stage != Stage::SecondFactor {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    let address = Some(peer.ip().to_string());
    let mut attempt = Attempt::of_session();
    if !attempt.claim_account(&state, staff.staff_id).await? {
        return locked_out(&state, &staff, address, "second-factor-locked").await;
    }
    if !code_accepted(&state, staff.staff_id, &input.code, true).await? {
        let locked = attempt.failed(&state).await?;
        failed(
            &state,
            Some(&staff),
            address,
            Some(staff.staff_id),
            "second-factor",
        )
        .await?;
        if let Some(until) = locked {
            return Ok(signed_out_with(&state, locked_message(until, true)));
        }
        return second_factor_page(&state, &headers, &staff, Some(WRONG_CODE)).await;
    }
    if !attempt.succeeded(&state).await? {
        return locked_out(&state, &staff, address, "second-factor-locked").await;
    }
    after_second_factor(&state, &headers, &staff, address).await
}

/// Whether `typed` is a fresh code of the member of staff's seed (`enrolled`: of a confirmed
/// enrolment; otherwise of the pending one). Uses its time step up.
async fn code_accepted(
    state: &OfficeState,
    staff_id: Uuid,
    typed: &str,
    enrolled: bool,
) -> Result<bool, OfficeError> {
    let Some(row) = state.store().staff_totp(staff_id).await? else {
        return Ok(false);
    };
    if row.totp_enrolled_at.is_some() != enrolled {
        return Ok(false);
    }
    let secret = totp::open_secret(state, staff_id, &row)?;
    let generator = totp::generator(&secret, "staff", "madoguchi")?;
    let Some(step) = totp::matching_step(&generator, typed, totp::unix_now()) else {
        return Ok(false);
    };
    Ok(state
        .store()
        .use_totp_step(staff_id, step, OffsetDateTime::now_utc())
        .await?)
}

/// The password and second factor were right: on to the password change, or signed in.
pub(super) async fn after_second_factor(
    state: &OfficeState,
    headers: &HeaderMap,
    staff: &StaffSession,
    address: Option<String>,
) -> Result<Response, OfficeError> {
    let now = OffsetDateTime::now_utc();
    state.store().record_sign_in(staff.staff_id, now).await?;
    let must_change = state
        .store()
        .staff_by_id(staff.staff_id)
        .await?
        .is_none_or(|row| row.must_change_password);
    if must_change {
        if let Some(id) = current_session_id(state, headers) {
            state
                .store()
                .set_staff_session_stage(&id, token::stage_name(Stage::ChangePassword))
                .await?;
        }
        return Ok(Redirect::to(stage_page(Stage::ChangePassword)).into_response());
    }
    become_active(state, headers, staff, address).await
}

/// Rotates the session to a new token at stage `Active` and audits the sign-in.
async fn become_active(
    state: &OfficeState,
    headers: &HeaderMap,
    staff: &StaffSession,
    address: Option<String>,
) -> Result<Response, OfficeError> {
    let now = OffsetDateTime::now_utc();
    let old = current_session_id(state, headers);
    let (value, id) = token::new_token()?;
    state
        .store()
        .start_staff_session(
            &NewStaffSession {
                id: &id,
                staff_id: staff.staff_id,
                stage: token::stage_name(Stage::Active),
                at: now,
                authenticated_at: now,
            },
            old.as_ref().map(|o| &o[..]),
        )
        .await?;
    let signed_in = StaffSession {
        stage: Stage::Active,
        audit_id: token::audit_id(&id),
        ..staff.clone()
    };
    audit::record(
        state,
        Some(&signed_in),
        address,
        Event {
            action: "staff.sign-in",
            subject_kind: Some("staff"),
            subject_id: Some(staff.staff_id.to_string()),
            fields: &[],
            purpose: None,
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    let mut cookie = HeaderMap::new();
    set_strict_cookie(&mut cookie, state.cookies(), token::COOKIE, &value);
    Ok((cookie, Redirect::to("/")).into_response())
}

// ---------------------------------------------------------------------------------------------
// TOTP enrolment

/// GET /totp/enroll: shows the pending seed (creating it on the first visit).
pub(crate) async fn enroll_form(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
) -> Result<Response, OfficeError> {
    if staff.stage != Stage::EnrollTotp {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    Ok(enroll_page(&state, &staff, None).await?.into_response())
}

async fn enroll_page(
    state: &OfficeState,
    staff: &StaffSession,
    error: Option<String>,
) -> Result<EnrollPage, OfficeError> {
    let store = state.store();
    let secret = match store.staff_totp(staff.staff_id).await? {
        Some(row) if row.totp_enrolled_at.is_none() => {
            totp::open_secret(state, staff.staff_id, &row)?
        }
        _ => {
            let secret = totp::new_secret()?;
            let (ciphertext, key_id, wrapped) = totp::seal_secret(state, staff.staff_id, &secret)?;
            store
                .begin_totp_enrolment(
                    staff.staff_id,
                    &ciphertext,
                    &key_id,
                    &wrapped,
                    OffsetDateTime::now_utc(),
                )
                .await?;
            secret
        }
    };
    let issuer = format!("{} 管理システム", state.profile().bank().name_ja());
    let generator = totp::generator(&secret, &staff.username, &issuer)?;
    let url = Zeroizing::new(
        generator
            .to_url()
            .map_err(|e| OfficeError::Internal(format!("otpauth URL: {e}")))?,
    );
    let base32 = Zeroizing::new(totp::base32(&secret));
    let grouped: Vec<&str> = base32
        .as_bytes()
        .chunks(4)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    Ok(EnrollPage {
        layout: stage_layout(state, staff, "認証アプリの登録"),
        qr: totp::qr_code(&url)?,
        secret: grouped.join(" "),
        error,
    })
}

/// POST /totp/enroll: a first code confirms the enrolment.
pub(crate) async fn enroll(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
    Form(input): Form<CodeForm>,
) -> Result<Response, OfficeError> {
    if staff.stage != Stage::EnrollTotp {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    let address = Some(peer.ip().to_string());
    if !code_accepted(&state, staff.staff_id, &input.code, false).await? {
        // Not counted towards the lock-out: whoever is here typed the password and sees the
        // seed on this page; a mistyped first code is only that.
        let page = enroll_page(&state, &staff, Some(WRONG_CODE.to_owned())).await?;
        return Ok(page.into_response());
    }
    audit::record(
        &state,
        Some(&staff),
        address.clone(),
        Event {
            action: "staff.totp-enroll",
            subject_kind: Some("staff"),
            subject_id: Some(staff.staff_id.to_string()),
            fields: &["totp_secret"],
            purpose: None,
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    after_second_factor(&state, &headers, &staff, address).await
}

// ---------------------------------------------------------------------------------------------
// Password change

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirmation: String,
}

/// GET /password
pub(crate) async fn password_form(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
) -> Response {
    match staff.stage {
        Stage::ChangePassword | Stage::Active => password_page(&state, &staff, Vec::new()),
        other => Redirect::to(stage_page(other)).into_response(),
    }
}

fn password_page(state: &OfficeState, staff: &StaffSession, errors: Vec<String>) -> Response {
    let active = staff.stage == Stage::Active;
    let layout = if active {
        Layout::new(state, Some(staff), "パスワードの変更")
    } else {
        stage_layout(state, staff, "パスワードの変更")
    };
    PasswordPage {
        layout,
        ask_current: active,
        errors,
    }
    .into_response()
}

/// POST /password
pub(crate) async fn password(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
    Form(input): Form<PasswordForm>,
) -> Result<Response, OfficeError> {
    if !matches!(staff.stage, Stage::ChangePassword | Stage::Active) {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    let address = Some(peer.ip().to_string());
    let Some(row) = state.store().staff_by_id(staff.staff_id).await? else {
        return Ok(signed_out_with(&state, WRONG_CREDENTIALS.to_owned()));
    };
    if staff.stage == Stage::Active {
        let mut attempt = Attempt::of_session();
        if !attempt.claim_account(&state, staff.staff_id).await? {
            return locked_out(&state, &staff, address, "password-locked").await;
        }
        let current = Zeroizing::new(input.current.clone());
        let checked = hashing::verify_blocking(Some(row.password_hash.clone()), current).await;
        let (attempt, verified) = attempt.unless_unchecked(&state, checked).await?;
        if !verified.matches {
            let locked = attempt.failed(&state).await?;
            failed(
                &state,
                Some(&staff),
                address,
                Some(staff.staff_id),
                "password",
            )
            .await?;
            if let Some(until) = locked {
                return Ok(signed_out_with(&state, locked_message(until, false)));
            }
            let error = "現在のパスワードが正しくありません。".to_owned();
            return Ok(password_page(&state, &staff, vec![error]));
        }
        if !attempt.succeeded(&state).await? {
            return locked_out(&state, &staff, address, "password-locked").await;
        }
    }
    let errors = password_refusals(&input, &row).await?;
    if !errors.is_empty() {
        return Ok(password_page(&state, &staff, errors));
    }
    let hash = hashing::hash_blocking(Zeroizing::new(input.new_password.clone())).await?;
    let now = OffsetDateTime::now_utc();
    let this = current_session_id(&state, &headers).unwrap_or_default();
    state
        .store()
        .set_staff_password(staff.staff_id, &hash, now, &this)
        .await?;
    audit::record(
        &state,
        Some(&staff),
        address.clone(),
        Event {
            action: "staff.password",
            subject_kind: Some("staff"),
            subject_id: Some(staff.staff_id.to_string()),
            fields: &["password_hash"],
            purpose: None,
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    if staff.stage == Stage::ChangePassword {
        return become_active(&state, &headers, &staff, address).await;
    }
    Ok(Redirect::to("/").into_response())
}

/// What is wrong with the new password, in Japanese (empty: nothing).
async fn password_refusals(
    input: &PasswordForm,
    row: &StaffRow,
) -> Result<Vec<String>, OfficeError> {
    let mut errors = Vec::new();
    if let Err(refusal) = check_staff_password(&input.new_password, &row.username) {
        errors.push(refusal_text(refusal).to_owned());
    } else if input.new_password != input.confirmation {
        errors.push("確認のために入力したパスワードが一致しません。".to_owned());
    } else {
        let same = hashing::verify_blocking(
            Some(row.password_hash.clone()),
            Zeroizing::new(input.new_password.clone()),
        )
        .await?;
        if same.matches {
            errors.push("今のパスワードとは違うパスワードにしてください。".to_owned());
        }
    }
    Ok(errors)
}

/// A refusal of the staff password policy, as staff read it.
pub(crate) fn refusal_text(refusal: StaffPasswordRefusal) -> &'static str {
    match refusal {
        StaffPasswordRefusal::TooShort => "パスワードは12文字以上にしてください。",
        StaffPasswordRefusal::TooLong => "パスワードは128文字以内にしてください。",
        StaffPasswordRefusal::ContainsUsername => "パスワードにユーザー名を含めないでください。",
        StaffPasswordRefusal::TooCommon => {
            "このパスワードはよく使われているか、推測されやすい形（単語、日付、キーボードの並びなど）のため使えません。関係のない単語をいくつか並べるなど、長く推測されにくいものにしてください。"
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-out

/// POST /sign-out: ends the session on the server, not only in the browser.
pub(crate) async fn sign_out(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
) -> Result<Response, OfficeError> {
    if let Some(id) = current_session_id(&state, &headers) {
        state
            .store()
            .end_staff_session(&id, OffsetDateTime::now_utc())
            .await?;
    }
    audit::record(
        &state,
        Some(&staff),
        Some(peer.ip().to_string()),
        Event {
            action: "staff.sign-out",
            subject_kind: Some("staff"),
            subject_id: Some(staff.staff_id.to_string()),
            fields: &[],
            purpose: None,
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    let mut cookie = HeaderMap::new();
    remove_strict_cookie(&mut cookie, state.cookies(), token::COOKIE);
    Ok((cookie, Redirect::to("/sign-in")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Signing in again

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct ReauthForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in again: a path of this site only, else the start page.
pub(crate) fn same_site_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// GET /reauth?next=PATH
pub(crate) async fn reauth_form(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Query(query): Query<NextQuery>,
) -> Response {
    if staff.stage != Stage::Active {
        return Redirect::to(stage_page(staff.stage)).into_response();
    }
    ReauthPage {
        layout: Layout::new(&state, Some(&staff), "もう一度サインイン"),
        next: same_site_path(query.next.as_deref()),
        error: None,
    }
    .into_response()
}

/// POST /reauth: password and a fresh code again; the session's sign-in time is renewed.
pub(crate) async fn reauth(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Actor(staff): Actor,
    Form(input): Form<ReauthForm>,
) -> Result<Response, OfficeError> {
    if staff.stage != Stage::Active {
        return Ok(Redirect::to(stage_page(staff.stage)).into_response());
    }
    let address = Some(peer.ip().to_string());
    let next = same_site_path(Some(&input.next));
    let mut attempt = Attempt::of_session();
    if !attempt.claim_account(&state, staff.staff_id).await? {
        return locked_out(&state, &staff, address, "reauth-locked").await;
    }
    let row = state.store().staff_by_id(staff.staff_id).await?;
    let checked = hashing::verify_blocking(
        row.map(|r| r.password_hash),
        Zeroizing::new(input.password.clone()),
    )
    .await;
    let (attempt, verified) = attempt.unless_unchecked(&state, checked).await?;
    let accepted =
        verified.matches && code_accepted(&state, staff.staff_id, &input.code, true).await?;
    if !accepted {
        let locked = attempt.failed(&state).await?;
        failed(
            &state,
            Some(&staff),
            address,
            Some(staff.staff_id),
            "reauth",
        )
        .await?;
        if let Some(until) = locked {
            return Ok(signed_out_with(&state, locked_message(until, true)));
        }
        return Ok(ReauthPage {
            layout: Layout::new(&state, Some(&staff), "もう一度サインイン"),
            next,
            error: Some("パスワードまたは確認コードが正しくありません。".to_owned()),
        }
        .into_response());
    }
    if !attempt.succeeded(&state).await? {
        return locked_out(&state, &staff, address, "reauth-locked").await;
    }
    if let Some(id) = current_session_id(&state, &headers) {
        state
            .store()
            .reauthenticate_staff_session(&id, OffsetDateTime::now_utc())
            .await?;
    }
    audit::record(
        &state,
        Some(&staff),
        address,
        Event {
            action: "staff.reauth",
            subject_kind: Some("staff"),
            subject_id: Some(staff.staff_id.to_string()),
            fields: &[],
            purpose: None,
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    Ok(Redirect::to(&next).into_response())
}

// ---------------------------------------------------------------------------------------------
// Shared steps

/// Starts a session at `stage` under a new token, ending `replaces`; returns the Set-Cookie.
async fn start_session(
    state: &OfficeState,
    staff_id: Uuid,
    stage: Stage,
    replaces: Option<[u8; 32]>,
    now: OffsetDateTime,
) -> Result<HeaderMap, OfficeError> {
    let (value, id) = token::new_token()?;
    state
        .store()
        .start_staff_session(
            &NewStaffSession {
                id: &id,
                staff_id,
                stage: token::stage_name(stage),
                at: now,
                authenticated_at: now,
            },
            replaces.as_ref().map(|r| &r[..]),
        )
        .await?;
    let mut cookie = HeaderMap::new();
    set_strict_cookie(&mut cookie, state.cookies(), token::COOKIE, &value);
    Ok(cookie)
}

/// What an account that refused an attempt says: until when it is locked, or (attempts in
/// progress fill its allowance) to try again shortly.
async fn refused_account(
    state: &OfficeState,
    staff_id: Uuid,
    now: OffsetDateTime,
) -> Result<String, OfficeError> {
    let until = state
        .store()
        .staff_by_id(staff_id)
        .await?
        .and_then(|row| row.locked_until)
        .filter(|until| *until > now);
    Ok(until.map_or_else(|| BUSY.to_owned(), |until| locked_message(until, false)))
}

/// A step past the password refused because the account is locked: audited, the session
/// ended, and signed out with the reason.
pub(super) async fn locked_out(
    state: &OfficeState,
    staff: &StaffSession,
    address: Option<String>,
    detail: &str,
) -> Result<Response, OfficeError> {
    let now = OffsetDateTime::now_utc();
    failed(state, Some(staff), address, Some(staff.staff_id), detail).await?;
    state
        .store()
        .end_staff_sessions_of(staff.staff_id, now)
        .await?;
    let message = refused_account(state, staff.staff_id, now).await?;
    Ok(signed_out_with(state, message))
}

/// Audits a failed sign-in step. What was typed is never recorded (a password typed into the
/// username field would land in the log).
pub(super) async fn failed(
    state: &OfficeState,
    staff: Option<&StaffSession>,
    address: Option<String>,
    subject: Option<Uuid>,
    detail: &str,
) -> Result<(), OfficeError> {
    audit::record(
        state,
        staff,
        address.clone(),
        Event {
            action: "staff.sign-in",
            subject_kind: Some("staff"),
            subject_id: subject.map(|id| id.to_string()),
            fields: &[],
            purpose: None,
            detail: Some(detail.to_owned()),
            outcome: "failed",
        },
    )
    .await
}

/// A sign-in refused because its address failed too often: audited, not counted again.
async fn refused_address(state: &OfficeState, address: Option<String>) -> Result<(), OfficeError> {
    audit::record(
        state,
        None,
        address,
        Event {
            action: "staff.sign-in",
            subject_kind: None,
            subject_id: None,
            fields: &[],
            purpose: None,
            detail: Some("address-refused".to_owned()),
            outcome: "denied",
        },
    )
    .await
}

/// Shown when the account's allowance of attempts is taken by attempts still in progress.
const BUSY: &str = "サインインの試行が続いているため、しばらくサインインできません。数分おいてからもう一度お試しください。";

/// Shown to an address that failed too many sign-ins within the hour.
const ADDRESS_REFUSED: &str = "この接続元からのサインインの失敗が多いため、しばらくサインインできません。1時間ほどおいてからお試しいただくか、システム管理者に連絡してください。";

/// Shown, after the right password, to a member of staff held by detection.
const HELD: &str =
    "このアカウントはセキュリティ上の理由で停止されています。システム管理者に連絡してください。";

/// The sign-in page with `message`, the session cookie removed (its session has ended).
pub(super) fn signed_out_with(state: &OfficeState, message: String) -> Response {
    let mut cookie = HeaderMap::new();
    remove_strict_cookie(&mut cookie, state.cookies(), token::COOKIE);
    let page = SignInPage {
        layout: Layout::new(state, None, "サインイン"),
        username: String::new(),
        error: Some(message),
    };
    (cookie, page).into_response()
}

/// The lock-out message: for how long from now, and the time (Japan) when signing in works
/// again.
pub(crate) fn locked_message(until: OffsetDateTime, codes: bool) -> String {
    locked_message_at(until, codes, OffsetDateTime::now_utc())
}

fn locked_message_at(until: OffsetDateTime, codes: bool, now: OffsetDateTime) -> String {
    let japan = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
    let local = until.to_offset(japan);
    let what = if codes {
        "パスワードまたは確認コード"
    } else {
        "パスワード"
    };
    // Whole minutes, rounded up: a lock of 14 min 59 s is "15分間".
    let minutes = ((until - now).whole_seconds().max(0) + 59) / 60;
    let span = match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}分間"),
        (h, 0) => format!("{h}時間"),
        (h, m) => format!("{h}時間{m}分"),
    };
    let day = if until - now >= time::Duration::hours(12) {
        format!("{}月{}日 ", u8::from(local.month()), local.day())
    } else {
        String::new()
    };
    format!(
        "{what}を{MAX_FAILURES}回続けて間違えたため、{span}サインインできません。{day}{:02}:{:02}以降にもう一度お試しください。急ぎの場合はシステム管理者に連絡してください。",
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_path_of_this_site_only() {
        assert_eq!(
            same_site_path(Some("/applications/1?x=2")),
            "/applications/1?x=2"
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "evil",
            "/\\evil",
            "",
        ] {
            assert_eq!(same_site_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(same_site_path(None), "/");
    }

    #[test]
    fn the_lock_out_message_says_why_and_until_when() {
        let until = time::macros::datetime!(2026-11-25 06:30 UTC);
        let locked_at = time::macros::datetime!(2026-11-25 06:15:00.4 UTC);
        let text = locked_message_at(until, false, locked_at);
        assert!(
            text.starts_with("パスワードを5回続けて間違えたため、15分間サインインできません。"),
            "{text}"
        );
        assert!(text.contains("15:30以降"), "{text}");
        // An escalated lock-out says how long, and the day when it is not today's.
        let later = locked_message_at(until, true, until - time::Duration::hours(2));
        assert!(
            later.contains("、2時間サインインできません。15:30以降"),
            "{later}"
        );
        let day = locked_message_at(until, false, until - time::Duration::hours(24));
        assert!(
            day.contains("24時間サインインできません。11月25日 15:30以降"),
            "{day}"
        );
    }

    #[test]
    fn every_refusal_is_worded() {
        use StaffPasswordRefusal::*;
        for r in [TooShort, TooLong, ContainsUsername, TooCommon] {
            assert!(!refusal_text(r).is_empty());
        }
    }
}
