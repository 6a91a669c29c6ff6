//! Drafts of unfinished applications, keyed by a secret that lives only in the browser cookie.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::SealError;

/// The labels that separate one use of a holder-kept secret from another, so that a draft
/// cookie can never stand for a booking token or the other way round.
struct Labels {
    /// Hashed before the secret to make the row's lookup id.
    lookup: &'static [u8],
    /// HKDF salt of the key.
    salt: &'static [u8],
    /// HKDF info of the key.
    info: &'static [u8],
}

const DRAFT_LABELS: Labels = Labels {
    lookup: b"madoguchi/draft/v1/lookup\x00",
    salt: b"madoguchi/draft/v1",
    info: b"madoguchi/draft/v1/key",
};

const BOOKING_LABELS: Labels = Labels {
    lookup: b"madoguchi/booking/v1/lookup\x00",
    salt: b"madoguchi/booking/v1",
    info: b"madoguchi/booking/v1/key",
};
/// Version byte of a draft ciphertext.
const DRAFT_FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// 32 random bytes kept only in the applicant's cookie (zeroized on drop).
///
/// The database row is found by [`lookup_id`](Self::lookup_id) =
/// SHA-256(`madoguchi/draft/v1/lookup` || 0x00 || secret) and encrypted with
/// [`DraftCipher`], key = HKDF-SHA256(salt `madoguchi/draft/v1`, secret,
/// info `madoguchi/draft/v1/key`). The database alone can read neither.
pub struct DraftSecret {
    secret: Zeroizing<[u8; 32]>,
    labels: &'static Labels,
    /// The HKDF-derived draft key, derived once so [`cipher`](Self::cipher) cannot fail.
    key: Zeroizing<[u8; 32]>,
}

impl DraftSecret {
    fn from_secret(
        secret: Zeroizing<[u8; 32]>,
        labels: &'static Labels,
    ) -> Result<Self, SealError> {
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(labels.salt), &secret[..])
            .expand(labels.info, &mut key[..])
            .map_err(|_| SealError::Kdf)?;
        Ok(DraftSecret {
            secret,
            labels,
            key,
        })
    }

    /// A fresh random secret.
    pub fn generate() -> Result<Self, SealError> {
        Self::generate_for(&DRAFT_LABELS)
    }

    fn generate_for(labels: &'static Labels) -> Result<Self, SealError> {
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut secret[..])?;
        Self::from_secret(secret, labels)
    }

    /// The cookie value: 43 characters of base64url without padding.
    pub fn to_cookie_value(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(44));
        URL_SAFE_NO_PAD.encode_string(&self.secret[..], &mut out);
        out
    }

    /// Reads a cookie value; `None` unless it is exactly a value from
    /// [`to_cookie_value`](Self::to_cookie_value).
    pub fn from_cookie_value(value: &str) -> Option<Self> {
        Self::decode(value, &DRAFT_LABELS)
    }

    fn decode(value: &str, labels: &'static Labels) -> Option<Self> {
        if value.len() != 43 {
            return None;
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        match URL_SAFE_NO_PAD.decode_slice(value.as_bytes(), &mut secret[..]) {
            Ok(32) => Self::from_secret(secret, labels).ok(),
            _ => None,
        }
    }

    /// The id of the draft's database row.
    pub fn lookup_id(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(self.labels.lookup)
            .chain_update(&self.secret[..])
            .finalize()
            .into()
    }

    /// The cipher of this draft.
    pub fn cipher(&self) -> DraftCipher {
        DraftCipher::new(self)
    }
}

impl fmt::Debug for DraftSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DraftSecret(..)")
    }
}

/// The change/cancel token of a visit booking: 32 random bytes sent only in the customer's
/// e-mail link. The database keeps its [`lookup_id`](Self::lookup_id) (a SHA-256 under its
/// own label) and, encrypted with a key derived from it, the name and address the booking's
/// later e-mails need. So the public site can write to a customer about their booking only
/// while that customer presents the link, and a database dump opens neither.
pub struct BookingToken(DraftSecret);

impl BookingToken {
    /// A fresh random token.
    pub fn generate() -> Result<Self, SealError> {
        DraftSecret::generate_for(&BOOKING_LABELS).map(BookingToken)
    }

    /// The token as it appears in the link: 43 characters of base64url without padding.
    pub fn to_link_value(&self) -> Zeroizing<String> {
        self.0.to_cookie_value()
    }

    /// Reads a link value; `None` unless it is exactly a value from
    /// [`to_link_value`](Self::to_link_value).
    pub fn from_link_value(value: &str) -> Option<Self> {
        DraftSecret::decode(value, &BOOKING_LABELS).map(BookingToken)
    }

    /// The id of the booking's database row.
    pub fn lookup_id(&self) -> [u8; 32] {
        self.0.lookup_id()
    }

    /// The cipher of the booking's contact capsule.
    pub fn cipher(&self) -> DraftCipher {
        self.0.cipher()
    }
}

impl fmt::Debug for BookingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BookingToken(..)")
    }
}

/// Opening a draft failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// Not a draft ciphertext of a known version.
    #[error("not a draft ciphertext")]
    Format,
    /// Wrong secret, wrong AAD, or altered bytes.
    #[error("draft authentication failed")]
    Authentication,
}

/// XChaCha20Poly1305 keyed from a [`DraftSecret`] (key zeroized on drop).
///
/// Ciphertext: `version 0x01 | nonce (24, random) | ciphertext+tag`.
pub struct DraftCipher {
    cipher: XChaCha20Poly1305,
}

impl DraftCipher {
    /// The cipher of this secret's draft.
    pub fn new(secret: &DraftSecret) -> Self {
        DraftCipher {
            cipher: XChaCha20Poly1305::new((&*secret.key).into()),
        }
    }

    /// Encrypts a draft; `aad` binds it to its context (e.g. the lookup id and service).
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)?;
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SealError::Aead)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(DRAFT_FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts a draft.
    pub fn decrypt(&self, ciphertext: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, DraftError> {
        if ciphertext.len() < 1 + NONCE_LEN + TAG_LEN
            || ciphertext.first() != Some(&DRAFT_FORMAT_VERSION)
        {
            return Err(DraftError::Format);
        }
        let (nonce, ct) = ciphertext.get(1..).unwrap_or_default().split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| DraftError::Format)?;
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| DraftError::Authentication)
    }
}

impl fmt::Debug for DraftCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DraftCipher(..)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cookie_round_trip() {
        let s = DraftSecret::generate().unwrap();
        let v = s.to_cookie_value();
        assert_eq!(v.len(), 43);
        assert!(!v.contains(['+', '/', '=']));
        let back = DraftSecret::from_cookie_value(&v).unwrap();
        assert_eq!(back.lookup_id(), s.lookup_id());
        for bad in ["", "abc", &format!("{}=", &*v), &v[..42], "é"] {
            assert!(DraftSecret::from_cookie_value(bad).is_none(), "{bad}");
        }
        assert_eq!(format!("{s:?}"), "DraftSecret(..)");
    }

    #[test]
    fn a_booking_token_and_a_draft_cookie_of_the_same_bytes_open_nothing_of_each_other() {
        let token = BookingToken::generate().unwrap();
        let link = token.to_link_value();
        let back = BookingToken::from_link_value(&link).unwrap();
        assert_eq!(back.lookup_id(), token.lookup_id());
        let as_draft = DraftSecret::from_cookie_value(&link).unwrap();
        assert_ne!(as_draft.lookup_id(), token.lookup_id());
        let ct = token.cipher().encrypt(b"contact", b"id").unwrap();
        assert_eq!(&*back.cipher().decrypt(&ct, b"id").unwrap(), b"contact");
        assert_eq!(
            as_draft.cipher().decrypt(&ct, b"id"),
            Err(DraftError::Authentication)
        );
        assert_eq!(format!("{token:?}"), "BookingToken(..)");
    }

    #[test]
    fn lookup_id_is_not_the_plain_hash() {
        let s = DraftSecret::generate().unwrap();
        let plain: [u8; 32] = Sha256::digest(&s.secret[..]).into();
        assert_ne!(s.lookup_id(), plain);
    }

    #[test]
    fn encrypt_decrypt() {
        let s = DraftSecret::generate().unwrap();
        let c = s.cipher();
        let ct = c.encrypt(b"{\"step\":2}", b"aad").unwrap();
        assert_eq!(&*c.decrypt(&ct, b"aad").unwrap(), b"{\"step\":2}");
        assert_eq!(c.decrypt(&ct, b"other"), Err(DraftError::Authentication));
        let other = DraftSecret::generate().unwrap().cipher();
        assert_eq!(other.decrypt(&ct, b"aad"), Err(DraftError::Authentication));
        let mut flipped = ct.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(c.decrypt(&flipped, b"aad"), Err(DraftError::Authentication));
        for cut in 0..ct.len() {
            assert!(c.decrypt(&ct[..cut], b"aad").is_err());
        }
        let mut v2 = ct;
        v2[0] = 2;
        assert_eq!(c.decrypt(&v2, b"aad"), Err(DraftError::Format));
    }
}
