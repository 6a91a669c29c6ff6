//! The status check (お申込み状況の確認): with the receipt number and a fresh e-mail check, an
//! applicant sees where their application stands: the product, the status and the date of
//! the last change. Nothing else: no personal value is read or shown.
//!
//! - The form is no oracle. Whether or not the receipt number and the address match an
//!   application, the answer is the same redirect to the same code page, and a check is
//!   stored all the same; only a match queues the code e-mail. A check that matched nothing
//!   holds a random MAC that no code verifies.
//! - The check reuses the `email_checks` table under its own key: the browser session's id
//!   followed by `/status`, so that it never replaces or answers the session's application
//!   check. It holds the e-mail's blind index and the receipt number encrypted with the
//!   session's key; its code is verified with the same tries and MAC as an application's.
//! - The status is read again after the right code, and shown once in the answer to that
//!   request (the check is ended first): seeing it again needs a new code.

mod mail;

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::reservation::JST;
use madoguchi_domain::{ApplicationStatus, EmailAddress, ReceiptNumber, VerificationCode};
use madoguchi_store::{ApplicationStatusRow, CodeAttempt, EmailCheckRow};
use time::OffsetDateTime;

use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::routes::Route;
use crate::session::BrowserSession;
use crate::state::{Layout, PublicState};
use crate::view::FormView;

/// The `product` of a status check's row in `email_checks`.
const CHECK_PRODUCT: &str = "status";
/// The purpose its code MAC is bound to.
const CODE_PURPOSE: &str = "status-check";
/// Appended to the session id to make the check's key.
pub(crate) const KEY_SUFFIX: &[u8] = b"/status";

/// The pages of the status check, to mount under `/status`.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/", "status check: receipt number and e-mail form", start),
        Route::post("/start", "status check: send the code", send_code),
        Route::get("/verify", "status check: code form", verify),
        Route::post(
            "/verify",
            "status check: check the code, show the status once",
            check_code,
        ),
    ]
}

#[derive(Template, WebTemplate)]
#[template(path = "status/start.html")]
struct StartPage {
    layout: Arc<Layout>,
    form: FormView,
}

#[derive(Template, WebTemplate)]
#[template(path = "status/verify.html")]
struct VerifyPage {
    layout: Arc<Layout>,
    form: FormView,
    ttl_minutes: u32,
}

#[derive(Template, WebTemplate)]
#[template(path = "status/result.html")]
struct ResultPage {
    layout: Arc<Layout>,
    product: String,
    status: String,
    note: String,
    updated: String,
}

/// The key of this session's status check: never a session id on its own.
fn check_key(session: &BrowserSession) -> Vec<u8> {
    [&session.id()[..], KEY_SUFFIX].concat()
}

fn start_page(state: &PublicState, session: &BrowserSession, form: FormView) -> Response {
    let status = if form.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = StartPage {
        layout: state.layout(),
        form: FormView {
            csrf: session.csrf_token(state),
            ..form
        },
    };
    (status, page).into_response()
}

/// The form asking for the receipt number and the e-mail address.
async fn start(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
) -> Response {
    start_page(&state, &session, FormView::default())
}

/// Starts a status check. The answer is the same whether or not anything matched.
async fn send_code(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(&state, &form)?;
    state.limits.check(Action::EmailCheck, client.ip())?;
    let receipt = ReceiptNumber::parse(form.get("receipt_number").unwrap_or_default());
    let email = EmailAddress::parse(form.get("email").unwrap_or_default());
    let (receipt, email) = match (receipt, email) {
        (Ok(receipt), Ok(email)) => (receipt, email),
        (receipt, email) => {
            // Only the form of the values is refused here, which says nothing of what exists.
            let errors = [("receipt_number", receipt.err()), ("email", email.err())]
                .into_iter()
                .filter_map(|(field, code)| {
                    code.map(|code| (field.to_owned(), code.as_str().to_owned()))
                });
            let view = FormView::default()
                .with_values(form.without(&["csrf"]))
                .with_errors(state.catalog(), errors);
            return Ok(start_page(&state, &session, view));
        }
    };
    start_check(
        &state,
        &check_key(&session),
        &session.cipher(),
        &receipt,
        &email,
    )
    .await?;
    Ok(Redirect::to("/status/verify").into_response())
}

async fn verify_page(
    state: &PublicState,
    session: &BrowserSession,
    form: FormView,
) -> Result<Response, PublicError> {
    let now = OffsetDateTime::now_utc();
    let live = state.store.email_check(&check_key(session), now).await?;
    if live.is_none_or(|check| check.product != CHECK_PRODUCT) {
        return Ok(Redirect::to("/status").into_response());
    }
    let status = if form.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = VerifyPage {
        layout: state.layout(),
        form: FormView {
            csrf: session.csrf_token(state),
            ..form
        },
        ttl_minutes: u32::from(state.profile.applications().email_code_ttl_minutes()),
    };
    Ok((status, page).into_response())
}

/// The page that asks for the code: the same after a match and after a miss.
async fn verify(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
) -> Result<Response, PublicError> {
    verify_page(&state, &session, FormView::default()).await
}

/// Checks the code (a try is spent before comparing) and, when it is right, shows the status.
async fn check_code(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(&state, &form)?;
    state.limits.check(Action::CodeTry, client.ip())?;
    let row = match confirm_check(
        &state,
        &check_key(&session),
        &session.cipher(),
        form.get("code").unwrap_or_default(),
    )
    .await?
    {
        StatusOutcome::Shown(row) => row,
        StatusOutcome::Expired => return Ok(expired(&state, &session)),
        StatusOutcome::Wrong => {
            let view = FormView::default().with_errors(
                state.catalog(),
                [("code".to_owned(), "code-wrong".to_owned())],
            );
            return verify_page(&state, &session, view).await;
        }
    };
    tracing::info!(product = row.product.as_str(), "application status shown");
    result_page(&state, &row)
}

/// Stores a status check under `key` (the receipt number encrypted with `cipher`) and, when
/// the receipt number and the address match an application, queues the code e-mail. The same
/// work either way. Shared with the JSON API.
pub(crate) async fn start_check(
    state: &PublicState,
    key: &[u8],
    cipher: &madoguchi_seal::DraftCipher,
    receipt: &ReceiptNumber,
    email: &EmailAddress,
) -> Result<OffsetDateTime, PublicError> {
    let settings = state.profile.applications();
    let ttl_minutes = settings.email_code_ttl_minutes();
    // Both indexes during a blind-index rotation: rows not yet re-indexed are found too.
    let lookup = state.crypto.blind_index.email_lookup(&email.normalized());
    let found = state
        .store
        .application_status(receipt.as_str(), lookup.candidates())
        .await?
        .is_some();
    // Counted whether or not it matched: the refusal tells nothing of the applications.
    crate::limits::claim_code_mail(state, lookup.current.index.as_bytes()).await?;
    let code = VerificationCode::generate()
        .map_err(|e| PublicError::Internal(format!("randomness: {e}")))?;
    let code_mac = if found {
        state
            .crypto
            .blind_index
            .code_mac(CODE_PURPOSE, key, code.as_str())
    } else {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| PublicError::Internal(format!("randomness: {e}")))?;
        random
    };
    let now = OffsetDateTime::now_utc();
    let check = EmailCheckRow {
        session_id: key.to_vec(),
        product: CHECK_PRODUCT.to_owned(),
        email_index: lookup.current.index.as_bytes().to_vec(),
        email_sealed: cipher
            .encrypt(receipt.as_str().as_bytes(), key)
            .map_err(|e| PublicError::Internal(format!("encrypt: {e}")))?,
        code_mac: code_mac.to_vec(),
        tries_left: i64::from(settings.email_code_max_tries()),
        created_at: now,
        expires_at: now + time::Duration::minutes(i64::from(ttl_minutes)),
        email_index_previous: lookup.previous.map(|index| index.as_bytes().to_vec()),
    };
    // Sealed either way, so that a miss costs the same work as a match; queued on a match only.
    let message = crate::mail::seal(
        state,
        &mail::status_code(state, email.as_str(), code.as_str(), u32::from(ttl_minutes)),
    )?;
    state
        .store
        .start_status_check(&check, found.then_some(&message))
        .await?;
    Ok(check.expires_at)
}

/// What a typed status code proved.
pub(crate) enum StatusOutcome {
    /// The code was right: the application's status, read now.
    Shown(ApplicationStatusRow),
    /// Wrong; a try was spent.
    Wrong,
    /// The check is gone (expired, tries spent, already used), or its application is.
    Expired,
}

/// Checks a typed code of the status check under `key` (a try is spent before comparing) and,
/// when it is right, ends the check and reads the status. Shared with the JSON API.
pub(crate) async fn confirm_check(
    state: &PublicState,
    key: &[u8],
    cipher: &madoguchi_seal::DraftCipher,
    typed: &str,
) -> Result<StatusOutcome, PublicError> {
    let now = OffsetDateTime::now_utc();
    let Some(check) = state.store.email_check(key, now).await? else {
        return Ok(StatusOutcome::Expired);
    };
    if check.product != CHECK_PRODUCT {
        return Ok(StatusOutcome::Expired);
    }
    if let CodeAttempt::Exhausted = state.store.spend_code_try(key, now).await? {
        return Ok(StatusOutcome::Expired);
    }
    let typed = madoguchi_domain::text::to_ascii_digits(typed);
    let code_ok =
        state
            .crypto
            .blind_index
            .verify_code(CODE_PURPOSE, key, typed.trim(), &check.code_mac);
    if !code_ok {
        return Ok(StatusOutcome::Wrong);
    }
    // A right code counts once, even when sent twice at the same moment.
    if !state.store.end_email_check(key, now).await? {
        return Ok(StatusOutcome::Expired);
    }
    let receipt = cipher
        .decrypt(&check.email_sealed, key)
        .map_err(|_| PublicError::SessionExpired)?;
    let receipt = std::str::from_utf8(&receipt).map_err(|_| PublicError::SessionExpired)?;
    // Read now, not when the code was sent; gone meanwhile (deleted by retention) reads as expired.
    Ok(
        match state
            .store
            .application_status(
                receipt,
                [
                    &check.email_index,
                    check
                        .email_index_previous
                        .as_deref()
                        .unwrap_or(&check.email_index),
                ],
            )
            .await?
        {
            Some(row) => StatusOutcome::Shown(row),
            None => StatusOutcome::Expired,
        },
    )
}

fn result_page(state: &PublicState, row: &ApplicationStatusRow) -> Result<Response, PublicError> {
    let status = ApplicationStatus::parse(&row.status)
        .map_err(|_| PublicError::Internal(format!("unknown status {:?}", row.status)))?;
    let catalog = state.catalog();
    let updated = row.updated_at.to_offset(JST).date();
    let page = ResultPage {
        layout: state.layout(),
        product: catalog.choice("product", &row.product).to_owned(),
        status: catalog
            .choice("application_status", status.as_str())
            .to_owned(),
        note: catalog
            .choice("application_status_note", status.as_str())
            .to_owned(),
        updated: crate::reservation::format::date_label(updated, state.lang()),
    };
    Ok(page.into_response())
}

/// The check is gone (expired, tries spent, or already used): start again.
fn expired(state: &PublicState, session: &BrowserSession) -> Response {
    let view = FormView::default().with_errors(
        state.catalog(),
        [(
            "receipt_number".to_owned(),
            "status-code-expired".to_owned(),
        )],
    );
    start_page(state, session, view)
}

#[cfg(test)]
mod tests {
    use madoguchi_domain::ApplicationStatus;

    use crate::messages::Catalog;

    #[test]
    fn every_status_and_product_has_words_for_the_applicant() {
        let catalog = Catalog::japanese().expect("catalogue");
        for status in ApplicationStatus::ALL {
            for field in ["application_status", "application_status_note"] {
                assert_ne!(
                    catalog.choice(field, status.as_str()),
                    status.as_str(),
                    "no {field} text for {status}"
                );
            }
        }
        for product in madoguchi_domain::Product::ALL {
            assert_ne!(
                catalog.choice("product", product.as_str()),
                product.as_str(),
                "no name for {product}"
            );
        }
    }
}
