//! Hand-off to core banking: the approved applications a batch takes, the batch's row and
//! the status changes, and the completion that deletes what core banking now holds.
//!
//! The batch file itself is the caller's (`madoguchi-office::handoff`); these rows hold
//! nothing personal. Every status change here is conditional on the status it expects, so
//! two exports, or an export and a withdrawal, cannot both take the same application.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

/// An approved application waiting for a batch: operational values only.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HandoffCandidate {
    pub id: Uuid,
    pub receipt_number: String,
    pub product: String,
    pub branch_code: String,
    pub submitted_at: OffsetDateTime,
}

/// A batch written to the hand-off folder.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HandoffBatchRow {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub count: i64,
    /// SHA-256 of the `.batch` file (hex).
    pub sha256: String,
    pub core_key_id: String,
    /// `staff:<uuid>` or `cli:handoff-export`.
    pub created_by: String,
}

/// What [`Store::record_handoff_batch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoffRecorded {
    /// Every application moved to handed-off, the batch row is stored.
    Recorded,
    /// This application is no longer approved (withdrawn meanwhile, or in another batch):
    /// nothing was stored.
    NotApproved(Uuid),
}

/// An application named in core banking's answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HandoffTarget {
    pub id: Uuid,
    pub status: String,
}

/// What completing or refusing an application changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoffAnswered {
    /// Done; the documents whose files the caller deletes (rows and keys are gone).
    Done { documents: Vec<Uuid> },
    /// The application was not handed-off (already answered): nothing changed.
    NotHandedOff,
}

/// Deletes a set of documents' keys and rows inside a transaction; evaluates to their ids.
macro_rules! delete_application_documents {
    ($db:ty, $tx:ident, $application_id:expr) => {
        async {
            let ids = sqlx::query_scalar::<$db, Uuid>(
                "SELECT id FROM documents WHERE application_id = $1",
            )
            .bind($application_id)
            .fetch_all(&mut *$tx)
            .await?;
            for id in &ids {
                sqlx::query::<$db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *$tx)
                    .await?;
                sqlx::query::<$db>("DELETE FROM documents WHERE id = $1")
                    .bind(id)
                    .execute(&mut *$tx)
                    .await?;
            }
            Ok::<Vec<Uuid>, StoreError>(ids)
        }
        .await
    };
}
pub(crate) use delete_application_documents;

/// Records a status change in the application's history.
macro_rules! insert_history {
    ($db:ty, $tx:ident, $application_id:expr, $at:expr, $actor:expr, $from:expr, $to:expr) => {
        sqlx::query::<$db>(
            "INSERT INTO application_history (id, application_id, at, actor, action, \
             from_status, to_status) VALUES ($1, $2, $3, $4, 'status', $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind($application_id)
        .bind($at)
        .bind($actor)
        .bind($from)
        .bind($to)
        .execute(&mut *$tx)
        .await
    };
}

impl Store {
    /// Every approved application, oldest first (the caller keeps those in its scope).
    pub async fn approved_for_handoff(&self) -> Result<Vec<HandoffCandidate>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, HandoffCandidate>(
                "SELECT id, receipt_number, product, branch_code, submitted_at \
                 FROM applications WHERE status = 'approved' ORDER BY submitted_at, id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// In one transaction: each application approved → handed-off (with its history row),
    /// the batch row, and which batch carried each application. Changes nothing and says
    /// which when one of them is no longer approved.
    pub async fn record_handoff_batch(
        &self,
        batch: &HandoffBatchRow,
        application_ids: &[Uuid],
    ) -> Result<HandoffRecorded, StoreError> {
        with_write_tx!(self, Db, tx => {
            let at = db_time(batch.created_at);
            sqlx::query::<Db>(
                "INSERT INTO handoff_batches (id, created_at, count, sha256, core_key_id, \
                 created_by) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(batch.id)
            .bind(at)
            .bind(batch.count)
            .bind(&batch.sha256)
            .bind(&batch.core_key_id)
            .bind(&batch.created_by)
            .execute(&mut *tx)
            .await?;
            for id in application_ids {
                let moved = sqlx::query::<Db>(
                    "UPDATE applications SET status = 'handed-off', updated_at = $1 \
                     WHERE id = $2 AND status = 'approved'",
                )
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 0 {
                    // Dropping the transaction rolls it back.
                    return Ok(HandoffRecorded::NotApproved(*id));
                }
                insert_history!(Db, tx, id, at, &batch.created_by, "approved", "handed-off")?;
                sqlx::query::<Db>(
                    "INSERT INTO handoff_items (application_id, batch_id) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(batch.id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(HandoffRecorded::Recorded)
        })
    }

    /// The most recent batches, newest first.
    pub async fn handoff_batches(&self, limit: i64) -> Result<Vec<HandoffBatchRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, HandoffBatchRow>(
                "SELECT id, created_at, count, sha256, core_key_id, created_by \
                 FROM handoff_batches ORDER BY created_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The branches of the applications a batch carried (distinct, sorted): what decides
    /// whose scope the batch is in.
    pub async fn handoff_batch_branches(&self, id: Uuid) -> Result<Vec<String>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, String>(
                "SELECT DISTINCT a.branch_code FROM handoff_items i \
                 JOIN applications a ON a.id = i.application_id \
                 WHERE i.batch_id = $1 ORDER BY a.branch_code",
            )
            .bind(id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// One batch's row.
    pub async fn handoff_batch(&self, id: Uuid) -> Result<Option<HandoffBatchRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, HandoffBatchRow>(
                "SELECT id, created_at, count, sha256, core_key_id, created_by \
                 FROM handoff_batches WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The application with this receipt number and its status, if any.
    pub async fn handoff_target(
        &self,
        receipt_number: &str,
    ) -> Result<Option<HandoffTarget>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, HandoffTarget>(
                "SELECT id, status FROM applications WHERE receipt_number = $1",
            )
            .bind(receipt_number)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Core banking opened the account. In one transaction: handed-off → completed, the
    /// personal fields replaced by `fields` under the new data key (`key_id`, `wrapped`: the
    /// record re-encrypted with the account number added), the sealed secrets deleted, the
    /// identity documents' keys and rows deleted (their ids returned: the files are the
    /// caller's to delete), and the answer noted.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_handoff(
        &self,
        application_id: Uuid,
        fields: &[u8],
        key_id: &str,
        wrapped: &[u8],
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<HandoffAnswered, StoreError> {
        with_write_tx!(self, Db, tx => {
            let at = db_time(now);
            let moved = sqlx::query::<Db>(
                "UPDATE applications SET status = 'completed', updated_at = $1 \
                 WHERE id = $2 AND status = 'handed-off'",
            )
            .bind(at)
            .bind(application_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(HandoffAnswered::NotHandedOff);
            }
            insert_history!(Db, tx, application_id, at, actor, "handed-off", "completed")?;
            sqlx::query::<Db>(
                "UPDATE application_personal SET fields = $1 WHERE application_id = $2",
            )
            .bind(fields)
            .bind(application_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "UPDATE data_keys SET key_id = $1, wrapped = $2, created_at = $3 \
                 WHERE record_id = $4",
            )
            .bind(key_id)
            .bind(wrapped)
            .bind(at)
            .bind(application_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>("DELETE FROM application_secrets WHERE application_id = $1")
                .bind(application_id)
                .execute(&mut *tx)
                .await?;
            let documents = delete_application_documents!(Db, tx, application_id)?;
            sqlx::query::<Db>(
                "UPDATE handoff_items SET outcome = 'opened', answered_at = $1 \
                 WHERE application_id = $2",
            )
            .bind(at)
            .bind(application_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(HandoffAnswered::Done { documents })
        })
    }

    /// Core banking refused to open the account. In one transaction: handed-off → rejected,
    /// the sealed secrets deleted (the application has ended), and the answer noted. The
    /// documents and personal fields follow the retention of rejected applications.
    pub async fn refuse_handoff(
        &self,
        application_id: Uuid,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<HandoffAnswered, StoreError> {
        with_write_tx!(self, Db, tx => {
            let at = db_time(now);
            let moved = sqlx::query::<Db>(
                "UPDATE applications SET status = 'rejected', updated_at = $1 \
                 WHERE id = $2 AND status = 'handed-off'",
            )
            .bind(at)
            .bind(application_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(HandoffAnswered::NotHandedOff);
            }
            insert_history!(Db, tx, application_id, at, actor, "handed-off", "rejected")?;
            sqlx::query::<Db>("DELETE FROM application_secrets WHERE application_id = $1")
                .bind(application_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(
                "UPDATE handoff_items SET outcome = 'refused', answered_at = $1 \
                 WHERE application_id = $2",
            )
            .bind(at)
            .bind(application_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(HandoffAnswered::Done {
                documents: Vec::new(),
            })
        })
    }
}
