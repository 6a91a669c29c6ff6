//! Showing personal fields: the member of staff picks the fields and a purpose; the audit
//! event naming exactly those fields and the purpose is written first, then only those
//! fields are decrypted. When the event cannot be written, nothing is shown.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::detail::{Revealed, build, refused};
use super::{
    NOTES, field_names, form_pairs, form_value, open_fields, open_notes, purpose_label, record,
};
use crate::OfficeState;
use crate::audit::Event;
use crate::error::{OfficeError, status_page};
use crate::session::Actor;

pub(crate) async fn reveal(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let pairs = form_pairs(&body);
    let store = state.store();
    let Some(stored) = store.encrypted_personal_record(id).await? else {
        return Ok(status_page(StatusCode::NOT_FOUND));
    };
    let held = field_names(&stored)?;
    let notes = store.application_notes(id).await?;
    // Only names the record holds, each once, in page order.
    let wanted: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut fields: Vec<&str> = held
        .iter()
        .map(String::as_str)
        .filter(|n| wanted.contains(n))
        .collect();
    if wanted.contains(&NOTES) && !notes.is_empty() {
        fields.push(NOTES);
    }
    let Some((purpose, purpose_text)) = form_value(&pairs, "purpose")
        .and_then(|p| purpose_label(p).map(|label| (p.to_owned(), label)))
    else {
        return refused(&state, &staff, id, StatusCode::BAD_REQUEST, "purpose").await;
    };
    if fields.is_empty() {
        return refused(&state, &staff, id, StatusCode::BAD_REQUEST, "fields").await;
    }
    let proof = record(
        &state,
        &staff,
        client,
        Event {
            action: "application.reveal",
            subject_kind: Some("application"),
            subject_id: Some(id.to_string()),
            fields: &fields,
            purpose: Some(&purpose),
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    let values = open_fields(&state, &proof, id, &stored, &fields)?;
    let opened_notes = if fields.contains(&NOTES) {
        Some(open_notes(&state, &proof, &notes)?)
    } else {
        None
    };
    let revealed = Revealed {
        values,
        notes: opened_notes,
        purpose: purpose_text,
    };
    Ok(
        match build(&state, &staff, id, Some(revealed), None, None).await? {
            Some(page) => page.into_response(),
            None => status_page(StatusCode::NOT_FOUND),
        },
    )
}
