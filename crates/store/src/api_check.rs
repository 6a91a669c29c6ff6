//! The JSON API's e-mail check: the check is stored under the key of the client's check id,
//! and the right code turns it into a draft stored under the key of a *new* secret, the
//! verification token, which the submission presents. Nothing else differs from the browser's
//! check (`email_check.rs`, `draft.rs`).

use crate::backend::with_write_tx;
use crate::{DraftRow, Store, StoreError};

impl Store {
    /// Ends the e-mail check stored under `check_key` and starts `draft` (stored under its own
    /// `session_id`), atomically: a verified code yields one token (the API) or one renewed
    /// browser session (the forms). Fails with
    /// [`StoreError::DraftGone`] (and changes nothing) when the check is gone.
    pub async fn start_draft_from_check(
        &self,
        check_key: &[u8],
        draft: &DraftRow,
    ) -> Result<(), StoreError> {
        with_write_tx!(self, Db, tx => {
            let ended = sqlx::query::<Db>("DELETE FROM email_checks WHERE session_id = $1")
                .bind(check_key)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if ended == 0 {
                return Err(StoreError::DraftGone);
            }
            // A draft the old session held (the browser verified another address) ends.
            sqlx::query::<Db>("DELETE FROM drafts WHERE session_id = $1")
                .bind(check_key)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(
                "INSERT INTO drafts (session_id, product, application_id, body, created_at, \
                 updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&draft.session_id)
            .bind(&draft.product)
            .bind(draft.application_id)
            .bind(&draft.body)
            .bind(crate::db_time(draft.created_at))
            .bind(crate::db_time(draft.updated_at))
            .bind(crate::db_time(draft.expires_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
