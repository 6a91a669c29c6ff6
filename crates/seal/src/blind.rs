//! Keyed blind indexes (HMAC-SHA256) for look-ups without plaintext, and MACs of short codes.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::KeyId;
use crate::keyfile::BLIND_INDEX_KEY_TAG;

/// Label of e-mail blind indexes.
const EMAIL_LABEL: &[u8] = b"madoguchi/email/v1";
/// Label of code MACs.
const CODE_LABEL: &[u8] = b"madoguchi/code/v1";
/// Label of a blind-index key's id.
const KEY_ID_LABEL: &[u8] = b"madoguchi/blind-index/key-id/v1";

/// An HMAC-SHA256 instance keyed with a 32-byte key.
///
/// HMAC pads keys shorter than its 64-byte block with zeros (RFC 2104), so keying with the
/// zero-padded block is the same HMAC as keying with the 32 bytes, and cannot fail.
pub(crate) fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    <Hmac<Sha256>>::new((&*block).into())
}

/// The server key of blind indexes and code MACs (32 bytes, zeroized on drop).
///
/// File: `madoguchi-blind-index-key v1 <base64 32 bytes>`, mode 0600.
pub struct BlindIndexKey {
    key: Zeroizing<[u8; 32]>,
}

crate::hmac_key::hmac_key_file!(BlindIndexKey, BLIND_INDEX_KEY_TAG);

impl BlindIndexKey {
    /// The key's id, stored beside each index it computed so a rotation knows which rows to
    /// re-index: HMAC(key, `madoguchi/blind-index/key-id/v1`)[..8]. It reveals nothing of the
    /// key or of any index.
    pub fn key_id(&self) -> KeyId {
        let digest: [u8; 32] = hmac_sha256(&self.key)
            .chain_update(KEY_ID_LABEL)
            .finalize()
            .into_bytes()
            .into();
        let mut id = [0u8; KeyId::LEN];
        id.copy_from_slice(&digest[..KeyId::LEN]);
        KeyId::from_bytes(id)
    }

    /// Blind index of a normalized e-mail: HMAC(key, `madoguchi/email/v1` || 0x00 || email).
    pub fn email_index(&self, normalized_email: &str) -> BlindIndex {
        let mut mac = hmac_sha256(&self.key);
        mac.update(EMAIL_LABEL);
        mac.update(&[0]);
        mac.update(normalized_email.as_bytes());
        BlindIndex(mac.finalize().into_bytes().into())
    }

    fn code_hmac(&self, purpose: &str, subject: &[u8], code: &str) -> Hmac<Sha256> {
        let mut mac = hmac_sha256(&self.key);
        mac.update(CODE_LABEL);
        mac.update(&[0]);
        for part in [purpose.as_bytes(), subject] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(code.as_bytes());
        mac
    }

    /// MAC of a short code (e.g. an e-mail verification code) for `purpose` and `subject`:
    /// HMAC(key, `madoguchi/code/v1` || 0x00 || len64(purpose) || purpose || len64(subject) ||
    /// subject || code). Store this, never the code.
    pub fn code_mac(&self, purpose: &str, subject: &[u8], code: &str) -> [u8; 32] {
        self.code_hmac(purpose, subject, code)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Checks a code against a stored [`code_mac`](Self::code_mac) in constant time.
    pub fn verify_code(
        &self,
        purpose: &str,
        subject: &[u8],
        code: &str,
        stored_mac: &[u8],
    ) -> bool {
        self.code_hmac(purpose, subject, code)
            .verify_slice(stored_mac)
            .is_ok()
    }
}

/// A keyed blind index (32 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlindIndex([u8; 32]);

impl BlindIndex {
    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads stored bytes (`None` unless exactly 32).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(BlindIndex)
    }
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindIndex({})", hex::encode(self.0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn padded_key_equals_slice_key() {
        let key = [0xabu8; 32];
        let a = hmac_sha256(&key)
            .chain_update(b"msg")
            .finalize()
            .into_bytes();
        let b = <Hmac<Sha256>>::new_from_slice(&key)
            .unwrap()
            .chain_update(b"msg")
            .finalize()
            .into_bytes();
        assert_eq!(a, b);
    }

    #[test]
    fn rfc4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; check our construction against new_from_slice
        // with a 32-byte key that is the case-2 key zero-padded (identical by RFC 2104).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let out = hmac_sha256(&key)
            .chain_update(b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(
            hex::encode(out),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn email_index_is_keyed_and_deterministic() {
        let k1 = BlindIndexKey::from_bytes([1u8; 32]);
        let k2 = BlindIndexKey::from_bytes([2u8; 32]);
        let a = k1.email_index("taro@example.jp");
        assert_eq!(a, k1.email_index("taro@example.jp"));
        assert_ne!(a, k1.email_index("jiro@example.jp"));
        assert_ne!(a, k2.email_index("taro@example.jp"));
        assert_eq!(BlindIndex::from_bytes(a.as_bytes()), Some(a));
        assert_eq!(BlindIndex::from_bytes(&[0u8; 31]), None);
        assert!(format!("{a:?}").starts_with("BlindIndex("));
        assert_eq!(format!("{k1:?}"), "BlindIndexKey(..)");
    }

    #[test]
    fn key_ids_tell_keys_apart_and_are_not_an_index() {
        let k1 = BlindIndexKey::from_bytes([1u8; 32]);
        let k2 = BlindIndexKey::from_bytes([2u8; 32]);
        assert_eq!(k1.key_id(), BlindIndexKey::from_bytes([1u8; 32]).key_id());
        assert_ne!(k1.key_id(), k2.key_id());
        assert_ne!(
            &k1.key_id().as_bytes()[..],
            &k1.email_index("").as_bytes()[..8]
        );
    }

    #[test]
    fn code_mac_binds_purpose_subject_code() {
        let k = BlindIndexKey::from_bytes([1u8; 32]);
        let m = k.code_mac("verify-email", b"app-1", "123456");
        assert!(k.verify_code("verify-email", b"app-1", "123456", &m));
        assert!(!k.verify_code("verify-email", b"app-1", "123457", &m));
        assert!(!k.verify_code("verify-email", b"app-2", "123456", &m));
        assert!(!k.verify_code("reset", b"app-1", "123456", &m));
        assert!(!k.verify_code("verify-email", b"app-1", "123456", &m[..31]));
        // Length prefixes keep (purpose, subject) boundaries unambiguous.
        assert_ne!(k.code_mac("ab", b"c", "1"), k.code_mac("a", b"bc", "1"));
        // A code MAC is never equal to an e-mail index of the same text.
        assert_ne!(k.code_mac("", b"", "x"), *k.email_index("x").as_bytes());
    }

    #[test]
    fn file_text_round_trip() {
        let k = BlindIndexKey::generate().unwrap();
        let text = k.to_file_text();
        assert!(text.starts_with("madoguchi-blind-index-key v1 "));
        let back = BlindIndexKey::parse_file_text(&text).unwrap();
        assert_eq!(back.email_index("a"), k.email_index("a"));
    }
}
