//! The rewrap after a back-office key rotation: every data key still wrapped to an earlier key
//! is unwrapped (by that key, in its file or token) and wrapped again to the current key.
//!
//! Only the 32-byte data keys move; the records' encrypted fields are not touched. Each row is
//! replaced only if it is unchanged since it was read, so a record shredded or submitted
//! meanwhile is never resurrected or overwritten. The server runs it in the background
//! ([`run_rewrap`]); `madoguchi keys rewrap` runs it to the end from the command line.

use std::time::Duration;

use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EnvelopeWriter, KeyId, WrappedKey};
use madoguchi_store::{AuditEventRow, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

/// Data keys read per query.
pub const REWRAP_BATCH: i64 = 500;

/// What one pass over the earlier keys did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RewrapPass {
    /// Data keys now wrapped to the current key.
    pub moved: u64,
    /// Data keys that could not be opened (left where they are, and counted by `keys status`).
    pub unreadable: u64,
    /// Data keys wrapped to a key this keyring does not hold (nothing can move them).
    pub unknown_key: u64,
}

/// Moves every data key wrapped to an earlier key this keyring holds to `writer`'s key.
pub async fn rewrap_all(
    store: &Store,
    keyring: &OfficeKeyring,
    writer: &EnvelopeWriter,
) -> Result<RewrapPass, StoreError> {
    let current = writer.key_id();
    let mut pass = RewrapPass::default();
    for (key_id, count) in store.data_key_counts().await? {
        let Ok(id) = key_id.parse::<KeyId>() else {
            pass.unreadable += u64::try_from(count).unwrap_or_default();
            continue;
        };
        if id == current {
            continue;
        }
        if !keyring.holds(id) {
            pass.unknown_key += u64::try_from(count).unwrap_or_default();
            continue;
        }
        rewrap_key(store, keyring, writer, &key_id, &mut pass).await?;
    }
    Ok(pass)
}

async fn rewrap_key(
    store: &Store,
    keyring: &OfficeKeyring,
    writer: &EnvelopeWriter,
    key_id: &str,
    pass: &mut RewrapPass,
) -> Result<(), StoreError> {
    let new_key_id = writer.key_id().to_string();
    let mut after: Option<Uuid> = None;
    loop {
        let rows = store
            .data_keys_wrapped_to(key_id, after, REWRAP_BATCH)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.record_id);
        for row in rows {
            let rewrapped = WrappedKey::from_stored(row.wrapped.clone())
                .ok()
                .and_then(|old| keyring.unwrap(&row.record_id, &old).ok())
                .and_then(|dek| writer.wrap(&row.record_id, &dek).ok());
            let Some(new) = rewrapped else {
                pass.unreadable += 1;
                continue;
            };
            if store
                .rewrap_data_key(row.record_id, &row.wrapped, &new_key_id, new.as_bytes())
                .await?
            {
                pass.moved += 1;
            }
        }
    }
    Ok(())
}

/// Writes a `keys.*` audit event (rotation, rewrap, retirement): key ids and counts only.
pub async fn audit_key_event(
    store: &Store,
    actor: &str,
    action: &str,
    key_id: KeyId,
    detail: String,
) -> Result<(), StoreError> {
    store
        .insert_audit_event(&AuditEventRow {
            id: Uuid::now_v7(),
            at: OffsetDateTime::now_utc(),
            actor: actor.to_owned(),
            actor_address: None,
            session: None,
            action: action.to_owned(),
            subject_kind: Some("key".to_owned()),
            subject_id: Some(key_id.to_string()),
            fields: String::new(),
            purpose: None,
            detail: Some(detail),
            outcome: "ok".to_owned(),
        })
        .await?;
    Ok(())
}

/// How long the background rewrap waits between passes that found nothing to move.
const IDLE: Duration = Duration::from_secs(60);

/// The server's background rewrap: a pass now and then every minute, until `stop`. A pass that
/// moved data keys is audited as `keys.rewrap` by `system:keys`.
pub async fn run_rewrap(
    store: Store,
    keyring: std::sync::Arc<OfficeKeyring>,
    writer: EnvelopeWriter,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match rewrap_all(&store, &keyring, &writer).await {
            Ok(pass) if pass.moved > 0 => {
                let detail = format!(
                    "moved={} unreadable={} unknown_key={}",
                    pass.moved, pass.unreadable, pass.unknown_key
                );
                tracing::info!(%detail, "data keys rewrapped to the current back-office key");
                if let Err(e) = audit_key_event(
                    &store,
                    "system:keys",
                    "keys.rewrap",
                    writer.key_id(),
                    detail,
                )
                .await
                {
                    tracing::error!(error = %e, "the rewrap could not be audited");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "rewrap pass failed; retrying later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.changed() => return,
        }
    }
}
