//! What detection counts (SPEC §7), read from the audit log through its indexes on
//! `(actor, at)` and `(actor_ip, at)`; the holds it places on staff; the canary records.
//!
//! The limits are the profile's and the decisions the back office's: this module only counts
//! and writes what it is told.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{append_in, lock_log};
use crate::backend::{Backend, with_db, with_write_tx};
use crate::staff_session::end_sessions_in;
use crate::{AuditEventRow, NewApplication, Store, StoreError, db_time};

/// A canary visit: what [`Store::plant_canary_booking`] stores.
pub struct CanaryBooking {
    pub id: Uuid,
    pub center_id: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub consultation: String,
    /// Random, as a real booking form's nonce hash is.
    pub request_id: Vec<u8>,
    pub email_index: Vec<u8>,
    /// Stored as a real booking's is, so nothing in the row gives the canary away.
    pub email_index_key: String,
    pub personal_fields: Vec<u8>,
    pub data_key_id: String,
    pub wrapped_data_key: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// (`subject_kind || ''`: see `incident.rs`, no index on a condition nearly every event meets.)
/// Reads of one customer's personal data: fields of an application or a booking, or an
/// application's document (counted as its application, named in the event's detail as
/// `application:<id>`). CSV exports are counted apart ([`Store::exported_rows_since`]).
macro_rules! customer_read {
    () => {
        "outcome = 'ok' AND fields <> '' \
         AND subject_kind || '' IN ('application', 'booking', 'document') \
         AND action <> 'application.export'"
    };
}

/// The customer an event read, as the distinct count compares them.
macro_rules! customer {
    () => {
        "CASE WHEN subject_kind = 'document' THEN substr(detail, 13) ELSE subject_id END"
    };
}

/// What detection counts of one actor, read inside the audit log's lock: every event any
/// instance committed before, plus the events being appended, and nothing in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorTally {
    /// Distinct applications and bookings read since the reads' window began.
    pub customers_read: i64,
    /// When personal data was read since the reads' window began.
    pub reads_at: Vec<OffsetDateTime>,
    /// Application rows exported (CSV) since the exports' window began.
    pub exported_rows: i64,
}

/// Whose events are counted, and from when.
#[derive(Debug, Clone)]
pub struct TallyWindows {
    /// `staff:<id>`, as in the events.
    pub actor: String,
    pub reads_since: OffsetDateTime,
    pub exports_since: OffsetDateTime,
}

/// The customer `event` reads, as `customer_read!()` and `customer!()` count them in SQL.
fn customer_read_by(event: &AuditEventRow) -> Option<String> {
    if event.outcome != "ok" || event.fields.is_empty() || event.action == "application.export" {
        return None;
    }
    match event.subject_kind.as_deref()? {
        "application" | "booking" => event.subject_id.clone(),
        "document" => event.detail.as_deref()?.get(12..).map(str::to_owned),
        _ => None,
    }
}

fn exports(event: &AuditEventRow) -> bool {
    event.action == "application.export" && event.outcome == "ok"
}

impl Store {
    /// Appends `events` — or, when `screen` finds that they break a rule, what `deny` makes
    /// of each — in **one step with the count that decides**: the log's lock is taken, the
    /// actor's [`ActorTally`] read (including `events`), `screen` asked, and the events
    /// written, in one transaction. Parallel requests of one actor, on any number of
    /// instances, are thus counted one after another: a limit of L lets at most L through.
    pub async fn append_audit_screened<T>(
        &self,
        events: &[AuditEventRow],
        windows: &TallyWindows,
        screen: impl FnOnce(&ActorTally) -> Option<T>,
        deny: impl Fn(&AuditEventRow, &T) -> AuditEventRow,
    ) -> Result<Result<(), T>, StoreError> {
        let postgres = self.backend() == Backend::Postgres;
        let reads_since = db_time(windows.reads_since);
        let exports_since = db_time(windows.exports_since);
        let actor = windows.actor.as_str();
        with_write_tx!(self, Db, tx => {
            lock_log!(Db, tx, postgres);
            let mut read: Vec<Option<String>> = sqlx::query_scalar::<Db, Option<String>>(concat!(
                "SELECT DISTINCT ",
                customer!(),
                " FROM audit_events WHERE actor = $1 AND at >= $2 AND ",
                customer_read!()
            ))
            .bind(actor)
            .bind(reads_since)
            .fetch_all(&mut *tx)
            .await?;
            let mut reads_at = sqlx::query_scalar::<Db, OffsetDateTime>(concat!(
                "SELECT at FROM audit_events WHERE actor = $1 AND at >= $2 AND ",
                customer_read!(),
                " ORDER BY at"
            ))
            .bind(actor)
            .bind(reads_since)
            .fetch_all(&mut *tx)
            .await?;
            let exported: i64 = sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM audit_events WHERE actor = $1 AND at >= $2 \
                 AND action = 'application.export' AND outcome = 'ok'",
            )
            .bind(actor)
            .bind(exports_since)
            .fetch_one(&mut *tx)
            .await?;
            for event in events {
                if let Some(customer) = customer_read_by(event) {
                    reads_at.push(event.at);
                    read.push(Some(customer));
                }
            }
            read.sort_unstable();
            read.dedup();
            let new_exports = events.iter().filter(|e| exports(e)).count();
            let tally = ActorTally {
                customers_read: i64::try_from(read.len()).unwrap_or(i64::MAX),
                reads_at,
                exported_rows: exported
                    .saturating_add(i64::try_from(new_exports).unwrap_or(i64::MAX)),
            };
            let verdict = screen(&tally);
            for event in events {
                match &verdict {
                    None => append_in!(Db, tx, event),
                    Some(breach) => append_in!(Db, tx, &deny(event, breach)),
                };
            }
            tx.commit().await?;
            Ok(match verdict {
                None => Ok(()),
                Some(breach) => Err(breach),
            })
        })
    }

    /// Failed back-office sign-ins from `address` (16 bytes, [`crate::ip_key`]) since
    /// `since`, over all accounts.
    pub async fn failed_sign_ins_from(
        &self,
        address: [u8; 16],
        since: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let since = db_time(since);
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM audit_events WHERE actor_ip = $1 AND at >= $2 \
                 AND action = 'staff.sign-in' AND outcome = 'failed'",
            )
            .bind(&address[..])
            .bind(since)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Holds a member of staff for breaking `rule`: every session ends, and sign-in is
    /// refused until an administrator resets the account. `false` when already held (the
    /// first rule broken stays named).
    pub async fn hold_staff(
        &self,
        id: Uuid,
        rule: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let at = db_time(at);
        with_write_tx!(self, Db, tx => {
            let changed = sqlx::query::<Db>(
                "UPDATE staff SET held_at = $2, held_rule = $3 WHERE id = $1 AND held_at IS NULL",
            )
            .bind(id)
            .bind(at)
            .bind(rule)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            end_sessions_in!(Db, tx, id, at)?;
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// Plants a canary application: stored as a submission is (record, data key, personal
    /// fields), already in `status` since `at`, and listed as a canary, in one transaction.
    pub async fn plant_canary_application(
        &self,
        application: &NewApplication,
        status: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let at = db_time(application.submitted_at);
        with_write_tx!(self, Db, tx => {
            sqlx::query::<Db>(
                "INSERT INTO applications (id, receipt_number, product, status, branch_code, \
                 email_index, email_index_key, submitted_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7)",
            )
            .bind(application.id)
            .bind(&application.receipt_number)
            .bind(&application.product)
            .bind(status)
            .bind(&application.branch_code)
            .bind(&application.email_index)
            .bind(at)
            .bind(&application.email_index_key)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(application.id)
            .bind(&application.data_key_id)
            .bind(&application.wrapped_data_key)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "INSERT INTO application_personal (application_id, fields) VALUES ($1, $2)",
            )
            .bind(application.id)
            .bind(&application.personal_fields)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "INSERT INTO canaries (subject_kind, subject_id, planted_at) \
                 VALUES ('application', $1, $2)",
            )
            .bind(application.id.to_string())
            .bind(db_time(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Plants a canary booking: a visit that took place (no place taken from any slot), its
    /// personal fields under their data key, listed as a canary, in one transaction.
    pub async fn plant_canary_booking(
        &self,
        booking: &CanaryBooking,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let at = db_time(booking.created_at);
        with_write_tx!(self, Db, tx => {
            sqlx::query::<Db>(
                "INSERT INTO bookings (id, center_id, starts_at, ends_at, consultation, status, \
                 request_id, email_index, email_index_key, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'visited', $6, $7, $10, $8, $9)",
            )
            .bind(booking.id)
            .bind(&booking.center_id)
            .bind(db_time(booking.starts_at))
            .bind(db_time(booking.ends_at))
            .bind(&booking.consultation)
            .bind(&booking.request_id)
            .bind(&booking.email_index)
            .bind(at)
            .bind(db_time(booking.ends_at))
            .bind(&booking.email_index_key)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(booking.id)
            .bind(&booking.data_key_id)
            .bind(&booking.wrapped_data_key)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>("INSERT INTO booking_personal (booking_id, fields) VALUES ($1, $2)")
                .bind(booking.id)
                .bind(&booking.personal_fields)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(
                "INSERT INTO canaries (subject_kind, subject_id, planted_at) \
                 VALUES ('booking', $1, $2)",
            )
            .bind(booking.id.to_string())
            .bind(db_time(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Whether `subject_id` of `subject_kind` is a canary record.
    pub async fn is_canary(
        &self,
        subject_kind: &str,
        subject_id: &str,
    ) -> Result<bool, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, String>(
                "SELECT subject_kind FROM canaries WHERE subject_kind = $1 AND subject_id = $2",
            )
            .bind(subject_kind)
            .bind(subject_id)
            .fetch_optional(pool)
            .await?
            .is_some())
        })
    }

    /// Every canary record as (kind, id), oldest first: for the security team's own tests
    /// of the alarm, never shown in the back office.
    pub async fn canaries(&self) -> Result<Vec<(String, String)>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, (String, String)>(
                "SELECT subject_kind, subject_id FROM canaries ORDER BY planted_at, subject_id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many canary records are planted, by kind (`application`, `booking`).
    pub async fn canary_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, (String, i64)>(
                "SELECT subject_kind, COUNT(*) FROM canaries GROUP BY subject_kind \
                 ORDER BY subject_kind",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
