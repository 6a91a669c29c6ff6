//! Service suspension (`madoguchi incident suspend`): which public services are stopped, and
//! the notice to show. The state lives here, in the database, so that every instance of the
//! public site sees it within its next poll.

use time::OffsetDateTime;

use crate::backend::with_db;
use crate::{Store, StoreError, db_time};

/// A stopped service.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SuspensionRow {
    /// `web-application` or `visit-reservation`.
    pub service: String,
    pub suspended_at: OffsetDateTime,
    /// The bank's notice, shown on the service's pages (plain text).
    pub notice: Option<String>,
    /// Who stopped it (`cli:incident`).
    pub actor: String,
}

impl Store {
    /// Stops `service` (or replaces its notice when stopped already).
    pub async fn suspend_service(&self, row: &SuspensionRow) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "INSERT INTO service_suspensions (service, suspended_at, notice, actor) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (service) DO UPDATE SET \
                 notice = excluded.notice, actor = excluded.actor",
            )
            .bind(&row.service)
            .bind(db_time(row.suspended_at))
            .bind(&row.notice)
            .bind(&row.actor)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Starts `service` again; `false` when it was not stopped.
    pub async fn resume_service(&self, service: &str) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let n = sqlx::query::<Db>("DELETE FROM service_suspensions WHERE service = $1")
                .bind(service)
                .execute(pool)
                .await?
                .rows_affected();
            Ok(n == 1)
        })
    }

    /// The stopped services.
    pub async fn suspended_services(&self) -> Result<Vec<SuspensionRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, SuspensionRow>(
                "SELECT service, suspended_at, notice, actor FROM service_suspensions \
                 ORDER BY service",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
