//! The identity step (本人確認書類): the front and back of an identity document and a selfie,
//! uploaded as `multipart/form-data` (the only route of the site that takes files, with its
//! own body limit).
//!
//! Nothing of the body is read before the session's draft is found and the client has an
//! upload slot; the CSRF token must be the form's first field and is checked
//! before any file is read; each file is spooled to a sealed, unnamed temporary file.
//! Every file is read up to its size limit (bytes past it are dropped, so that the refusal
//! can still name the file), then checked by content, cleaned of its metadata, encrypted
//! with its own data key and stored at once (`uploads.rs`); the draft keeps only references.
//! A refused file is named, with the reason, next to its input; files accepted in the same
//! request are kept. Nothing of an upload is logged.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_documents::limits::{MAX_DIMENSION, MAX_FILE_BYTES, MAX_PIXELS};
use madoguchi_documents::spool::Spool;
use madoguchi_documents::{ContentType, DocumentKind, Refusal};

use super::FLOW;
use super::pages::date_in;
use super::steps::{Step, identity_offered, unfinished_before};
use crate::draft::{self, Draft};
use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::session::BrowserSession;
use crate::state::{Layout, PublicState};
use crate::uploads::DocumentRef;
use crate::view::{FieldMessage, FormView};

/// The file inputs, in form order, with the kind of document each carries.
pub const FIELDS: [(DocumentKind, &str); 3] = [
    (DocumentKind::Front, "document_front"),
    (DocumentKind::Back, "document_back"),
    (DocumentKind::Selfie, "selfie"),
];

/// The pseudo-field of errors that concern the whole upload (the body was too large).
const ALL_FILES: &str = "documents";

/// Refused before any file is processed: the body went past its limit.
const BODY_TOO_LARGE: &str = "documents-too-large";
/// No file for a kind that has none yet.
const REQUIRED: &str = "document-required";

struct Slot {
    field: &'static str,
    label: String,
    hint: String,
    /// What was accepted earlier, as the applicant reads it.
    accepted: Option<String>,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "savings/identity.html")]
struct IdentityPage {
    layout: Arc<Layout>,
    form: FormView,
    slots: Vec<Slot>,
    offered: bool,
    until: String,
    max_megabytes: usize,
    /// Pixels in units of 万 (10,000), as Japanese counts them: 4000万画素.
    max_man_pixels: u64,
    max_dimension: u32,
}

fn hint(state: &PublicState, kind: DocumentKind) -> String {
    let key = match kind {
        DocumentKind::Front => "identity.hint-front",
        DocumentKind::Back => "identity.hint-back",
        DocumentKind::Selfie => "identity.hint-selfie",
    };
    state.catalog().t(key).to_owned()
}

/// `受付済み：JPEG画像（1.2 MB）` · `Received: JPEG image (1.2 MB)`.
fn accepted_label(state: &PublicState, document: &DocumentRef) -> String {
    let kind = match ContentType::from_mime(&document.content_type) {
        Some(ContentType::Jpeg) => "jpeg",
        Some(ContentType::Png) => "png",
        Some(ContentType::Pdf) => "pdf",
        None => "file",
    };
    let catalog = state.catalog();
    catalog
        .tr("identity.accepted")
        .arg("kind", catalog.choice("document_type", kind))
        .arg("size", size_label(document.size))
        .to_string()
}

fn size_label(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn page(state: &PublicState, draft: &Draft, form: FormView, status: StatusCode) -> Response {
    let slots = FIELDS
        .iter()
        .map(|(kind, field)| Slot {
            field,
            label: state.catalog().label(field).to_owned(),
            hint: hint(state, *kind),
            accepted: draft
                .body
                .documents
                .get(kind.as_str())
                .map(|document| accepted_label(state, document)),
            error: form.error(field).map(str::to_owned),
        })
        .collect();
    let page = IdentityPage {
        layout: state.layout(),
        form,
        slots,
        offered: identity_offered(state),
        until: date_in(
            state,
            state.profile.applications().identity_image_method_until(),
        ),
        max_megabytes: MAX_FILE_BYTES / (1024 * 1024),
        max_man_pixels: MAX_PIXELS / 10_000,
        max_dimension: MAX_DIMENSION,
    };
    (status, page).into_response()
}

pub async fn show(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
) -> Result<Response, PublicError> {
    let Some(draft) = draft::load(&state, &session, FLOW.product.as_str()).await? else {
        return Ok(Redirect::to(&FLOW.start_path()).into_response());
    };
    if let Some(earlier) = unfinished_before(&draft.body, Step::Identity, identity_offered(&state))
    {
        return Ok(Redirect::to(&FLOW.path(earlier)).into_response());
    }
    let form = FormView::new(session.csrf_token(&state));
    Ok(page(&state, &draft, form, StatusCode::OK))
}

/// One file of the form, read within its limit.
struct Upload {
    kind: DocumentKind,
    field: &'static str,
    /// The name the browser sent, cleaned for display (never logged, never stored).
    name: String,
    /// Spooled to an unnamed, sealed temporary file (`madoguchi_documents::spool`).
    bytes: Result<Spool, Refusal>,
}

/// Why the form could not be read.
enum Unreadable {
    /// Past the route's body limit: no file is processed.
    TooLarge,
    Public(PublicError),
}

impl From<PublicError> for Unreadable {
    fn from(e: PublicError) -> Self {
        Unreadable::Public(e)
    }
}

fn spool_error(e: madoguchi_documents::spool::SpoolError) -> Unreadable {
    Unreadable::Public(PublicError::Internal(format!("upload spool: {e}")))
}

fn unreadable(e: MultipartError) -> Unreadable {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Unreadable::TooLarge
    } else {
        Unreadable::Public(PublicError::UnsupportedMediaType)
    }
}

/// The file name as the applicant chose it: no folders, no control or direction-changing
/// characters, at most 60 characters.
fn display_name(raw: Option<&str>, unnamed: &str) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .take(60)
        .collect();
    if clean.trim().is_empty() {
        unnamed.to_owned()
    } else {
        clean
    }
}

/// Reads the whole form: the CSRF token first (checked before anything else is read), then
/// the files. Unknown fields are read and dropped; a second file for the same input is ignored.
async fn read_form(
    state: &PublicState,
    session: &BrowserSession,
    multipart: &mut Multipart,
) -> Result<Vec<Upload>, Unreadable> {
    let mut csrf_checked = false;
    let mut uploads: Vec<Upload> = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if !csrf_checked {
            if name != "csrf" {
                return Err(PublicError::Csrf.into());
            }
            let mut token = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                if token.len() + chunk.len() > 512 {
                    return Err(PublicError::Csrf.into());
                }
                token.extend_from_slice(&chunk);
            }
            let mut form = FormData::default();
            form.insert("csrf", String::from_utf8(token).unwrap_or_default());
            session.check_csrf(state, &form)?;
            csrf_checked = true;
            continue;
        }
        let wanted = FIELDS
            .iter()
            .find(|(_, f)| *f == name)
            .filter(|(kind, _)| !uploads.iter().any(|u| u.kind == *kind));
        let file_name = field.file_name().map(str::to_owned);
        let Some((kind, field_name)) = wanted else {
            // Read and dropped.
            while field.chunk().await.map_err(unreadable)?.is_some() {}
            continue;
        };
        let mut bytes = Spool::new(MAX_FILE_BYTES as u64).map_err(spool_error)?;
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            bytes.push(&chunk).await.map_err(spool_error)?;
        }
        let too_large = bytes.is_over();
        // An input left empty: browsers send a part with no name and no bytes.
        if !too_large && bytes.is_empty() && file_name.as_deref().unwrap_or_default().is_empty() {
            continue;
        }
        uploads.push(Upload {
            kind: *kind,
            field: field_name,
            name: display_name(
                file_name.as_deref(),
                state.catalog().t("identity.unnamed-file"),
            ),
            bytes: if too_large {
                Err(Refusal::TooLarge)
            } else {
                Ok(bytes)
            },
        });
    }
    if !csrf_checked {
        return Err(PublicError::Csrf.into());
    }
    Ok(uploads)
}

fn refusal_message(state: &PublicState, field: &str, code: &str, file: &str) -> FieldMessage {
    FieldMessage {
        field: field.to_owned(),
        message: state.catalog().message(field, code).replace("{file}", file),
    }
}

pub async fn accept(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PublicError> {
    state.limits.check(Action::Submission, client.ip())?;
    let mut multipart = multipart.map_err(|_| PublicError::UnsupportedMediaType)?;
    // Nothing of the body is read before the session has a draft and the client a slot; then
    // the CSRF token (the form's first field) before any file.
    let Some(mut draft) = draft::load(&state, &session, FLOW.product.as_str()).await? else {
        return Err(PublicError::SessionExpired);
    };
    let _slot = state.documents.enter(client.ip())?;
    let read = read_form(&state, &session, &mut multipart).await;
    drop(multipart);
    let uploads = match read {
        Ok(uploads) => Ok(uploads),
        Err(Unreadable::Public(e)) => return Err(e),
        Err(Unreadable::TooLarge) => Err(()),
    };
    let offered = identity_offered(&state);
    if !offered {
        return Ok(Redirect::to(&FLOW.path(Step::Branch.name())).into_response());
    }
    if let Some(earlier) = unfinished_before(&draft.body, Step::Identity, offered) {
        return Ok(Redirect::to(&FLOW.path(earlier)).into_response());
    }
    let mut form = FormView::new(session.csrf_token(&state));
    let Ok(uploads) = uploads else {
        form.errors
            .push(refusal_message(&state, ALL_FILES, BODY_TOO_LARGE, ""));
        return Ok(page(&state, &draft, form, StatusCode::PAYLOAD_TOO_LARGE));
    };

    let mut accepted_any = false;
    for upload in uploads {
        let outcome = match upload.bytes {
            Err(refusal) => Err(refusal),
            Ok(spool) => {
                state
                    .documents
                    .accept_spooled(&state.store, draft.application_id, upload.kind, spool)
                    .await?
            }
        };
        match outcome {
            Ok(document) => {
                tracing::info!(kind = upload.kind.as_str(), content_type = %document.content_type, "identity document stored");
                draft
                    .body
                    .documents
                    .insert(upload.kind.as_str().to_owned(), document);
                accepted_any = true;
            }
            Err(refusal) => {
                tracing::info!(
                    kind = upload.kind.as_str(),
                    reason = refusal.code(),
                    "identity document refused"
                );
                form.errors.push(refusal_message(
                    &state,
                    upload.field,
                    refusal.code(),
                    &upload.name,
                ));
            }
        }
    }
    if accepted_any {
        draft::save(&state, &session, &draft).await?;
    }
    for (kind, field) in FIELDS {
        let refused = form.errors.iter().any(|e| e.field == field);
        if !refused && !draft.body.documents.contains_key(kind.as_str()) {
            form.errors
                .push(refusal_message(&state, field, REQUIRED, ""));
        }
    }
    if form.has_errors() {
        // In form order, like every other step.
        form.errors
            .sort_by_key(|e| FIELDS.iter().position(|(_, f)| *f == e.field));
        return Ok(page(&state, &draft, form, StatusCode::UNPROCESSABLE_ENTITY));
    }
    Ok(Redirect::to(&FLOW.path(Step::Identity.next(offered))).into_response())
}

/// Before submission: the draft's documents are those stored for it. When the image method
/// has ended meanwhile, the draft's documents are deleted (files, rows and keys) and the
/// application goes ahead without them. `false`: the identity step must be done again.
pub async fn ready_for_submission(state: &PublicState, draft: &Draft) -> Result<bool, PublicError> {
    if !identity_offered(state) {
        let discarded = state
            .store
            .discard_draft_documents(draft.application_id)
            .await?;
        state.documents.delete(discarded).await;
        return Ok(true);
    }
    let stored = state.store.draft_documents(draft.application_id).await?;
    Ok(DocumentKind::ALL.iter().all(|kind| {
        draft.body.documents.get(kind.as_str()).is_some_and(|held| {
            stored
                .iter()
                .any(|row| row.id == held.id && row.kind == kind.as_str())
        })
    }))
}

/// The rows of the confirmation page: each document as accepted, or why there are none.
pub fn confirmation_rows(state: &PublicState, draft: &Draft) -> Vec<(String, String)> {
    if !identity_offered(state) {
        let until = date_in(
            state,
            state.profile.applications().identity_image_method_until(),
        );
        let catalog = state.catalog();
        return vec![(
            catalog.t("identity.method").to_owned(),
            catalog
                .tr("identity.method-ended")
                .arg("until", until)
                .to_string(),
        )];
    }
    FIELDS
        .iter()
        .map(|(kind, field)| {
            let value = draft
                .body
                .documents
                .get(kind.as_str())
                .map(|document| accepted_label(state, document))
                .unwrap_or_else(|| state.catalog().t("identity.not-sent").to_owned());
            (state.catalog().label(field).to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_message_naming_the_field_and_the_file() {
        let catalog = crate::messages::Catalog::japanese().expect("catalogue");
        for refusal in Refusal::ALL {
            let message = catalog
                .message("document_front", refusal.code())
                .replace("{file}", "license.jpg");
            assert!(
                message.contains("本人確認書類（おもて）") && message.contains("license.jpg"),
                "{}: {message}",
                refusal.code()
            );
        }
        for code in [REQUIRED, BODY_TOO_LARGE] {
            let message = catalog.message("selfie", code);
            assert_ne!(message, catalog.message("selfie", "no-such-code"), "{code}");
        }
    }

    #[test]
    fn file_names_are_shown_without_folders_or_tricks() {
        assert_eq!(
            display_name(Some("C:\\Users\\taro\\免許証.jpg"), "名前のないファイル"),
            "免許証.jpg"
        );
        assert_eq!(
            display_name(Some("/home/taro/a.png"), "名前のないファイル"),
            "a.png"
        );
        assert_eq!(
            display_name(Some("photo\u{202E}gpj.exe"), "名前のないファイル"),
            "photogpj.exe"
        );
        assert_eq!(display_name(Some("a\nb"), "名前のないファイル"), "ab");
        assert_eq!(
            display_name(None, "名前のないファイル"),
            "名前のないファイル"
        );
        assert_eq!(
            display_name(Some(&"x".repeat(500)), "-").chars().count(),
            60
        );
    }
}
