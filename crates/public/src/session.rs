//! The browser session: a random secret in a cookie that binds an application in progress to
//! one browser. The server stores only a hash of it, and drafts are encrypted with a key
//! derived from it, so a draft can be read only while that browser presents the cookie.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use madoguchi_http::{read_cookie, set_cookie};
use madoguchi_seal::{DraftCipher, DraftSecret};
use zeroize::Zeroizing;

use crate::error::PublicError;
use crate::form::FormData;
use crate::state::PublicState;

pub const SESSION_COOKIE: &str = "mdg_session";
/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

#[derive(Clone)]
pub struct BrowserSession {
    secret: Arc<DraftSecret>,
}

impl BrowserSession {
    /// A session of the JSON API: its secret is a check id or verification token the client
    /// holds, never a cookie.
    pub(crate) fn from_secret(secret: DraftSecret) -> BrowserSession {
        BrowserSession {
            secret: Arc::new(secret),
        }
    }

    /// The id under which this session's rows are stored (a hash of the secret).
    pub fn id(&self) -> [u8; 32] {
        self.secret.lookup_id()
    }

    /// The cipher for this session's draft.
    pub fn cipher(&self) -> DraftCipher {
        self.secret.cipher()
    }

    /// The CSRF token every form of this session carries.
    pub fn csrf_token(&self, state: &PublicState) -> String {
        state.crypto.csrf.token_for(&self.id())
    }

    /// Refuses a form whose CSRF token does not belong to this session.
    pub fn check_csrf(&self, state: &PublicState, form: &FormData) -> Result<(), PublicError> {
        let token = form.get(CSRF_FIELD).unwrap_or_default();
        if state.crypto.csrf.verify(&self.id(), token) {
            Ok(())
        } else {
            Err(PublicError::Csrf)
        }
    }
}

/// Gives every request a [`BrowserSession`], starting one when the browser has none.
pub async fn ensure_session(
    State(state): State<PublicState>,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = read_cookie(request.headers(), state.cookies, SESSION_COOKIE)
        .and_then(|value| DraftSecret::from_cookie_value(&value));
    let (secret, fresh) = match existing {
        Some(secret) => (secret, false),
        None => match DraftSecret::generate() {
            Ok(secret) => (secret, true),
            Err(e) => return PublicError::Internal(format!("randomness: {e}")).into_response(),
        },
    };
    let cookie_value = fresh.then(|| secret.to_cookie_value());
    request.extensions_mut().insert(BrowserSession {
        secret: Arc::new(secret),
    });
    let mut response = next.run(request).await;
    if let Some(value) = cookie_value {
        set_session_cookie(&state, &mut response, &value);
    }
    response
}

/// Starts a new browser session in place of `session` (whose value the browser might have
/// been given by someone else: session fixation) and sets its cookie on `response` once the
/// handler knows it succeeded. The e-mail's verification does this, just before the first
/// personal data is stored under the session.
pub(crate) fn renewed() -> Result<(BrowserSession, Zeroizing<String>), PublicError> {
    let secret =
        DraftSecret::generate().map_err(|e| PublicError::Internal(format!("randomness: {e}")))?;
    let value = secret.to_cookie_value();
    Ok((BrowserSession::from_secret(secret), value))
}

/// Sets the session cookie `value` on `response`.
pub(crate) fn set_session_cookie(state: &PublicState, response: &mut Response, value: &str) {
    let max_age = i64::from(state.profile.applications().draft_ttl_hours()) * 3600;
    set_cookie(
        response.headers_mut(),
        state.cookies,
        SESSION_COOKIE,
        value,
        Some(max_age),
    );
}
