//! Visit reservations: bookings of loan-centre slots, never past a slot's capacity.
//!
//! Capacity is the database's guarantee, not this process's: a booking increments the slot's
//! counter in `reservation_slots` with one upsert whose `WHERE` refuses to pass the capacity,
//! inside the transaction that stores the booking. On PostgreSQL the upsert takes the slot
//! row's lock, so concurrent bookings from any number of instances queue on it and each sees
//! the count the previous one committed; on SQLite the single writer serializes them. A
//! `CHECK (booked <= capacity)` refuses any other path that would overbook.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{Inner, with_db, with_write_tx};
use crate::outbox::insert_outbox;
use crate::{OutboxRow, Store, StoreError, db_time};

/// Where a booking is, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRef {
    pub center_id: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    /// The slot's capacity as the bank profile says today.
    pub capacity: i64,
}

/// Everything a booking stores. Only ciphertext, hashes and operational values.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub id: Uuid,
    pub slot: SlotRef,
    pub consultation: String,
    /// SHA-256 of the change/cancel token sent by e-mail.
    pub manage_id: Vec<u8>,
    /// Hash of the booking form's one-time nonce.
    pub request_id: Vec<u8>,
    /// During a blind-index rotation, the nonce's hash under the previous key: a form sent
    /// once before this process picked up the new key and again after is still one booking.
    pub request_id_previous: Option<Vec<u8>>,
    /// Keyed blind index of the normalized e-mail address (with the current key).
    pub email_index: Vec<u8>,
    /// The id of the blind-index key that computed `email_index`.
    pub email_index_key: String,
    /// During a blind-index rotation, the address's index under the previous key: the
    /// per-address limit counts the bookings not yet re-indexed too.
    pub email_index_previous: Option<Vec<u8>>,
    /// Name and address for later e-mails, encrypted with the token-derived key.
    pub contact_sealed: Vec<u8>,
    pub personal_fields: Vec<u8>,
    pub data_key_id: String,
    pub wrapped_data_key: Vec<u8>,
    /// Most bookings one e-mail address may hold for visits after `created_at`.
    pub max_future_per_email: i64,
    pub created_at: OffsetDateTime,
}

/// A stored booking as its change/cancel link shows it: no personal field in clear.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BookingRow {
    pub id: Uuid,
    pub center_id: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub consultation: String,
    pub status: String,
    pub contact_sealed: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
}

/// How many bookings a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct SlotCount {
    pub starts_at: OffsetDateTime,
    pub booked: i64,
}

/// Moving a booking to another slot.
#[derive(Debug, Clone)]
pub struct BookingChange {
    pub id: Uuid,
    /// The start the caller saw: a booking changed meanwhile is not changed again.
    pub from_starts_at: OffsetDateTime,
    pub to: SlotRef,
    pub at: OffsetDateTime,
}

/// Counts published by [`Store::purge_bookings`]: how many, never what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookingPurge {
    pub bookings: u64,
    pub holders: u64,
}

/// Takes one place of `$slot` in `$tx`, or fails with [`StoreError::SlotFull`] — also when
/// the back office blocked the slot: the same statement checks the flag under the row's lock,
/// so a booking cannot slip in after a block committed (`calendar.rs`).
macro_rules! take_place {
    ($db:ty, $tx:ident, $slot:expr) => {
        async {
            let slot: &$crate::SlotRef = $slot;
            if slot.capacity <= 0 {
                return Err($crate::StoreError::SlotFull);
            }
            let taken = sqlx::query_scalar::<$db, i64>(
                "INSERT INTO reservation_slots (center_id, starts_at, capacity, booked) \
                 VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (center_id, starts_at) DO UPDATE \
                 SET booked = reservation_slots.booked + 1, capacity = excluded.capacity \
                 WHERE reservation_slots.booked < excluded.capacity \
                 AND NOT reservation_slots.blocked \
                 RETURNING booked",
            )
            .bind(&slot.center_id)
            .bind($crate::db_time(slot.starts_at))
            .bind(slot.capacity)
            .fetch_optional(&mut *$tx)
            .await?;
            match taken {
                Some(_) => Ok(()),
                None => Err($crate::StoreError::SlotFull),
            }
        }
    };
}

pub(crate) use take_place;

/// Gives back the place a booking held in the slot at `$starts_at` of `$center_id`.
macro_rules! free_place {
    ($db:ty, $tx:ident, $center_id:expr, $starts_at:expr) => {
        sqlx::query::<$db>(
            "UPDATE reservation_slots SET booked = booked - 1 \
             WHERE center_id = $1 AND starts_at = $2 AND booked > 0",
        )
        .bind($center_id)
        .bind($crate::db_time($starts_at))
        .execute(&mut *$tx)
    };
}

/// Withdraws the queued reminder of booking `$id`.
macro_rules! withdraw_reminder {
    ($db:ty, $tx:ident, $id:expr) => {
        sqlx::query::<$db>("DELETE FROM outbox WHERE reminder_for = $1")
            .bind($id)
            .execute(&mut *$tx)
    };
}

/// Stores one booking with `$tx` (an open write transaction of database `$db`); evaluates to
/// its `Result`. A refusal leaves the transaction to be rolled back (to its savepoint on
/// SQLite's group commit).
macro_rules! insert_booking {
    ($db:ty, $tx:ident, $booking:expr, $confirmation:expr, $reminder:expr) => {
        async {
            type Db = $db;
            let booking: &$crate::NewBooking = $booking;
            let confirmation: &$crate::OutboxRow = $confirmation;
            let reminder: Option<&$crate::OutboxRow> = $reminder;
            let at = $crate::db_time(booking.created_at);
            if let Some(previous) = &booking.request_id_previous {
                let seen = sqlx::query_scalar::<Db, i64>(
                    "SELECT COUNT(*) FROM bookings WHERE request_id = $1",
                )
                .bind(previous)
                .fetch_one(&mut *$tx)
                .await?;
                if seen > 0 {
                    return Err($crate::StoreError::DuplicateRequest);
                }
            }
            // The booking row first: a concurrent submit of the same form waits on the
            // unique request id and then fails on it, so it is told "already booked" rather
            // than "full" by the place its twin just took.
            sqlx::query::<Db>(
                "INSERT INTO bookings (id, center_id, starts_at, ends_at, consultation, status, \
                 manage_id, request_id, email_index, email_index_key, contact_sealed, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'booked', $6, $7, $8, $11, $9, $10, $10)",
            )
            .bind(booking.id)
            .bind(&booking.slot.center_id)
            .bind($crate::db_time(booking.slot.starts_at))
            .bind($crate::db_time(booking.slot.ends_at))
            .bind(&booking.consultation)
            .bind(&booking.manage_id)
            .bind(&booking.request_id)
            .bind(&booking.email_index)
            .bind(&booking.contact_sealed)
            .bind(at)
            .bind(&booking.email_index_key)
            .execute(&mut *$tx)
            .await?;
            // Then this address's row: two bookings of one address queue here, so the count
            // below sees the other's commit.
            sqlx::query::<Db>(
                "INSERT INTO booking_holders (email_index, touched_at) VALUES ($1, $2) \
                 ON CONFLICT (email_index) DO UPDATE SET touched_at = excluded.touched_at",
            )
            .bind(&booking.email_index)
            .bind(at)
            .execute(&mut *$tx)
            .await?;
            let held = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM bookings WHERE email_index IN ($1, $4) \
                 AND status = 'booked' AND starts_at > $2 AND id <> $3",
            )
            .bind(&booking.email_index)
            .bind(at)
            .bind(booking.id)
            // During a blind-index rotation, the address's bookings under the previous key.
            .bind(booking.email_index_previous.as_ref().unwrap_or(&booking.email_index))
            .fetch_one(&mut *$tx)
            .await?;
            if held >= booking.max_future_per_email {
                return Err($crate::StoreError::TooManyBookings);
            }
            $crate::booking::take_place!(Db, $tx, &booking.slot).await?;
            sqlx::query::<Db>(
                "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(booking.id)
            .bind(&booking.data_key_id)
            .bind(&booking.wrapped_data_key)
            .bind(at)
            .execute(&mut *$tx)
            .await?;
            sqlx::query::<Db>("INSERT INTO booking_personal (booking_id, fields) VALUES ($1, $2)")
                .bind(booking.id)
                .bind(&booking.personal_fields)
                .execute(&mut *$tx)
                .await?;
            $crate::outbox::insert_outbox!(Db, &mut *$tx, confirmation)?;
            if let Some(reminder) = reminder {
                $crate::outbox::insert_outbox!(Db, &mut *$tx, reminder)?;
            }
            Ok::<(), $crate::StoreError>(())
        }
        .await
    };
}
pub(crate) use insert_booking;

impl Store {
    /// Stores a booking, its confirmation e-mail and its reminder (if any) in one
    /// transaction. Refuses with [`StoreError::SlotFull`], [`StoreError::TooManyBookings`]
    /// or [`StoreError::DuplicateRequest`]; a refusal changes nothing.
    pub async fn book(
        &self,
        booking: &NewBooking,
        confirmation: &OutboxRow,
        reminder: Option<&OutboxRow>,
    ) -> Result<(), StoreError> {
        match self.insert_booking(booking, confirmation, reminder).await {
            // Two submits of one form racing past the first check meet the unique index.
            Err(e) if e.is_unique_violation() => Err(StoreError::DuplicateRequest),
            Err(e) => Err(e),
            Ok(()) => {
                self.ring_outbox();
                Ok(())
            }
        }
    }

    async fn insert_booking(
        &self,
        booking: &NewBooking,
        confirmation: &OutboxRow,
        reminder: Option<&OutboxRow>,
    ) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite { submissions, .. } => {
                submissions
                    .book(booking.clone(), confirmation.clone(), reminder.cloned())
                    .await
            }
            Inner::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                insert_booking!(sqlx::Postgres, tx, booking, confirmation, reminder)?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// How many places are taken in each booked slot of `center_id` starting in
    /// `from .. until`. Slots without a row are empty.
    pub async fn slot_counts(
        &self,
        center_id: &str,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<SlotCount>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, SlotCount>(
                "SELECT starts_at, booked FROM reservation_slots \
                 WHERE center_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at",
            )
            .bind(center_id)
            .bind(db_time(from))
            .bind(db_time(until))
            .fetch_all(pool)
            .await?)
        })
    }

    /// The booking whose change/cancel token hashes to `manage_id`.
    pub async fn booking_by_manage_id(
        &self,
        manage_id: &[u8],
    ) -> Result<Option<BookingRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, BookingRow>(
                "SELECT id, center_id, starts_at, ends_at, consultation, status, contact_sealed, \
                 created_at FROM bookings WHERE manage_id = $1",
            )
            .bind(manage_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Moves a booking to another slot of its centre, freeing the old place and replacing
    /// its reminder in the same transaction. Refuses with [`StoreError::SlotFull`], or
    /// [`StoreError::BookingChanged`] when the booking is no longer as the caller saw it.
    pub async fn change_booking(
        &self,
        change: &BookingChange,
        notice: &OutboxRow,
        reminder: Option<&OutboxRow>,
    ) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            let moved = sqlx::query_scalar::<Db, String>(
                "UPDATE bookings SET starts_at = $1, ends_at = $2, updated_at = $3 \
                 WHERE id = $4 AND status = 'booked' AND starts_at = $5 AND center_id = $6 \
                 RETURNING center_id",
            )
            .bind(db_time(change.to.starts_at))
            .bind(db_time(change.to.ends_at))
            .bind(db_time(change.at))
            .bind(change.id)
            .bind(db_time(change.from_starts_at))
            .bind(&change.to.center_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(center_id) = moved else {
                return Err(StoreError::BookingChanged);
            };
            // Slot rows are locked in time order, so two bookings trading slots cannot
            // deadlock on PostgreSQL.
            if change.to.starts_at < change.from_starts_at {
                take_place!(Db, tx, &change.to).await?;
                free_place!(Db, tx, &center_id, change.from_starts_at).await?;
            } else {
                free_place!(Db, tx, &center_id, change.from_starts_at).await?;
                take_place!(Db, tx, &change.to).await?;
            }
            withdraw_reminder!(Db, tx, change.id).await?;
            insert_outbox!(Db, &mut *tx, notice)?;
            if let Some(reminder) = reminder {
                insert_outbox!(Db, &mut *tx, reminder)?;
            }
            tx.commit().await?;
            self.ring_outbox();
            Ok(())
        })
    }

    /// Cancels a booking: frees its place, withdraws its reminder and queues `notice`.
    /// Refuses with [`StoreError::BookingChanged`] when it is no longer as the caller saw it.
    pub async fn cancel_booking(
        &self,
        id: Uuid,
        starts_at: OffsetDateTime,
        at: OffsetDateTime,
        notice: &OutboxRow,
    ) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            let cancelled = sqlx::query_scalar::<Db, String>(
                "UPDATE bookings SET status = 'cancelled', cancelled_at = $1, updated_at = $1 \
                 WHERE id = $2 AND status = 'booked' AND starts_at = $3 RETURNING center_id",
            )
            .bind(db_time(at))
            .bind(id)
            .bind(db_time(starts_at))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(center_id) = cancelled else {
                return Err(StoreError::BookingChanged);
            };
            free_place!(Db, tx, &center_id, starts_at).await?;
            withdraw_reminder!(Db, tx, id).await?;
            insert_outbox!(Db, &mut *tx, notice)?;
            tx.commit().await?;
            self.ring_outbox();
            Ok(())
        })
    }

    /// Deletes the personal data of bookings cancelled before `cancelled_before` or whose visit
    /// started before `visited_before`: the fields, the data key (crypto-shredding), the
    /// contact capsule, the token hash and the blind index; the operational row stays.
    /// Address rows with no unpurged booking go too.
    pub async fn purge_bookings(
        &self,
        cancelled_before: OffsetDateTime,
        visited_before: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<BookingPurge, StoreError> {
        with_write_tx!(self, Db, tx => {
            let ids = sqlx::query_scalar::<Db, Uuid>(
                "SELECT id FROM bookings WHERE purged_at IS NULL AND \
                 ((status = 'cancelled' AND cancelled_at < $1) OR starts_at < $2)",
            )
            .bind(db_time(cancelled_before))
            .bind(db_time(visited_before))
            .fetch_all(&mut *tx)
            .await?;
            for id in &ids {
                sqlx::query::<Db>("DELETE FROM booking_personal WHERE booking_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                withdraw_reminder!(Db, tx, *id).await?;
                sqlx::query::<Db>(
                    "UPDATE bookings SET manage_id = NULL, email_index = NULL, \
                     contact_sealed = NULL, purged_at = $1 WHERE id = $2",
                )
                .bind(db_time(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            let holders = sqlx::query::<Db>(
                "DELETE FROM booking_holders WHERE NOT EXISTS (SELECT 1 FROM bookings b \
                 WHERE b.email_index = booking_holders.email_index)",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(BookingPurge {
                bookings: ids.len() as u64,
                holders,
            })
        })
    }

    /// A booking's encrypted personal fields and wrapped data key, as stored. Only the back
    /// office's keyring can open them; the public site never calls this.
    pub async fn encrypted_booking_record(
        &self,
        booking_id: Uuid,
    ) -> Result<Option<crate::EncryptedRecord>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, crate::EncryptedRecord>(
                "SELECT p.fields, k.key_id, k.wrapped FROM booking_personal p \
                 JOIN data_keys k ON k.record_id = p.booking_id WHERE p.booking_id = $1",
            )
            .bind(booking_id)
            .fetch_optional(pool)
            .await?)
        })
    }
}
