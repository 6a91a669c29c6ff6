//! Sealing on the public side and opening on the core-banking side.
#![allow(clippy::unwrap_used)]

use madoguchi_core_open::{CorePrivateKey, OpenError};
use madoguchi_keyring::PrivateKey;
use madoguchi_seal::{KeyRole, Sealable, SealedSecret, SecretKind, SecretSealer};
use proptest::prelude::*;
use uuid::Uuid;

struct Secret(Vec<u8>);
impl Sealable for Secret {
    fn secret_bytes(&self) -> &[u8] {
        &self.0
    }
}

fn core() -> (CorePrivateKey, SecretSealer) {
    let key = PrivateKey::generate().unwrap();
    let sealer = SecretSealer::new(key.public_key().clone());
    (CorePrivateKey::from_private_key(key), sealer)
}

#[test]
fn every_kind_round_trips_through_storage() {
    let (core, sealer) = core();
    let subject = Uuid::now_v7();
    for (kind, value) in [
        (SecretKind::CashCardPin, "1234"),
        (SecretKind::LogonPassword, "Pa55-wörd!"),
        (SecretKind::DebitCardPin, "9876"),
    ] {
        let sealed = sealer
            .seal(kind, &subject, &Secret(value.as_bytes().to_vec()))
            .unwrap();
        let stored = SealedSecret::from_stored(sealed.into_bytes()).unwrap();
        assert_eq!(
            &*core.open_secret(&stored, kind, &subject).unwrap(),
            value.as_bytes()
        );
    }
}

#[test]
fn wrong_key_names_both_ids() {
    let (_, sealer) = core();
    let (other, _) = core();
    let sealed = sealer
        .seal(
            SecretKind::CashCardPin,
            &Uuid::nil(),
            &Secret(b"1234".to_vec()),
        )
        .unwrap();
    let err = other
        .open_secret(&sealed, SecretKind::CashCardPin, &Uuid::nil())
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(
        err,
        OpenError::WrongKey {
            sealed_for: sealed.key_id(),
            this_key: other.key_id()
        }
    );
    assert!(msg.contains(&sealed.key_id().to_string()), "{msg}");
    assert!(msg.contains(&other.key_id().to_string()), "{msg}");
}

#[test]
fn wrong_subject_or_kind_fails_authentication() {
    let (core, sealer) = core();
    let subject = Uuid::now_v7();
    let sealed = sealer
        .seal(SecretKind::CashCardPin, &subject, &Secret(b"1234".to_vec()))
        .unwrap();
    // Moved to another application.
    assert!(matches!(
        core.open_secret(&sealed, SecretKind::CashCardPin, &Uuid::now_v7()),
        Err(OpenError::Authentication { .. })
    ));
    // Opened as another kind.
    assert!(matches!(
        core.open_secret(&sealed, SecretKind::DebitCardPin, &subject),
        Err(OpenError::Authentication { .. })
    ));
    // Header relabelled to another kind (the kind byte is at offset 9): still refused, since
    // the kind is authenticated through the HPKE info.
    let mut relabelled = sealed.as_bytes().to_vec();
    relabelled[9] = SecretKind::DebitCardPin.code();
    let relabelled = SealedSecret::from_stored(relabelled).unwrap();
    assert!(matches!(
        core.open_secret(&relabelled, SecretKind::DebitCardPin, &subject),
        Err(OpenError::Authentication { .. })
    ));
    assert!(
        core.open_secret(&sealed, SecretKind::CashCardPin, &subject)
            .is_ok()
    );
}

#[test]
fn truncated_and_bit_flipped_fail() {
    let (core, sealer) = core();
    let subject = Uuid::now_v7();
    let bytes = sealer
        .seal(
            SecretKind::LogonPassword,
            &subject,
            &Secret(b"hunter22".to_vec()),
        )
        .unwrap()
        .into_bytes();
    for cut in 0..bytes.len() {
        if let Ok(s) = SealedSecret::from_stored(bytes[..cut].to_vec()) {
            assert!(
                core.open_secret(&s, SecretKind::LogonPassword, &subject)
                    .is_err()
            );
        }
    }
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            if let Ok(s) = SealedSecret::from_stored(bad) {
                assert!(
                    core.open_secret(&s, SecretKind::LogonPassword, &subject)
                        .is_err(),
                    "byte {i} bit {bit}"
                );
            }
        }
    }
}

#[test]
fn load_checks_role_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let path = dir.path().join("core-banking.key");
    let write = |role: KeyRole, mode: u32| {
        std::fs::write(&path, key.to_file_text(role).as_bytes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
    };

    write(KeyRole::CoreBanking, 0o600);
    let core = CorePrivateKey::load(&path).unwrap();
    assert_eq!(core.key_id(), key.key_id());
    assert_eq!(
        format!("{core:?}"),
        format!("CorePrivateKey({})", key.key_id())
    );

    #[cfg(unix)]
    {
        write(KeyRole::CoreBanking, 0o644);
        let msg = CorePrivateKey::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("core-banking.key") && msg.contains("chmod 600"),
            "{msg}"
        );
    }

    write(KeyRole::Office, 0o600);
    let msg = CorePrivateKey::load(&path).unwrap_err().to_string();
    assert!(
        msg.contains("office key") && msg.contains("core-banking key"),
        "{msg}"
    );

    let msg = CorePrivateKey::load(&dir.path().join("absent.key"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("absent.key") && msg.contains("missing"),
        "{msg}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_sealed_bytes_never_panic(
        kind in 0u8..5,
        body in proptest::collection::vec(any::<u8>(), 0..120),
        expected in 0usize..3,
    ) {
        let (core, _) = core();
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(core.key_id().as_bytes());
        bytes.push(kind);
        bytes.extend_from_slice(&body);
        if let Ok(s) = SealedSecret::from_stored(bytes) {
            let expected = SecretKind::ALL[expected];
            prop_assert!(core.open_secret(&s, expected, &Uuid::nil()).is_err());
        }
    }
}
