//! Limits whose state every instance shares (issue 16): a counter per `(name, key)` over a
//! fixed window, in the database.
//!
//! A limit is **claimed before the work it limits** — one atomic upsert that adds one only
//! while the count is under the limit — so that N parallel requests cannot all pass a check
//! that counts only what has already happened. Work that turns out not to count (a right
//! password) gives its claim back ([`Store::release_limit`]). A claim that is never settled
//! (the process died meanwhile) stays counted: the limit errs on the side of refusing.
//!
//! Keys are bytes the caller derived (an address key, a blind index), never clear text.

use time::{Duration, OffsetDateTime};

use crate::backend::with_db;
use crate::{Store, StoreError, db_time};

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitClaim {
    /// Counted: this claim is the `count`-th of the window that began at `window`.
    Granted { count: i64, window: OffsetDateTime },
    /// The limit is reached; the window ends at `until`.
    Refused { until: OffsetDateTime },
}

impl Store {
    /// Counts one more under `name` for `key` in the current window of length `window`, unless
    /// `limit` are counted already. Atomic on both databases, whatever the number of instances.
    pub async fn claim_limit(
        &self,
        name: &str,
        key: &[u8],
        limit: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<LimitClaim, StoreError> {
        let now = db_time(now);
        let expired = now - window;
        with_db!(self, write, Db, pool => {
            let granted = sqlx::query_as::<Db, (i64, OffsetDateTime)>(
                "INSERT INTO limit_counters (name, key, window_start, count) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (name, key) DO UPDATE SET \
                 count = CASE WHEN limit_counters.window_start <= $4 THEN 1 \
                              ELSE limit_counters.count + 1 END, \
                 window_start = CASE WHEN limit_counters.window_start <= $4 THEN $3 \
                                     ELSE limit_counters.window_start END \
                 WHERE limit_counters.window_start <= $4 OR limit_counters.count < $5 \
                 RETURNING count, window_start",
            )
            .bind(name)
            .bind(key)
            .bind(now)
            .bind(expired)
            .bind(i64::from(limit))
            .fetch_optional(pool)
            .await?;
            if let Some((count, window)) = granted {
                return Ok(LimitClaim::Granted { count, window });
            }
            let started: Option<OffsetDateTime> = sqlx::query_scalar::<Db, OffsetDateTime>(
                "SELECT window_start FROM limit_counters WHERE name = $1 AND key = $2",
            )
            .bind(name)
            .bind(key)
            .fetch_optional(pool)
            .await?;
            Ok(LimitClaim::Refused {
                until: started.unwrap_or(now) + window,
            })
        })
    }

    /// Gives back a claim granted in the window that began at `window` (nothing when that
    /// window has ended meanwhile).
    pub async fn release_limit(
        &self,
        name: &str,
        key: &[u8],
        window: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE limit_counters SET count = count - 1 \
                 WHERE name = $1 AND key = $2 AND window_start = $3 AND count > 0",
            )
            .bind(name)
            .bind(key)
            .bind(db_time(window))
            .execute(pool)
            .await?;
            Ok(())
        })
    }
}
