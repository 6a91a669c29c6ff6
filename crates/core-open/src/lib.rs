//! madoguchi-core-open — opens secrets sealed to the core-banking key. Core-banking side only.
//!
//! Its job: given the core-banking system's private key, open a [`SealedSecret`] (cash-card
//! PIN, logon password, debit-card PIN) that the public site sealed with
//! `madoguchi_seal::SecretSealer`. It is used solely by the `madoguchi core` command that the
//! bank's core system runs; no server process links it to open anything.
//!
//! Invariants:
//! - The private key file (`madoguchi-x25519-private v1 core-banking <base64>`) must name the
//!   core-banking role and must not be readable by group or others (unix mode 0600).
//! - A secret sealed to another key is refused with an error naming both key ids, before any
//!   decryption.
//! - The secret's kind and application id are authenticated: HPKE `info` is built from the
//!   *expected* kind and the AAD is the *expected* subject, so a secret moved to another
//!   application or relabelled fails authentication. Malformed input is an error, never a panic.
//! - The opened secret is returned in a `Zeroizing` buffer and never printed.
//! - A hand-off batch ([`CorePrivateKey::open_batch`]) is decrypted only after its manifest's
//!   signature (by the pinned hand-off signing key) and the batch file's SHA-256 checked out;
//!   every secret in it is then opened for its own application and kind.

mod batch;

pub use batch::{BatchOpenError, OpenedApplication, OpenedBatch};

use std::fmt;
use std::path::Path;

use madoguchi_keyring::PrivateKey;
use madoguchi_seal::keyfile::{KeyFileError, KeyRole};
use madoguchi_seal::suite::secret_info;
use madoguchi_seal::{KeyId, PublicKey, SealedSecret, SecretKind};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Opening a sealed secret failed. Never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The secret is sealed to a different core-banking key.
    #[error(
        "this secret is sealed to core-banking key {sealed_for}, but the key loaded is \
         {this_key}: use the private key whose id is {sealed_for}"
    )]
    WrongKey { sealed_for: KeyId, this_key: KeyId },
    /// Wrong kind or application, or altered bytes.
    #[error(
        "authentication failed: the secret is not a {expected} of this application, or it was altered"
    )]
    Authentication { expected: SecretKind },
}

/// The core-banking system's private key (zeroized on drop; `Debug` shows only the key id).
pub struct CorePrivateKey {
    key: PrivateKey,
}

impl CorePrivateKey {
    /// Loads the core-banking private key file (role core-banking, mode 0600).
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        Ok(CorePrivateKey {
            key: PrivateKey::load_expecting(path, KeyRole::CoreBanking)?,
        })
    }

    /// Wraps a key already in memory.
    pub fn from_private_key(key: PrivateKey) -> Self {
        CorePrivateKey { key }
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key.key_id()
    }

    /// The matching public key (what `core-banking.pub` must hold).
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// Opens a secret of `expected_kind` sealed for the application `subject`.
    pub fn open_secret(
        &self,
        sealed: &SealedSecret,
        expected_kind: SecretKind,
        subject: &Uuid,
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        if sealed.key_id() != self.key_id() {
            return Err(OpenError::WrongKey {
                sealed_for: sealed.key_id(),
                this_key: self.key_id(),
            });
        }
        let auth = OpenError::Authentication {
            expected: expected_kind,
        };
        if sealed.kind() != expected_kind {
            return Err(auth);
        }
        self.key
            .open_hpke(
                &secret_info(expected_kind),
                subject.as_bytes(),
                sealed.encapped_key(),
                sealed.ciphertext(),
            )
            .map_err(|_| auth)
    }
}

/// The core-banking private keys the bank holds: the current one and, after a rotation, the
/// ones before it, until no secret sealed to them waits for a hand-off. Each batch and each
/// secret is opened by the key whose id it carries.
#[derive(Debug)]
pub struct CoreKeys {
    keys: Vec<CorePrivateKey>,
}

impl CoreKeys {
    /// These keys (at least one).
    pub fn new(keys: Vec<CorePrivateKey>) -> Self {
        CoreKeys { keys }
    }

    /// The key with this id.
    pub fn get(&self, id: KeyId) -> Option<&CorePrivateKey> {
        self.keys.iter().find(|k| k.key_id() == id)
    }

    /// The held key ids, for messages.
    pub fn ids(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.key_id().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Opens a secret with the key it is sealed to.
    pub fn open_secret(
        &self,
        sealed: &SealedSecret,
        expected_kind: SecretKind,
        subject: &Uuid,
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        match self.get(sealed.key_id()) {
            Some(key) => key.open_secret(sealed, expected_kind, subject),
            None => Err(OpenError::WrongKey {
                sealed_for: sealed.key_id(),
                this_key: self.keys.first().map_or(sealed.key_id(), |k| k.key_id()),
            }),
        }
    }
}

impl Clone for CorePrivateKey {
    fn clone(&self) -> Self {
        CorePrivateKey {
            key: self.key.clone(),
        }
    }
}

impl fmt::Debug for CorePrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CorePrivateKey({})", self.key_id())
    }
}
