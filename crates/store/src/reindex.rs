//! Stored e-mail blind indexes by the key that computed them: what a blind-index key
//! rotation's re-index reads and rewrites, and what `keys retire blind-index` counts first.
//!
//! Each application and booking row names the key of its `email_index` (`email_index_key`,
//! NULL for rows written before ids were kept). The back office reads a row's sealed e-mail
//! field with its data key, recomputes the index with the current key and swaps it in only if
//! the row still holds the index it read.

use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError};

/// The two kinds of record that carry an e-mail blind index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexedRecords {
    Applications,
    Bookings,
}

impl IndexedRecords {
    /// Both kinds, in the order a pass takes them.
    pub const ALL: [IndexedRecords; 2] = [IndexedRecords::Applications, IndexedRecords::Bookings];
}

/// One row's index swap: `old` (as read) to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMove {
    pub id: Uuid,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// A row to re-index: its index now, and what opens its e-mail field.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexedRecord {
    pub id: Uuid,
    pub email_index: Vec<u8>,
    /// `madoguchi_seal::EncryptedFields` bytes.
    pub fields: Vec<u8>,
    /// `madoguchi_seal::WrappedKey` bytes.
    pub wrapped: Vec<u8>,
}

/// Rows of one table whose index a key other than `$1` computed, after `$2`, `$3` at a time.
/// Rows whose index is gone (a shredded application's is emptied, a purged booking's NULL)
/// have nothing to re-index.
macro_rules! stale_rows {
    ($table:literal, $personal:literal, $personal_id:literal) => {
        concat!(
            "SELECT r.id, r.email_index, p.fields, d.wrapped FROM ",
            $table,
            " r JOIN ",
            $personal,
            " p ON p.",
            $personal_id,
            " = r.id JOIN data_keys d ON d.record_id = r.id \
             WHERE (r.email_index_key IS NULL OR r.email_index_key <> $1) \
             AND length(r.email_index) = 32 AND r.id > $2 ORDER BY r.id LIMIT $3"
        )
    };
}

impl Store {
    /// How many stored e-mail indexes each blind-index key id computed, per table (`None`:
    /// rows written before key ids were kept).
    pub async fn email_index_key_counts(
        &self,
    ) -> Result<Vec<(String, Option<String>, i64)>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, (String, Option<String>, i64)>(
                "SELECT 'applications', email_index_key, COUNT(*) FROM applications \
                 WHERE length(email_index) = 32 GROUP BY email_index_key \
                 UNION ALL \
                 SELECT 'bookings', email_index_key, COUNT(*) FROM bookings \
                 WHERE length(email_index) = 32 GROUP BY email_index_key",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many stored e-mail indexes were computed by a key other than `current_key`.
    pub async fn stale_email_indexes(&self, current_key: &str) -> Result<u64, StoreError> {
        let counts = self.email_index_key_counts().await?;
        Ok(counts
            .iter()
            .filter(|(_, key, _)| key.as_deref() != Some(current_key))
            .map(|(_, _, n)| u64::try_from(*n).unwrap_or_default())
            .sum())
    }

    /// Up to `limit` rows of `records` whose index a key other than `current_key` computed, in
    /// id order after `after` (so a pass moves on past rows it could not re-index).
    pub async fn records_to_reindex(
        &self,
        records: IndexedRecords,
        current_key: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<IndexedRecord>, StoreError> {
        let sql = match records {
            IndexedRecords::Applications => {
                stale_rows!("applications", "application_personal", "application_id")
            }
            IndexedRecords::Bookings => stale_rows!("bookings", "booking_personal", "booking_id"),
        };
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, IndexedRecord>(sql)
                .bind(current_key)
                .bind(after.unwrap_or_else(Uuid::nil))
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Replaces, in one transaction, each row's e-mail index `old` by `new` (computed by key
    /// `key_id`), only where the row still holds `old`; with it, the live status checks and the
    /// booking holder of `old`. Returns how many rows were re-indexed.
    pub async fn reindex_records(
        &self,
        records: IndexedRecords,
        key_id: &str,
        moves: &[IndexMove],
    ) -> Result<u64, StoreError> {
        if moves.is_empty() {
            return Ok(0);
        }
        let swap = match records {
            IndexedRecords::Applications => {
                "UPDATE applications SET email_index = $1, email_index_key = $2 \
                 WHERE id = $3 AND email_index = $4"
            }
            IndexedRecords::Bookings => {
                "UPDATE bookings SET email_index = $1, email_index_key = $2 \
                 WHERE id = $3 AND email_index = $4"
            }
        };
        with_write_tx!(self, Db, tx => {
            let mut moved = 0;
            for m in moves {
                let swapped = sqlx::query::<Db>(swap)
                    .bind(&m.new)
                    .bind(key_id)
                    .bind(m.id)
                    .bind(&m.old)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if swapped == 0 {
                    // Shredded, purged or re-indexed meanwhile: left as it is.
                    continue;
                }
                moved += swapped;
                // A status check started before the rotation looks the application up by `old`.
                sqlx::query::<Db>("UPDATE email_checks SET email_index = $1 WHERE email_index = $2")
                    .bind(&m.new)
                    .bind(&m.old)
                    .execute(&mut *tx)
                    .await?;
                if records == IndexedRecords::Bookings {
                    // The address's holder row (which serializes its bookings) follows its index.
                    sqlx::query::<Db>(
                        "INSERT INTO booking_holders (email_index, touched_at) \
                         SELECT $1, touched_at FROM booking_holders WHERE email_index = $2 \
                         ON CONFLICT (email_index) DO NOTHING",
                    )
                    .bind(&m.new)
                    .bind(&m.old)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query::<Db>(
                        "DELETE FROM booking_holders WHERE email_index = $1 \
                         AND NOT EXISTS (SELECT 1 FROM bookings WHERE email_index = $1)",
                    )
                    .bind(&m.old)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(moved)
        })
    }
}
