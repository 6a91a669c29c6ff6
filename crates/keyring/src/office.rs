//! The back office's keyring: unwraps per-record data keys and decrypts fields.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305, XNonce};
use madoguchi_seal::keyfile::{KeyFileError, KeyRole, OFFICE_KEY};
use madoguchi_seal::suite::{
    DEK_INFO, DEK_LEN, P256_POINT_LEN, field_aad, p256_dek_aad, p256_kek, split_field_ciphertext,
    validate_field_name,
};
use madoguchi_seal::{KeyId, WrapScheme, WrappedKey};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::OpenError;
use crate::private_key::PrivateKey;
use crate::rotation::OfficeKeySource;
use crate::token::TokenKey;

/// One back-office private key: a key file, or a key pair in a PKCS#11 token.
#[derive(Debug)]
pub enum OfficeKey {
    /// X25519 in `office.key` (or a not yet retired `office.<key id>.key`).
    File(PrivateKey),
    /// P-256 in a token; only ECDH results leave it.
    Token(TokenKey),
}

impl OfficeKey {
    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        match self {
            OfficeKey::File(k) => k.key_id(),
            OfficeKey::Token(k) => k.key_id(),
        }
    }
}

impl From<PrivateKey> for OfficeKey {
    fn from(key: PrivateKey) -> Self {
        OfficeKey::File(key)
    }
}

impl From<TokenKey> for OfficeKey {
    fn from(key: TokenKey) -> Self {
        OfficeKey::Token(key)
    }
}

/// The back office's private keys, by key id: the current one and, while a rotation's rewrap
/// runs, the ones before it.
///
/// Loaded from an [`OfficeKeySource`], it reloads when it meets a key id it does not hold
/// (at most every few seconds): that is how a running back office picks up a rotated key.
pub struct OfficeKeyring {
    keys: RwLock<HashMap<KeyId, Arc<OfficeKey>>>,
    source: Option<OfficeKeySource>,
    reloaded_at: Mutex<Option<Instant>>,
}

/// Fewest seconds between two reloads triggered by unknown key ids.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

impl OfficeKeyring {
    /// Loads `office.key` and every not yet retired `office.<key id>.key` from the keys folder.
    pub fn load(keys_dir: &Path) -> Result<Self, KeyFileError> {
        let current = keys_dir.join(OFFICE_KEY);
        let mut keys = vec![PrivateKey::load_expecting(&current, KeyRole::Office)?];
        for path in crate::rotation::previous_office_key_files(keys_dir)? {
            keys.push(PrivateKey::load_expecting(&path, KeyRole::Office)?);
        }
        Ok(Self::from_keys(keys))
    }

    /// A keyring holding these keys.
    pub fn from_keys<K: Into<OfficeKey>>(keys: impl IntoIterator<Item = K>) -> Self {
        OfficeKeyring {
            keys: RwLock::new(
                keys.into_iter()
                    .map(Into::into)
                    .map(|k| (k.key_id(), Arc::new(k)))
                    .collect(),
            ),
            source: None,
            reloaded_at: Mutex::new(None),
        }
    }

    /// Adds keys (the token's, beside or instead of the files').
    pub fn extend<K: Into<OfficeKey>>(&mut self, keys: impl IntoIterator<Item = K>) {
        let map = self.keys.get_mut().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            let key = key.into();
            map.insert(key.key_id(), Arc::new(key));
        }
    }

    /// Remembers where the keys came from, so a rotated key can be picked up.
    pub(crate) fn set_source(&mut self, source: OfficeKeySource) {
        self.source = Some(source);
    }

    /// Whether the keyring holds this key.
    pub fn holds(&self, key_id: KeyId) -> bool {
        self.read().contains_key(&key_id)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<KeyId, Arc<OfficeKey>>> {
        // Writers replace the whole map in one assignment, so a poisoned lock holds a whole map.
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn key(&self, key_id: KeyId) -> Option<Arc<OfficeKey>> {
        if let Some(key) = self.read().get(&key_id) {
            return Some(Arc::clone(key));
        }
        self.reload();
        self.read().get(&key_id).cloned()
    }

    /// Reloads from the source, if any and not within the last [`RELOAD_EVERY`]. A failed
    /// reload keeps the keys already held.
    fn reload(&self) {
        let Some(source) = &self.source else { return };
        {
            let mut at = self
                .reloaded_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if at.is_some_and(|t| t.elapsed() < RELOAD_EVERY) {
                return;
            }
            *at = Some(Instant::now());
        }
        if let Ok(fresh) = source.load() {
            let map = fresh
                .keys
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner);
            *self.keys.write().unwrap_or_else(PoisonError::into_inner) = map;
        }
    }

    /// The ids of the keys held, sorted.
    pub fn key_ids(&self) -> Vec<KeyId> {
        let mut ids: Vec<KeyId> = self.read().keys().copied().collect();
        ids.sort();
        ids
    }

    /// Unwraps the data key of `record_id`.
    pub fn open_record(
        &self,
        record_id: &Uuid,
        wrapped: &WrappedKey,
    ) -> Result<RecordDecryptor, OpenError> {
        let dek = self.unwrap(record_id, wrapped)?;
        Ok(RecordDecryptor {
            record_id: *record_id,
            cipher: XChaCha20Poly1305::new((&*dek).into()),
        })
    }

    /// Unwraps the data key of `record_id` itself (for rewrapping it to a rotated key).
    pub fn unwrap(
        &self,
        record_id: &Uuid,
        wrapped: &WrappedKey,
    ) -> Result<Zeroizing<[u8; DEK_LEN]>, OpenError> {
        let key = self
            .key(wrapped.key_id())
            .ok_or_else(|| OpenError::UnknownKey {
                wanted: wrapped.key_id(),
                held: self.key_ids(),
            })?;
        let dek = match (&*key, wrapped.scheme()) {
            (OfficeKey::File(key), WrapScheme::HpkeX25519) => key.open_hpke(
                DEK_INFO,
                record_id.as_bytes(),
                wrapped.encapped_key(),
                wrapped.ciphertext(),
            )?,
            (OfficeKey::Token(key), WrapScheme::EcdhP256) => unwrap_p256(key, record_id, wrapped)?,
            _ => return Err(OpenError::Authentication),
        };
        let mut out = Zeroizing::new([0u8; DEK_LEN]);
        if dek.len() != DEK_LEN {
            return Err(OpenError::Authentication);
        }
        out.copy_from_slice(&dek);
        Ok(out)
    }
}

/// ECDH-ES: the token computes Z from the ephemeral point; the key schedule runs here.
fn unwrap_p256(
    key: &TokenKey,
    record_id: &Uuid,
    wrapped: &WrappedKey,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let ephemeral: &[u8; P256_POINT_LEN] = wrapped
        .encapped_key()
        .try_into()
        .map_err(|_| OpenError::Authentication)?;
    // Only points on the curve reach the token (no invalid-curve probing of its key).
    p256::PublicKey::from_sec1_bytes(ephemeral).map_err(|_| OpenError::Authentication)?;
    let shared = key
        .shared_secret(ephemeral)
        .map_err(|e| OpenError::Token(e.to_string()))?;
    let kek = p256_kek(&shared, ephemeral, &key.public_key().to_sec1(), record_id)
        .map_err(|_| OpenError::Authentication)?;
    let aad = p256_dek_aad(key.key_id(), record_id);
    ChaCha20Poly1305::new((&*kek).into())
        .decrypt(
            &Default::default(),
            Payload {
                msg: wrapped.ciphertext(),
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| OpenError::Authentication)
}

impl fmt::Debug for OfficeKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfficeKeyring")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

/// Decrypts the fields of one record (its data key is zeroized on drop).
pub struct RecordDecryptor {
    record_id: Uuid,
    cipher: XChaCha20Poly1305,
}

impl RecordDecryptor {
    /// The record whose fields this decrypts.
    pub fn record_id(&self) -> &Uuid {
        &self.record_id
    }

    /// Decrypts the ciphertext of `field` (from `RecordEncryptor::encrypt_field`).
    pub fn decrypt_field(
        &self,
        field: &str,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        validate_field_name(field)?;
        let (nonce, ct) = split_field_ciphertext(ciphertext)?;
        let aad = field_aad(&self.record_id, field);
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Authentication)
    }
}

impl fmt::Debug for RecordDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordDecryptor")
            .field("record_id", &self.record_id)
            .finish_non_exhaustive()
    }
}
