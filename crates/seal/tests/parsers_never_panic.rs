//! Parsers of stored bytes and key files return errors, never panic, on arbitrary input.
#![allow(clippy::unwrap_used)]

use madoguchi_seal::{
    BlindIndex, BlindIndexKey, CsrfKey, DraftSecret, EncryptedFields, KeyId, PublicKey,
    SealedMessage, SealedSecret, WrapScheme, WrappedKey, suite,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn stored_formats_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(s) = SealedSecret::from_stored(bytes.clone()) {
            prop_assert_eq!(s.as_bytes(), &bytes[..]);
            let _ = (s.key_id(), s.kind(), s.encapped_key().len(), s.ciphertext().len());
        }
        if let Ok(w) = WrappedKey::from_stored(bytes.clone()) {
            // v1: an X25519 encapsulated key; v2: an ephemeral P-256 point (SEC1, 65 bytes).
            let encapped = match w.scheme() {
                WrapScheme::HpkeX25519 => 32,
                WrapScheme::EcdhP256 => 65,
            };
            prop_assert_eq!(w.encapped_key().len(), encapped);
            prop_assert_eq!(w.ciphertext().len(), 48);
            prop_assert_eq!(w.as_bytes(), &bytes[..]);
        }
        if let Ok(m) = SealedMessage::from_stored(bytes.clone()) {
            prop_assert_eq!(m.encapped_key().len(), 32);
        }
        if let Ok(f) = EncryptedFields::from_bytes(&bytes) {
            prop_assert_eq!(f.to_bytes(), bytes.clone());
        }
        let _ = suite::split_field_ciphertext(&bytes);
        let _ = BlindIndex::from_bytes(&bytes);
        let _ = PublicKey::from_bytes(&bytes);
    }

    #[test]
    fn versioned_prefixes_never_panic(
        version in 0u8..3,
        kind in 0u8..5,
        rest in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut bytes = vec![version];
        bytes.extend_from_slice(&[0u8; 8]);
        bytes.push(kind);
        bytes.extend_from_slice(&rest);
        let _ = SealedSecret::from_stored(bytes.clone());
        let _ = WrappedKey::from_stored(bytes.clone());
        let _ = SealedMessage::from_stored(bytes.clone());
        let _ = EncryptedFields::from_bytes(&bytes);
    }

    #[test]
    fn encrypted_fields_structured_garbage(
        count in any::<u16>(),
        entries in proptest::collection::vec(
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20), any::<u32>()), 0..5),
    ) {
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&count.to_be_bytes());
        for (name_len, body, ct_len) in entries {
            bytes.push(name_len);
            bytes.extend_from_slice(&body);
            bytes.extend_from_slice(&ct_len.to_be_bytes());
        }
        let _ = EncryptedFields::from_bytes(&bytes);
    }

    #[test]
    fn text_parsers_never_panic(text in ".{0,120}") {
        let _ = PublicKey::parse_file_text(&text);
        let _ = BlindIndexKey::parse_file_text(&text);
        let _ = CsrfKey::parse_file_text(&text);
        let _ = DraftSecret::from_cookie_value(&text);
        let _ = text.parse::<KeyId>();
    }

    #[test]
    fn key_file_shaped_text_never_panics(
        tag in prop::sample::select(vec![
            "madoguchi-x25519-public", "madoguchi-blind-index-key", "madoguchi-csrf-key", "x",
        ]),
        version in prop::sample::select(vec!["v1", "v2", ""]),
        role in prop::sample::select(vec!["office", "mail", "core-banking", "bank"]),
        key in "[A-Za-z0-9+/=_-]{0,50}",
    ) {
        for text in [
            format!("{tag} {version} {role} {key}\n"),
            format!("{tag} {version} {key}\n"),
        ] {
            let _ = PublicKey::parse_file_text(&text);
            let _ = BlindIndexKey::parse_file_text(&text);
            let _ = CsrfKey::parse_file_text(&text);
        }
    }

    #[test]
    fn draft_decrypt_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let cipher = DraftSecret::generate().unwrap().cipher();
        prop_assert!(cipher.decrypt(&bytes, b"").is_err());
    }
}
