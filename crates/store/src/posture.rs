//! What `madoguchi doctor` asks the database about itself (SPEC §8): on PostgreSQL, whether
//! this connection's role could do more than it should, whether the connection is encrypted,
//! and the server settings that leak or weaken; on both backends, when the scheduled jobs
//! (retention, audit verification) last ran.

use time::OffsetDateTime;

use crate::backend::{Inner, with_db};
use crate::{Store, StoreError, db_time};

/// Tables that hold personal data, secrets, credentials or the audit trail: nobody but the
/// back office (and its jobs) may read them. The public process writes some of them and reads
/// none (its own working tables — drafts, e-mail checks — are not listed).
pub const PERSONAL_TABLES: &[&str] = &[
    "application_personal",
    "application_secrets",
    "application_notes",
    "application_history",
    "booking_personal",
    "data_keys",
    "outbox",
    "handoff_items",
    "staff",
    "staff_sessions",
    "staff_passkeys",
    "audit_events",
    "incident_notifications",
    "canaries",
];

/// A PostgreSQL connection's privileges and the server's settings that matter.
#[derive(Debug, Clone)]
pub struct DatabasePosture {
    pub role: String,
    pub superuser: bool,
    /// Tables of the schema this role owns (an owner can grant itself anything back).
    pub owned_tables: Vec<String>,
    /// Whether this connection is encrypted (`pg_stat_ssl`).
    pub ssl: bool,
    /// Personal tables the PUBLIC pseudo-role may SELECT.
    pub public_can_select: Vec<String>,
    /// Personal tables this role may SELECT.
    pub role_can_select: Vec<String>,
    /// Privileges on the audit log beyond INSERT and SELECT.
    pub audit_rewrite: Vec<String>,
    /// `pgaudit.log_parameter`, when pgaudit is loaded.
    pub pgaudit_log_parameter: Option<String>,
    pub password_encryption: String,
}

impl Store {
    /// This connection's posture; `None` on SQLite (a file: its permissions are the host's).
    pub async fn database_posture(&self) -> Result<Option<DatabasePosture>, StoreError> {
        let Inner::Postgres(pool) = &self.inner else {
            return Ok(None);
        };
        let (role, superuser): (String, bool) = sqlx::query_as(
            "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(pool)
        .await?;
        let owned_tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables \
             WHERE schemaname = current_schema() AND tableowner = current_user ORDER BY 1",
        )
        .fetch_all(pool)
        .await?;
        let ssl: Option<bool> =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_optional(pool)
                .await?;
        let mut public_can_select = Vec::new();
        let mut role_can_select = Vec::new();
        for table in PERSONAL_TABLES {
            let (public, own): (Option<bool>, Option<bool>) = sqlx::query_as(
                "SELECT has_table_privilege('public', c.oid, 'SELECT'), \
                        has_table_privilege(current_user, c.oid, 'SELECT') \
                 FROM pg_class c WHERE c.relname = $1 \
                 AND c.relnamespace = current_schema()::regnamespace",
            )
            .bind(table)
            .fetch_optional(pool)
            .await?
            .unwrap_or((None, None));
            if public == Some(true) {
                public_can_select.push((*table).to_owned());
            }
            if own == Some(true) {
                role_can_select.push((*table).to_owned());
            }
        }
        let mut audit_rewrite = Vec::new();
        for privilege in ["UPDATE", "DELETE", "TRUNCATE"] {
            let has: Option<bool> = sqlx::query_scalar(
                "SELECT has_table_privilege(current_user, c.oid, $1) FROM pg_class c \
                 WHERE c.relname = 'audit_events' \
                 AND c.relnamespace = current_schema()::regnamespace",
            )
            .bind(privilege)
            .fetch_optional(pool)
            .await?;
            if has == Some(true) {
                audit_rewrite.push(privilege.to_owned());
            }
        }
        let pgaudit_log_parameter: Option<String> =
            sqlx::query_scalar("SELECT current_setting('pgaudit.log_parameter', true)")
                .fetch_one(pool)
                .await?;
        let password_encryption: String =
            sqlx::query_scalar("SELECT current_setting('password_encryption')")
                .fetch_one(pool)
                .await?;
        Ok(Some(DatabasePosture {
            role,
            superuser,
            owned_tables,
            ssl: ssl.unwrap_or(false),
            public_can_select,
            role_can_select,
            audit_rewrite,
            pgaudit_log_parameter: pgaudit_log_parameter.filter(|v| !v.is_empty()),
            password_encryption,
        }))
    }

    /// Records that scheduled job `job` (`retention`, `audit-verify`) ran, with its outcome.
    pub async fn record_job_run(
        &self,
        job: &str,
        outcome: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "INSERT INTO job_runs (job, last_run_at, outcome) VALUES ($1, $2, $3) \
                 ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at, \
                 outcome = excluded.outcome",
            )
            .bind(job)
            .bind(db_time(at))
            .bind(outcome)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// When `job` last ran and how it ended.
    pub async fn last_job_run(
        &self,
        job: &str,
    ) -> Result<Option<(OffsetDateTime, String)>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, (OffsetDateTime, String)>(
                "SELECT last_run_at, outcome FROM job_runs WHERE job = $1",
            )
            .bind(job)
            .fetch_optional(pool)
            .await?)
        })
    }
}
