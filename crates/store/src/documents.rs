//! Identity documents: one row per encrypted file of the documents folder (type, size, which
//! upload, whose) and its data key in `data_keys` (record id = document id), wrapped to the
//! back office. The files themselves are the caller's (`madoguchi-documents`); every function
//! that deletes rows returns the ids whose files the caller must delete.
//!
//! A document belongs to a live draft (`draft_id` = the draft's application id) until the
//! application is submitted: the submission's transaction sets `application_id`
//! (`submission.rs`). Unsubmitted documents whose draft was discarded or expired are deleted,
//! data key first, by [`Store::purge_orphan_documents`].

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

/// A document just written to the documents folder.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: Uuid,
    /// The application id of the draft it was uploaded in.
    pub draft_id: Uuid,
    /// `front`, `back` or `selfie`.
    pub kind: String,
    /// `image/jpeg`, `image/png` or `application/pdf`.
    pub content_type: String,
    /// Size of the sanitized document (before encryption).
    pub size_bytes: i64,
    /// The id of the back-office key its data key is wrapped to.
    pub key_id: String,
    /// Its data key, wrapped (`madoguchi-seal` `WrappedKey` bytes).
    pub wrapped_key: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// What the database knows of a document: nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: Uuid,
    pub draft_id: Uuid,
    pub application_id: Option<Uuid>,
    pub kind: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: OffsetDateTime,
}

/// A document's data key, wrapped to the back office's key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentKey {
    pub key_id: String,
    pub wrapped: Vec<u8>,
}

impl Store {
    /// Stores a document uploaded in the live draft `document.draft_id`, with its data key,
    /// replacing (row and key) the draft's earlier document of the same kind, in one
    /// transaction. Returns the ids replaced: their files are the caller's to delete.
    ///
    /// Fails with [`StoreError::DraftGone`] (and stores nothing) when the draft expired, was
    /// discarded or was submitted.
    pub async fn insert_document(
        &self,
        document: &NewDocument,
        now: OffsetDateTime,
    ) -> Result<Vec<Uuid>, StoreError> {
        with_write_tx!(self, Db, tx => {
            let live = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM drafts WHERE application_id = $1 AND expires_at > $2",
            )
            .bind(document.draft_id)
            .bind(db_time(now))
            .fetch_one(&mut *tx)
            .await?;
            if live == 0 {
                return Err(StoreError::DraftGone);
            }
            let replaced = sqlx::query_scalar::<Db, Uuid>(
                "SELECT id FROM documents WHERE draft_id = $1 AND kind = $2 \
                 AND application_id IS NULL",
            )
            .bind(document.draft_id)
            .bind(&document.kind)
            .fetch_all(&mut *tx)
            .await?;
            for id in &replaced {
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM documents WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let at = db_time(document.created_at);
            sqlx::query::<Db>(
                "INSERT INTO documents (id, draft_id, application_id, kind, content_type, \
                 size_bytes, created_at) VALUES ($1, $2, NULL, $3, $4, $5, $6)",
            )
            .bind(document.id)
            .bind(document.draft_id)
            .bind(&document.kind)
            .bind(&document.content_type)
            .bind(document.size_bytes)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(document.id)
            .bind(&document.key_id)
            .bind(&document.wrapped_key)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(replaced)
        })
    }

    /// The documents uploaded in the draft `draft_id` and not yet submitted, by kind.
    pub async fn draft_documents(&self, draft_id: Uuid) -> Result<Vec<DocumentRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, DocumentRow>(
                "SELECT id, draft_id, application_id, kind, content_type, size_bytes, created_at \
                 FROM documents WHERE draft_id = $1 AND application_id IS NULL ORDER BY kind",
            )
            .bind(draft_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The documents of a submitted application, by kind.
    pub async fn application_documents(
        &self,
        application_id: Uuid,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, DocumentRow>(
                "SELECT id, draft_id, application_id, kind, content_type, size_bytes, created_at \
                 FROM documents WHERE application_id = $1 ORDER BY kind",
            )
            .bind(application_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// A document's wrapped data key (its ciphertext is the file). Only the back office's
    /// keyring can unwrap it; the public site never calls this.
    pub async fn document_key(&self, id: Uuid) -> Result<Option<DocumentKey>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, DocumentKey>(
                "SELECT k.key_id, k.wrapped FROM documents d \
                 JOIN data_keys k ON k.record_id = d.id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Deletes the unsubmitted documents of the draft `draft_id` and their data keys (the
    /// applicant started over, or the image method is no longer offered). Returns their ids.
    pub async fn discard_draft_documents(&self, draft_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        with_write_tx!(self, Db, tx => {
            let ids = sqlx::query_scalar::<Db, Uuid>(
                "SELECT id FROM documents WHERE draft_id = $1 AND application_id IS NULL",
            )
            .bind(draft_id)
            .fetch_all(&mut *tx)
            .await?;
            for id in &ids {
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM documents WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Deletes the unsubmitted documents whose draft is gone or expired, data key and row,
    /// in one transaction; returns their ids (at most 1,000 per call: call again while it
    /// returns that many). Their files are the caller's to delete; without their keys they
    /// are unreadable already.
    pub async fn purge_orphan_documents(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<Uuid>, StoreError> {
        with_write_tx!(self, Db, tx => {
            let ids = sqlx::query_scalar::<Db, Uuid>(
                "SELECT d.id FROM documents d WHERE d.application_id IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM drafts r WHERE r.application_id = d.draft_id AND r.expires_at > $1) \
                 ORDER BY d.created_at LIMIT 1000",
            )
            .bind(db_time(now))
            .fetch_all(&mut *tx)
            .await?;
            for id in &ids {
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM documents WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// The ids of every document row (to find files of the folder that have none: left by
    /// a write whose row was never stored). One id is 16 bytes: a million documents are 16 MB.
    pub async fn document_ids(&self) -> Result<Vec<Uuid>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, Uuid>("SELECT id FROM documents")
                .fetch_all(pool)
                .await?)
        })
    }
}
