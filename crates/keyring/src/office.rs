//! The back office's keyring: unwraps per-record data keys and decrypts fields.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use madoguchi_seal::keyfile::{KeyFileError, KeyRole, OFFICE_KEY};
use madoguchi_seal::suite::{
    DEK_INFO, DEK_LEN, field_aad, split_field_ciphertext, validate_field_name,
};
use madoguchi_seal::{KeyId, WrappedKey};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::OpenError;
use crate::private_key::PrivateKey;

/// The back office's private keys, by key id (one now; several once keys rotate).
pub struct OfficeKeyring {
    keys: HashMap<KeyId, PrivateKey>,
}

impl OfficeKeyring {
    /// Loads `office.key` from the keys folder.
    pub fn load(keys_dir: &Path) -> Result<Self, KeyFileError> {
        let key = PrivateKey::load_expecting(&keys_dir.join(OFFICE_KEY), KeyRole::Office)?;
        Ok(Self::from_keys([key]))
    }

    /// A keyring holding these keys.
    pub fn from_keys(keys: impl IntoIterator<Item = PrivateKey>) -> Self {
        OfficeKeyring {
            keys: keys.into_iter().map(|k| (k.key_id(), k)).collect(),
        }
    }

    /// The ids of the keys held, sorted.
    pub fn key_ids(&self) -> Vec<KeyId> {
        let mut ids: Vec<KeyId> = self.keys.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Unwraps the data key of `record_id`.
    pub fn open_record(
        &self,
        record_id: &Uuid,
        wrapped: &WrappedKey,
    ) -> Result<RecordDecryptor, OpenError> {
        let key = self
            .keys
            .get(&wrapped.key_id())
            .ok_or_else(|| OpenError::UnknownKey {
                wanted: wrapped.key_id(),
                held: self.key_ids(),
            })?;
        let dek = key.open_hpke(
            DEK_INFO,
            record_id.as_bytes(),
            wrapped.encapped_key(),
            wrapped.ciphertext(),
        )?;
        let dek: &[u8; DEK_LEN] = dek
            .as_slice()
            .try_into()
            .map_err(|_| OpenError::Authentication)?;
        Ok(RecordDecryptor {
            record_id: *record_id,
            cipher: XChaCha20Poly1305::new(dek.into()),
        })
    }
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
