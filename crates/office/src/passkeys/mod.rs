//! Passkeys (WebAuthn): the second factor besides TOTP (SPEC §5, "WebAuthn passkeys where the
//! browser has them"). TOTP stays required for everyone — it is enrolled at the first sign-in
//! and asked when signing in again — and a passkey registered afterwards may take its place at
//! sign-in.
//!
//! The relying party is the back office's own origin (`--office-url`, e.g.
//! `https://office.bank.example.jp`, or `http://localhost:PORT` on this machine): a browser
//! signs only for that origin, which is what makes a passkey phishing-resistant. Without an
//! origin whose host is a domain name (an IP address is not one), passkeys are off and the
//! pages say so.
//!
//! A ceremony's state (its challenge) is kept server-side with the session
//! ([`Store::set_session_ceremony`](madoguchi_store::Store::set_session_ceremony)) and taken
//! once by the answer. Checking the answer — origin, challenge, signature, counter, user
//! verification — is the `webauthn-rs` library's; nothing of it is written here.

pub(crate) mod manage;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, Url, Webauthn, WebauthnBuilder,
};

use crate::OfficeState;
use crate::error::OfficeError;

/// The back office as a WebAuthn relying party.
#[derive(Clone)]
pub struct RelyingParty {
    webauthn: Arc<Webauthn>,
    origin: String,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("origin", &self.origin)
            .finish()
    }
}

/// Why an origin cannot be a relying party.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error("{0:?} is not a URL (write it as https://office.bank.example.jp)")]
    NotAUrl(String),
    #[error(
        "{0:?} has no domain name: passkeys are bound to a name, never to an IP address (use https://office.bank.example.jp, or http://localhost:PORT on this machine)"
    )]
    NoDomain(String),
    #[error("{0:?} is neither https:// nor http://localhost: browsers refuse passkeys there")]
    Insecure(String),
}

impl RelyingParty {
    /// The relying party of `origin`, named `bank_name` in the browser's prompts.
    pub fn new(origin: &str, bank_name: &str) -> Result<RelyingParty, OriginError> {
        let url = Url::parse(origin).map_err(|_| OriginError::NotAUrl(origin.to_owned()))?;
        let Some(host) = url.domain().map(str::to_owned) else {
            return Err(OriginError::NoDomain(origin.to_owned()));
        };
        let secure = url.scheme() == "https" || (url.scheme() == "http" && host == "localhost");
        if !secure {
            return Err(OriginError::Insecure(origin.to_owned()));
        }
        let name = format!("{bank_name} 管理システム");
        let webauthn = WebauthnBuilder::new(&host, &url)
            .and_then(|b| b.rp_name(&name).build())
            .map_err(|_| OriginError::NoDomain(origin.to_owned()))?;
        Ok(RelyingParty {
            webauthn: Arc::new(webauthn),
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The origin staff must open the back office at to use a passkey.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub(crate) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// A ceremony in progress, as kept with the session.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Ceremony {
    Registration { state: PasskeyRegistration },
    Authentication { state: PasskeyAuthentication },
}

/// Keeps `ceremony` with the session `session` (replacing an earlier one).
pub(crate) async fn keep(
    state: &OfficeState,
    session: &[u8; 32],
    ceremony: &Ceremony,
) -> Result<(), OfficeError> {
    let json = serde_json::to_string(ceremony)
        .map_err(|e| OfficeError::Internal(format!("a WebAuthn ceremony: {e}")))?;
    Ok(state.store().set_session_ceremony(session, &json).await?)
}

/// Takes the session's ceremony (it cannot be answered twice); `None` without one.
pub(crate) async fn take(
    state: &OfficeState,
    session: &[u8; 32],
) -> Result<Option<Ceremony>, OfficeError> {
    let Some(json) = state.store().take_session_ceremony(session).await? else {
        return Ok(None);
    };
    // A ceremony that does not parse (written by another version) is as good as none.
    Ok(serde_json::from_str(&json).ok())
}

/// A stored passkey, read back.
pub(crate) fn parse_passkey(json: &str) -> Result<Passkey, OfficeError> {
    serde_json::from_str(json).map_err(|e| OfficeError::Internal(format!("a stored passkey: {e}")))
}

/// JSON of WebAuthn options (for a page's `data-options`) or of a passkey (to store).
pub(crate) fn to_json<T: Serialize>(options: &T) -> Result<String, OfficeError> {
    serde_json::to_string(options).map_err(|e| OfficeError::Internal(format!("WebAuthn JSON: {e}")))
}

/// The browser's script for passkey forms.
pub(crate) async fn script() -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        include_str!("../../static/passkey.js"),
    )
        .into_response()
}
