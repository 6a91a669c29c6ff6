//! A hand-off batch written with public keys only, opened on the core-banking side: the
//! manifest first, then the batch, then every secret for its own application.
#![allow(clippy::unwrap_used)]

use madoguchi_core_open::{BatchOpenError, CorePrivateKey};
use madoguchi_handoff::{
    BatchApplication, BatchPayload, BatchSecret, HandoffSigningKey, PersonalValues, seal_batch,
};
use madoguchi_keyring::PrivateKey;
use madoguchi_seal::{Sealable, SecretKind, SecretSealer};
use time::OffsetDateTime;
use uuid::Uuid;

struct Secret(&'static [u8]);
impl Sealable for Secret {
    fn secret_bytes(&self) -> &[u8] {
        self.0
    }
}

struct Fixture {
    core: CorePrivateKey,
    signer: HandoffSigningKey,
    manifest: Vec<u8>,
    batch: Vec<u8>,
}

/// One application with a PIN sealed for `sealed_for` (its own id unless a test moves it).
fn fixture(sealed_for: Option<Uuid>) -> Fixture {
    let key = PrivateKey::generate().unwrap();
    let public = key.public_key().clone();
    let core = CorePrivateKey::from_private_key(key);
    let signer = HandoffSigningKey::generate().unwrap();
    let id = Uuid::now_v7();
    let sealed = SecretSealer::new(public.clone())
        .seal(
            SecretKind::CashCardPin,
            &sealed_for.unwrap_or(id),
            &Secret(b"4821"),
        )
        .unwrap();
    let mut payload = BatchPayload::new(Uuid::now_v7(), OffsetDateTime::now_utc());
    let mut fields = PersonalValues::default();
    fields.insert("family_name", "検証山".to_owned());
    payload.applications.push(BatchApplication {
        application_id: id,
        receipt_number: "A-1".to_owned(),
        product: "savings-account".to_owned(),
        branch_code: "101".to_owned(),
        submitted_at: "2026-11-25T00:00:00Z".to_owned(),
        fields,
        secrets: vec![BatchSecret::new(
            "cash-card-pin",
            &sealed.key_id().to_string(),
            sealed.as_bytes(),
        )],
    });
    let sealed = seal_batch(&payload, &public, &signer).unwrap();
    Fixture {
        core,
        signer,
        manifest: sealed.manifest.to_json(),
        batch: sealed.ciphertext,
    }
}

#[test]
fn a_batch_opens_with_its_secrets() {
    let f = fixture(None);
    let opened = f
        .core
        .open_batch(&f.manifest, &f.batch, &f.signer.verifying_key())
        .unwrap();
    assert_eq!(opened.count, 1);
    let app = &opened.applications[0];
    assert_eq!(app.fields.get("family_name"), Some("検証山"));
    assert_eq!(app.secrets.get("cash-card-pin"), Some("4821"));
    let json = String::from_utf8(opened.to_json().to_vec()).unwrap();
    assert!(json.contains("\"cash-card-pin\": \"4821\""), "{json}");
    // Debug never shows a value.
    assert!(!format!("{opened:?}").contains("4821"));
}

#[test]
fn tampering_is_refused_before_decrypting() {
    let f = fixture(None);
    let trusted = f.signer.verifying_key();
    for i in [0, 9, f.batch.len() / 2, f.batch.len() - 1] {
        let mut batch = f.batch.clone();
        batch[i] ^= 0x80;
        assert!(matches!(
            f.core.open_batch(&f.manifest, &batch, &trusted),
            Err(BatchOpenError::Refused(_))
        ));
    }
    assert!(matches!(
        f.core
            .open_batch(&f.manifest, &f.batch[..f.batch.len() - 1], &trusted),
        Err(BatchOpenError::Refused(_))
    ));
    let text = String::from_utf8(f.manifest.clone()).unwrap();
    for (from, to) in [
        ("\"count\": 1", "\"count\": 0"),
        ("\"format\"", "\"formal\""),
    ] {
        let altered = text.replace(from, to);
        assert!(matches!(
            f.core.open_batch(altered.as_bytes(), &f.batch, &trusted),
            Err(BatchOpenError::Refused(_))
        ));
    }
    assert!(matches!(
        f.core.open_batch(b"not json", &f.batch, &trusted),
        Err(BatchOpenError::Refused(_))
    ));
}

#[test]
fn another_core_key_or_a_moved_secret_does_not_open() {
    let f = fixture(None);
    let other = CorePrivateKey::from_private_key(PrivateKey::generate().unwrap());
    let err = other
        .open_batch(&f.manifest, &f.batch, &f.signer.verifying_key())
        .unwrap_err();
    assert!(matches!(err, BatchOpenError::WrongKey(_)), "{err}");

    // A secret sealed for another application, copied into this one, fails to open.
    let moved = fixture(Some(Uuid::now_v7()));
    let err = moved
        .core
        .open_batch(&moved.manifest, &moved.batch, &moved.signer.verifying_key())
        .unwrap_err();
    assert!(matches!(err, BatchOpenError::Secret { .. }), "{err}");
}
