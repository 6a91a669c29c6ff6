//! Loading the public process's key set from the keys folder.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use madoguchi_seal::{
    BlindIndexKey, CsrfKey, KeyFileError, KeyRole, PublicKey, PublicKeySet, SecretKind, keyfile,
};

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
}

fn populate(dir: &Path) {
    let pk = |b: u8| PublicKey::from_bytes(&[b; 32]).unwrap();
    write(
        &dir.join(keyfile::CORE_BANKING_PUB),
        &pk(1).to_file_text(KeyRole::CoreBanking),
        0o644,
    );
    write(
        &dir.join(keyfile::OFFICE_PUB),
        &pk(2).to_file_text(KeyRole::Office),
        0o644,
    );
    write(
        &dir.join(keyfile::MAIL_PUB),
        &pk(3).to_file_text(KeyRole::Mail),
        0o644,
    );
    write(
        &dir.join(keyfile::BLIND_INDEX_KEY),
        &BlindIndexKey::generate().unwrap().to_file_text(),
        0o600,
    );
    write(
        &dir.join(keyfile::CSRF_KEY),
        &CsrfKey::generate().unwrap().to_file_text(),
        0o600,
    );
}

#[test]
fn loads_a_complete_folder() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let set = PublicKeySet::load(dir.path()).unwrap();
    assert_eq!(
        set.core_banking(),
        &PublicKey::from_bytes(&[1u8; 32]).unwrap()
    );
    assert_eq!(
        set.office().key_id(),
        PublicKey::from_bytes(&[2u8; 32]).unwrap().key_id()
    );
    assert_eq!(set.envelope_writer().key_id(), set.office().key_id());
    assert_eq!(set.mail_sealer().key_id(), set.mail().key_id());
    assert_eq!(set.secret_sealer().key_id(), set.core_banking().key_id());
    let _ = SecretKind::ALL;
    // Debug never shows HMAC keys: the blind-index keys by their ids only.
    let dbg = format!("{set:?}");
    let blind_id = set.blind_index().current_key_id().to_string();
    assert!(
        dbg.contains(&format!(
            "BlindIndexKeys {{ current: KeyId({blind_id}), previous: None }}"
        )) && dbg.contains("CsrfKey(..)"),
        "{dbg}"
    );
}

#[test]
fn names_each_missing_file_and_the_fix() {
    for name in [
        keyfile::CORE_BANKING_PUB,
        keyfile::OFFICE_PUB,
        keyfile::MAIL_PUB,
        keyfile::BLIND_INDEX_KEY,
        keyfile::CSRF_KEY,
    ] {
        let dir = tempfile::tempdir().unwrap();
        populate(dir.path());
        std::fs::remove_file(dir.path().join(name)).unwrap();
        let err = PublicKeySet::load(dir.path()).unwrap_err();
        assert!(matches!(err, KeyFileError::Missing { .. }), "{err}");
        assert_eq!(err.path(), dir.path().join(name));
        let msg = err.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(msg.contains("madoguchi keys init"), "{msg}");
    }
}

#[test]
fn names_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    write(
        &dir.path().join(keyfile::MAIL_PUB),
        "madoguchi-x25519-public v1 mail !!!\n",
        0o644,
    );
    let msg = PublicKeySet::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("mail.pub") && msg.contains("base64"), "{msg}");

    // A public key file holding the wrong role.
    populate(dir.path());
    let office = PublicKey::from_bytes(&[2u8; 32]).unwrap();
    write(
        &dir.path().join(keyfile::CORE_BANKING_PUB),
        &office.to_file_text(KeyRole::Office),
        0o644,
    );
    let msg = PublicKeySet::load(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("core-banking.pub") && msg.contains("office key"),
        "{msg}"
    );
}

#[cfg(unix)]
#[test]
fn refuses_world_readable_hmac_keys() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let path = dir.path().join(keyfile::BLIND_INDEX_KEY);
    write(
        &path,
        &BlindIndexKey::generate().unwrap().to_file_text(),
        0o640,
    );
    let err = PublicKeySet::load(dir.path()).unwrap_err();
    assert!(matches!(err, KeyFileError::TooOpen { .. }));
    assert!(err.to_string().contains("chmod 600"));
}
