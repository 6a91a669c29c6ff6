//! CSRF tokens: HMAC-SHA256 of the session id, checked in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac as _;
use zeroize::Zeroizing;

use crate::blind::hmac_sha256;
use crate::keyfile::CSRF_KEY_TAG;

/// Label of CSRF tokens.
const CSRF_LABEL: &[u8] = b"madoguchi/csrf/v1";

/// The server key of CSRF tokens (32 bytes, zeroized on drop).
///
/// File: `madoguchi-csrf-key v1 <base64 32 bytes>`, mode 0600.
/// Token = base64url (no padding) of HMAC(key, `madoguchi/csrf/v1` || 0x00 || session id).
pub struct CsrfKey {
    key: Zeroizing<[u8; 32]>,
}

crate::hmac_key::hmac_key_file!(CsrfKey, CSRF_KEY_TAG);

impl CsrfKey {
    fn mac(&self, session_id: &[u8]) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = hmac_sha256(&self.key);
        mac.update(CSRF_LABEL);
        mac.update(&[0]);
        mac.update(session_id);
        mac
    }

    /// The token for this session (43 characters, base64url without padding).
    pub fn token_for(&self, session_id: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(session_id).finalize().into_bytes())
    }

    /// Checks a token in constant time (with respect to the expected MAC).
    pub fn verify(&self, session_id: &[u8], token: &str) -> bool {
        if token.len() != 43 {
            return false;
        }
        let mut tag = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(token.as_bytes(), &mut tag) {
            Ok(32) => self.mac(session_id).verify_slice(&tag).is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip() {
        let k = CsrfKey::generate().unwrap();
        let t = k.token_for(b"session-1");
        assert_eq!(t.len(), 43);
        assert!(k.verify(b"session-1", &t));
        assert!(!k.verify(b"session-2", &t));
        assert!(!CsrfKey::generate().unwrap().verify(b"session-1", &t));
        let mut flipped = t.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        assert!(!k.verify(b"session-1", &String::from_utf8(flipped).unwrap()));
        for bad in ["", "x", &t[..42], &format!("{t}A"), "é"] {
            assert!(!k.verify(b"session-1", bad));
        }
        let back = CsrfKey::parse_file_text(&k.to_file_text()).unwrap();
        assert_eq!(back.token_for(b"s"), k.token_for(b"s"));
    }
}
