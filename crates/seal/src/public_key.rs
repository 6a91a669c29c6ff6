//! X25519 public keys for HPKE and their one-line key file.

use std::fmt;
use std::path::Path;

use hpke::{Deserializable as _, Serializable as _};

use crate::key_id::KeyId;
use crate::keyfile::{
    KEYS_INIT_FIX, KeyFileError, KeyParseError, KeyRole, PUBLIC_KEY_TAG, format_x25519_line,
    parse_x25519_line, read_key_file,
};
use crate::suite::Kem;

/// An X25519 public key that HPKE seals to.
///
/// File format: `madoguchi-x25519-public v1 <role> <base64 32 bytes>`.
#[derive(Clone)]
pub struct PublicKey {
    bytes: [u8; 32],
    key_id: KeyId,
    hpke: <Kem as hpke::Kem>::PublicKey,
}

impl PublicKey {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// Reads a public key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyParseError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyParseError::BadKey)?;
        let hpke =
            <Kem as hpke::Kem>::PublicKey::from_bytes(&arr).map_err(|_| KeyParseError::BadKey)?;
        Ok(PublicKey {
            bytes: arr,
            key_id: KeyId::for_x25519_public(&arr),
            hpke,
        })
    }

    /// Wraps an HPKE public key (used when deriving it from a private key).
    pub fn from_hpke(hpke: <Kem as hpke::Kem>::PublicKey) -> Self {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&hpke.to_bytes());
        PublicKey {
            key_id: KeyId::for_x25519_public(&bytes),
            bytes,
            hpke,
        }
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes
    }

    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The HPKE library's form of the key.
    pub fn hpke_key(&self) -> &<Kem as hpke::Kem>::PublicKey {
        &self.hpke
    }

    /// The key file line, `madoguchi-x25519-public v1 <role> <base64>\n`.
    pub fn to_file_text(&self, role: KeyRole) -> String {
        format_x25519_line(PUBLIC_KEY_TAG, role, &self.bytes).to_string()
    }

    /// Parses a key file's text, returning the role it names.
    pub fn parse_file_text(text: &str) -> Result<(KeyRole, Self), KeyParseError> {
        let (role, bytes) = parse_x25519_line(text, PUBLIC_KEY_TAG)?;
        Ok((role, Self::from_bytes(&bytes[..])?))
    }

    /// Loads a public key file, whatever role it names.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        Self::load_with_role(path).map(|(_, key)| key)
    }

    /// Loads a public key file and returns the role it names.
    pub fn load_with_role(path: &Path) -> Result<(KeyRole, Self), KeyFileError> {
        let text = read_key_file(path, false, KEYS_INIT_FIX)?;
        Self::parse_file_text(&text)
            .map_err(|problem| KeyFileError::invalid(path, problem, KEYS_INIT_FIX))
    }

    /// Loads a public key file that must name `role`.
    pub fn load_expecting(path: &Path, role: KeyRole) -> Result<Self, KeyFileError> {
        let (found, key) = Self::load_with_role(path)?;
        if found != role {
            return Err(KeyFileError::invalid(
                path,
                KeyParseError::WrongRole {
                    expected: role,
                    found,
                },
                KEYS_INIT_FIX,
            ));
        }
        Ok(key)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_text_round_trip() {
        let key = PublicKey::from_bytes(&[5u8; 32]).unwrap();
        let text = key.to_file_text(KeyRole::CoreBanking);
        assert!(text.starts_with("madoguchi-x25519-public v1 core-banking "));
        let (role, back) = PublicKey::parse_file_text(&text).unwrap();
        assert_eq!(role, KeyRole::CoreBanking);
        assert_eq!(back, key);
        assert_eq!(back.key_id(), KeyId::for_x25519_public(&[5u8; 32]));
    }

    #[test]
    fn wrong_role_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.pub");
        let key = PublicKey::from_bytes(&[5u8; 32]).unwrap();
        std::fs::write(&path, key.to_file_text(KeyRole::Mail)).unwrap();
        let msg = PublicKey::load_expecting(&path, KeyRole::Office)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("office.pub") && msg.contains("mail key"),
            "{msg}"
        );
        assert!(PublicKey::load(&path).is_ok());
    }

    #[test]
    fn from_bytes_rejects_wrong_length() {
        assert_eq!(
            PublicKey::from_bytes(&[1u8; 31]),
            Err(KeyParseError::BadKey)
        );
    }
}
