//! Retention (SPEC §5, §6): which records have outlived the profile's periods, and their
//! deletion. Personal data goes by deleting the record's data key with its ciphertext
//! (crypto-shredding: backups hold nothing readable after the key is gone); the operational
//! row (status, product, branch, dates) stays.
//!
//! Each deleting function takes at most 1,000 records per call and returns what it deleted;
//! call again while it returns that many. The matching `*_due` functions list the same
//! records without deleting (for `purge --dry-run`).

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::handoff::delete_application_documents;
use crate::{Store, StoreError, db_time};

/// The most records one call deletes.
pub const RETENTION_BATCH: usize = 1000;

/// An application whose personal data is due for deletion: identifiers only.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ShredCandidate {
    pub id: Uuid,
    pub receipt_number: String,
    pub status: String,
}

/// What one call of [`Store::shred_applications`] deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShredOutcome {
    /// The applications shredded (personal fields, data key, secrets, notes, documents).
    pub applications: Vec<ShredCandidate>,
    /// Their documents, whose files the caller deletes (rows and keys are gone).
    pub documents: Vec<Uuid>,
}

/// Whose personal data is due: rejected, withdrawn or expired applications last changed
/// before `ended_before`, completed ones before `completed_before`; only those that still
/// hold personal data (a data key).
const DUE_APPLICATIONS: &str = "SELECT a.id, a.receipt_number, a.status FROM applications a \
     WHERE ((a.status IN ('rejected', 'withdrawn', 'expired') AND a.updated_at < $1) \
        OR (a.status = 'completed' AND a.updated_at < $2)) \
       AND EXISTS (SELECT 1 FROM data_keys k WHERE k.record_id = a.id) \
     ORDER BY a.updated_at, a.id LIMIT $3";

/// Documents of applications that left review (decided, handed off, ended) before `$1`.
const DUE_DOCUMENTS: &str = "SELECT d.id FROM documents d JOIN applications a ON a.id = d.application_id \
     WHERE a.status NOT IN ('submitted', 'in-review', 'more-information-needed') \
       AND a.updated_at < $1 ORDER BY d.created_at, d.id LIMIT $2";

impl Store {
    /// Applications whose personal data is due (see [`Store::shred_applications`]).
    pub async fn applications_due(
        &self,
        ended_before: OffsetDateTime,
        completed_before: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<ShredCandidate>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, ShredCandidate>(DUE_APPLICATIONS)
                .bind(db_time(ended_before))
                .bind(db_time(completed_before))
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Deletes the personal data of rejected, withdrawn and expired applications last
    /// changed before `ended_before`, and of completed ones before `completed_before`: in one
    /// transaction per call, their personal fields and data key, sealed secrets, staff notes
    /// (and their keys), identity documents (keys and rows) and the e-mail blind index.
    pub async fn shred_applications(
        &self,
        ended_before: OffsetDateTime,
        completed_before: OffsetDateTime,
    ) -> Result<ShredOutcome, StoreError> {
        with_write_tx!(self, Db, tx => {
            let due = sqlx::query_as::<Db, ShredCandidate>(DUE_APPLICATIONS)
                .bind(db_time(ended_before))
                .bind(db_time(completed_before))
                .bind(RETENTION_BATCH as i64)
                .fetch_all(&mut *tx)
                .await?;
            let mut documents = Vec::new();
            for app in &due {
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(app.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM application_personal WHERE application_id = $1")
                    .bind(app.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM application_secrets WHERE application_id = $1")
                    .bind(app.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>(
                    "DELETE FROM data_keys WHERE record_id IN \
                     (SELECT id FROM application_notes WHERE application_id = $1)",
                )
                .bind(app.id)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<Db>("DELETE FROM application_notes WHERE application_id = $1")
                    .bind(app.id)
                    .execute(&mut *tx)
                    .await?;
                // The blind index links the row to an e-mail address: it goes too.
                sqlx::query::<Db>("UPDATE applications SET email_index = $1 WHERE id = $2")
                    .bind(Vec::<u8>::new())
                    .bind(app.id)
                    .execute(&mut *tx)
                    .await?;
                documents.extend(delete_application_documents!(Db, tx, app.id)?);
            }
            tx.commit().await?;
            Ok(ShredOutcome {
                applications: due,
                documents,
            })
        })
    }

    /// Identity documents due for deletion (see [`Store::purge_decided_documents`]).
    pub async fn documents_due(
        &self,
        decided_before: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, Uuid>(DUE_DOCUMENTS)
                .bind(db_time(decided_before))
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Deletes (data key, then row) the identity documents of applications that left review
    /// before `decided_before`: verification is done. Returns their ids: the files are the
    /// caller's to delete.
    pub async fn purge_decided_documents(
        &self,
        decided_before: OffsetDateTime,
    ) -> Result<Vec<Uuid>, StoreError> {
        with_write_tx!(self, Db, tx => {
            let ids = sqlx::query_scalar::<Db, Uuid>(DUE_DOCUMENTS)
                .bind(db_time(decided_before))
                .bind(RETENTION_BATCH as i64)
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

    /// Counts of what the draft purges would delete now: (e-mail checks, drafts, documents
    /// of discarded or expired drafts).
    pub async fn drafts_due(&self, now: OffsetDateTime) -> Result<(i64, i64, i64), StoreError> {
        with_db!(self, read, Db, pool => {
            let now = db_time(now);
            let checks = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM email_checks WHERE expires_at <= $1",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            let drafts = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM drafts WHERE expires_at <= $1",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            let documents = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM documents d WHERE d.application_id IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM drafts r WHERE r.application_id = d.draft_id AND r.expires_at > $1)",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            Ok((checks, drafts, documents))
        })
    }

    /// How many bookings' personal data [`Store::purge_bookings`] would delete now.
    pub async fn bookings_due(
        &self,
        cancelled_before: OffsetDateTime,
        visited_before: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM bookings WHERE purged_at IS NULL AND \
                 ((status = 'cancelled' AND cancelled_at < $1) OR starts_at < $2)",
            )
            .bind(db_time(cancelled_before))
            .bind(db_time(visited_before))
            .fetch_one(pool)
            .await?)
        })
    }
}
