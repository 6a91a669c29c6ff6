//! The e-mail check that starts every application: a 6-digit code sent to the address, valid
//! for a few minutes and a few tries, bound to the browser session that asked for it.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::EmailAddress;
use madoguchi_store::{CodeAttempt, EmailCheckRow, StoreError};
use std::sync::Arc;
use time::OffsetDateTime;

use crate::apply::Flow;
use crate::error::PublicError;
use crate::form::FormData;
use crate::session::{self, BrowserSession};
use crate::state::{Layout, PublicState};
use crate::view::FormView;
use crate::{draft, mail};

const CODE_PURPOSE: &str = "email-check";

#[derive(Template, WebTemplate)]
#[template(path = "apply/email.html")]
struct EmailPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
}

#[derive(Template, WebTemplate)]
#[template(path = "apply/verify.html")]
struct VerifyPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
    masked_email: String,
    ttl_minutes: u32,
}

/// The first page: where the applicant gives the address to check.
pub fn email_page(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    form: FormView,
) -> Response {
    let status = if form.has_errors() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let form = FormView {
        csrf: session.csrf_token(state),
        ..form
    };
    (
        status,
        EmailPage {
            layout: state.layout(),
            flow,
            form,
        },
    )
        .into_response()
}

/// Starts the check: stores the code's MAC and queues the code e-mail, in one transaction.
pub async fn send_code(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(state, &form)?;
    let email = match EmailAddress::parse(form.get("email").unwrap_or_default()) {
        Ok(email) => email,
        Err(code) => {
            let view = FormView::default()
                .with_values(form.without(&["csrf"]))
                .with_errors(
                    state.catalog(),
                    [("email".to_owned(), code.as_str().to_owned())],
                );
            return Ok(email_page(state, session, flow, view));
        }
    };
    store_check(state, session, flow, &email).await?;
    Ok(Redirect::to(&flow.path("verify")).into_response())
}

/// The page that asks for the code.
pub async fn verify_page(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    form: FormView,
) -> Result<Response, PublicError> {
    let Some(check) = state
        .store
        .email_check(&session.id(), OffsetDateTime::now_utc())
        .await?
    else {
        return Ok(Redirect::to(&flow.start_path()).into_response());
    };
    let email = session
        .cipher()
        .decrypt(&check.email_sealed, &session.id())
        .map_err(|_| PublicError::SessionExpired)?;
    let status = if form.has_errors() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = VerifyPage {
        layout: state.layout(),
        flow,
        form: FormView {
            csrf: session.csrf_token(state),
            ..form
        },
        masked_email: mask_email(&String::from_utf8_lossy(&email)),
        ttl_minutes: u32::from(state.profile.applications().email_code_ttl_minutes()),
    };
    Ok((status, page).into_response())
}

/// Checks a code. A try is spent before comparing, so parallel guesses cannot pass the limit.
pub async fn check_code(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(state, &form)?;
    let email =
        match verify_code(state, session, flow, form.get("code").unwrap_or_default()).await? {
            CodeOutcome::Right(email) => email,
            CodeOutcome::Expired => return Ok(expired(state, session, flow)),
            CodeOutcome::Wrong => {
                let view = FormView::default().with_errors(
                    state.catalog(),
                    [("code".to_owned(), "code-wrong".to_owned())],
                );
                return verify_page(state, session, flow, view).await;
            }
        };
    // A new session from here on: whoever else knew the old cookie's value (a fixed session)
    // is left with an ended e-mail check, never with the draft.
    let (renewed, cookie) = session::renewed()?;
    let row = draft::start(state, &renewed, flow.product.as_str(), email)?;
    match state
        .store
        .start_draft_from_check(&session.id(), &row)
        .await
    {
        Ok(()) => {
            let mut response = Redirect::to(&flow.path(flow.first_step)).into_response();
            session::set_session_cookie(state, &mut response, &cookie);
            Ok(response)
        }
        Err(StoreError::DraftGone) => Ok(expired(state, session, flow)),
        Err(e) => Err(e.into()),
    }
}

/// Stores a new e-mail check of `session` for `email` (the code's MAC, the address encrypted
/// with the session's key) and queues the code e-mail, in one transaction. Shared with the
/// JSON API.
pub(crate) async fn store_check(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    email: &EmailAddress,
) -> Result<OffsetDateTime, PublicError> {
    let settings = state.profile.applications();
    let code = madoguchi_domain::VerificationCode::generate()
        .map_err(|e| PublicError::Internal(format!("randomness: {e}")))?;
    let now = OffsetDateTime::now_utc();
    let session_id = session.id();
    let check = EmailCheckRow {
        session_id: session_id.to_vec(),
        product: flow.product.as_str().to_owned(),
        email_index: state
            .crypto
            .blind_index
            .email_index(&email.normalized())
            .index
            .as_bytes()
            .to_vec(),
        email_sealed: session
            .cipher()
            .encrypt(email.as_str().as_bytes(), &session_id)
            .map_err(|e| PublicError::Internal(format!("encrypt: {e}")))?,
        code_mac: state
            .crypto
            .blind_index
            .code_mac(CODE_PURPOSE, &session_id, code.as_str())
            .to_vec(),
        tries_left: i64::from(settings.email_code_max_tries()),
        created_at: now,
        expires_at: now + time::Duration::minutes(i64::from(settings.email_code_ttl_minutes())),
        email_index_previous: None,
    };
    crate::limits::claim_code_mail(state, &check.email_index).await?;
    let message = mail::verification_code(
        state,
        email.as_str(),
        code.as_str(),
        u32::from(settings.email_code_ttl_minutes()),
    );
    state
        .store
        .start_email_check(&check, &mail::seal(state, &message)?)
        .await?;
    Ok(check.expires_at)
}
/// What a typed code proved.
pub(crate) enum CodeOutcome {
    /// The code was right: the checked address.
    Right(String),
    /// Wrong; a try was spent.
    Wrong,
    /// No live check of this product (expired, tries spent, or already used).
    Expired,
}

/// Checks a typed code of the session's check of `flow`'s product. A try is spent before
/// comparing, so parallel guesses cannot pass the limit. Shared with the JSON API.
pub(crate) async fn verify_code(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    typed: &str,
) -> Result<CodeOutcome, PublicError> {
    let now = OffsetDateTime::now_utc();
    let session_id = session.id();
    let Some(check) = state.store.email_check(&session_id, now).await? else {
        return Ok(CodeOutcome::Expired);
    };
    if check.product != flow.product.as_str() {
        return Ok(CodeOutcome::Expired);
    }
    if let CodeAttempt::Exhausted = state.store.spend_code_try(&session_id, now).await? {
        return Ok(CodeOutcome::Expired);
    }
    let typed = madoguchi_domain::text::to_ascii_digits(typed);
    let code_ok = state.crypto.blind_index.verify_code(
        CODE_PURPOSE,
        &session_id,
        typed.trim(),
        &check.code_mac,
    );
    if !code_ok {
        return Ok(CodeOutcome::Wrong);
    }
    let email = session
        .cipher()
        .decrypt(&check.email_sealed, &session_id)
        .map_err(|_| PublicError::SessionExpired)?;
    let email = String::from_utf8(email.to_vec()).map_err(|_| PublicError::SessionExpired)?;
    Ok(CodeOutcome::Right(email))
}

/// Ends the session's check or draft and goes back to the first page.
pub async fn restart(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(state, &form)?;
    // The draft's identity documents go with it: rows and keys in its transaction, then files.
    let documents = state.store.discard_draft(&session.id()).await?;
    state.documents.delete(documents).await;
    Ok(Redirect::to(&flow.start_path()).into_response())
}

fn expired(state: &PublicState, session: &BrowserSession, flow: &'static Flow) -> Response {
    let view = FormView::default().with_errors(
        state.catalog(),
        [("email".to_owned(), "code-expired".to_owned())],
    );
    email_page(state, session, flow, view)
}

/// `taro@example.jp` → `t***@example.jp`: enough for the applicant to recognize it.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masking_keeps_only_the_first_letter_and_the_domain() {
        assert_eq!(
            super::mask_email("taro.yamada@example.jp"),
            "t***@example.jp"
        );
    }
}
