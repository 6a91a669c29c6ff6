//! The audit log (SPEC §7): one row per event, chained. Each row's `hash` is
//! `madoguchi_audit::link(previous row's hash, this row's content)`, computed here in the
//! transaction that appends it, after the previous row is read under the log's lock (on
//! SQLite, the one writer; on PostgreSQL, a transaction-scoped advisory lock, so that any
//! number of instances append one after another). Checkpoints of the chain's head, signed
//! elsewhere, are kept in `audit_checkpoints`. Rows are never updated or deleted (triggers
//! refuse it; on PostgreSQL also for the application's role).

use madoguchi_audit::{EventContent, GENESIS, Hash, link};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{Backend, with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

/// One audit event. Names of fields, never their values.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEventRow {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor: String,
    pub actor_address: Option<String>,
    pub session: Option<String>,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    /// Comma-separated field names.
    pub fields: String,
    pub purpose: Option<String>,
    /// Counts or codes (e.g. what a purge deleted), never content.
    pub detail: Option<String>,
    pub outcome: String,
}

/// An event as stored in the chain: its place, its columns and its hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditChainRow {
    pub seq: i64,
    #[sqlx(flatten)]
    pub event: AuditEventRow,
    /// `None` only for a row the chain has not reached (written before the chain existed).
    pub hash: Option<Vec<u8>>,
}

impl AuditChainRow {
    /// What the row's hash covers.
    pub fn content(&self) -> EventContent<'_> {
        content(self.seq, &self.event)
    }
}

/// An event as `audit verify` reads it: only what the hash covers, the time as Unix seconds
/// (converted by the database, so the walk parses no timestamp text).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditLink {
    pub seq: i64,
    pub id: Uuid,
    pub at_unix: i64,
    pub actor: String,
    pub actor_address: Option<String>,
    pub session: Option<String>,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub fields: String,
    pub purpose: Option<String>,
    pub detail: Option<String>,
    pub outcome: String,
    pub hash: Option<Vec<u8>>,
}

impl AuditLink {
    /// What the row's hash covers.
    pub fn content(&self) -> EventContent<'_> {
        EventContent {
            seq: self.seq,
            id: *self.id.as_bytes(),
            at: self.at_unix,
            actor: &self.actor,
            actor_address: self.actor_address.as_deref(),
            session: self.session.as_deref(),
            action: &self.action,
            subject_kind: self.subject_kind.as_deref(),
            subject_id: self.subject_id.as_deref(),
            fields: &self.fields,
            purpose: self.purpose.as_deref(),
            detail: self.detail.as_deref(),
            outcome: &self.outcome,
        }
    }
}

/// A signed checkpoint of the chain, as kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditCheckpointRow {
    pub size: i64,
    pub head: Vec<u8>,
    /// The C2SP signed note.
    pub note: String,
    pub created_at: OffsetDateTime,
}

/// The key of PostgreSQL's advisory lock that orders appends ("madoaudt").
pub(crate) const APPEND_LOCK: i64 = 0x6d61_646f_6175_6474;

pub(crate) fn content(seq: i64, e: &AuditEventRow) -> EventContent<'_> {
    EventContent {
        seq,
        id: *e.id.as_bytes(),
        at: db_time(e.at).unix_timestamp(),
        actor: &e.actor,
        actor_address: e.actor_address.as_deref(),
        session: e.session.as_deref(),
        action: &e.action,
        subject_kind: e.subject_kind.as_deref(),
        subject_id: e.subject_id.as_deref(),
        fields: &e.fields,
        purpose: e.purpose.as_deref(),
        detail: e.detail.as_deref(),
        outcome: &e.outcome,
    }
}

/// Takes the log's lock inside transaction `$tx`: on PostgreSQL the advisory lock that orders
/// every instance's appends; on SQLite the transaction is already the one writer.
macro_rules! lock_log {
    ($db:ty, $tx:ident, $postgres:expr) => {
        if $postgres {
            sqlx::query::<$db>("SELECT pg_advisory_xact_lock($1)")
                .bind($crate::audit::APPEND_LOCK)
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(crate) use lock_log;

/// Appends `$event` after the chain's head inside `$tx` (which holds the log's lock); its
/// sequence number.
macro_rules! append_in {
    ($db:ty, $tx:ident, $event:expr) => {{
        let event: &$crate::AuditEventRow = $event;
        let last = sqlx::query_as::<$db, (i64, Option<Vec<u8>>)>(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *$tx)
        .await?;
        let (seq, previous) = match last {
            Some((seq, hash)) => (seq + 1, $crate::audit::as_hash(hash)),
            None => (1, madoguchi_audit::GENESIS),
        };
        let hash = madoguchi_audit::link(&previous, &$crate::audit::content(seq, event));
        sqlx::query::<$db>(
            "INSERT INTO audit_events (seq, id, at, actor, actor_address, session, action, \
             subject_kind, subject_id, fields, purpose, detail, outcome, hash, actor_ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(seq)
        .bind(event.id)
        .bind($crate::db_time(event.at))
        .bind(&event.actor)
        .bind(&event.actor_address)
        .bind(&event.session)
        .bind(&event.action)
        .bind(&event.subject_kind)
        .bind(&event.subject_id)
        .bind(&event.fields)
        .bind(&event.purpose)
        .bind(&event.detail)
        .bind(&event.outcome)
        .bind(&hash[..])
        .bind($crate::audit::actor_ip(event))
        .execute(&mut *$tx)
        .await?;
        seq
    }};
}
pub(crate) use append_in;

/// The indexed form of the event's client address (none without a parsable one).
pub(crate) fn actor_ip(event: &AuditEventRow) -> Option<Vec<u8>> {
    event
        .actor_address
        .as_deref()
        .and_then(crate::incident::ip_key)
        .map(|k| k.to_vec())
}

/// A stored hash as a chain hash (a damaged one is taken as the genesis: `audit verify`
/// names the row).
pub(crate) fn as_hash(stored: Option<Vec<u8>>) -> Hash {
    stored.and_then(|h| h.try_into().ok()).unwrap_or(GENESIS)
}

impl Store {
    /// Appends one event to the chain and returns its sequence number. The caller returns
    /// the data it audits only after this succeeded (fail closed).
    pub async fn insert_audit_event(&self, event: &AuditEventRow) -> Result<i64, StoreError> {
        let postgres = self.backend() == Backend::Postgres;
        with_write_tx!(self, Db, tx => {
            lock_log!(Db, tx, postgres);
            let seq = append_in!(Db, tx, event);
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// Chains the rows written before the chain existed (hash NULL), in order, once: run at
    /// every start after the migrations; does nothing on a chained log.
    pub async fn chain_audit_backlog(&self) -> Result<u64, StoreError> {
        let postgres = self.backend() == Backend::Postgres;
        with_write_tx!(self, Db, tx => {
            lock_log!(Db, tx, postgres);
            let rows = sqlx::query_as::<Db, AuditChainRow>(
                "SELECT seq, id, at, actor, actor_address, session, action, subject_kind, \
                 subject_id, fields, purpose, detail, outcome, hash FROM audit_events \
                 WHERE seq >= COALESCE((SELECT MIN(seq) FROM audit_events WHERE hash IS NULL), \
                 (SELECT MAX(seq) FROM audit_events) + 1) - 1 ORDER BY seq",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut chained = 0u64;
            let mut previous = GENESIS;
            for row in &rows {
                match &row.hash {
                    Some(stored) => previous = as_hash(Some(stored.clone())),
                    None => {
                        let hash = link(&previous, &row.content());
                        sqlx::query::<Db>(
                            "UPDATE audit_events SET hash = $2, actor_ip = $3 \
                             WHERE seq = $1 AND hash IS NULL",
                        )
                        .bind(row.seq)
                        .bind(&hash[..])
                        .bind(actor_ip(&row.event))
                        .execute(&mut *tx)
                        .await?;
                        previous = hash;
                        chained += 1;
                    }
                }
            }
            tx.commit().await?;
            Ok(chained)
        })
    }

    /// Up to `limit` events after sequence number `after`, in order (the chain walk pages
    /// with this: each page is one indexed range read).
    pub async fn audit_chain_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditChainRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, AuditChainRow>(
                "SELECT seq, id, at, actor, actor_address, session, action, subject_kind, \
                 subject_id, fields, purpose, detail, outcome, hash FROM audit_events \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Up to `limit` links of the chain after sequence number `after`, in order: the walk of
    /// `audit verify`.
    pub async fn audit_links(&self, after: i64, limit: i64) -> Result<Vec<AuditLink>, StoreError> {
        match &self.inner {
            crate::backend::Inner::Sqlite { read, .. } => {
                Ok(sqlx::query_as::<sqlx::Sqlite, AuditLink>(
                    "SELECT seq, id, CAST(strftime('%s', at) AS INTEGER) AS at_unix, actor, \
                 actor_address, session, action, subject_kind, subject_id, fields, purpose, \
                 detail, outcome, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(read)
                .await?)
            }
            crate::backend::Inner::Postgres(pool) => {
                Ok(sqlx::query_as::<sqlx::Postgres, AuditLink>(
                    "SELECT seq, id, CAST(EXTRACT(EPOCH FROM at) AS BIGINT) AS at_unix, actor, \
                 actor_address, session, action, subject_kind, subject_id, fields, purpose, \
                 detail, outcome, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?)
            }
        }
    }

    /// The events of a time window `[from, to)` after sequence number `after`, in order
    /// (`audit export` pages with this).
    pub async fn audit_events_between(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditChainRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, AuditChainRow>(
                "SELECT seq, id, at, actor, actor_address, session, action, subject_kind, \
                 subject_id, fields, purpose, detail, outcome, hash FROM audit_events \
                 WHERE seq > $1 AND at >= $2 AND at < $3 ORDER BY seq LIMIT $4",
            )
            .bind(after)
            .bind(db_time(from))
            .bind(db_time(to))
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The chain's head: the last event's sequence number and stored hash.
    pub async fn audit_head(&self) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        with_db!(self, read, Db, pool => {
            let row = sqlx::query_as::<Db, (i64, Option<Vec<u8>>)>(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(seq, hash)| (seq, hash.unwrap_or_default())))
        })
    }

    /// Keeps a signed checkpoint; `false` when one of that size is kept already (another
    /// instance signed the same head).
    pub async fn insert_audit_checkpoint(
        &self,
        checkpoint: &AuditCheckpointRow,
    ) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let added = sqlx::query::<Db>(
                "INSERT INTO audit_checkpoints (size, head, note, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
            )
            .bind(checkpoint.size)
            .bind(&checkpoint.head)
            .bind(&checkpoint.note)
            .bind(db_time(checkpoint.created_at))
            .execute(pool)
            .await?
            .rows_affected();
            Ok(added == 1)
        })
    }

    /// Every kept checkpoint, by size.
    pub async fn audit_checkpoints(&self) -> Result<Vec<AuditCheckpointRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, AuditCheckpointRow>(
                "SELECT size, head, note, created_at FROM audit_checkpoints ORDER BY size",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// The newest checkpoint.
    pub async fn last_audit_checkpoint(&self) -> Result<Option<AuditCheckpointRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, AuditCheckpointRow>(
                "SELECT size, head, note, created_at FROM audit_checkpoints \
                 ORDER BY size DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The most recent events, newest first (for the auditor's page and for tests).
    pub async fn recent_audit_events(&self, limit: i64) -> Result<Vec<AuditEventRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, AuditEventRow>(
                "SELECT id, at, actor, actor_address, session, action, subject_kind, subject_id, \
                 fields, purpose, detail, outcome FROM audit_events ORDER BY seq DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }
}
