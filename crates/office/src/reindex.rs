//! The re-index after a blind-index key rotation: every application and booking whose e-mail
//! index an earlier key computed gets the index of the current key.
//!
//! Only the back office can do it: the index is an HMAC of the e-mail address, and the address
//! is stored only inside the record's sealed fields. The pass opens each such record's data key
//! and its `email` field (nothing else), recomputes the index and swaps it in only if the row
//! still holds the index it read. The plaintext address lives in zeroized memory for the
//! length of one HMAC. The server runs the pass while `blind-index.previous.key` exists
//! ([`run_reindex`]); `madoguchi keys reindex` runs it now; each pass that moved rows is
//! audited as `keys.reindex` with counts only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use madoguchi_domain::EmailAddress;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_keyring::blind_rotation::reindex_wait;
use madoguchi_seal::{BlindIndexKeys, EncryptedFields, WrappedKey};
use madoguchi_store::{IndexMove, IndexedRecord, IndexedRecords, Store, StoreError};
use tokio::sync::watch;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::key_rotation::audit_key_event;

/// Rows read per query.
pub const REINDEX_BATCH: i64 = 500;

/// What one re-index pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReindexPass {
    /// Rows now indexed with the current key.
    pub moved: u64,
    /// Rows whose e-mail field could not be opened or is not an address (left as they are;
    /// `keys retire blind-index` refuses while any remain).
    pub unreadable: u64,
}

impl ReindexPass {
    /// The pass as an audit detail: counts only.
    pub fn detail(&self) -> String {
        format!("moved={} unreadable={}", self.moved, self.unreadable)
    }
}

/// Re-indexes every application and booking an earlier blind-index key indexed.
pub async fn reindex_all(
    store: &Store,
    keyring: &OfficeKeyring,
    keys: &BlindIndexKeys,
) -> Result<ReindexPass, StoreError> {
    let mut pass = ReindexPass::default();
    for records in IndexedRecords::ALL {
        reindex_table(store, keyring, keys, records, &mut pass).await?;
    }
    Ok(pass)
}

async fn reindex_table(
    store: &Store,
    keyring: &OfficeKeyring,
    keys: &BlindIndexKeys,
    records: IndexedRecords,
    pass: &mut ReindexPass,
) -> Result<(), StoreError> {
    let mut after: Option<Uuid> = None;
    loop {
        let current = keys.current_key_id().to_string();
        let rows = store
            .records_to_reindex(records, &current, after, REINDEX_BATCH)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        let mut moves = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(normalized) = normalized_email(keyring, &row) else {
                pass.unreadable += 1;
                continue;
            };
            let index = keys.email_index(&normalized);
            if index.key_id.to_string() != current {
                // The keys changed during the pass: the next pass takes this row.
                continue;
            }
            moves.push(IndexMove {
                id: row.id,
                new: index.index.as_bytes().to_vec(),
                old: row.email_index,
            });
        }
        // The batch in one transaction; each row swapped only if unchanged since it was read.
        pass.moved += store.reindex_records(records, &current, &moves).await?;
    }
    Ok(())
}

/// The record's e-mail address, normalized as the public site indexes it.
fn normalized_email(keyring: &OfficeKeyring, row: &IndexedRecord) -> Option<Zeroizing<String>> {
    let fields = EncryptedFields::from_bytes(&row.fields).ok()?;
    let wrapped = WrappedKey::from_stored(row.wrapped.clone()).ok()?;
    let plain = keyring
        .open_record(&row.id, &wrapped)
        .ok()?
        .decrypt_field("email", fields.get("email")?)
        .ok()?;
    let text = std::str::from_utf8(&plain).ok()?;
    let email = EmailAddress::parse(text).ok()?;
    Some(Zeroizing::new(email.normalized()))
}

/// How long the background re-index waits between passes.
const IDLE: Duration = Duration::from_secs(60);

/// The server's background re-index: while a blind-index rotation is under way (the previous
/// key is held) and every process has had time to pick up the new key
/// ([`madoguchi_keyring::blind_rotation::REINDEX_AFTER`]), a pass every minute, until `stop`.
/// A pass that moved rows is audited as `keys.reindex` by `system:keys`.
pub async fn run_reindex(
    store: Store,
    keyring: Arc<OfficeKeyring>,
    keys_dir: PathBuf,
    mut stop: watch::Receiver<bool>,
) {
    let keys = match BlindIndexKeys::following(&keys_dir) {
        Ok(keys) => keys,
        Err(e) => {
            tracing::error!(error = %e, "the blind-index keys cannot be read: no re-index");
            return;
        }
    };
    loop {
        let settled = matches!(reindex_wait(&keys_dir), Ok(None));
        if keys.previous_key_id().is_some() && settled {
            match reindex_all(&store, &keyring, &keys).await {
                Ok(pass) if pass.moved > 0 => {
                    let detail = pass.detail();
                    tracing::info!(%detail, "e-mail indexes moved to the current blind-index key");
                    let key = keys.current_key_id();
                    if let Err(e) =
                        audit_key_event(&store, "system:keys", "keys.reindex", key, detail).await
                    {
                        tracing::error!(error = %e, "the re-index could not be audited");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "re-index pass failed; retrying later"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.changed() => return,
        }
    }
}
