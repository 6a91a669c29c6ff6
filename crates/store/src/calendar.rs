//! A loan centre's reservations calendar as the back office works it: the state of each slot
//! (capacity, places taken, blocked), the bookings of a period without their personal fields,
//! blocking and freeing a slot, and a visit's outcome.
//!
//! Blocking sets a flag on the slot's row in `reservation_slots`, the row every booking's
//! capacity upsert goes through (`booking.rs`, `take_place!`), whose `WHERE` refuses a blocked
//! slot in the same statement. On PostgreSQL both statements lock that row, so a block and a
//! concurrent booking are serialized: once the block committed, no booking gets in. On SQLite
//! the single writer serializes them. Bookings made before the block stay.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{SlotRef, Store, StoreError, db_time};

/// A slot's row: how many places it has and holds, and whether it is blocked. A slot without
/// a row has never been booked nor blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct SlotState {
    pub starts_at: OffsetDateTime,
    pub capacity: i64,
    pub booked: i64,
    pub blocked: bool,
}

/// A booking as the calendar lists it: operational columns only, never a personal field.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CenterBooking {
    pub id: Uuid,
    pub center_id: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub consultation: String,
    /// `booked`, `cancelled`, `visited` or `no_show`.
    pub status: String,
    /// Set once retention deleted the personal fields and the data key.
    pub purged_at: Option<OffsetDateTime>,
}

/// What the consultant records after a visit's time has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitOutcome {
    Visited,
    NoShow,
}

impl VisitOutcome {
    /// The `bookings.status` it sets.
    pub fn status(self) -> &'static str {
        match self {
            VisitOutcome::Visited => "visited",
            VisitOutcome::NoShow => "no_show",
        }
    }
}

impl Store {
    /// The rows of the slots of `center_id` starting in `from .. until`, in time order.
    /// Also what the public availability reads: a blocked slot is offered as full.
    pub async fn slot_states(
        &self,
        center_id: &str,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<SlotState>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, SlotState>(
                "SELECT starts_at, capacity, booked, blocked FROM reservation_slots \
                 WHERE center_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at",
            )
            .bind(center_id)
            .bind(db_time(from))
            .bind(db_time(until))
            .fetch_all(pool)
            .await?)
        })
    }

    /// Blocks `slot`: it takes no new booking until freed. Creates the slot's row (with the
    /// capacity given, today's) when the slot was never booked. Idempotent.
    pub async fn block_slot(&self, slot: &SlotRef) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            // An upsert, so that on PostgreSQL it takes the same row lock as a booking's.
            sqlx::query::<Db>(
                "INSERT INTO reservation_slots (center_id, starts_at, capacity, booked, blocked) \
                 VALUES ($1, $2, $3, 0, $4) \
                 ON CONFLICT (center_id, starts_at) DO UPDATE SET blocked = excluded.blocked",
            )
            .bind(&slot.center_id)
            .bind(db_time(slot.starts_at))
            .bind(slot.capacity.max(0))
            .bind(true)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Frees a blocked slot of `center_id` at `starts_at`; a slot not blocked stays as it is.
    pub async fn free_slot(
        &self,
        center_id: &str,
        starts_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE reservation_slots SET blocked = $1 WHERE center_id = $2 AND starts_at = $3",
            )
            .bind(false)
            .bind(center_id)
            .bind(db_time(starts_at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// The bookings of `center_id` whose visit starts in `from .. until`, in time order, in
    /// every status.
    pub async fn center_bookings(
        &self,
        center_id: &str,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<CenterBooking>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, CenterBooking>(
                "SELECT id, center_id, starts_at, ends_at, consultation, status, purged_at \
                 FROM bookings WHERE center_id = $1 AND starts_at >= $2 AND starts_at < $3 \
                 ORDER BY starts_at, created_at, id",
            )
            .bind(center_id)
            .bind(db_time(from))
            .bind(db_time(until))
            .fetch_all(pool)
            .await?)
        })
    }

    /// One booking as the calendar lists it.
    pub async fn center_booking(&self, id: Uuid) -> Result<Option<CenterBooking>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, CenterBooking>(
                "SELECT id, center_id, starts_at, ends_at, consultation, status, purged_at \
                 FROM bookings WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Records the outcome of booking `id`'s visit at `at`: only while it is `booked` and its
    /// visit has started by `at`. Refuses with [`StoreError::BookingChanged`] otherwise (a
    /// future visit, a cancellation, or an outcome already recorded).
    pub async fn record_visit_outcome(
        &self,
        id: Uuid,
        outcome: VisitOutcome,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            let changed = sqlx::query::<Db>(
                "UPDATE bookings SET status = $1, updated_at = $2 \
                 WHERE id = $3 AND status = 'booked' AND starts_at <= $2",
            )
            .bind(outcome.status())
            .bind(db_time(at))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected();
            if changed == 1 {
                Ok(())
            } else {
                Err(StoreError::BookingChanged)
            }
        })
    }
}
