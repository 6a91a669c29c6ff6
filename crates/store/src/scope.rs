//! What the back office's authorization needs to know about a subject before any handler
//! runs: the branch of an application, the loan centre of a booking. Operational columns only.

use uuid::Uuid;

use crate::backend::with_db;
use crate::{Store, StoreError};

impl Store {
    /// The branch code of application `id`, or `None` when there is no such application.
    pub async fn application_branch(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, String>(
                "SELECT branch_code FROM applications WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The loan centre of booking `id`, or `None` when there is no such booking.
    pub async fn booking_center(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, String>("SELECT center_id FROM bookings WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The application a document belongs to, or `None` (no such document, or not yet
    /// submitted).
    pub async fn document_application(&self, id: Uuid) -> Result<Option<Uuid>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, Option<Uuid>>(
                "SELECT application_id FROM documents WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
            .flatten())
        })
    }
}
