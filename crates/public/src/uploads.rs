//! Identity-document uploads: from the bytes of one uploaded file to an encrypted file in the
//! documents folder (or object in the bucket) and its row (type, size, wrapped data key) in the database.
//!
//! Decoding a photo takes memory in proportion to its pixels, so decodes share a budget
//! ([`DECODE_BUDGET_BYTES`]): each waits for its own estimate (from the dimensions in the
//! file's header, read without decoding) before it starts. However many uploads arrive at
//! once, the memory of the decodes in progress stays within the budget.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use madoguchi_documents::limits::MAX_FILE_BYTES;
use madoguchi_documents::spool::Spool;
use madoguchi_documents::{
    ContentType, DocumentKind, DocumentStore, Refusal, SealedDocument, StoreFileError, inspect,
    sanitize,
};
use madoguchi_store::{NewDocument, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::PublicError;

/// Memory the decodes in progress may take together: 768 MiB (one 40-megapixel progressive
/// JPEG takes about 360 MB at its peak; a 12-megapixel photo about 110 MB).
pub const DECODE_BUDGET_BYTES: u64 = 768 * 1024 * 1024;

/// The largest multipart body of the upload step: three files at the size limit, and room to
/// read past one that is over it, so that its refusal can name it (the bytes past a file's
/// limit are read and dropped, never kept).
pub const MAX_UPLOAD_BODY_BYTES: usize = 4 * MAX_FILE_BYTES + 64 * 1024;

const MIB: u64 = 1024 * 1024;

/// Upload forms read at once by this process (each spools to disk: a few KiB of memory).
pub const UPLOADS_AT_ONCE: usize = 32;
/// Upload forms one client address may send at once.
pub const UPLOADS_PER_CLIENT: u32 = 2;
/// Uploaded files opened in memory at once for their checks (each up to the file limit).
pub const FILES_OPEN_AT_ONCE: usize = 2;

/// What a draft keeps of an accepted document: where it is, never what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub id: Uuid,
    pub content_type: String,
    /// Bytes of the sanitized document.
    pub size: u64,
}

/// The documents folder, the decode budget, and the upload slots.
pub struct IdentityDocuments {
    files: DocumentStore,
    decode_budget: Semaphore,
    uploads: Semaphore,
    per_client: Mutex<HashMap<IpAddr, u32>>,
    open_files: Semaphore,
}

/// An upload form being read: a slot of the process and of its client, until dropped.
pub struct UploadSlot<'a> {
    _process: SemaphorePermit<'a>,
    documents: &'a IdentityDocuments,
    client: IpAddr,
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        let mut clients = self
            .documents
            .per_client
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = clients.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                clients.remove(&self.client);
            }
        }
    }
}

impl IdentityDocuments {
    pub fn new(files: DocumentStore) -> IdentityDocuments {
        IdentityDocuments {
            files,
            decode_budget: Semaphore::new((DECODE_BUDGET_BYTES / MIB) as usize),
            uploads: Semaphore::new(UPLOADS_AT_ONCE),
            per_client: Mutex::default(),
            open_files: Semaphore::new(FILES_OPEN_AT_ONCE),
        }
    }

    /// A slot to read one upload form from `client` — before any of its body is read: 429
    /// when the client has [`UPLOADS_PER_CLIENT`] in progress, 503 when the process has
    /// [`UPLOADS_AT_ONCE`].
    pub fn enter(&self, client: IpAddr) -> Result<UploadSlot<'_>, PublicError> {
        let client = crate::limits::client_key(client);
        let permit = self.uploads.try_acquire().map_err(|_| PublicError::Busy)?;
        let mut clients = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        let n = clients.entry(client).or_insert(0);
        if *n >= UPLOADS_PER_CLIENT {
            return Err(PublicError::RateLimited {
                retry_after_seconds: 5,
            });
        }
        *n += 1;
        Ok(UploadSlot {
            _process: permit,
            documents: self,
            client,
        })
    }

    /// [`IdentityDocuments::accept`] of a spooled upload, opened in memory only when its turn
    /// comes ([`FILES_OPEN_AT_ONCE`]).
    pub async fn accept_spooled(
        &self,
        store: &madoguchi_store::Store,
        draft_id: Uuid,
        kind: DocumentKind,
        spool: Spool,
    ) -> Result<Result<DocumentRef, Refusal>, PublicError> {
        let _turn = self
            .open_files
            .acquire()
            .await
            .map_err(|_| PublicError::Internal("upload turns closed".to_owned()))?;
        let upload = spool
            .read_all()
            .await
            .map_err(|e| PublicError::Internal(format!("upload spool: {e}")))?;
        self.accept(store, draft_id, kind, upload).await
    }

    /// Checks, cleans, encrypts and stores one upload for the draft `draft_id`, replacing
    /// the draft's earlier document of `kind`. `Ok(Err(_))` is a refusal the applicant can
    /// fix; `Err(_)` is ours.
    pub async fn accept(
        &self,
        store: &madoguchi_store::Store,
        draft_id: Uuid,
        kind: DocumentKind,
        upload: Zeroizing<Vec<u8>>,
    ) -> Result<Result<DocumentRef, Refusal>, PublicError> {
        // Cheap checks first, before waiting for a share of the budget.
        let inspection = match inspect(&upload) {
            Ok(inspection) => inspection,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let budget_mib = DECODE_BUDGET_BYTES / MIB;
        let cost_mib = inspection
            .decode_cost_bytes()
            .div_ceil(MIB)
            .clamp(1, budget_mib);
        let _permit = self
            .decode_budget
            .acquire_many(u32::try_from(cost_mib).unwrap_or(u32::MAX))
            .await
            .map_err(|_| PublicError::Internal("decode budget closed".to_owned()))?;
        let files = self.files.clone();
        let id = Uuid::now_v7();
        // Sanitized and encrypted on a blocking thread: only ciphertext leaves it.
        let done = tokio::task::spawn_blocking(move || {
            let document = match sanitize(&upload) {
                Ok(document) => document,
                Err(refusal) => return Ok(Err(refusal)),
            };
            drop(upload);
            let sealed = files.seal(&id, &document)?;
            Ok(Ok((document.content_type, document.bytes.len(), sealed)))
        })
        .await
        .map_err(|e| PublicError::Internal(format!("document task: {e}")))?;
        let store_error = |e: StoreFileError| PublicError::Internal(format!("document store: {e}"));
        let (content_type, size, sealed): (ContentType, usize, SealedDocument) =
            match done.map_err(store_error)? {
                Ok(accepted) => accepted,
                Err(refusal) => return Ok(Err(refusal)),
            };
        // The document first, its row and key after: a failure or a crash in between leaves
        // an object without a key (unreadable, swept after an hour), never a row without its
        // document (see `madoguchi_documents::store`).
        let stored = self.files.write(sealed).await.map_err(|e| match e {
            // The bucket's error names it and the fix, for the operator's log.
            e @ StoreFileError::S3 { .. } => PublicError::StorageUnavailable(e.to_string()),
            e => store_error(e),
        })?;
        let row = NewDocument {
            id,
            draft_id,
            kind: kind.as_str().to_owned(),
            content_type: content_type.mime().to_owned(),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            key_id: stored.key_id,
            wrapped_key: stored.wrapped_key,
            created_at: OffsetDateTime::now_utc(),
        };
        match store.insert_document(&row, OffsetDateTime::now_utc()).await {
            Ok(replaced) => {
                self.delete(replaced).await;
                Ok(Ok(DocumentRef {
                    id,
                    content_type: row.content_type,
                    size: size as u64,
                }))
            }
            Err(e) => {
                self.delete(vec![id]).await;
                Err(match e {
                    StoreError::DraftGone => PublicError::SessionExpired,
                    other => other.into(),
                })
            }
        }
    }

    /// Deletes the files of documents whose rows and keys are gone. A file that cannot be
    /// deleted is unreadable already (its key is gone) and is swept later.
    pub async fn delete(&self, ids: Vec<Uuid>) {
        if ids.is_empty() {
            return;
        }
        for id in &ids {
            if let Err(e) = self.files.delete(id).await {
                tracing::warn!(error = %e, "a document was not deleted (swept later)");
            }
        }
    }
}

/// `Arc` so that the state stays cheap to clone.
pub type SharedDocuments = Arc<IdentityDocuments>;
