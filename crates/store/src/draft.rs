//! Drafts: unfinished applications, encrypted with a key only the applicant's browser holds.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftRow {
    pub session_id: Vec<u8>,
    pub product: String,
    pub application_id: Uuid,
    pub body: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Ends the session's e-mail check and starts its draft, atomically: a verified code
    /// cannot be used twice.
    pub async fn start_draft(&self, draft: &DraftRow) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            let ended = sqlx::query::<Db>("DELETE FROM email_checks WHERE session_id = $1")
                .bind(&draft.session_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if ended == 0 {
                return Err(StoreError::DraftGone);
            }
            sqlx::query::<Db>("DELETE FROM drafts WHERE session_id = $1")
                .bind(&draft.session_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(
                "INSERT INTO drafts (session_id, product, application_id, body, created_at, \
                 updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&draft.session_id)
            .bind(&draft.product)
            .bind(draft.application_id)
            .bind(&draft.body)
            .bind(db_time(draft.created_at))
            .bind(db_time(draft.updated_at))
            .bind(db_time(draft.expires_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The session's live draft, if any.
    pub async fn draft(
        &self,
        session_id: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<DraftRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, DraftRow>(
                "SELECT session_id, product, application_id, body, created_at, updated_at, \
                 expires_at FROM drafts WHERE session_id = $1 AND expires_at > $2",
            )
            .bind(session_id)
            .bind(db_time(now))
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Replaces a live draft's body. Fails with [`StoreError::DraftGone`] if it expired.
    pub async fn update_draft(
        &self,
        session_id: &[u8],
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            let updated = sqlx::query::<Db>(
                "UPDATE drafts SET body = $1, updated_at = $2 \
                 WHERE session_id = $3 AND expires_at > $2",
            )
            .bind(body)
            .bind(db_time(now))
            .bind(session_id)
            .execute(pool)
            .await?
            .rows_affected();
            if updated == 0 { Err(StoreError::DraftGone) } else { Ok(()) }
        })
    }

    /// Deletes the session's draft and e-mail check (the applicant cancelled), with the
    /// draft's identity documents (rows and data keys); returns the documents' ids, whose
    /// files are the caller's to delete.
    pub async fn discard_draft(&self, session_id: &[u8]) -> Result<Vec<Uuid>, StoreError> {
        with_write_tx!(self, Db, tx => {
            let documents = sqlx::query_scalar::<Db, Uuid>(
                "SELECT d.id FROM documents d JOIN drafts r ON r.application_id = d.draft_id \
                 WHERE r.session_id = $1 AND d.application_id IS NULL",
            )
            .bind(session_id)
            .fetch_all(&mut *tx)
            .await?;
            for id in &documents {
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM documents WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query::<Db>("DELETE FROM drafts WHERE session_id = $1")
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>("DELETE FROM email_checks WHERE session_id = $1")
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(documents)
        })
    }
}
