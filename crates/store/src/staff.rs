//! Bank staff of the back office: accounts, password hashes, lock-out and the TOTP seed
//! (ciphertext, its data key in `data_keys` with record id = staff id).
//!
//! The store keeps what the back office decided; the rules (how many failures lock, for how
//! long, which time step is acceptable) are the office's, passed in as values.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::staff_session::end_sessions_in;
use crate::{Store, StoreError, db_time};

/// A member of staff as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub scope: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub must_change_password: bool,
    /// When a first code confirmed the TOTP enrolment; `None`: no second factor yet.
    pub totp_enrolled_at: Option<OffsetDateTime>,
    pub failed_attempts: i64,
    pub locked_until: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    /// When detection held the account (sessions ended, sign-in refused until a reset).
    pub held_at: Option<OffsetDateTime>,
    /// The rule whose breach held it.
    pub held_rule: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_sign_in_at: Option<OffsetDateTime>,
    pub password_changed_at: Option<OffsetDateTime>,
}

/// Not the password hash: it is no secret, but has no business in logs.
impl fmt::Debug for StaffRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("scope", &self.scope)
            .field("disabled_at", &self.disabled_at)
            .field("held_rule", &self.held_rule)
            .finish_non_exhaustive()
    }
}

/// A new member of staff.
pub struct NewStaff<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub role: &'a str,
    pub scope: &'a str,
    pub password_hash: &'a str,
    pub at: OffsetDateTime,
}

/// The encrypted TOTP seed of a member of staff and its wrapped data key.
#[derive(Clone, sqlx::FromRow)]
pub struct StaffTotpRow {
    /// Field `totp_secret` of record <staff id>.
    pub totp_secret: Vec<u8>,
    pub key_id: String,
    pub wrapped: Vec<u8>,
    pub totp_enrolled_at: Option<OffsetDateTime>,
    pub totp_last_step: Option<i64>,
}

impl fmt::Debug for StaffTotpRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffTotpRow")
            .field("key_id", &self.key_id)
            .field("totp_enrolled_at", &self.totp_enrolled_at)
            .finish_non_exhaustive()
    }
}

/// The SET clause that takes one attempt out of flight.
macro_rules! in_flight_done {
    () => {
        "sign_ins_in_flight = CASE WHEN sign_ins_in_flight > 0 \
         THEN sign_ins_in_flight - 1 ELSE 0 END"
    };
}

impl Store {
    /// Adds a member of staff who must change the password at first sign-in. A username
    /// already taken is a unique violation ([`StoreError::is_unique_violation`]).
    pub async fn insert_staff(&self, staff: &NewStaff<'_>) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "INSERT INTO staff (id, username, role, scope, password_hash, \
                 must_change_password, failed_attempts, created_at) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, 0, $6)",
            )
            .bind(staff.id)
            .bind(staff.username)
            .bind(staff.role)
            .bind(staff.scope)
            .bind(staff.password_hash)
            .bind(db_time(staff.at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// The member of staff with this (normalized) username.
    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, StaffRow>(
                "SELECT id, username, role, scope, password_hash, must_change_password, \
                 totp_enrolled_at, failed_attempts, locked_until, disabled_at, held_at, held_rule, created_at, \
                 last_sign_in_at, password_changed_at FROM staff WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The member of staff with this id.
    pub async fn staff_by_id(&self, id: Uuid) -> Result<Option<StaffRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, StaffRow>(
                "SELECT id, username, role, scope, password_hash, must_change_password, \
                 totp_enrolled_at, failed_attempts, locked_until, disabled_at, held_at, held_rule, created_at, \
                 last_sign_in_at, password_changed_at FROM staff WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Every member of staff, by username.
    pub async fn list_staff(&self) -> Result<Vec<StaffRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, StaffRow>(
                "SELECT id, username, role, scope, password_hash, must_change_password, \
                 totp_enrolled_at, failed_attempts, locked_until, disabled_at, held_at, held_rule, created_at, \
                 last_sign_in_at, password_changed_at FROM staff ORDER BY username",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// Disables a member of staff and ends their sessions, in one transaction; `false` when
    /// there is no such member or they were disabled already.
    pub async fn disable_staff(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        let at = db_time(at);
        with_write_tx!(self, Db, tx => {
            let changed = sqlx::query::<Db>(
                "UPDATE staff SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            end_sessions_in!(Db, tx, id, at)?;
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// Gives a member of staff a new one-time password: it must be changed at the next
    /// sign-in, the TOTP enrolment (seed and its data key) and passkeys are cleared, the
    /// lock-out lifted and every session ended, in one transaction. `false` when there is no
    /// such member.
    pub async fn reset_staff(
        &self,
        id: Uuid,
        password_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let at = db_time(at);
        with_write_tx!(self, Db, tx => {
            let changed = sqlx::query::<Db>(
                "UPDATE staff SET password_hash = $2, must_change_password = TRUE, \
                 totp_secret = NULL, totp_enrolled_at = NULL, totp_last_step = NULL, \
                 failed_attempts = 0, locked_until = NULL, lockouts = 0, sign_ins_in_flight = 0, \
                 held_at = NULL, \
                 held_rule = NULL \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            // Every second factor goes: the new holder of the password enrols their own.
            sqlx::query::<Db>("DELETE FROM staff_passkeys WHERE staff_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            end_sessions_in!(Db, tx, id, at)?;
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// Claims one sign-in attempt (a password or a code about to be checked) *before* it is
    /// checked: refused while the account is locked, or while the failures in a row and the
    /// attempts in flight already make `max_failures` — whatever the number of requests in
    /// parallel. `false` when refused (or no such member). Settle it with
    /// [`Store::sign_in_attempt_succeeded`] or [`Store::sign_in_attempt_failed`].
    pub async fn claim_sign_in_attempt(
        &self,
        id: Uuid,
        max_failures: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let claimed = sqlx::query::<Db>(
                "UPDATE staff SET sign_ins_in_flight = sign_ins_in_flight + 1 \
                 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) \
                 AND failed_attempts + sign_ins_in_flight < $3",
            )
            .bind(id)
            .bind(db_time(now))
            .bind(max_failures)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(claimed == 1)
        })
    }

    /// A claimed attempt was right: it is no longer in flight. `false` when the account is
    /// locked meanwhile: the attempt must be refused all the same.
    pub async fn sign_in_attempt_succeeded(
        &self,
        id: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let locked = sqlx::query_scalar::<Db, Option<OffsetDateTime>>(concat!(
                "UPDATE staff SET ",
                in_flight_done!(),
                " WHERE id = $1 RETURNING locked_until"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(matches!(locked, Some(until) if until.is_none_or(|t| t <= now)))
        })
    }

    /// A claimed attempt that could not be checked (the server too busy, an error): no
    /// longer in flight, and counted neither way.
    pub async fn sign_in_attempt_abandoned(&self, id: Uuid) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(concat!("UPDATE staff SET ", in_flight_done!(), " WHERE id = $1"))
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// A claimed attempt was wrong: one more failure in a row. The `max_failures`-th locks
    /// the account for `lock_for(n)`, `n` being the lock-outs in a row (1 for the first),
    /// ends its sessions, and the count starts again; returns until when. `None`: not locked
    /// by this failure.
    pub async fn sign_in_attempt_failed(
        &self,
        id: Uuid,
        max_failures: i64,
        lock_for: impl FnOnce(i64) -> time::Duration,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        with_write_tx!(self, Db, tx => {
            // The first statement takes the row's lock until the commit.
            let failures = sqlx::query_scalar::<Db, i64>(concat!(
                "UPDATE staff SET failed_attempts = failed_attempts + 1, ",
                in_flight_done!(),
                " WHERE id = $1 RETURNING failed_attempts"
            ))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if failures.is_none_or(|n| n < max_failures) {
                tx.commit().await?;
                return Ok(None);
            }
            let lockouts = sqlx::query_scalar::<Db, i64>(
                "UPDATE staff SET failed_attempts = 0, lockouts = lockouts + 1 \
                 WHERE id = $1 RETURNING lockouts",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let until = db_time(now + lock_for(lockouts));
            sqlx::query::<Db>("UPDATE staff SET locked_until = $2 WHERE id = $1")
                .bind(id)
                .bind(until)
                .execute(&mut *tx)
                .await?;
            end_sessions_in!(Db, tx, id, db_time(now))?;
            tx.commit().await?;
            Ok(Some(until))
        })
    }

    /// A complete sign-in (password and second factor): the failure count starts again.
    pub async fn record_sign_in(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff SET failed_attempts = 0, locked_until = NULL, lockouts = 0, \
                 last_sign_in_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(db_time(at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Stores a password chosen by the member of staff (no longer to be changed), and ends
    /// every session of theirs but `keep` (the one that changed it), in one transaction: a
    /// password changed because it leaked also shuts out whoever used it.
    pub async fn set_staff_password(
        &self,
        id: Uuid,
        password_hash: &str,
        at: OffsetDateTime,
        keep: &[u8],
    ) -> Result<(), StoreError> {
        let at = db_time(at);
        with_write_tx!(self, Db, tx => {
            sqlx::query::<Db>(
                "UPDATE staff SET password_hash = $2, must_change_password = FALSE, \
                 password_changed_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(password_hash)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET ended_at = $2 \
                 WHERE staff_id = $1 AND ended_at IS NULL AND id <> $3",
            )
            .bind(id)
            .bind(at)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Replaces a hash by one of the same password with the current parameters, unless the
    /// password changed meanwhile.
    pub async fn rehash_staff_password(
        &self,
        id: Uuid,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
            )
            .bind(id)
            .bind(old_hash)
            .bind(new_hash)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Stores a new, not yet confirmed TOTP seed (ciphertext) and its data key, replacing an
    /// unconfirmed one; `false` when the enrolment was already confirmed.
    pub async fn begin_totp_enrolment(
        &self,
        id: Uuid,
        totp_secret: &[u8],
        key_id: &str,
        wrapped: &[u8],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let at = db_time(at);
        with_write_tx!(self, Db, tx => {
            let changed = sqlx::query::<Db>(
                "UPDATE staff SET totp_secret = $2, totp_last_step = NULL \
                 WHERE id = $1 AND totp_enrolled_at IS NULL",
            )
            .bind(id)
            .bind(totp_secret)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                sqlx::query::<Db>("DELETE FROM data_keys WHERE record_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Db>(
                    "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(key_id)
                .bind(wrapped)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// The encrypted TOTP seed of a member of staff, if enrolment has started.
    pub async fn staff_totp(&self, id: Uuid) -> Result<Option<StaffTotpRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, StaffTotpRow>(
                "SELECT s.totp_secret, k.key_id, k.wrapped, s.totp_enrolled_at, s.totp_last_step \
                 FROM staff s JOIN data_keys k ON k.record_id = s.id \
                 WHERE s.id = $1 AND s.totp_secret IS NOT NULL",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Uses TOTP time step `step`: `true` only when it is later than every step used before
    /// (so a code is accepted once, and never an older one). Confirms an enrolment.
    pub async fn use_totp_step(
        &self,
        id: Uuid,
        step: i64,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let changed = sqlx::query::<Db>(
                "UPDATE staff SET totp_last_step = $2, \
                 totp_enrolled_at = COALESCE(totp_enrolled_at, $3) \
                 WHERE id = $1 AND totp_secret IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            )
            .bind(id)
            .bind(step)
            .bind(db_time(at))
            .execute(pool)
            .await?
            .rows_affected();
            Ok(changed == 1)
        })
    }
}
