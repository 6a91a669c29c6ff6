//! `init_keys`: modes, keeping existing files, refusing the core private key inside the data.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use madoguchi_keyring::{
    InitError, KeyInitOutcome, MailKeyring, OfficeKeyring, PrivateKey, init_keys,
};
use madoguchi_seal::keyfile::{self, KeyFileError};
use madoguchi_seal::{CsrfKey, KeyRole, PublicKeySet};

struct Setup {
    _root: tempfile::TempDir,
    data: PathBuf,
    keys: PathBuf,
    core_out: PathBuf,
}

fn setup() -> Setup {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let keys = data.join("keys");
    let outside = root.path().join("core-side");
    std::fs::create_dir(&outside).unwrap();
    Setup {
        data,
        keys,
        core_out: outside.join("core-banking.key"),
        _root: root,
    }
}

impl Setup {
    fn init(&self) -> Result<madoguchi_keyring::KeyInitReport, InitError> {
        init_keys(&self.keys, &self.data, &self.core_out)
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

const ALL_IN_KEYS: [&str; 11] = [
    keyfile::OFFICE_KEY,
    keyfile::OFFICE_PUB,
    keyfile::MAIL_KEY,
    keyfile::MAIL_PUB,
    keyfile::BLIND_INDEX_KEY,
    keyfile::CSRF_KEY,
    keyfile::CORE_BANKING_PUB,
    madoguchi_handoff::SIGNING_KEY_FILE,
    madoguchi_handoff::VERIFYING_KEY_FILE,
    madoguchi_audit::SIGNING_KEY_FILE,
    madoguchi_audit::VERIFYING_KEY_FILE,
];

#[test]
fn creates_everything_with_the_right_modes() {
    let s = setup();
    let report = s.init().unwrap();
    assert_eq!(report.created().count(), 12, "{report}");
    assert_eq!(report.kept().count(), 0);
    let keys = s.keys.canonicalize().unwrap();
    for name in ALL_IN_KEYS {
        let path = keys.join(name);
        assert!(path.is_file(), "{name}");
        assert_eq!(
            report.entry(&path).unwrap().outcome,
            KeyInitOutcome::Created,
            "{name}"
        );
    }
    assert!(s.core_out.is_file());
    #[cfg(unix)]
    {
        assert_eq!(mode(&s.keys), 0o700);
        for name in [
            keyfile::OFFICE_KEY,
            keyfile::MAIL_KEY,
            keyfile::BLIND_INDEX_KEY,
            keyfile::CSRF_KEY,
            madoguchi_handoff::SIGNING_KEY_FILE,
            madoguchi_audit::SIGNING_KEY_FILE,
        ] {
            assert_eq!(mode(&keys.join(name)), 0o600, "{name}");
        }
        for name in [
            keyfile::OFFICE_PUB,
            keyfile::MAIL_PUB,
            keyfile::CORE_BANKING_PUB,
            madoguchi_handoff::VERIFYING_KEY_FILE,
            madoguchi_audit::VERIFYING_KEY_FILE,
        ] {
            assert_eq!(mode(&keys.join(name)), 0o644, "{name}");
        }
        assert_eq!(mode(&s.core_out), 0o600);
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The core private key is NOT in the keys folder.
    assert!(!keys.join("core-banking.key").exists());

    // Everything loads, and the pieces fit together.
    let set = PublicKeySet::load(&s.keys).unwrap();
    let office = OfficeKeyring::load(&s.keys).unwrap();
    let mail = MailKeyring::load(&s.keys).unwrap();
    assert_eq!(office.key_ids(), vec![set.office().key_id()]);
    assert_eq!(mail.key_ids(), vec![set.mail().key_id()]);
    let core = PrivateKey::load_expecting(&s.core_out, KeyRole::CoreBanking).unwrap();
    assert_eq!(core.public_key(), set.core_banking());
    let text = report.to_string();
    assert!(
        text.contains("created") && text.contains("core-banking.pub"),
        "{text}"
    );
}

#[test]
fn keeps_existing_files() {
    let s = setup();
    std::fs::create_dir_all(&s.keys).unwrap();
    let csrf_path = s.keys.join(keyfile::CSRF_KEY);
    let csrf_text = CsrfKey::generate().unwrap().to_file_text();
    std::fs::write(&csrf_path, csrf_text.as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&csrf_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&s.keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let first = s.init().unwrap();
    let keys = s.keys.canonicalize().unwrap();
    assert_eq!(
        first.entry(&keys.join(keyfile::CSRF_KEY)).unwrap().outcome,
        KeyInitOutcome::Kept
    );
    assert_eq!(std::fs::read_to_string(&csrf_path).unwrap(), *csrf_text);
    #[cfg(unix)]
    {
        assert!(first.keys_dir_tightened);
        assert_eq!(mode(&s.keys), 0o700);
    }

    let before: Vec<String> = ALL_IN_KEYS
        .iter()
        .map(|n| std::fs::read_to_string(keys.join(n)).unwrap())
        .collect();
    let core_before = std::fs::read_to_string(&s.core_out).unwrap();
    let second = s.init().unwrap();
    assert_eq!(second.created().count(), 0, "{second}");
    assert_eq!(second.kept().count(), 12, "{second}");
    let after: Vec<String> = ALL_IN_KEYS
        .iter()
        .map(|n| std::fs::read_to_string(keys.join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(core_before, std::fs::read_to_string(&s.core_out).unwrap());
    assert!(second.to_string().contains("kept"));

    // A later run with the core private key moved away keeps core-banking.pub and says why
    // the private key was not written.
    std::fs::remove_file(&s.core_out).unwrap();
    let third = s.init().unwrap();
    let core_entry = third
        .entries
        .iter()
        .find(|e| e.what.contains("core-banking private"))
        .unwrap();
    assert!(
        matches!(core_entry.outcome, KeyInitOutcome::Skipped(_)),
        "{third}"
    );
    assert_eq!(third.created().count(), 0);
    assert!(!s.core_out.exists());
}

#[test]
fn derives_a_missing_public_file_from_its_private_key() {
    let s = setup();
    s.init().unwrap();
    let pub_path = s.keys.join(keyfile::OFFICE_PUB);
    let before = std::fs::read_to_string(&pub_path).unwrap();
    std::fs::remove_file(&pub_path).unwrap();
    let report = s.init().unwrap();
    assert_eq!(report.created().count(), 1);
    assert_eq!(std::fs::read_to_string(&pub_path).unwrap(), before);
}

#[test]
fn refuses_a_public_file_without_its_private_key() {
    let s = setup();
    s.init().unwrap();
    std::fs::remove_file(s.keys.join(keyfile::MAIL_KEY)).unwrap();
    let err = s.init().unwrap_err();
    assert!(matches!(err, InitError::OrphanPublic { .. }), "{err}");
    assert!(err.to_string().contains("mail.key"));
}

#[test]
fn refuses_mismatched_pairs() {
    let s = setup();
    s.init().unwrap();
    let other = PrivateKey::generate().unwrap();
    std::fs::write(
        s.keys.join(keyfile::OFFICE_PUB),
        other.public_key().to_file_text(KeyRole::Office),
    )
    .unwrap();
    assert!(matches!(s.init().unwrap_err(), InitError::Mismatch { .. }));
}

#[test]
fn refuses_core_private_key_inside_the_data_folder() {
    let s = setup();
    let inside = [
        s.data.join("core-banking.key"),
        s.keys.join("core-banking.key"),
        s.data.join("sub").join("dir").join("core.key"),
        s.keys.join("..").join("core.key"),
    ];
    for core in inside {
        let err = init_keys(&s.keys, &s.data, &core).unwrap_err();
        assert!(
            matches!(err, InitError::CorePrivateInsideData { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("outside the data folder"));
        // Nothing was created.
        assert!(!s.data.exists(), "{}", core.display());
    }

    // Keys folder elsewhere: its parent counts as a data folder too.
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("srv").join("keys");
    let core = root.path().join("srv").join("core.key");
    assert!(matches!(
        init_keys(&keys, &s.data, &core).unwrap_err(),
        InitError::CorePrivateInsideData { .. }
    ));
}

#[cfg(unix)]
#[test]
fn refuses_core_private_key_through_a_symlink_into_the_data_folder() {
    let s = setup();
    std::fs::create_dir_all(&s.data).unwrap();
    let link = s.core_out.parent().unwrap().join("link");
    std::os::unix::fs::symlink(&s.data, &link).unwrap();
    let core = link.join("core.key");
    assert!(matches!(
        init_keys(&s.keys, &s.data, &core).unwrap_err(),
        InitError::CorePrivateInsideData { .. }
    ));
}

#[test]
fn core_private_key_folder_must_exist() {
    let s = setup();
    let core = s
        .core_out
        .parent()
        .unwrap()
        .join("missing")
        .join("core.key");
    assert!(matches!(
        init_keys(&s.keys, &s.data, &core).unwrap_err(),
        InitError::MissingFolder(_)
    ));
}

#[cfg(unix)]
#[test]
fn private_key_with_mode_0644_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = setup();
    s.init().unwrap();
    for (name, load) in [
        (
            keyfile::OFFICE_KEY,
            (|d: &Path| OfficeKeyring::load(d).map(|_| ())) as fn(&Path) -> _,
        ),
        (keyfile::MAIL_KEY, |d: &Path| {
            MailKeyring::load(d).map(|_| ())
        }),
    ] {
        let path = s.keys.join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err: KeyFileError = load(&s.keys).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, KeyFileError::TooOpen { mode: 0o644, .. }),
            "{msg}"
        );
        assert!(msg.contains(name) && msg.contains("chmod 600"), "{msg}");
        // init_keys refuses to "keep" it too.
        assert!(matches!(
            s.init(),
            Err(InitError::KeyFile(KeyFileError::TooOpen { .. }))
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        load(&s.keys).unwrap();
    }
}

#[test]
fn missing_private_key_names_file_and_fix() {
    let s = setup();
    let msg = OfficeKeyring::load(&s.keys).unwrap_err().to_string();
    assert!(
        msg.contains("office.key") && msg.contains("madoguchi keys init"),
        "{msg}"
    );
}

#[test]
fn wrong_role_private_key_is_refused() {
    let s = setup();
    s.init().unwrap();
    // Put the mail key where the office key belongs.
    std::fs::copy(
        s.keys.join(keyfile::MAIL_KEY),
        s.keys.join(keyfile::OFFICE_KEY),
    )
    .unwrap();
    let msg = OfficeKeyring::load(&s.keys).unwrap_err().to_string();
    assert!(
        msg.contains("mail key") && msg.contains("office key"),
        "{msg}"
    );
}
