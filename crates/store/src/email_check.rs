//! E-mail checks: a 6-digit code sent to the address, with a short expiry and limited tries.

use time::OffsetDateTime;

use crate::backend::{with_db, with_write_tx};
use crate::{OutboxRow, Store, StoreError, db_time};

/// An e-mail check in progress for one browser session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailCheckRow {
    pub session_id: Vec<u8>,
    pub product: String,
    pub email_index: Vec<u8>,
    pub email_sealed: Vec<u8>,
    pub code_mac: Vec<u8>,
    pub tries_left: i64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// A status check started during a blind-index rotation: the address's index under the
    /// previous key, also looked up.
    pub email_index_previous: Option<Vec<u8>>,
}

/// The outcome of spending one try on a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAttempt {
    /// The try was counted; this many remain.
    Counted { tries_left: i64 },
    /// No tries were left (or there was no live check): the check is gone.
    Exhausted,
}

impl Store {
    /// Starts (or restarts) the session's e-mail check and queues the code e-mail, atomically.
    pub async fn start_email_check(
        &self,
        check: &EmailCheckRow,
        message: &OutboxRow,
    ) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            sqlx::query::<Db>("DELETE FROM email_checks WHERE session_id = $1")
                .bind(&check.session_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(
                "INSERT INTO email_checks (session_id, product, email_index, email_sealed, \
                 code_mac, tries_left, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&check.session_id)
            .bind(&check.product)
            .bind(&check.email_index)
            .bind(&check.email_sealed)
            .bind(&check.code_mac)
            .bind(check.tries_left)
            .bind(db_time(check.created_at))
            .bind(db_time(check.expires_at))
            .execute(&mut *tx)
            .await?;
            crate::outbox::insert_outbox!(Db, &mut *tx, message)?;
            tx.commit().await?;
            self.ring_outbox();
            Ok(())
        })
    }

    /// The session's live (unexpired) e-mail check, if any.
    pub async fn email_check(
        &self,
        session_id: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<EmailCheckRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, EmailCheckRow>(
                "SELECT session_id, product, email_index, email_sealed, code_mac, tries_left, \
                 created_at, expires_at, email_index_previous FROM email_checks WHERE session_id = $1 AND expires_at > $2",
            )
            .bind(session_id)
            .bind(db_time(now))
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Spends one try before the code is compared, so that parallel guesses cannot exceed
    /// the limit. The check is deleted when its last try is spent.
    pub async fn spend_code_try(
        &self,
        session_id: &[u8],
        now: OffsetDateTime,
    ) -> Result<CodeAttempt, StoreError> {
        with_write_tx!(self, Db, tx => {
            let left: Option<i64> = sqlx::query_scalar::<Db, i64>(
                "UPDATE email_checks SET tries_left = tries_left - 1 \
                 WHERE session_id = $1 AND tries_left > 0 AND expires_at > $2 \
                 RETURNING tries_left",
            )
            .bind(session_id)
            .bind(db_time(now))
            .fetch_optional(&mut *tx)
            .await?;
            let attempt = match left {
                Some(tries_left) => CodeAttempt::Counted { tries_left },
                None => {
                    sqlx::query::<Db>("DELETE FROM email_checks WHERE session_id = $1")
                        .bind(session_id)
                        .execute(&mut *tx)
                        .await?;
                    CodeAttempt::Exhausted
                }
            };
            tx.commit().await?;
            Ok(attempt)
        })
    }

    /// Deletes expired e-mail checks and drafts; returns how many of each went.
    pub async fn purge_expired_drafts(
        &self,
        now: OffsetDateTime,
    ) -> Result<(u64, u64), StoreError> {
        with_write_tx!(self, Db, tx => {
            let checks = sqlx::query::<Db>("DELETE FROM email_checks WHERE expires_at <= $1")
                .bind(db_time(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let drafts = sqlx::query::<Db>("DELETE FROM drafts WHERE expires_at <= $1")
                .bind(db_time(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Counters of shared limits whose window (an hour at most) ended a day ago.
            sqlx::query::<Db>("DELETE FROM limit_counters WHERE window_start < $1")
                .bind(db_time(now - time::Duration::DAY))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok((checks, drafts))
        })
    }
}
