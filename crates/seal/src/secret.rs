//! Secrets sealed to the core-banking system.

use std::fmt;

use uuid::Uuid;

use crate::error::{FormatError, SealError};
use crate::key_id::KeyId;
use crate::public_key::PublicKey;
use crate::suite::{HpkeLayout, hpke_seal, secret_info};

/// Something whose bytes are sealed to the core-banking key (a PIN, a logon password).
///
/// Implemented by the domain types that hold secrets; the bytes are read once, to seal them.
pub trait Sealable {
    /// The secret's bytes.
    fn secret_bytes(&self) -> &[u8];
}

/// The kinds of secret, each with a stable label (in the HPKE `info`) and code (in the bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// Cash-card PIN (4 digits).
    CashCardPin,
    /// Internet-banking logon password.
    LogonPassword,
    /// Debit-card PIN.
    DebitCardPin,
}

impl SecretKind {
    /// Every kind.
    pub const ALL: [SecretKind; 3] = [
        SecretKind::CashCardPin,
        SecretKind::LogonPassword,
        SecretKind::DebitCardPin,
    ];

    /// Stable label: `cash-card-pin`, `logon-password`, `debit-card-pin`.
    pub const fn label(self) -> &'static str {
        match self {
            SecretKind::CashCardPin => "cash-card-pin",
            SecretKind::LogonPassword => "logon-password",
            SecretKind::DebitCardPin => "debit-card-pin",
        }
    }

    /// Stable one-byte code stored in a [`SealedSecret`]: 1, 2, 3.
    pub const fn code(self) -> u8 {
        match self {
            SecretKind::CashCardPin => 1,
            SecretKind::LogonPassword => 2,
            SecretKind::DebitCardPin => 3,
        }
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind with this label.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Version byte of [`SealedSecret`].
const SECRET_FORMAT_VERSION: u8 = 1;
/// Longest secret that can be sealed.
pub const MAX_SECRET_LEN: usize = 1024;

const LAYOUT: HpkeLayout = HpkeLayout {
    what: "sealed secret",
    version: SECRET_FORMAT_VERSION,
    header: 1,
    min_plaintext: 0,
    max_plaintext: MAX_SECRET_LEN,
};

/// A secret sealed with HPKE to the core-banking key.
///
/// Bytes: `version 0x01 | key id (8) | kind code (1) | encapped key (32) | ciphertext+tag`.
/// HPKE `info` = `madoguchi/secret/v1/<kind label>`, AAD = the subject's 16 uuid bytes.
/// There is deliberately no way to open it in this crate.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    bytes: Vec<u8>,
    key_id: KeyId,
    kind: SecretKind,
}

impl SealedSecret {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The stored bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Reads stored bytes, checking only their structure (not their authenticity).
    pub fn from_stored(bytes: Vec<u8>) -> Result<Self, FormatError> {
        let key_id = LAYOUT.check(&bytes)?;
        let code = LAYOUT.header(&bytes).first().copied().unwrap_or_default();
        let kind = SecretKind::from_code(code).ok_or(FormatError::UnknownKind(code))?;
        Ok(SealedSecret {
            bytes,
            key_id,
            kind,
        })
    }

    /// The id of the core-banking key it is sealed to.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The kind of secret, as recorded in the (unauthenticated) header.
    pub fn kind(&self) -> SecretKind {
        self.kind
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

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// Seals secrets to the core-banking public key.
#[derive(Debug, Clone)]
pub struct SecretSealer {
    core_public: PublicKey,
}

impl SecretSealer {
    /// A sealer for this core-banking public key.
    pub fn new(core_public: PublicKey) -> Self {
        SecretSealer { core_public }
    }

    /// The id of the key it seals to.
    pub fn key_id(&self) -> KeyId {
        self.core_public.key_id()
    }

    /// Seals `secret` of `kind` for the application `subject`.
    pub fn seal(
        &self,
        kind: SecretKind,
        subject: &Uuid,
        secret: &dyn Sealable,
    ) -> Result<SealedSecret, SealError> {
        let plaintext = secret.secret_bytes();
        if plaintext.len() > MAX_SECRET_LEN {
            return Err(SealError::TooLong {
                what: "secret",
                max: MAX_SECRET_LEN,
            });
        }
        let (encapped, ct) = hpke_seal(
            &self.core_public,
            &secret_info(kind),
            subject.as_bytes(),
            plaintext,
        )?;
        let key_id = self.core_public.key_id();
        Ok(SealedSecret {
            bytes: LAYOUT.assemble(key_id, &[kind.code()], &encapped, &ct),
            key_id,
            kind,
        })
    }
}

/// A cash-card or debit-card PIN is sealed the moment it is parsed; this is the one place
/// that reads its digits.
impl Sealable for madoguchi_domain::pin::Pin {
    fn secret_bytes(&self) -> &[u8] {
        self.expose_for_sealing()
    }
}

/// The internet-banking logon password, likewise sealed the moment it is parsed.
impl Sealable for madoguchi_domain::password::LogonPassword {
    fn secret_bytes(&self) -> &[u8] {
        self.expose_for_sealing()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Pin(&'static [u8]);
    impl Sealable for Pin {
        fn secret_bytes(&self) -> &[u8] {
            self.0
        }
    }

    fn sealer() -> SecretSealer {
        use hpke::Kem as _;
        let (_, pk) = crate::suite::Kem::derive_keypair(&[42u8; 32]);
        SecretSealer::new(PublicKey::from_hpke(pk))
    }

    #[test]
    fn labels_and_codes_are_stable() {
        for kind in SecretKind::ALL {
            assert_eq!(SecretKind::from_code(kind.code()), Some(kind));
            assert_eq!(SecretKind::from_label(kind.label()), Some(kind));
        }
        assert_eq!(SecretKind::CashCardPin.label(), "cash-card-pin");
        assert_eq!(SecretKind::LogonPassword.label(), "logon-password");
        assert_eq!(SecretKind::DebitCardPin.label(), "debit-card-pin");
    }

    #[test]
    fn sealed_secret_structure_and_debug() {
        let s = sealer();
        let subject = Uuid::from_u128(7);
        let sealed = s
            .seal(SecretKind::DebitCardPin, &subject, &Pin(b"1234"))
            .unwrap();
        assert_eq!(sealed.as_bytes().len(), 1 + 8 + 1 + 32 + 4 + 16);
        assert_eq!(sealed.key_id(), s.key_id());
        assert_eq!(sealed.kind(), SecretKind::DebitCardPin);
        let again = SealedSecret::from_stored(sealed.as_bytes().to_vec()).unwrap();
        assert_eq!(again, sealed);
        let dbg = format!("{sealed:?}");
        assert!(dbg.contains("DebitCardPin") && dbg.contains(&s.key_id().to_string()));
        assert!(!dbg.contains("1234"));
        // Two seals of the same PIN differ (fresh ephemeral key).
        let other = s
            .seal(SecretKind::DebitCardPin, &subject, &Pin(b"1234"))
            .unwrap();
        assert_ne!(other.as_bytes(), sealed.as_bytes());
    }

    #[test]
    fn from_stored_rejects_bad_structure() {
        let s = sealer();
        let sealed = s
            .seal(SecretKind::CashCardPin, &Uuid::from_u128(1), &Pin(b"0000"))
            .unwrap();
        let bytes = sealed.as_bytes().to_vec();
        for cut in 0..(1 + 8 + 1 + 32 + 16) {
            assert!(SealedSecret::from_stored(bytes[..cut].to_vec()).is_err());
        }
        let mut v = bytes.clone();
        v[0] = 2;
        assert!(matches!(
            SealedSecret::from_stored(v),
            Err(FormatError::UnknownVersion { .. })
        ));
        let mut k = bytes;
        k[9] = 9;
        assert_eq!(
            SealedSecret::from_stored(k),
            Err(FormatError::UnknownKind(9))
        );
    }

    #[test]
    fn too_long_secret_refused() {
        static LONG: [u8; MAX_SECRET_LEN + 1] = [b'a'; MAX_SECRET_LEN + 1];
        let err = sealer()
            .seal(SecretKind::LogonPassword, &Uuid::nil(), &Pin(&LONG))
            .unwrap_err();
        assert!(matches!(err, SealError::TooLong { .. }));
    }
}
