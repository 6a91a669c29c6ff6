//! The draft of an application in progress: what the applicant has typed so far, encrypted
//! with the key of their browser session. It never holds a PIN or password: a secret is
//! sealed to the core-banking key the moment it is parsed, and only the sealed form is kept.

use std::collections::BTreeMap;

use madoguchi_store::DraftRow;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::PublicError;
use crate::session::BrowserSession;
use crate::state::PublicState;

/// The decrypted body of a draft.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DraftBody {
    /// The verified e-mail address.
    pub email: String,
    /// The accepted values of each finished step, by step name, as typed (secrets removed).
    pub steps: BTreeMap<String, Vec<(String, String)>>,
    /// Secrets sealed to the core-banking key, by kind label.
    pub sealed: BTreeMap<String, Vec<u8>>,
    /// Identity documents accepted so far, by kind (`front`, `back`, `selfie`): where they
    /// are stored (encrypted to the back office), never what they show.
    #[serde(default)]
    pub documents: BTreeMap<String, crate::uploads::DocumentRef>,
}

/// A live draft and its decrypted body.
pub struct Draft {
    pub application_id: Uuid,
    pub body: DraftBody,
}

fn aad(session: &BrowserSession, application_id: &Uuid) -> Vec<u8> {
    let mut aad = session.id().to_vec();
    aad.extend_from_slice(application_id.as_bytes());
    aad
}

pub fn encrypt(
    session: &BrowserSession,
    application_id: &Uuid,
    body: &DraftBody,
) -> Result<Vec<u8>, PublicError> {
    let plain = Zeroizing::new(
        serde_json::to_vec(body)
            .map_err(|e| PublicError::Internal(format!("draft encode: {e}")))?,
    );
    session
        .cipher()
        .encrypt(&plain, &aad(session, application_id))
        .map_err(|e| PublicError::Internal(format!("draft encrypt: {e}")))
}

/// The session's live draft of `product`, if any.
pub async fn load(
    state: &PublicState,
    session: &BrowserSession,
    product: &str,
) -> Result<Option<Draft>, PublicError> {
    let Some(row) = state
        .store
        .draft(&session.id(), OffsetDateTime::now_utc())
        .await?
    else {
        return Ok(None);
    };
    if row.product != product {
        return Ok(None);
    }
    let plain = session
        .cipher()
        .decrypt(&row.body, &aad(session, &row.application_id))
        .map_err(|_| PublicError::SessionExpired)?;
    let body: DraftBody = serde_json::from_slice(&plain)
        .map_err(|e| PublicError::Internal(format!("draft decode: {e}")))?;
    Ok(Some(Draft {
        application_id: row.application_id,
        body,
    }))
}

/// Stores a changed draft body.
pub async fn save(
    state: &PublicState,
    session: &BrowserSession,
    draft: &Draft,
) -> Result<(), PublicError> {
    let body = encrypt(session, &draft.application_id, &draft.body)?;
    match state
        .store
        .update_draft(&session.id(), &body, OffsetDateTime::now_utc())
        .await
    {
        Err(madoguchi_store::StoreError::DraftGone) => Err(PublicError::SessionExpired),
        other => Ok(other?),
    }
}

/// A new draft row for a verified e-mail address.
pub fn start(
    state: &PublicState,
    session: &BrowserSession,
    product: &str,
    email: String,
) -> Result<DraftRow, PublicError> {
    let application_id = Uuid::now_v7();
    let body = DraftBody {
        email,
        ..DraftBody::default()
    };
    let now = OffsetDateTime::now_utc();
    let ttl = time::Duration::hours(i64::from(state.profile.applications().draft_ttl_hours()));
    Ok(DraftRow {
        session_id: session.id().to_vec(),
        product: product.to_owned(),
        application_id,
        body: encrypt(session, &application_id, &body)?,
        created_at: now,
        updated_at: now,
        expires_at: now + ttl,
    })
}
