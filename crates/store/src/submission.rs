//! Submitting an application: one transaction that stores the record, its encrypted personal
//! fields, its wrapped data key, its sealed secrets and the confirmation e-mail, and consumes
//! the draft it came from.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{Inner, with_db};
use crate::{OutboxRow, Store, StoreError};

/// A sealed secret ready to store (bytes in the `madoguchi-seal` format).
#[derive(Debug, Clone)]
pub struct SealedSecretRow {
    pub kind: String,
    pub key_id: String,
    pub sealed: Vec<u8>,
}

/// A record's personal fields (`madoguchi-seal` `EncryptedFields` bytes) and the data key that
/// encrypts them, wrapped to the back office's key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EncryptedRecord {
    pub fields: Vec<u8>,
    pub key_id: String,
    pub wrapped: Vec<u8>,
}

/// Everything a submission stores. Only ciphertext and operational values.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub id: Uuid,
    pub receipt_number: String,
    pub product: String,
    pub branch_code: String,
    pub email_index: Vec<u8>,
    /// The id of the blind-index key that computed `email_index`.
    pub email_index_key: String,
    pub personal_fields: Vec<u8>,
    pub data_key_id: String,
    pub wrapped_data_key: Vec<u8>,
    pub secrets: Vec<SealedSecretRow>,
    pub submitted_at: OffsetDateTime,
}

/// Stores one submission with `$tx` (an open write transaction of database `$db`); evaluates
/// to its `Result`. [`StoreError::DraftGone`] leaves the transaction as it was.
macro_rules! insert_submission {
    ($db:ty, $tx:ident, $session_id:expr, $application:expr, $confirmation:expr) => {
        async {
            type Db = $db;
            let at = $crate::db_time($application.submitted_at);
        let consumed = sqlx::query::<Db>(
            "DELETE FROM drafts WHERE session_id = $1 AND application_id = $2 AND expires_at > $3",
        )
        .bind($session_id)
        .bind($application.id)
        .bind(at)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if consumed == 0 {
            return Err(StoreError::DraftGone);
        }
        sqlx::query::<Db>(
            "INSERT INTO applications (id, receipt_number, product, status, branch_code, \
             email_index, email_index_key, submitted_at, updated_at) \
             VALUES ($1, $2, $3, 'submitted', $4, $5, $6, $7, $7)",
        )
        .bind($application.id)
        .bind(&$application.receipt_number)
        .bind(&$application.product)
        .bind(&$application.branch_code)
        .bind(&$application.email_index)
        .bind(&$application.email_index_key)
        .bind(at)
        .execute(&mut *$tx)
        .await?;
        sqlx::query::<Db>(
            "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind($application.id)
        .bind(&$application.data_key_id)
        .bind(&$application.wrapped_data_key)
        .bind(at)
        .execute(&mut *$tx)
        .await?;
        sqlx::query::<Db>(
            "INSERT INTO application_personal (application_id, fields) VALUES ($1, $2)",
        )
        .bind($application.id)
        .bind(&$application.personal_fields)
        .execute(&mut *$tx)
        .await?;
        // Identity documents uploaded in the draft become the application's.
        sqlx::query::<Db>(
            "UPDATE documents SET application_id = $1 WHERE draft_id = $1 AND application_id IS NULL",
        )
        .bind($application.id)
        .execute(&mut *$tx)
        .await?;
        for secret in &$application.secrets {
            sqlx::query::<Db>(
                "INSERT INTO application_secrets (application_id, kind, key_id, sealed) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind($application.id)
            .bind(&secret.kind)
            .bind(&secret.key_id)
            .bind(&secret.sealed)
            .execute(&mut *$tx)
            .await?;
        }
            $crate::outbox::insert_outbox!(Db, &mut *$tx, $confirmation)?;
            Ok::<(), StoreError>(())
        }
        .await
    };
}
pub(crate) use insert_submission;

impl Store {
    /// Stores `application` and queues `confirmation`, consuming the draft of `session_id`.
    ///
    /// Fails with [`StoreError::DraftGone`] (and changes nothing) when the draft was already
    /// submitted or has expired: a double submit cannot create two applications.
    pub async fn submit_application(
        &self,
        session_id: &[u8],
        application: &NewApplication,
        confirmation: &OutboxRow,
    ) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite { submissions, .. } => {
                submissions
                    .submit(
                        session_id.to_vec(),
                        application.clone(),
                        confirmation.clone(),
                    )
                    .await?;
                self.ring_outbox();
                Ok(())
            }
            Inner::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                insert_submission!(sqlx::Postgres, tx, session_id, application, confirmation)?;
                tx.commit().await?;
                self.ring_outbox();
                Ok(())
            }
        }
    }

    /// Whether a receipt number is already taken (receipt numbers are random; a collision is
    /// retried by the caller with a new number).
    pub async fn receipt_number_taken(&self, receipt_number: &str) -> Result<bool, StoreError> {
        with_db!(self, read, Db, pool => {
            let n = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM applications WHERE receipt_number = $1",
            )
            .bind(receipt_number)
            .fetch_one(pool)
            .await?;
            Ok(n > 0)
        })
    }

    /// The sealed secrets of an application, as stored (for the core-banking hand-off and for
    /// tests that prove only the core key opens them).
    pub async fn sealed_secrets(
        &self,
        application_id: Uuid,
    ) -> Result<Vec<SealedSecretRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            let rows = sqlx::query_as::<Db, (String, String, Vec<u8>)>(
                "SELECT kind, key_id, sealed FROM application_secrets WHERE application_id = $1 ORDER BY kind",
            )
            .bind(application_id)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(kind, key_id, sealed)| SealedSecretRow { kind, key_id, sealed })
                .collect())
        })
    }

    /// An application's encrypted personal fields and its wrapped data key, as stored. Only
    /// the back office's keyring can open them; the public site never calls this.
    pub async fn encrypted_personal_record(
        &self,
        application_id: Uuid,
    ) -> Result<Option<EncryptedRecord>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, EncryptedRecord>(
                "SELECT p.fields, k.key_id, k.wrapped FROM application_personal p \
                 JOIN data_keys k ON k.record_id = p.application_id WHERE p.application_id = $1",
            )
            .bind(application_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The id of the application with this receipt number, if any.
    pub async fn application_id_by_receipt(
        &self,
        receipt_number: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, Uuid>("SELECT id FROM applications WHERE receipt_number = $1")
                .bind(receipt_number)
                .fetch_optional(pool)
                .await?)
        })
    }
}
