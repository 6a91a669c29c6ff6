//! X25519 private keys and their key file.

use std::fmt;
use std::path::Path;

use hpke::{Deserializable as _, Serializable as _};
use madoguchi_seal::keyfile::{
    KEYS_INIT_FIX, KeyFileError, KeyParseError, KeyRole, PRIVATE_KEY_TAG, format_x25519_line,
    parse_x25519_line, read_key_file,
};
use madoguchi_seal::suite::{Aead, Kdf, Kem};
use madoguchi_seal::{KeyId, PublicKey, SealError};
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::OpenError;

/// The fix suggested when the core-banking private key file is missing or broken.
const CORE_KEY_FIX: &str = "pass the core-banking private key file (written by \
    `madoguchi keys init` for development, or issued by the bank's core system)";

/// An X25519 private key for HPKE (zeroized on drop; `Debug` shows only the key id).
///
/// File: `madoguchi-x25519-private v1 <role> <base64 32 bytes>`, mode 0600.
#[derive(Clone)]
pub struct PrivateKey {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: PublicKey,
}

impl PrivateKey {
    /// A fresh random key (32 bytes from the OS, through HPKE's DeriveKeyPair).
    pub fn generate() -> Result<Self, SealError> {
        let mut ikm = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut ikm[..])?;
        let (secret, public) = <Kem as hpke::Kem>::derive_keypair(&ikm[..]);
        Ok(PrivateKey {
            secret,
            public: PublicKey::from_hpke(public),
        })
    }

    /// A key from its 32 bytes (X25519 keys are clamped).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyParseError> {
        let secret =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).map_err(|_| KeyParseError::BadKey)?;
        let public = PublicKey::from_hpke(<Kem as hpke::Kem>::sk_to_pk(&secret));
        Ok(PrivateKey { secret, public })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key id (of the public key).
    pub fn key_id(&self) -> KeyId {
        self.public.key_id()
    }

    /// The key file text, `madoguchi-x25519-private v1 <role> <base64>\n`.
    pub fn to_file_text(&self, role: KeyRole) -> Zeroizing<String> {
        let mut raw = self.secret.to_bytes();
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&raw);
        raw.as_mut_slice().zeroize();
        format_x25519_line(PRIVATE_KEY_TAG, role, &bytes)
    }

    /// Parses a key file's text, returning the role it names.
    pub fn parse_file_text(text: &str) -> Result<(KeyRole, Self), KeyParseError> {
        let (role, bytes) = parse_x25519_line(text, PRIVATE_KEY_TAG)?;
        Ok((role, Self::from_bytes(&bytes[..])?))
    }

    /// Loads a private key file naming `role` (refused if group or others can read it).
    pub fn load_expecting(path: &Path, role: KeyRole) -> Result<Self, KeyFileError> {
        let fix = match role {
            KeyRole::CoreBanking => CORE_KEY_FIX,
            KeyRole::Office | KeyRole::Mail => KEYS_INIT_FIX,
        };
        let text = read_key_file(path, true, fix)?;
        let (found, key) = Self::parse_file_text(&text)
            .map_err(|problem| KeyFileError::invalid(path, problem, fix))?;
        if found != role {
            return Err(KeyFileError::invalid(
                path,
                KeyParseError::WrongRole {
                    expected: role,
                    found,
                },
                fix,
            ));
        }
        Ok(key)
    }

    /// Low level: HPKE single-shot open (mode Base) of `ciphertext` with this key.
    ///
    /// Callers pass the `info` and AAD of their format (see `madoguchi_seal::suite`) and check
    /// the key id before calling.
    pub fn open_hpke(
        &self,
        info: &[u8],
        aad: &[u8],
        encapped_key: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(encapped_key)
            .map_err(|_| OpenError::Authentication)?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &hpke::OpModeR::Base,
            &self.secret,
            &encapped,
            info,
            ciphertext,
            aad,
        )
        .map(Zeroizing::new)
        .map_err(|_| OpenError::Authentication)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.key_id())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_text_round_trip() {
        let key = PrivateKey::generate().unwrap();
        let text = key.to_file_text(KeyRole::Office);
        assert!(text.starts_with("madoguchi-x25519-private v1 office "));
        let (role, back) = PrivateKey::parse_file_text(&text).unwrap();
        assert_eq!(role, KeyRole::Office);
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(format!("{key:?}"), format!("PrivateKey({})", key.key_id()));
        // A public key file is not a private key file.
        let public_text = key.public_key().to_file_text(KeyRole::Office);
        assert!(matches!(
            PrivateKey::parse_file_text(&public_text),
            Err(KeyParseError::WrongType { .. })
        ));
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            PrivateKey::generate().unwrap().key_id(),
            PrivateKey::generate().unwrap().key_id()
        );
    }
}
