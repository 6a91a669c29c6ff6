//! The record of how affected customers were told (`madoguchi incident notify`): the
//! customer as `incident scope` names them, the channel and the outcome — no personal value.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::with_db;
use crate::{Store, StoreError, db_time};

/// One attempt to tell a customer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub customer: String,
    /// `e-mail`, `post` or `phone`.
    pub channel: String,
    /// `sent`, `reached` or `returned`.
    pub outcome: String,
    pub at: OffsetDateTime,
    pub actor: String,
}

impl Store {
    /// Records one attempt.
    pub async fn record_notification(&self, row: &NotificationRow) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "INSERT INTO incident_notifications (id, customer, channel, outcome, at, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(row.id)
            .bind(&row.customer)
            .bind(&row.channel)
            .bind(&row.outcome)
            .bind(db_time(row.at))
            .bind(&row.actor)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Every attempt, by customer and time.
    pub async fn notifications(&self) -> Result<Vec<NotificationRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, NotificationRow>(
                "SELECT id, customer, channel, outcome, at, actor FROM incident_notifications \
                 ORDER BY customer, at, id",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
