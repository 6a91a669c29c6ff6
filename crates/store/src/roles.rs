//! Least-privilege PostgreSQL roles (SPEC §9): `madoguchi_public`, `madoguchi_office`,
//! `madoguchi_retention` and `madoguchi_audit`, their grants (`roles/postgres.sql`), and the
//! start of a process whose role may not migrate.

use sqlx::PgPool;

use crate::backend::Inner;
use crate::{Store, StoreError};

/// The grants, applied as the tables' owner.
const ROLES_SQL: &str = include_str!("../roles/postgres.sql");

/// The PostgreSQL role of the public process.
pub const PUBLIC_ROLE: &str = "madoguchi_public";
/// The PostgreSQL role of the back office, its worker and its jobs.
pub const OFFICE_ROLE: &str = "madoguchi_office";

impl Store {
    /// Creates the four roles (if missing) and applies their grants; `false` on SQLite, which
    /// has no roles (its file's permissions are the host's).
    pub async fn create_roles(&self) -> Result<bool, StoreError> {
        let Inner::Postgres(pool) = &self.inner else {
            return Ok(false);
        };
        sqlx::raw_sql(ROLES_SQL).execute(pool).await?;
        Ok(true)
    }
}

/// Whether this connection may migrate: only a role that may create in the schema (its owner,
/// in a least-privilege setup) does.
pub(crate) async fn may_migrate(pool: &PgPool) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar::<_, bool>("SELECT has_schema_privilege(current_schema(), 'CREATE')")
            .fetch_one(pool)
            .await?,
    )
}

/// After migrating as the owner: the grants again, when the roles exist (a new table gets
/// its grants in the same step as its migration).
pub(crate) async fn refresh_grants(pool: &PgPool) -> Result<(), StoreError> {
    let roles: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_roles WHERE rolname IN ('madoguchi_public', 'madoguchi_office')",
    )
    .fetch_one(pool)
    .await?;
    // Grants of all four roles (the two added later are created by this script too).
    if roles == 2 {
        sqlx::raw_sql(ROLES_SQL).execute(pool).await?;
    }
    Ok(())
}

/// For a role that may not migrate: the schema must already be this build's.
pub(crate) async fn check_migrated(
    pool: &PgPool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), StoreError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    let missing: Vec<i64> = migrator
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::SchemaBehind(missing.len()))
    }
}
