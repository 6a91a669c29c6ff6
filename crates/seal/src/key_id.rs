//! Key identifiers: the first 8 bytes of SHA-256 over a label and the public key bytes.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Label hashed before an X25519 HPKE public key to derive its [`KeyId`].
pub(crate) const KEY_ID_LABEL: &[u8] = b"madoguchi/key-id/v1/x25519-hpke\x00";
/// Label hashed before a P-256 ECDH-ES public key (SEC1 uncompressed) to derive its [`KeyId`].
pub(crate) const P256_KEY_ID_LABEL: &[u8] = b"madoguchi/key-id/v1/p256-ecdh-es\x00";

/// Identifies the key a ciphertext, wrapped key or sealed secret is for.
///
/// 8 bytes = `SHA-256("madoguchi/key-id/v1/x25519-hpke" || 0x00 || public key)[..8]`,
/// shown as 16 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// Length in bytes.
    pub const LEN: usize = 8;

    /// Wraps raw key id bytes.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        KeyId(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    /// The key id of an X25519 HPKE public key.
    pub fn for_x25519_public(public: &[u8; 32]) -> Self {
        Self::labelled(KEY_ID_LABEL, public)
    }

    /// The key id of a P-256 public key (SEC1 uncompressed point).
    pub fn for_p256_public(point: &[u8; 65]) -> Self {
        Self::labelled(P256_KEY_ID_LABEL, point)
    }

    fn labelled(label: &[u8], public: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(label)
            .chain_update(public)
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    /// Reads a key id from the first 8 bytes of `bytes`, if there are that many.
    pub(crate) fn from_prefix(bytes: &[u8]) -> Option<Self> {
        let head = bytes.get(..8)?;
        let mut id = [0u8; 8];
        id.copy_from_slice(head);
        Some(KeyId(id))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A key id string is not 16 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key id is 16 hexadecimal characters")]
pub struct KeyIdParseError;

impl FromStr for KeyId {
    type Err = KeyIdParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut id = [0u8; 8];
        if s.len() != 16 {
            return Err(KeyIdParseError);
        }
        hex::decode_to_slice(s, &mut id).map_err(|_| KeyIdParseError)?;
        Ok(KeyId(id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id = KeyId::for_x25519_public(&[7u8; 32]);
        let text = id.to_string();
        assert_eq!(text.len(), 16);
        assert_eq!(text.parse::<KeyId>(), Ok(id));
        assert_eq!(format!("{id:?}"), format!("KeyId({text})"));
    }

    #[test]
    fn parse_rejects_bad_text() {
        for bad in [
            "",
            "abc",
            "zzzzzzzzzzzzzzzz",
            "0011223344556677aa",
            "ééééééééé",
        ] {
            assert!(bad.parse::<KeyId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn distinct_keys_distinct_ids() {
        assert_ne!(
            KeyId::for_x25519_public(&[1u8; 32]),
            KeyId::for_x25519_public(&[2u8; 32])
        );
    }
}
