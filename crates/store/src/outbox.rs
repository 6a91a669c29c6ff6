//! The transactional outbox: e-mails written in the same transaction as what they announce,
//! delivered by a worker, deleted once delivered.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

/// A message to queue: sealed to the mail worker's key.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: Uuid,
    pub key_id: String,
    pub sealed: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// When to send it; `None` is at once. A reminder is due the day before the visit.
    pub due_at: Option<OffsetDateTime>,
    /// The booking this message reminds of: a change or cancellation withdraws it.
    pub reminder_for: Option<Uuid>,
}

impl OutboxRow {
    /// A message to send at once.
    pub fn now(id: Uuid, key_id: String, sealed: Vec<u8>, created_at: OffsetDateTime) -> Self {
        OutboxRow {
            id,
            key_id,
            sealed,
            created_at,
            due_at: None,
            reminder_for: None,
        }
    }
}

/// Messages claimed together by one worker, and the token that marks them.
#[derive(Debug, Clone)]
pub struct OutboxClaim {
    pub token: Uuid,
    pub messages: Vec<OutboxMessage>,
}

/// A queued message claimed by a worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub key_id: String,
    pub sealed: Vec<u8>,
    pub attempts: i64,
    pub created_at: OffsetDateTime,
}

/// Inserts an outbox row with `$conn` (a pool or a transaction) of database `$db`.
macro_rules! insert_outbox {
    ($db:ident, $conn:expr, $row:expr) => {{
        let row: &$crate::OutboxRow = $row;
        let at = $crate::db_time(row.created_at);
        let due = $crate::db_time(row.due_at.unwrap_or(row.created_at));
        sqlx::query::<$db>(
            "INSERT INTO outbox (id, key_id, sealed, attempts, created_at, next_attempt_at, \
             reminder_for) VALUES ($1, $2, $3, 0, $4, $5, $6)",
        )
        .bind(row.id)
        .bind(&row.key_id)
        .bind(&row.sealed)
        .bind(at)
        .bind(due)
        .bind(row.reminder_for)
        .execute($conn)
        .await
    }};
}
pub(crate) use insert_outbox;

impl Store {
    /// Queues a message on its own (when nothing else changes with it).
    pub async fn enqueue(&self, row: &OutboxRow) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            insert_outbox!(Db, pool, row)?;
            self.ring_outbox();
            Ok(())
        })
    }

    /// Claims up to `limit` due messages for `lease`; a claimed message is invisible to other
    /// workers until the lease ends, so a crashed worker's messages are retried, not lost.
    pub async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
    ) -> Result<OutboxClaim, StoreError> {
        let now = db_time(now);
        let until = db_time(now + lease);
        let token = Uuid::new_v4();
        // The outer conditions repeat the inner ones: on PostgreSQL a worker that waited for
        // another's row lock re-checks them, and so never claims a message twice.
        with_write_tx!(self, Db, tx => {
            let messages = sqlx::query_as::<Db, OutboxMessage>(
                "UPDATE outbox SET locked_until = $1, claim_token = $4, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE next_attempt_at <= $2 \
                   AND (locked_until IS NULL OR locked_until <= $2) \
                   ORDER BY next_attempt_at LIMIT $3) \
                 AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                 RETURNING id, key_id, sealed, attempts, created_at",
            )
            .bind(until)
            .bind(now)
            .bind(limit)
            .bind(token)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(OutboxClaim { token, messages })
        })
    }

    /// Removes the messages of a claim that are still held by it: the delivered ones (a failed
    /// one was released by [`Store::retry_later`], an expired lease's by another claim).
    pub async fn remove_delivered(&self, token: Uuid) -> Result<u64, StoreError> {
        with_db!(self, write, Db, pool => {
            Ok(sqlx::query::<Db>("DELETE FROM outbox WHERE claim_token = $1")
                .bind(token)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }

    /// Removes a delivered message.
    pub async fn delivered(&self, id: Uuid) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>("DELETE FROM outbox WHERE id = $1").bind(id).execute(pool).await?;
            Ok(())
        })
    }

    /// Schedules another attempt for a message whose delivery failed.
    pub async fn retry_later(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, claim_token = NULL \
                 WHERE id = $2",
            )
            .bind(db_time(at))
            .bind(id)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// How many messages wait for delivery.
    pub async fn outbox_len(&self) -> Result<i64, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, i64>("SELECT COUNT(*) FROM outbox").fetch_one(pool).await?)
        })
    }

    /// The queue as the back office shows it: counts and times only (messages are sealed).
    pub async fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        with_db!(self, read, Db, pool => {
            let (pending, retrying, max_attempts): (i64, i64, Option<i64>) =
                sqlx::query_as::<Db, (i64, i64, Option<i64>)>(
                    "SELECT COUNT(*), COUNT(*) FILTER (WHERE attempts > 0), MAX(attempts) \
                     FROM outbox",
                )
                .fetch_one(pool)
                .await?;
            let oldest: Option<OffsetDateTime> = sqlx::query_scalar::<Db, OffsetDateTime>(
                "SELECT created_at FROM outbox ORDER BY created_at LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            let next_attempt: Option<OffsetDateTime> = sqlx::query_scalar::<Db, OffsetDateTime>(
                "SELECT next_attempt_at FROM outbox WHERE attempts > 0 \
                 ORDER BY next_attempt_at LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            Ok(OutboxSummary {
                pending,
                retrying,
                max_attempts: max_attempts.unwrap_or(0),
                oldest,
                next_attempt,
            })
        })
    }
}

/// The outbox at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSummary {
    /// Messages waiting (reminders for later visits included).
    pub pending: i64,
    /// Of those, messages whose delivery failed at least once.
    pub retrying: i64,
    /// The most attempts any waiting message has had.
    pub max_attempts: i64,
    /// When the oldest waiting message was queued.
    pub oldest: Option<OffsetDateTime>,
    /// The next retry of a failed message.
    pub next_attempt: Option<OffsetDateTime>,
}
