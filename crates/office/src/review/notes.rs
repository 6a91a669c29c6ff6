//! Staff notes: personal data (SPEC §6), so each note is encrypted under its own data key
//! (record id = the note's id, wrapped to the back office's key) and shown only by a reveal.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_seal::EncryptedFields;
use madoguchi_store::NewNote;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::detail::refused;
use super::{NOTE_FIELD, NOTES, actor_of, form_pairs, form_value, record};
use crate::OfficeState;
use crate::audit::Event;
use crate::error::OfficeError;
use crate::session::Actor;

/// The longest note, in characters.
const MAX_NOTE_CHARS: usize = 2000;

pub(crate) async fn add(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let pairs = form_pairs(&body);
    let text = Zeroizing::new(form_value(&pairs, "note").unwrap_or("").trim().to_owned());
    let length = text.chars().count();
    if length == 0 || length > MAX_NOTE_CHARS {
        return refused(&state, &staff, id, StatusCode::BAD_REQUEST, "note").await;
    }
    let note_id = Uuid::now_v7();
    let internal = |e: madoguchi_seal::SealError| OfficeError::Internal(format!("encrypt: {e}"));
    let envelope = state
        .inner
        .keys
        .envelope_writer()
        .begin(&note_id)
        .map_err(internal)?;
    let mut fields = EncryptedFields::new();
    envelope
        .encrypt_into(&mut fields, NOTE_FIELD, text.as_bytes())
        .map_err(internal)?;
    record(
        &state,
        &staff,
        client,
        Event {
            action: "application.note",
            subject_kind: Some("application"),
            subject_id: Some(id.to_string()),
            fields: &[NOTES],
            purpose: None,
            detail: Some(format!("note:{note_id}")),
            outcome: "ok",
        },
    )
    .await?;
    state
        .store()
        .add_application_note(&NewNote {
            id: note_id,
            application_id: id,
            author: actor_of(&staff),
            created_at: OffsetDateTime::now_utc(),
            body: fields.to_bytes(),
            key_id: envelope.wrapped_key().key_id().to_string(),
            wrapped: envelope.wrapped_key().as_bytes().to_vec(),
        })
        .await?;
    Ok(Redirect::to(&format!("/applications/{id}?m=note")).into_response())
}
