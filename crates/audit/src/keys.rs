//! The Ed25519 key that signs audit checkpoints, and its public half.
//!
//! Files (one line, as the other key files): `audit-signing.key`
//! `madoguchi-audit-signing-key v1 <base64 32-byte seed>` (mode 0600) and `audit-signing.pub`
//! `madoguchi-audit-verifying-key v1 <base64 32 bytes>`, which `audit verify` needs and which
//! a bank keeps beside the external checkpoint sink.

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use madoguchi_seal::SealError;
use madoguchi_seal::keyfile::{
    KEYS_INIT_FIX, KeyFileError, KeyParseError, format_symmetric_line, parse_symmetric_line,
    read_key_file,
};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// The signing key's file, in the keys folder.
pub const SIGNING_KEY_FILE: &str = "audit-signing.key";
/// The verifying key's file, in the keys folder.
pub const VERIFYING_KEY_FILE: &str = "audit-signing.pub";

/// An earlier verifying key, kept after a rotation so the checkpoints it signed still open:
/// `audit-signing.<first 8 bytes of its SHA-256 in hex>.pub`.
pub fn earlier_verifying_key_file(keys_dir: &Path, key: &AuditVerifyingKey) -> std::path::PathBuf {
    keys_dir.join(format!("audit-signing.{}.pub", key.id()))
}

/// Every verifying key `audit verify` trusts: `audit-signing.pub` and the earlier ones.
pub fn trusted_verifying_keys(keys_dir: &Path) -> Result<Vec<AuditVerifyingKey>, KeyFileError> {
    let mut keys = vec![AuditVerifyingKey::load(&keys_dir.join(VERIFYING_KEY_FILE))?];
    let mut earlier: Vec<std::path::PathBuf> = std::fs::read_dir(keys_dir)
        .map_err(|source| KeyFileError::Io {
            path: keys_dir.to_path_buf(),
            source,
            fix: KEYS_INIT_FIX.to_string(),
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("audit-signing."))
                .and_then(|n| n.strip_suffix(".pub"))
                .is_some_and(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect();
    earlier.sort();
    for path in earlier {
        let key = AuditVerifyingKey::load(&path)?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

const SIGNING_TAG: &str = "madoguchi-audit-signing-key";
const VERIFYING_TAG: &str = "madoguchi-audit-verifying-key";

/// Whatever signs checkpoints: the key file ([`AuditSigningKey`]) or an Ed25519 key in a
/// PKCS#11 token (`madoguchi_keyring::token`), which signs without the key leaving it.
pub trait CheckpointSigner: Send + Sync {
    /// The public half, which names the log (the checkpoint's origin).
    fn verifying_key(&self) -> AuditVerifyingKey;
    /// An Ed25519 signature of `message`.
    fn sign_message(&self, message: &[u8]) -> Result<[u8; 64], SignError>;
}

/// A signer failed (a token unreachable or refusing). Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit signing key could not sign: {0}")]
pub struct SignError(pub String);

impl CheckpointSigner for AuditSigningKey {
    fn verifying_key(&self) -> AuditVerifyingKey {
        AuditSigningKey::verifying_key(self)
    }

    fn sign_message(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        Ok(self.sign(message))
    }
}

/// The server's checkpoint signing key (zeroized on drop by `ed25519-dalek`).
pub struct AuditSigningKey {
    key: SigningKey,
}

impl AuditSigningKey {
    /// A fresh key from 32 random bytes of the operating system.
    pub fn generate() -> Result<Self, SealError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..])?;
        Ok(AuditSigningKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Loads `audit-signing.key` (refused when group or others may read it).
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = read_key_file(path, true, KEYS_INIT_FIX)?;
        Self::parse_file_text(&text).map_err(|p| KeyFileError::invalid(path, p, KEYS_INIT_FIX))
    }

    /// Parses the key file's text.
    pub fn parse_file_text(text: &str) -> Result<Self, KeyParseError> {
        let seed = parse_symmetric_line(text, SIGNING_TAG)?;
        Ok(AuditSigningKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.key.to_bytes());
        format_symmetric_line(SIGNING_TAG, &seed)
    }

    /// The public half.
    pub fn verifying_key(&self) -> AuditVerifyingKey {
        AuditVerifyingKey {
            key: self.key.verifying_key(),
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditSigningKey(..)")
    }
}

/// The public half: what `audit verify` trusts.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuditVerifyingKey {
    key: VerifyingKey,
}

impl AuditVerifyingKey {
    /// Loads `audit-signing.pub`.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        const FIX: &str = "pass the server's audit-signing.pub (written by `madoguchi keys init` \
                           in its keys folder)";
        let text = read_key_file(path, false, FIX)?;
        Self::parse_file_text(&text).map_err(|p| KeyFileError::invalid(path, p, FIX))
    }

    /// Parses the key file's text.
    pub fn parse_file_text(text: &str) -> Result<Self, KeyParseError> {
        let bytes = parse_symmetric_line(text, VERIFYING_TAG)?;
        Self::from_bytes(&bytes)
    }

    /// A key from its 32 bytes (a token's `CKA_EC_POINT`).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyParseError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyParseError::BadKey)?;
        Ok(AuditVerifyingKey { key })
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> String {
        format_symmetric_line(VERIFYING_TAG, self.key.as_bytes()).to_string()
    }

    /// The name of the log this key signs, for checkpoints' origin line:
    /// `madoguchi/audit/` and the first 8 bytes of the key's SHA-256 in hex. One key, one log.
    pub fn origin(&self) -> String {
        format!("madoguchi/audit/{}", self.id())
    }

    /// The first 8 bytes of the key's SHA-256, in hex.
    pub fn id(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// Strict Ed25519 verification (no malleable or small-order signatures).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_are_not_interchangeable() {
        let key = AuditSigningKey::generate().unwrap();
        let back = AuditSigningKey::parse_file_text(&key.to_file_text()).unwrap();
        assert_eq!(back.verifying_key(), key.verifying_key());
        let public = key.verifying_key().to_file_text();
        assert!(public.starts_with("madoguchi-audit-verifying-key v1 "));
        assert_eq!(
            AuditVerifyingKey::parse_file_text(&public).unwrap(),
            key.verifying_key()
        );
        assert!(AuditSigningKey::parse_file_text(&public).is_err());
        assert!(AuditVerifyingKey::parse_file_text(&key.to_file_text()).is_err());
    }
}
