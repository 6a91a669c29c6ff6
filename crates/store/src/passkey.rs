//! Staff passkeys (WebAuthn) and the ceremony a session has in progress.
//!
//! A passkey is stored as the JSON the WebAuthn library gives (credential id, public key,
//! signature counter): public material, so plain. The challenge of a ceremony in progress
//! lives in its session's row and is *taken* — read and cleared in one transaction — by the
//! answer, so that one challenge is answered at most once.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{with_db, with_write_tx};
use crate::{Store, StoreError, db_time};

/// A registered passkey.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub credential_id: Vec<u8>,
    /// The name its owner gave it (e.g. 「窓口端末3」).
    pub name: String,
    /// The WebAuthn library's passkey, as JSON.
    pub passkey: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A passkey to register.
pub struct NewPasskey<'a> {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub credential_id: &'a [u8],
    pub name: &'a str,
    pub passkey: &'a str,
    pub at: OffsetDateTime,
}

impl Store {
    /// The passkeys of a member of staff, oldest first.
    pub async fn staff_passkeys(&self, staff_id: Uuid) -> Result<Vec<PasskeyRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, PasskeyRow>(
                "SELECT id, staff_id, credential_id, name, passkey, created_at, last_used_at \
                 FROM staff_passkeys WHERE staff_id = $1 ORDER BY created_at, id",
            )
            .bind(staff_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Registers a passkey; `false` when its credential is registered already.
    pub async fn add_staff_passkey(&self, passkey: &NewPasskey<'_>) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let added = sqlx::query::<Db>(
                "INSERT INTO staff_passkeys (id, staff_id, credential_id, name, passkey, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (credential_id) DO NOTHING",
            )
            .bind(passkey.id)
            .bind(passkey.staff_id)
            .bind(passkey.credential_id)
            .bind(passkey.name)
            .bind(passkey.passkey)
            .bind(db_time(passkey.at))
            .execute(pool)
            .await?
            .rows_affected();
            Ok(added == 1)
        })
    }

    /// Records a use of a passkey: its new state (signature counter) and when.
    pub async fn use_staff_passkey(
        &self,
        id: Uuid,
        passkey: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_passkeys SET passkey = $2, last_used_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(passkey)
            .bind(db_time(at))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Removes one of a member of staff's own passkeys; `false` when they have no such one.
    pub async fn delete_staff_passkey(&self, staff_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        with_db!(self, write, Db, pool => {
            let deleted = sqlx::query::<Db>(
                "DELETE FROM staff_passkeys WHERE id = $1 AND staff_id = $2",
            )
            .bind(id)
            .bind(staff_id)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(deleted == 1)
        })
    }

    /// Keeps `ceremony` (a WebAuthn challenge's state) with the session, replacing any other.
    pub async fn set_session_ceremony(
        &self,
        session: &[u8],
        ceremony: &str,
    ) -> Result<(), StoreError> {
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>(
                "UPDATE staff_sessions SET ceremony = $2 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(session)
            .bind(ceremony)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Takes the session's ceremony: returns it and clears it in one transaction.
    pub async fn take_session_ceremony(
        &self,
        session: &[u8],
    ) -> Result<Option<String>, StoreError> {
        with_write_tx!(self, Db, tx => {
            let ceremony = sqlx::query_scalar::<Db, Option<String>>(
                "SELECT ceremony FROM staff_sessions WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(session)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            if ceremony.is_some() {
                sqlx::query::<Db>("UPDATE staff_sessions SET ceremony = NULL WHERE id = $1")
                    .bind(session)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(ceremony)
        })
    }
}
