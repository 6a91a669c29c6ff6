//! Sign-in sessions of bank staff. A row's id is the SHA-256 of the cookie's random token:
//! the database never holds a value that would let its reader act as the member of staff.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

/// A session with what the back office needs of its member of staff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffSessionRow {
    pub id: Vec<u8>,
    pub staff_id: Uuid,
    pub stage: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub authenticated_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub username: String,
    pub role: String,
    pub scope: String,
    pub disabled_at: Option<OffsetDateTime>,
    /// Detection held the member of staff: the session is of no use any more.
    pub held_at: Option<OffsetDateTime>,
}

/// A session to start.
pub struct NewStaffSession<'a> {
    /// SHA-256 of the cookie's token.
    pub id: &'a [u8],
    pub staff_id: Uuid,
    pub stage: &'a str,
    pub at: OffsetDateTime,
    /// When the password (and second factor) were last typed.
    pub authenticated_at: OffsetDateTime,
}

/// Ends every open session of member of staff `$staff` at `$at` within the write transaction
/// `$tx` of database `$db` (disable, reset and detection's hold all do it with their change).
macro_rules! end_sessions_in {
    ($db:ty, $tx:ident, $staff:expr, $at:expr) => {
        sqlx::query::<$db>(
            "UPDATE staff_sessions SET ended_at = $2 WHERE staff_id = $1 AND ended_at IS NULL",
        )
        .bind($staff)
        .bind($at)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use end_sessions_in;

impl Store {
    /// Starts a session; ends `replaces` (the session it rotates) in the same transaction.
    pub async fn start_staff_session(
        &self,
        session: &NewStaffSession<'_>,
        replaces: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let at = db_time(session.at);
        with_write_tx!(self, Db, tx => {
            if let Some(old) = replaces {
                sqlx::query::<Db>(
                    "UPDATE staff_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL",
                )
                .bind(old)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query::<Db>(
                "INSERT INTO staff_sessions (id, staff_id, stage, created_at, last_seen_at, \
                 authenticated_at) VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(session.id)
            .bind(session.staff_id)
            .bind(session.stage)
            .bind(at)
            .bind(db_time(session.authenticated_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The session with this id (ended or not) and its member of staff.
    pub async fn staff_session(&self, id: &[u8]) -> Result<Option<StaffSessionRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, StaffSessionRow>(
                "SELECT s.id, s.staff_id, s.stage, s.created_at, s.last_seen_at, \
                 s.authenticated_at, s.ended_at, t.username, t.role, t.scope, t.disabled_at, t.held_at \
                 FROM staff_sessions s JOIN staff t ON t.id = s.staff_id WHERE s.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Records activity (the idle expiry starts again).
    pub async fn touch_staff_session(
        &self,
        id: &[u8],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(db_time(at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Moves a session to another stage of sign-in (without a new id).
    pub async fn set_staff_session_stage(&self, id: &[u8], stage: &str) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET stage = $2 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(stage)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Records that the password and second factor were typed again.
    pub async fn reauthenticate_staff_session(
        &self,
        id: &[u8],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET authenticated_at = $2, last_seen_at = $2 \
                 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(db_time(at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Ends a session (sign-out, expiry).
    pub async fn end_staff_session(&self, id: &[u8], at: OffsetDateTime) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(db_time(at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Ends every session of a member of staff (e.g. after the account locked).
    pub async fn end_staff_sessions_of(
        &self,
        staff_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET ended_at = $2 WHERE staff_id = $1 AND ended_at IS NULL",
            )
            .bind(staff_id)
            .bind(db_time(at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }
}
