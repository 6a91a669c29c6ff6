//! Opening an identity document: purpose first, the audit event `document.open` next, then
//! the file is decrypted and sent so that the browser cannot run it: PDFs as attachments
//! (never rendered inline: the upload check is a filter, not a guarantee), images inline,
//! every answer `nosniff` and in a CSP sandbox.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use madoguchi_documents::DOCUMENT_FIELD;
use madoguchi_seal::WrappedKey;
use uuid::Uuid;

use super::{Recorded, form_pairs, form_value, purpose_label, record};
use crate::OfficeState;
use crate::audit::Event;
use crate::error::{OfficeError, status_page};
use crate::session::Actor;

pub(crate) async fn open(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let pairs = form_pairs(&body);
    let Some(purpose) = form_value(&pairs, "purpose").filter(|p| purpose_label(p).is_some()) else {
        return Ok(status_page(StatusCode::BAD_REQUEST));
    };
    let store = state.store();
    let Some(application) = store.document_application(id).await? else {
        return Ok(status_page(StatusCode::NOT_FOUND));
    };
    let Some(row) = store
        .application_documents(application)
        .await?
        .into_iter()
        .find(|d| d.id == id)
    else {
        return Ok(status_page(StatusCode::NOT_FOUND));
    };
    let proof = record(
        &state,
        &staff,
        client,
        Event {
            action: "document.open",
            subject_kind: Some("document"),
            subject_id: Some(id.to_string()),
            fields: &[DOCUMENT_FIELD],
            purpose: Some(purpose),
            detail: Some(format!("application:{application}")),
            outcome: "ok",
        },
    )
    .await?;
    let Some(bytes) = decrypt(&state, &proof, id).await? else {
        return Ok(status_page(StatusCode::NOT_FOUND));
    };
    let (content_type, disposition) = served_as(&row.content_type);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static(disposition),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// The type and disposition a stored type is served with: PDFs only as downloads, images
/// inline; the database allows no other type, and anything else is not served as itself.
fn served_as(stored: &str) -> (&'static str, &'static str) {
    match stored {
        "application/pdf" => ("application/pdf", "attachment; filename=\"document.pdf\""),
        "image/png" => ("image/png", "inline; filename=\"document.png\""),
        "image/jpeg" => ("image/jpeg", "inline; filename=\"document.jpg\""),
        _ => (
            "application/octet-stream",
            "attachment; filename=\"document.bin\"",
        ),
    }
}

/// The document's plaintext, after the audit event; `None` when its key or file is gone.
async fn decrypt(
    state: &OfficeState,
    _proof: &Recorded,
    id: Uuid,
) -> Result<Option<Vec<u8>>, OfficeError> {
    let Some(key) = state.store().document_key(id).await? else {
        return Ok(None);
    };
    let sealed = state
        .inner
        .documents
        .read_sealed(&id)
        .await
        .map_err(|e| OfficeError::Internal(format!("document read: {e}")))?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let wrapped = WrappedKey::from_stored(key.wrapped)
        .map_err(|e| OfficeError::Internal(format!("stored key: {e}")))?;
    let plain = state
        .inner
        .keyring
        .open_record(&id, &wrapped)?
        .decrypt_field(DOCUMENT_FIELD, &sealed)?;
    Ok(Some(plain.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::served_as;

    #[test]
    fn pdfs_are_downloads_and_images_inline() {
        assert_eq!(served_as("application/pdf").0, "application/pdf");
        assert!(served_as("application/pdf").1.starts_with("attachment"));
        assert!(served_as("image/png").1.starts_with("inline"));
        assert!(served_as("image/jpeg").1.starts_with("inline"));
        assert_eq!(served_as("text/html").0, "application/octet-stream");
        assert!(served_as("text/html").1.starts_with("attachment"));
    }
}
