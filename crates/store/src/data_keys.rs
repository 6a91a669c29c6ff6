//! Per-record data keys by the back-office key they are wrapped to: what a key rotation's
//! rewrap reads and rewrites, and what `keys retire` counts before it deletes an old key.

use uuid::Uuid;

use crate::backend::with_db;
use crate::{Store, StoreError};

/// One data key to move to the current back-office key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WrappedDataKey {
    pub record_id: Uuid,
    /// `madoguchi_seal::WrappedKey` bytes.
    pub wrapped: Vec<u8>,
}

impl Store {
    /// How many data keys are wrapped to each back-office key id, by key id.
    pub async fn data_key_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, (String, i64)>(
                "SELECT key_id, COUNT(*) FROM data_keys GROUP BY key_id ORDER BY key_id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// Up to `limit` data keys wrapped to `key_id`, in record order after `after` (so a pass
    /// moves on past records it could not rewrap).
    pub async fn data_keys_wrapped_to(
        &self,
        key_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<WrappedDataKey>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, WrappedDataKey>(
                "SELECT record_id, wrapped FROM data_keys \
                 WHERE key_id = $1 AND ($2 IS NULL OR record_id > $2) \
                 ORDER BY record_id LIMIT $3",
            )
            .bind(key_id)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Replaces a record's wrapped data key, only if it is still `old` (a record shredded or
    /// rewrapped meanwhile is left alone). Returns whether it was replaced.
    pub async fn rewrap_data_key(
        &self,
        record_id: Uuid,
        old: &[u8],
        new_key_id: &str,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let n = sqlx::query::<Db>(
                "UPDATE data_keys SET key_id = $1, wrapped = $2 \
                 WHERE record_id = $3 AND wrapped = $4",
            )
            .bind(new_key_id)
            .bind(new)
            .bind(record_id)
            .bind(old)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(n == 1)
        })
    }
}
