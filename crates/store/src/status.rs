//! The status check: an applicant asks where their application stands with its receipt
//! number and a fresh e-mail check. Only operational columns are read (product, status, time
//! of the last change); the look-up matches the receipt number and the e-mail's blind index
//! together, so it never says whether a receipt number exists on its own.

use time::OffsetDateTime;

use crate::backend::{with_db, with_write_tx};
use crate::{EmailCheckRow, OutboxRow, Store, StoreError, db_time};

/// Where an application stands: operational values only.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicationStatusRow {
    pub product: String,
    pub status: String,
    pub updated_at: OffsetDateTime,
}

impl Store {
    /// The status of the application with this receipt number *and* one of these e-mail blind
    /// indexes (the address's index under the current blind-index key and, during a rotation,
    /// under the previous one; the same index twice otherwise); `None` when nothing matches.
    pub async fn application_status(
        &self,
        receipt_number: &str,
        email_indexes: [&[u8]; 2],
    ) -> Result<Option<ApplicationStatusRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, ApplicationStatusRow>(
                "SELECT product, status, updated_at FROM applications \
                 WHERE receipt_number = $1 AND email_index IN ($2, $3)",
            )
            .bind(receipt_number)
            .bind(email_indexes[0])
            .bind(email_indexes[1])
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Starts (or restarts) a status check under `check.session_id`, queueing `message` (the
    /// code e-mail) in the same transaction when there is one: a check whose receipt number
    /// and address matched no application is stored all the same, but sends nothing.
    pub async fn start_status_check(
        &self,
        check: &EmailCheckRow,
        message: Option<&OutboxRow>,
    ) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            sqlx::query::<Db>("DELETE FROM email_checks WHERE session_id = $1")
                .bind(&check.session_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(
                "INSERT INTO email_checks (session_id, product, email_index, email_sealed, \
                 code_mac, tries_left, created_at, expires_at, email_index_previous) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&check.session_id)
            .bind(&check.product)
            .bind(&check.email_index)
            .bind(&check.email_sealed)
            .bind(&check.code_mac)
            .bind(check.tries_left)
            .bind(db_time(check.created_at))
            .bind(db_time(check.expires_at))
            .bind(&check.email_index_previous)
            .execute(&mut *tx)
            .await?;
            if let Some(message) = message {
                crate::outbox::insert_outbox!(Db, &mut *tx, message)?;
            }
            tx.commit().await?;
            if message.is_some() {
                self.ring_outbox();
            }
            Ok(())
        })
    }

    /// Ends the live e-mail check stored under `session_id`; false when there was none (it
    /// expired, or a parallel request ended it first), so a verified code counts once.
    pub async fn end_email_check(
        &self,
        session_id: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let ended = sqlx::query::<Db>(
                "DELETE FROM email_checks WHERE session_id = $1 AND expires_at > $2",
            )
            .bind(session_id)
            .bind(db_time(now))
            .execute(pool)
            .await?
            .rows_affected();
            Ok(ended > 0)
        })
    }
}
