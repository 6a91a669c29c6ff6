//! The interim audit log: one row per event, written by the back office's one audit
//! function (`madoguchi_office::audit`). The audit issue replaces it with a hash chain.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::with_db;
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

impl Store {
    /// Appends one event. The caller returns the data it audits only after this succeeded.
    pub async fn insert_audit_event(&self, event: &AuditEventRow) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "INSERT INTO audit_events (id, at, actor, actor_address, session, action, \
                 subject_kind, subject_id, fields, purpose, detail, outcome) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(event.id)
            .bind(db_time(event.at))
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
            .execute(pool)
            .await?;
            Ok(())
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
