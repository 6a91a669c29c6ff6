//! Round trips between madoguchi-seal (writer) and madoguchi-keyring (reader), and failures.
#![allow(clippy::unwrap_used)]

use madoguchi_keyring::{MailKeyring, OfficeKeyring, OpenError, PrivateKey};
use madoguchi_seal::{EncryptedFields, EnvelopeWriter, MailSealer, SealedMessage, WrappedKey};
use proptest::prelude::*;
use uuid::Uuid;

fn office() -> (PrivateKey, EnvelopeWriter, OfficeKeyring) {
    let key = PrivateKey::generate().unwrap();
    let writer = EnvelopeWriter::new(key.public_key().clone());
    let ring = OfficeKeyring::from_keys([key.clone()]);
    (key, writer, ring)
}

#[test]
fn fields_round_trip() {
    let (_, writer, ring) = office();
    let record = Uuid::now_v7();
    let enc = writer.begin(&record).unwrap();
    let mut fields = EncryptedFields::new();
    enc.encrypt_into(&mut fields, "family_name", "山田".as_bytes())
        .unwrap();
    enc.encrypt_into(&mut fields, "email", b"taro@example.jp")
        .unwrap();
    enc.encrypt_into(&mut fields, "note", b"").unwrap();
    let stored_fields = fields.to_bytes();
    let stored_key = enc.wrapped_key().as_bytes().to_vec();
    drop(enc);

    let wrapped = WrappedKey::from_stored(stored_key).unwrap();
    let fields = EncryptedFields::from_bytes(&stored_fields).unwrap();
    let dec = ring.open_record(&record, &wrapped).unwrap();
    assert_eq!(dec.record_id(), &record);
    assert_eq!(
        &*dec
            .decrypt_field("family_name", fields.get("family_name").unwrap())
            .unwrap(),
        "山田".as_bytes()
    );
    assert_eq!(
        &*dec
            .decrypt_field("email", fields.get("email").unwrap())
            .unwrap(),
        b"taro@example.jp"
    );
    assert!(
        dec.decrypt_field("note", fields.get("note").unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn field_failures_are_errors() {
    let (_, writer, ring) = office();
    let record = Uuid::now_v7();
    let enc = writer.begin(&record).unwrap();
    let ct = enc.encrypt_field("phone", b"09012345678").unwrap();
    let dec = ring.open_record(&record, enc.wrapped_key()).unwrap();

    // Wrong field name: a ciphertext cannot be moved to another column.
    assert_eq!(
        dec.decrypt_field("mobile", &ct),
        Err(OpenError::Authentication)
    );
    assert!(dec.decrypt_field("", &ct).is_err());
    // Truncated anywhere.
    for cut in 0..ct.len() {
        assert!(dec.decrypt_field("phone", &ct[..cut]).is_err(), "cut {cut}");
    }
    // Every single bit flip.
    for i in 0..ct.len() {
        for bit in 0..8 {
            let mut bad = ct.clone();
            bad[i] ^= 1 << bit;
            assert!(
                dec.decrypt_field("phone", &bad).is_err(),
                "byte {i} bit {bit}"
            );
        }
    }
    // Another record's data key cannot read it (a field moved between records).
    let other = writer.begin(&Uuid::now_v7()).unwrap();
    let other_dec = ring
        .open_record(other.record_id(), other.wrapped_key())
        .unwrap();
    assert_eq!(
        other_dec.decrypt_field("phone", &ct),
        Err(OpenError::Authentication)
    );
    assert_eq!(
        dec.decrypt_field("phone", &ct).unwrap().as_slice(),
        b"09012345678"
    );
}

#[test]
fn wrapped_key_failures_are_errors() {
    let (_, writer, ring) = office();
    let record = Uuid::now_v7();
    let enc = writer.begin(&record).unwrap();
    let wrapped = enc.wrapped_key().clone();

    // Wrong record id: a wrapped key cannot be moved to another record.
    assert_eq!(
        ring.open_record(&Uuid::now_v7(), &wrapped).unwrap_err(),
        OpenError::Authentication
    );
    // Another office key: a clear error naming both ids.
    let other = OfficeKeyring::from_keys([PrivateKey::generate().unwrap()]);
    let err = other.open_record(&record, &wrapped).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, OpenError::UnknownKey { .. }));
    assert!(msg.contains(&wrapped.key_id().to_string()), "{msg}");
    assert!(msg.contains(&other.key_ids()[0].to_string()), "{msg}");
    // Bit flips after the key id (which would select no key) fail authentication.
    let bytes = wrapped.as_bytes().to_vec();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        match WrappedKey::from_stored(bad) {
            Ok(w) => assert!(ring.open_record(&record, &w).is_err(), "byte {i}"),
            Err(_) => assert_eq!(i, 0, "only the version byte is structural"),
        }
    }
    assert!(ring.open_record(&record, &wrapped).is_ok());
    // An empty keyring says it holds nothing.
    let empty = OfficeKeyring::from_keys(Vec::<PrivateKey>::new());
    assert!(
        empty
            .open_record(&record, &wrapped)
            .unwrap_err()
            .to_string()
            .contains("no key")
    );
}

#[test]
fn mail_round_trip_and_failures() {
    let key = PrivateKey::generate().unwrap();
    let sealer = MailSealer::new(key.public_key().clone());
    let ring = MailKeyring::from_keys([key]);
    let id = Uuid::now_v7();
    let body = vec![b'm'; 2048];
    let sealed = sealer.seal(&id, &body).unwrap();
    let stored = SealedMessage::from_stored(sealed.as_bytes().to_vec()).unwrap();
    assert_eq!(&*ring.open(&id, &stored).unwrap(), &body[..]);

    assert_eq!(
        ring.open(&Uuid::now_v7(), &stored).unwrap_err(),
        OpenError::Authentication
    );
    let other = MailKeyring::from_keys([PrivateKey::generate().unwrap()]);
    assert!(matches!(
        other.open(&id, &stored).unwrap_err(),
        OpenError::UnknownKey { .. }
    ));
    let bytes = stored.as_bytes();
    for cut in 0..bytes.len() {
        if let Ok(m) = SealedMessage::from_stored(bytes[..cut].to_vec()) {
            assert!(ring.open(&id, &m).is_err());
        }
    }
    for i in 9..bytes.len() {
        let mut bad = bytes.to_vec();
        bad[i] ^= 0x80;
        let m = SealedMessage::from_stored(bad).unwrap();
        assert_eq!(
            ring.open(&id, &m).unwrap_err(),
            OpenError::Authentication,
            "byte {i}"
        );
    }
}

#[test]
fn debug_shows_no_key_material() {
    let (key, writer, ring) = office();
    let dec = ring
        .open_record(
            &Uuid::nil(),
            writer.begin(&Uuid::nil()).unwrap().wrapped_key(),
        )
        .unwrap();
    let text = format!("{key:?} {ring:?} {dec:?}");
    assert!(text.contains(&key.key_id().to_string()));
    let file = key.to_file_text(madoguchi_seal::KeyRole::Office);
    let secret_b64 = file.split(' ').nth(3).unwrap().trim_end();
    assert!(!text.contains(secret_b64));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_input_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..160),
        field in "[ -~]{0,20}",
    ) {
        let (key, writer, ring) = office();
        let record = Uuid::from_u128(1);
        let dec = ring.open_record(&record, writer.begin(&record).unwrap().wrapped_key()).unwrap();
        prop_assert!(dec.decrypt_field(&field, &bytes).is_err());

        // Structurally valid wrapped keys and messages for the right key id, with random bodies.
        let mut wrapped = vec![1u8];
        wrapped.extend_from_slice(key.key_id().as_bytes());
        wrapped.extend_from_slice(&bytes);
        if let Ok(w) = WrappedKey::from_stored(wrapped.clone()) {
            prop_assert!(ring.open_record(&record, &w).is_err());
        }
        let mail = MailKeyring::from_keys([key]);
        if let Ok(m) = SealedMessage::from_stored(wrapped) {
            prop_assert!(mail.open(&record, &m).is_err());
        }
    }
}
