#![allow(dead_code)]
//! A SoftHSM2 token of the test's own: the PKCS#11 token that holds the back-office key in
//! the tests, as an HSM does in production.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::in_ci;

/// Debian's SoftHSM2 PKCS#11 library.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// One token test at a time in a test binary: SoftHSM2 lists the tokens that exist when the
/// process first initialises the module, so a token created while another test's token is
/// open would stay invisible to this process. Once every session of a test is closed the
/// module is finalised, and the next test's initialisation sees its new token.
static ONE_TOKEN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A SoftHSM2 token of its own (in the default token folder), deleted on drop.
pub struct SoftToken {
    pub label: String,
    pub pin_file: PathBuf,
    _dir: tempfile::TempDir,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl SoftToken {
    pub fn create() -> Option<SoftToken> {
        if !Path::new(SOFTHSM_MODULE).exists() {
            assert!(
                !in_ci(),
                "SoftHSM2 is missing ({SOFTHSM_MODULE}): scripts/test installs softhsm2"
            );
            eprintln!("skipped: SoftHSM2 is not installed");
            return None;
        }
        let serial = ONE_TOKEN_AT_A_TIME
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let label = format!("mdg-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let pin = uuid::Uuid::new_v4().simple().to_string();
        let out = std::process::Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", &label])
            .args(["--pin", &pin, "--so-pin", &pin])
            .output()
            .expect("softhsm2-util runs");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let pin_file = dir.path().join("pin");
        std::fs::write(&pin_file, format!("{pin}\n")).expect("pin file");
        Some(SoftToken {
            label,
            pin_file,
            _dir: dir,
            _one_at_a_time: serial,
        })
    }

    pub fn config(&self) -> madoguchi_keyring::TokenConfig {
        madoguchi_keyring::TokenConfig::with_pin_file(
            SOFTHSM_MODULE.into(),
            self.label.clone(),
            &self.pin_file,
        )
        .expect("token config")
    }

    /// The environment that points `madoguchi` at this token.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MADOGUCHI_PKCS11_MODULE", SOFTHSM_MODULE.to_owned()),
            ("MADOGUCHI_PKCS11_TOKEN", self.label.clone()),
            (
                "MADOGUCHI_PKCS11_PIN_FILE",
                self.pin_file.display().to_string(),
            ),
        ]
    }

    /// The same as command-line options.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--pkcs11-module".into(),
            SOFTHSM_MODULE.into(),
            "--pkcs11-token".into(),
            self.label.clone(),
            "--pkcs11-pin-file".into(),
            self.pin_file.display().to_string(),
        ]
    }

    /// `pkcs11-tool --list-objects` as the token's user.
    pub fn objects(&self) -> String {
        let pin = std::fs::read_to_string(&self.pin_file).expect("pin");
        let out = std::process::Command::new("pkcs11-tool")
            .args(["--module", SOFTHSM_MODULE, "--token-label", &self.label])
            .args(["--login", "--pin", pin.trim(), "--list-objects"])
            .output()
            .expect("pkcs11-tool runs (Debian package opensc)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for SoftToken {
    fn drop(&mut self) {
        let _ = std::process::Command::new("softhsm2-util")
            .args(["--delete-token", "--token", &self.label])
            .output();
    }
}
