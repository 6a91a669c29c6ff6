//! The back office's public key: X25519 (HPKE, a key file) or P-256 (ECDH-ES, a PKCS#11 token).
//!
//! Hardware tokens (SoftHSM2 and most HSMs) derive ECDH on P-256 but not on X25519, so a
//! back-office key that must never leave its token is a P-256 key. Data keys wrapped to it use
//! ECDH-ES (the `p256_*` items of [`crate::suite`]); the file key keeps HPKE/X25519.

use std::fmt;
use std::path::Path;

use crate::key_id::KeyId;
use crate::keyfile::{
    KEYS_INIT_FIX, KeyFileError, KeyParseError, KeyRole, P256_PUBLIC_KEY_TAG, file_type,
    format_p256_line, parse_p256_line, read_key_file,
};
use crate::public_key::PublicKey;

/// A P-256 public key (SEC1 uncompressed point, 65 bytes) that data keys are wrapped to.
#[derive(Clone, PartialEq, Eq)]
pub struct P256PublicKey {
    point: [u8; 65],
    key_id: KeyId,
    key: p256::PublicKey,
}

impl P256PublicKey {
    /// Reads a key from its SEC1 encoding (uncompressed, 65 bytes), checking it is on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, KeyParseError> {
        let point: [u8; 65] = bytes.try_into().map_err(|_| KeyParseError::BadKey)?;
        let key = p256::PublicKey::from_sec1_bytes(&point).map_err(|_| KeyParseError::BadKey)?;
        Ok(P256PublicKey {
            point,
            key_id: KeyId::for_p256_public(&point),
            key,
        })
    }

    /// The SEC1 uncompressed point.
    pub fn to_sec1(&self) -> [u8; 65] {
        self.point
    }

    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The elliptic-curve library's form of the key.
    pub(crate) fn curve_key(&self) -> &p256::PublicKey {
        &self.key
    }
}

impl fmt::Debug for P256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P256PublicKey({})", self.key_id)
    }
}

/// The key `office.pub` names: record data keys are wrapped to it.
#[derive(Clone, PartialEq, Eq)]
pub enum OfficePublicKey {
    /// HPKE/X25519; the private half is `office.key` (the default).
    X25519(PublicKey),
    /// ECDH-ES/P-256; the private half lives in a PKCS#11 token and never leaves it.
    P256(P256PublicKey),
}

impl OfficePublicKey {
    /// The key's id, as written into every wrapped data key.
    pub fn key_id(&self) -> KeyId {
        match self {
            OfficePublicKey::X25519(k) => k.key_id(),
            OfficePublicKey::P256(k) => k.key_id(),
        }
    }

    /// The key file's line.
    pub fn to_file_text(&self) -> String {
        match self {
            OfficePublicKey::X25519(k) => k.to_file_text(KeyRole::Office),
            OfficePublicKey::P256(k) => format_p256_line(KeyRole::Office, &k.point),
        }
    }

    /// Parses `office.pub` of either kind; it must name the office role.
    pub fn parse_file_text(text: &str) -> Result<Self, KeyParseError> {
        let (role, key) = if file_type(text) == Some(P256_PUBLIC_KEY_TAG) {
            let (role, point) = parse_p256_line(text)?;
            (
                role,
                OfficePublicKey::P256(P256PublicKey::from_sec1(&point)?),
            )
        } else {
            let (role, key) = PublicKey::parse_file_text(text)?;
            (role, OfficePublicKey::X25519(key))
        };
        if role != KeyRole::Office {
            return Err(KeyParseError::WrongRole {
                expected: KeyRole::Office,
                found: role,
            });
        }
        Ok(key)
    }

    /// Loads `office.pub` (or a retired office key's public file).
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = read_key_file(path, false, KEYS_INIT_FIX)?;
        Self::parse_file_text(&text)
            .map_err(|problem| KeyFileError::invalid(path, problem, KEYS_INIT_FIX))
    }
}

impl From<PublicKey> for OfficePublicKey {
    fn from(key: PublicKey) -> Self {
        OfficePublicKey::X25519(key)
    }
}

impl From<P256PublicKey> for OfficePublicKey {
    fn from(key: P256PublicKey) -> Self {
        OfficePublicKey::P256(key)
    }
}

impl fmt::Debug for OfficePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OfficePublicKey::X25519(k) => write!(f, "OfficePublicKey::X25519({})", k.key_id()),
            OfficePublicKey::P256(k) => write!(f, "OfficePublicKey::P256({})", k.key_id()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p256_point() -> [u8; 65] {
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let sec1 = secret.public_key().to_sec1_bytes();
        sec1.as_ref().try_into().unwrap()
    }

    #[test]
    fn p256_file_round_trip_and_key_id() {
        let key = OfficePublicKey::P256(P256PublicKey::from_sec1(&p256_point()).unwrap());
        let text = key.to_file_text();
        assert!(
            text.starts_with("madoguchi-p256-public v1 office "),
            "{text}"
        );
        let back = OfficePublicKey::parse_file_text(&text).unwrap();
        assert_eq!(back, key);
        assert_eq!(back.key_id(), KeyId::for_p256_public(&p256_point()));
        assert_ne!(back.key_id(), KeyId::for_x25519_public(&[7u8; 32]));
    }

    #[test]
    fn x25519_office_file_still_reads() {
        let x = PublicKey::from_bytes(&[5u8; 32]).unwrap();
        let text = x.to_file_text(KeyRole::Office);
        assert_eq!(
            OfficePublicKey::parse_file_text(&text).unwrap(),
            OfficePublicKey::X25519(x)
        );
    }

    #[test]
    fn a_point_off_the_curve_or_another_role_is_refused() {
        let mut bad = p256_point();
        bad[64] ^= 1;
        assert_eq!(P256PublicKey::from_sec1(&bad), Err(KeyParseError::BadKey));
        let key = P256PublicKey::from_sec1(&p256_point()).unwrap();
        let mail = format_p256_line(KeyRole::Mail, &key.to_sec1());
        assert!(matches!(
            OfficePublicKey::parse_file_text(&mail),
            Err(KeyParseError::WrongRole { .. })
        ));
    }
}
