//! The mail worker's keyring: opens sealed outbox messages.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use madoguchi_seal::keyfile::{KeyFileError, KeyRole, MAIL_KEY};
use madoguchi_seal::suite::MAIL_INFO;
use madoguchi_seal::{KeyId, SealedMessage};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::OpenError;
use crate::private_key::PrivateKey;

/// The mail worker's private keys, by key id.
pub struct MailKeyring {
    keys: HashMap<KeyId, PrivateKey>,
}

impl MailKeyring {
    /// Loads `mail.key` from the keys folder.
    pub fn load(keys_dir: &Path) -> Result<Self, KeyFileError> {
        let key = PrivateKey::load_expecting(&keys_dir.join(MAIL_KEY), KeyRole::Mail)?;
        Ok(Self::from_keys([key]))
    }

    /// A keyring holding these keys.
    pub fn from_keys(keys: impl IntoIterator<Item = PrivateKey>) -> Self {
        MailKeyring {
            keys: keys.into_iter().map(|k| (k.key_id(), k)).collect(),
        }
    }

    /// The ids of the keys held, sorted.
    pub fn key_ids(&self) -> Vec<KeyId> {
        let mut ids: Vec<KeyId> = self.keys.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Opens the message sealed for the outbox row `message_id`.
    pub fn open(
        &self,
        message_id: &Uuid,
        sealed: &SealedMessage,
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let key = self
            .keys
            .get(&sealed.key_id())
            .ok_or_else(|| OpenError::UnknownKey {
                wanted: sealed.key_id(),
                held: self.key_ids(),
            })?;
        key.open_hpke(
            MAIL_INFO,
            message_id.as_bytes(),
            sealed.encapped_key(),
            sealed.ciphertext(),
        )
    }
}

impl fmt::Debug for MailKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailKeyring")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}
