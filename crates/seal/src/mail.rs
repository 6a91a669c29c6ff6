//! Outbox messages sealed to the mail worker.

use std::fmt;

use uuid::Uuid;

use crate::error::{FormatError, SealError};
use crate::key_id::KeyId;
use crate::public_key::PublicKey;
use crate::suite::{HpkeLayout, MAIL_INFO, hpke_seal};

/// Largest message that can be sealed (1 MiB).
pub const MAX_MAIL_LEN: usize = 1 << 20;

const LAYOUT: HpkeLayout = HpkeLayout {
    what: "sealed message",
    version: 1,
    header: 0,
    min_plaintext: 0,
    max_plaintext: MAX_MAIL_LEN,
};

/// An outbox message (recipient + body, as the mail crate encodes them) sealed with HPKE to the
/// mail worker's key.
///
/// Bytes: `version 0x01 | key id (8) | encapped key (32) | ciphertext+tag`.
/// HPKE `info` = `madoguchi/mail/v1`, AAD = the message id's 16 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedMessage {
    bytes: Vec<u8>,
    key_id: KeyId,
}

impl SealedMessage {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The stored bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Reads stored bytes, checking only their structure.
    pub fn from_stored(bytes: Vec<u8>) -> Result<Self, FormatError> {
        let key_id = LAYOUT.check(&bytes)?;
        Ok(SealedMessage { bytes, key_id })
    }

    /// The id of the mail key it is sealed to.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The HPKE encapsulated key.
    pub fn encapped_key(&self) -> &[u8] {
        LAYOUT.encapped(&self.bytes)
    }

    /// The HPKE ciphertext with its tag.
    pub fn ciphertext(&self) -> &[u8] {
        LAYOUT.ciphertext(&self.bytes)
    }
}

impl fmt::Debug for SealedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedMessage")
            .field("key_id", &self.key_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Seals outbox messages to the mail worker's public key.
#[derive(Debug, Clone)]
pub struct MailSealer {
    mail_public: PublicKey,
}

impl MailSealer {
    /// A sealer for this mail public key.
    pub fn new(mail_public: PublicKey) -> Self {
        MailSealer { mail_public }
    }

    /// The id of the key it seals to.
    pub fn key_id(&self) -> KeyId {
        self.mail_public.key_id()
    }

    /// Seals `plaintext` for the outbox row `message_id`.
    pub fn seal(&self, message_id: &Uuid, plaintext: &[u8]) -> Result<SealedMessage, SealError> {
        if plaintext.len() > MAX_MAIL_LEN {
            return Err(SealError::TooLong {
                what: "message",
                max: MAX_MAIL_LEN,
            });
        }
        let (encapped, ct) = hpke_seal(
            &self.mail_public,
            MAIL_INFO,
            message_id.as_bytes(),
            plaintext,
        )?;
        let key_id = self.mail_public.key_id();
        Ok(SealedMessage {
            bytes: LAYOUT.assemble(key_id, &[], &encapped, &ct),
            key_id,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_message_structure() {
        use hpke::Kem as _;
        let (_, pk) = crate::suite::Kem::derive_keypair(&[2u8; 32]);
        let sealer = MailSealer::new(PublicKey::from_hpke(pk));
        let m = sealer.seal(&Uuid::from_u128(9), b"hello").unwrap();
        assert_eq!(m.as_bytes().len(), 1 + 8 + 32 + 5 + 16);
        assert_eq!(m.key_id(), sealer.key_id());
        assert_eq!(
            SealedMessage::from_stored(m.as_bytes().to_vec()).unwrap(),
            m
        );
        assert!(SealedMessage::from_stored(m.as_bytes()[..56].to_vec()).is_err());
        assert!(!format!("{m:?}").contains("hello"));
        assert!(
            sealer
                .seal(&Uuid::nil(), &vec![0u8; MAX_MAIL_LEN + 1])
                .is_err()
        );
    }
}
