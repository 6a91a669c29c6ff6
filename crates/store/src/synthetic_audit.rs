//! For benchmarks and trying the incident tools: audit events appended to the chain in bulk
//! (`madoguchi demo history`). Each batch is one transaction under the log's lock, its hashes
//! computed from the stored head exactly as [`Store::insert_audit_event`] computes one, so the
//! result verifies like a log written event by event.

use madoguchi_audit::{GENESIS, Hash, link};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::audit::{APPEND_LOCK, content};
use crate::backend::Inner;
use crate::{AuditEventRow, Store, StoreError, db_time};

impl Store {
    /// Appends `events` (in order) to the chain in one transaction; returns the new head's
    /// sequence number.
    pub async fn append_audit_events_in_bulk(
        &self,
        events: &[AuditEventRow],
    ) -> Result<i64, StoreError> {
        match &self.inner {
            Inner::Sqlite { write, .. } => {
                let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
                let head = sqlx::query_as::<sqlx::Sqlite, (i64, Option<Vec<u8>>)>(
                    "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&mut *tx)
                .await?;
                let (json, last) = rows_json(head, events)?;
                sqlx::query::<sqlx::Sqlite>(
                    "INSERT INTO audit_events (seq, id, at, actor, actor_address, session, action, \
                     subject_kind, subject_id, fields, purpose, detail, outcome, hash, actor_ip) \
                     SELECT value ->> 0, unhex(value ->> 1), value ->> 2, value ->> 3, value ->> 4, \
                     value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, \
                     value ->> 11, value ->> 12, unhex(value ->> 13), unhex(value ->> 14) \
                     FROM json_each($1)",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(last)
            }
            Inner::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query::<sqlx::Postgres>("SELECT pg_advisory_xact_lock($1)")
                    .bind(APPEND_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let head = sqlx::query_as::<sqlx::Postgres, (i64, Option<Vec<u8>>)>(
                    "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&mut *tx)
                .await?;
                let (json, last) = rows_json(head, events)?;
                sqlx::query::<sqlx::Postgres>(
                    "INSERT INTO audit_events (seq, id, at, actor, actor_address, session, action, \
                     subject_kind, subject_id, fields, purpose, detail, outcome, hash, actor_ip) \
                     SELECT CAST(r ->> 0 AS bigint), CAST(r ->> 1 AS uuid), \
                     CAST(r ->> 2 AS timestamptz), r ->> 3, r ->> 4, r ->> 5, r ->> 6, r ->> 7, \
                     r ->> 8, r ->> 9, r ->> 10, r ->> 11, r ->> 12, decode(r ->> 13, 'hex'), \
                     decode(r ->> 14, 'hex') FROM json_array_elements(CAST($1 AS json)) AS r",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(last)
            }
        }
    }

    /// Up to `limit` application ids, oldest first (subjects for a synthetic history).
    pub async fn some_application_ids(&self, limit: i64) -> Result<Vec<Uuid>, StoreError> {
        crate::backend::with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, Uuid>(
                "SELECT id FROM applications ORDER BY submitted_at LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }
}

/// The rows as one JSON array, chained from `head`; and the last sequence number.
fn rows_json(
    head: Option<(i64, Option<Vec<u8>>)>,
    events: &[AuditEventRow],
) -> Result<(String, i64), StoreError> {
    let (mut seq, mut previous): (i64, Hash) = match head {
        Some((seq, hash)) => (seq, hash.and_then(|h| h.try_into().ok()).unwrap_or(GENESIS)),
        None => (0, GENESIS),
    };
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let event = AuditEventRow {
            at: db_time(event.at),
            ..event.clone()
        };
        let hash = link(&previous, &content(seq, &event));
        previous = hash;
        let at = event
            .at
            .format(&Rfc3339)
            .map_err(|e| StoreError::CommitFailed(format!("time format: {e}")))?;
        let ip = event
            .actor_address
            .as_deref()
            .and_then(crate::incident::ip_key)
            .map(hex);
        rows.push(serde_json_row(&[
            Some(seq.to_string()),
            Some(event.id.simple().to_string()),
            Some(at),
            Some(event.actor),
            event.actor_address,
            event.session,
            Some(event.action),
            event.subject_kind,
            event.subject_id,
            Some(event.fields),
            event.purpose,
            event.detail,
            Some(event.outcome),
            Some(hex(hash)),
            ip,
        ]));
    }
    Ok((format!("[{}]", rows.join(",")), seq))
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON array of strings and nulls.
fn serde_json_row(values: &[Option<String>]) -> String {
    serde_json::Value::Array(
        values
            .iter()
            .map(|v| {
                v.clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::String)
            })
            .collect(),
    )
    .to_string()
}
