//! The back office's Ed25519 hand-off signing key and its public half.
//!
//! Files (one line, as the other key files): `handoff-signing.key`
//! `madoguchi-handoff-signing-key v1 <base64 32-byte seed>` (mode 0600) and
//! `handoff-signing.pub` `madoguchi-handoff-verifying-key v1 <base64 32 bytes>`, given to the
//! core banking system so that it accepts batches from this back office only.

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use madoguchi_seal::keyfile::{
    KEYS_INIT_FIX, KeyFileError, KeyParseError, format_symmetric_line, parse_symmetric_line,
    read_key_file,
};
use madoguchi_seal::{KeyId, SealError};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// The signing key's file, in the keys folder.
pub const SIGNING_KEY_FILE: &str = "handoff-signing.key";
/// The verifying key's file, in the keys folder (and on the core banking side).
pub const VERIFYING_KEY_FILE: &str = "handoff-signing.pub";

const SIGNING_TAG: &str = "madoguchi-handoff-signing-key";
const VERIFYING_TAG: &str = "madoguchi-handoff-verifying-key";
/// Hashed before an Ed25519 public key to derive its id (distinct from the X25519 label).
const KEY_ID_LABEL: &[u8] = b"madoguchi/key-id/v1/ed25519-handoff\x00";

/// The back office's signing key (zeroized on drop by `ed25519-dalek`; `Debug` shows the id).
pub struct HandoffSigningKey {
    key: SigningKey,
}

impl HandoffSigningKey {
    /// A fresh key from 32 random bytes of the operating system.
    pub fn generate() -> Result<Self, SealError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..])?;
        Ok(HandoffSigningKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Loads `handoff-signing.key` (refused when group or others may read it).
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = read_key_file(path, true, KEYS_INIT_FIX)?;
        Self::parse_file_text(&text).map_err(|p| KeyFileError::invalid(path, p, KEYS_INIT_FIX))
    }

    /// Parses the key file's text.
    pub fn parse_file_text(text: &str) -> Result<Self, KeyParseError> {
        let seed = parse_symmetric_line(text, SIGNING_TAG)?;
        Ok(HandoffSigningKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.key.to_bytes());
        format_symmetric_line(SIGNING_TAG, &seed)
    }

    /// The public half.
    pub fn verifying_key(&self) -> HandoffVerifyingKey {
        HandoffVerifyingKey {
            key: self.key.verifying_key(),
        }
    }

    /// The key id (of the public half).
    pub fn key_id(&self) -> KeyId {
        self.verifying_key().key_id()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for HandoffSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HandoffSigningKey({})", self.key_id())
    }
}

/// The public half: what the core banking side trusts.
#[derive(Clone, PartialEq, Eq)]
pub struct HandoffVerifyingKey {
    key: VerifyingKey,
}

impl HandoffVerifyingKey {
    /// Loads `handoff-signing.pub`.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        const FIX: &str = "pass the back office's handoff-signing.pub (written by \
                           `madoguchi keys init` in its keys folder)";
        let text = read_key_file(path, false, FIX)?;
        Self::parse_file_text(&text).map_err(|p| KeyFileError::invalid(path, p, FIX))
    }

    /// Parses the key file's text.
    pub fn parse_file_text(text: &str) -> Result<Self, KeyParseError> {
        let bytes = parse_symmetric_line(text, VERIFYING_TAG)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyParseError::BadKey)?;
        Ok(HandoffVerifyingKey { key })
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> String {
        format_symmetric_line(VERIFYING_TAG, self.key.as_bytes()).to_string()
    }

    /// `SHA-256(label || public key)[..8]`.
    pub fn key_id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(KEY_ID_LABEL)
            .chain_update(self.key.as_bytes())
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId::from_bytes(id)
    }

    /// Strict Ed25519 verification (no malleable or small-order signatures).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

impl fmt::Debug for HandoffVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HandoffVerifyingKey({})", self.key_id())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip() {
        let key = HandoffSigningKey::generate().unwrap();
        let back = HandoffSigningKey::parse_file_text(&key.to_file_text()).unwrap();
        assert_eq!(back.verifying_key(), key.verifying_key());
        let public = key.verifying_key().to_file_text();
        assert!(public.starts_with("madoguchi-handoff-verifying-key v1 "));
        let public = HandoffVerifyingKey::parse_file_text(&public).unwrap();
        assert_eq!(public, key.verifying_key());
        // A public file is not a private file, and the reverse.
        assert!(HandoffSigningKey::parse_file_text(&public.to_file_text()).is_err());
        assert!(HandoffVerifyingKey::parse_file_text(&key.to_file_text()).is_err());
        assert!(!format!("{key:?}").contains(&key.to_file_text()[30..]));
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let key = HandoffSigningKey::generate().unwrap();
        let sig = key.sign(b"batch");
        assert!(key.verifying_key().verify(b"batch", &sig));
        assert!(!key.verifying_key().verify(b"batcH", &sig));
        assert!(!key.verifying_key().verify(b"batch", &sig[..63]));
        let other = HandoffSigningKey::generate().unwrap();
        assert!(!other.verifying_key().verify(b"batch", &sig));
    }
}
