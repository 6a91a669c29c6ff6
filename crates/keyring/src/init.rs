//! `madoguchi keys init`: creates the server's key files, never overwriting one.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use madoguchi_audit::{AuditSigningKey, AuditVerifyingKey};
use madoguchi_handoff::{
    HandoffSigningKey, HandoffVerifyingKey, SIGNING_KEY_FILE, VERIFYING_KEY_FILE,
};
use madoguchi_seal::keyfile::{
    BLIND_INDEX_KEY, CORE_BANKING_PUB, CSRF_KEY, KeyFileError, KeyRole, MAIL_KEY, MAIL_PUB,
    OFFICE_KEY, OFFICE_PUB,
};
use madoguchi_seal::{BlindIndexKey, CsrfKey, PublicKey, SealError};

use crate::private_key::PrivateKey;

const PRIVATE_MODE: u32 = 0o600;
const PUBLIC_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o700;

/// What happened to one key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyInitOutcome {
    /// Written now.
    Created,
    /// Already there and valid; left untouched.
    Kept,
    /// Not written, for the reason given.
    Skipped(&'static str),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInitEntry {
    /// The file.
    pub path: PathBuf,
    /// What it holds, e.g. "back-office private key".
    pub what: &'static str,
    /// Created, kept or skipped.
    pub outcome: KeyInitOutcome,
}

/// What [`init_keys`] did, file by file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyInitReport {
    /// One entry per key file, in the order handled.
    pub entries: Vec<KeyInitEntry>,
    /// The existing keys folder was readable by group or others and was set to 0700.
    pub keys_dir_tightened: bool,
}

impl KeyInitReport {
    /// The entry for `path`, if any.
    pub fn entry(&self, path: &Path) -> Option<&KeyInitEntry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// Files written now.
    pub fn created(&self) -> impl Iterator<Item = &Path> {
        self.entries
            .iter()
            .filter(|e| e.outcome == KeyInitOutcome::Created)
            .map(|e| e.path.as_path())
    }

    /// Whether any file was written.
    pub fn created_any(&self) -> bool {
        self.created().next().is_some()
    }

    /// Files left as they were.
    pub fn kept(&self) -> impl Iterator<Item = &Path> {
        self.entries
            .iter()
            .filter(|e| e.outcome == KeyInitOutcome::Kept)
            .map(|e| e.path.as_path())
    }

    fn push(&mut self, path: &Path, what: &'static str, outcome: KeyInitOutcome) {
        self.entries.push(KeyInitEntry {
            path: path.to_path_buf(),
            what,
            outcome,
        });
    }
}

impl fmt::Display for KeyInitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.keys_dir_tightened {
            writeln!(f, "keys folder was open to group/others: set to mode 700")?;
        }
        for e in &self.entries {
            match &e.outcome {
                KeyInitOutcome::Created => {
                    writeln!(f, "created  {} ({})", e.path.display(), e.what)?
                }
                KeyInitOutcome::Kept => writeln!(f, "kept     {} ({})", e.path.display(), e.what)?,
                KeyInitOutcome::Skipped(why) => {
                    writeln!(f, "skipped  {} ({}): {why}", e.path.display(), e.what)?
                }
            }
        }
        Ok(())
    }
}

/// Creating the key files failed. Files already created stay (a rerun keeps them).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The core-banking private key would land inside the server's data.
    #[error(
        "refusing to write the core-banking private key to {path}: it is inside {inside}, \
         and the server must never hold that key; pass a path outside the data folder \
         (for example in the core-banking system's own folder)"
    )]
    CorePrivateInsideData { path: PathBuf, inside: PathBuf },
    /// A folder that must exist does not.
    #[error("folder {0} does not exist: create it first or pass another path")]
    MissingFolder(PathBuf),
    /// The core-banking private key path is a folder.
    #[error("{0} is a folder: pass the path of the core-banking private key FILE to write")]
    IsAFolder(PathBuf),
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An existing key file is broken, or too open.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// A public key file does not belong to its private key file.
    #[error(
        "{public} does not match {private}: restore the matching pair from backup, or move \
         both away and run again (data sealed to the old key stays unreadable)"
    )]
    Mismatch { private: PathBuf, public: PathBuf },
    /// A public key file exists without its private key.
    #[error(
        "{public} exists but {private} is missing: restore {private} from backup; if it is \
         lost, move {public} away and run again (data sealed to the old key stays unreadable)"
    )]
    OrphanPublic { private: PathBuf, public: PathBuf },
    /// The OS random number generator failed.
    #[error(transparent)]
    Random(#[from] SealError),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> InitError + '_ {
    move |source| InitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates, in `keys_dir`, whichever of these is absent, and keeps the others:
/// `office.key`/`office.pub`, `mail.key`/`mail.pub`, `blind-index.key`, `csrf.key`,
/// `handoff-signing.key`/`handoff-signing.pub` (Ed25519, signs hand-off manifests),
/// `audit-signing.key`/`audit-signing.pub` (Ed25519, signs audit checkpoints), and a
/// DEVELOPMENT core-banking pair: `core-banking.pub` in `keys_dir`, its private key at
/// `core_private_out` (refused inside `data_dir`, `keys_dir` or the keys folder's parent; its
/// folder must exist). `keys_dir` is usually `<data_dir>/keys` and is created with mode 0700.
///
/// Private files get mode 0600 and public files 0644, set when the file is created; each is
/// written to a temporary file, synced, then renamed into place. Existing files are validated
/// (format, mode 0600 for secrets, public matching private) and never overwritten.
pub fn init_keys(
    keys_dir: &Path,
    data_dir: &Path,
    core_private_out: &Path,
) -> Result<KeyInitReport, InitError> {
    let core_out = resolve(core_private_out)?;
    check_core_out(&core_out, keys_dir, data_dir)?;

    let mut report = KeyInitReport {
        keys_dir_tightened: create_keys_dir(keys_dir)?,
        ..KeyInitReport::default()
    };
    let keys_dir = keys_dir.canonicalize().map_err(io_err(keys_dir))?;

    for (key_name, pub_name, role, what_key, what_pub) in [
        (
            OFFICE_KEY,
            OFFICE_PUB,
            KeyRole::Office,
            "back-office private key",
            "back-office public key",
        ),
        (
            MAIL_KEY,
            MAIL_PUB,
            KeyRole::Mail,
            "mail worker private key",
            "mail worker public key",
        ),
    ] {
        let key_path = keys_dir.join(key_name);
        let pub_path = keys_dir.join(pub_name);
        // A P-256 office.pub names a key in a PKCS#11 token: no key file to pair it with.
        let in_token = role == KeyRole::Office
            && !exists(&key_path)?
            && madoguchi_seal::OfficePublicKey::load(&pub_path)
                .is_ok_and(|k| matches!(k, madoguchi_seal::OfficePublicKey::P256(_)));
        let (key_outcome, pub_outcome) = if in_token {
            (KeyInitOutcome::Skipped(IN_TOKEN), KeyInitOutcome::Kept)
        } else {
            ensure_pair(&key_path, &pub_path, role)?
        };
        report.push(&key_path, what_key, key_outcome);
        report.push(&pub_path, what_pub, pub_outcome);
    }

    let path = keys_dir.join(BLIND_INDEX_KEY);
    let outcome = if exists(&path)? {
        BlindIndexKey::load(&path)?;
        KeyInitOutcome::Kept
    } else {
        let key = BlindIndexKey::generate()?;
        write_new_file(&path, key.to_file_text().as_bytes(), PRIVATE_MODE)?;
        KeyInitOutcome::Created
    };
    report.push(&path, "blind-index key", outcome);

    let path = keys_dir.join(CSRF_KEY);
    let outcome = if exists(&path)? {
        CsrfKey::load(&path)?;
        KeyInitOutcome::Kept
    } else {
        let key = CsrfKey::generate()?;
        write_new_file(&path, key.to_file_text().as_bytes(), PRIVATE_MODE)?;
        KeyInitOutcome::Created
    };
    report.push(&path, "CSRF key", outcome);

    // The hand-off signing key: signs batch manifests; its public half goes to core banking.
    let key_path = keys_dir.join(SIGNING_KEY_FILE);
    let pub_path = keys_dir.join(VERIFYING_KEY_FILE);
    let (key_outcome, pub_outcome) = ensure_signing::<HandoffSigningKey>(&key_path, &pub_path)?;
    report.push(&key_path, "hand-off signing key", key_outcome);
    report.push(&pub_path, "hand-off verifying key", pub_outcome);

    // The audit signing key: signs checkpoints of the audit log's hash chain.
    let key_path = keys_dir.join(madoguchi_audit::SIGNING_KEY_FILE);
    let pub_path = keys_dir.join(madoguchi_audit::VERIFYING_KEY_FILE);
    // Rotated into a token (`keys rotate audit-signing --pkcs11-…`): the key file is gone and
    // the current verifying key is also kept under its id.
    let in_token = !exists(&key_path)?
        && AuditVerifyingKey::load(&pub_path)
            .is_ok_and(|k| madoguchi_audit::earlier_verifying_key_file(&keys_dir, &k).exists());
    let (key_outcome, pub_outcome) = if in_token {
        (KeyInitOutcome::Skipped(IN_TOKEN), KeyInitOutcome::Kept)
    } else {
        ensure_signing::<AuditSigningKey>(&key_path, &pub_path)?
    };
    report.push(&key_path, "audit signing key", key_outcome);
    report.push(&pub_path, "audit verifying key", pub_outcome);

    let pub_path = keys_dir.join(CORE_BANKING_PUB);
    let (key_outcome, pub_outcome) = ensure_core(&core_out, &pub_path)?;
    report.push(
        &core_out,
        "DEVELOPMENT core-banking private key",
        key_outcome,
    );
    report.push(&pub_path, "core-banking public key", pub_outcome);
    Ok(report)
}

/// Why `keys init` writes no key file for a key that lives in a PKCS#11 token.
const IN_TOKEN: &str = "held in the PKCS#11 token";

fn exists(path: &Path) -> Result<bool, InitError> {
    path.try_exists().map_err(io_err(path))
}

/// A key pair in the keys folder.
fn ensure_pair(
    key_path: &Path,
    pub_path: &Path,
    role: KeyRole,
) -> Result<(KeyInitOutcome, KeyInitOutcome), InitError> {
    match (exists(key_path)?, exists(pub_path)?) {
        (true, true) => {
            let key = PrivateKey::load_expecting(key_path, role)?;
            let public = PublicKey::load_expecting(pub_path, role)?;
            if &public != key.public_key() {
                return Err(InitError::Mismatch {
                    private: key_path.to_path_buf(),
                    public: pub_path.to_path_buf(),
                });
            }
            Ok((KeyInitOutcome::Kept, KeyInitOutcome::Kept))
        }
        (true, false) => {
            let key = PrivateKey::load_expecting(key_path, role)?;
            write_public(pub_path, &key, role)?;
            Ok((KeyInitOutcome::Kept, KeyInitOutcome::Created))
        }
        (false, true) => Err(InitError::OrphanPublic {
            private: key_path.to_path_buf(),
            public: pub_path.to_path_buf(),
        }),
        (false, false) => {
            let key = PrivateKey::generate()?;
            write_new_file(key_path, key.to_file_text(role).as_bytes(), PRIVATE_MODE)?;
            write_public(pub_path, &key, role)?;
            Ok((KeyInitOutcome::Created, KeyInitOutcome::Created))
        }
    }
}

/// An Ed25519 signing pair of the keys folder (hand-off manifests, audit checkpoints).
trait SigningPair: Sized {
    type Public: PartialEq;
    fn generate() -> Result<Self, SealError>;
    fn load(path: &Path) -> Result<Self, KeyFileError>;
    fn load_public(path: &Path) -> Result<Self::Public, KeyFileError>;
    fn public(&self) -> Self::Public;
    fn key_text(&self) -> zeroize::Zeroizing<String>;
    fn public_text(public: &Self::Public) -> String;
}

impl SigningPair for HandoffSigningKey {
    type Public = HandoffVerifyingKey;
    fn generate() -> Result<Self, SealError> {
        HandoffSigningKey::generate()
    }
    fn load(path: &Path) -> Result<Self, KeyFileError> {
        HandoffSigningKey::load(path)
    }
    fn load_public(path: &Path) -> Result<Self::Public, KeyFileError> {
        HandoffVerifyingKey::load(path)
    }
    fn public(&self) -> Self::Public {
        self.verifying_key()
    }
    fn key_text(&self) -> zeroize::Zeroizing<String> {
        self.to_file_text()
    }
    fn public_text(public: &Self::Public) -> String {
        public.to_file_text()
    }
}

impl SigningPair for AuditSigningKey {
    type Public = AuditVerifyingKey;
    fn generate() -> Result<Self, SealError> {
        AuditSigningKey::generate()
    }
    fn load(path: &Path) -> Result<Self, KeyFileError> {
        AuditSigningKey::load(path)
    }
    fn load_public(path: &Path) -> Result<Self::Public, KeyFileError> {
        AuditVerifyingKey::load(path)
    }
    fn public(&self) -> Self::Public {
        self.verifying_key()
    }
    fn key_text(&self) -> zeroize::Zeroizing<String> {
        self.to_file_text()
    }
    fn public_text(public: &Self::Public) -> String {
        public.to_file_text()
    }
}

/// A signing pair (Ed25519), like [`ensure_pair`].
fn ensure_signing<K: SigningPair>(
    key_path: &Path,
    pub_path: &Path,
) -> Result<(KeyInitOutcome, KeyInitOutcome), InitError> {
    let write_pub = |key: &K| {
        write_new_file(
            pub_path,
            K::public_text(&key.public()).as_bytes(),
            PUBLIC_MODE,
        )
    };
    match (exists(key_path)?, exists(pub_path)?) {
        (true, true) => {
            let key = K::load(key_path)?;
            if K::load_public(pub_path)? != key.public() {
                return Err(InitError::Mismatch {
                    private: key_path.to_path_buf(),
                    public: pub_path.to_path_buf(),
                });
            }
            Ok((KeyInitOutcome::Kept, KeyInitOutcome::Kept))
        }
        (true, false) => {
            write_pub(&K::load(key_path)?)?;
            Ok((KeyInitOutcome::Kept, KeyInitOutcome::Created))
        }
        (false, true) => Err(InitError::OrphanPublic {
            private: key_path.to_path_buf(),
            public: pub_path.to_path_buf(),
        }),
        (false, false) => {
            let key = K::generate()?;
            write_new_file(key_path, key.key_text().as_bytes(), PRIVATE_MODE)?;
            write_pub(&key)?;
            Ok((KeyInitOutcome::Created, KeyInitOutcome::Created))
        }
    }
}

/// The development core-banking pair: private key outside, public key in the keys folder.
fn ensure_core(
    key_path: &Path,
    pub_path: &Path,
) -> Result<(KeyInitOutcome, KeyInitOutcome), InitError> {
    let role = KeyRole::CoreBanking;
    match (exists(key_path)?, exists(pub_path)?) {
        (true, true) => {
            let key = PrivateKey::load_expecting(key_path, role)?;
            let public = PublicKey::load_expecting(pub_path, role)?;
            if &public != key.public_key() {
                return Err(InitError::Mismatch {
                    private: key_path.to_path_buf(),
                    public: pub_path.to_path_buf(),
                });
            }
            Ok((KeyInitOutcome::Kept, KeyInitOutcome::Kept))
        }
        (false, true) => {
            PublicKey::load_expecting(pub_path, role)?;
            Ok((
                KeyInitOutcome::Skipped(
                    "core-banking.pub already exists; its private key stays where it was made",
                ),
                KeyInitOutcome::Kept,
            ))
        }
        (true, false) => {
            let key = PrivateKey::load_expecting(key_path, role)?;
            write_public(pub_path, &key, role)?;
            Ok((KeyInitOutcome::Kept, KeyInitOutcome::Created))
        }
        (false, false) => {
            let key = PrivateKey::generate()?;
            write_new_file(key_path, key.to_file_text(role).as_bytes(), PRIVATE_MODE)?;
            write_public(pub_path, &key, role)?;
            Ok((KeyInitOutcome::Created, KeyInitOutcome::Created))
        }
    }
}

fn write_public(path: &Path, key: &PrivateKey, role: KeyRole) -> Result<(), InitError> {
    write_new_file(
        path,
        key.public_key().to_file_text(role).as_bytes(),
        PUBLIC_MODE,
    )
}

/// Refuses a core private key path inside the data folder, the keys folder or its parent.
fn check_core_out(core_out: &Path, keys_dir: &Path, data_dir: &Path) -> Result<(), InitError> {
    let mut forbidden = vec![resolve(data_dir)?, resolve(keys_dir)?];
    if let Some(parent) = keys_dir.parent() {
        let parent = resolve(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })?;
        // A keys folder right under `/` would forbid everything: its parent is not a data folder.
        if parent.parent().is_some() {
            forbidden.push(parent);
        }
    }
    for dir in forbidden {
        if core_out.starts_with(&dir) {
            return Err(InitError::CorePrivateInsideData {
                path: core_out.to_path_buf(),
                inside: dir,
            });
        }
    }
    if core_out.is_dir() {
        return Err(InitError::IsAFolder(core_out.to_path_buf()));
    }
    match core_out.parent() {
        Some(folder) if folder.is_dir() => Ok(()),
        Some(folder) => Err(InitError::MissingFolder(folder.to_path_buf())),
        None => Err(InitError::IsAFolder(core_out.to_path_buf())),
    }
}

/// An absolute path with symbolic links resolved in its existing part, and `.`/`..` applied
/// (after resolving links, as the kernel does).
fn resolve(path: &Path) -> Result<PathBuf, InitError> {
    use std::path::Component;
    let absolute = std::path::absolute(path).map_err(io_err(path))?;
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => resolved.push(component),
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => {
                resolved.push(name);
                if fs::symlink_metadata(&resolved).is_ok() {
                    resolved = resolved.canonicalize().map_err(io_err(&resolved))?;
                }
            }
        }
    }
    Ok(resolved)
}

/// Creates the keys folder with mode 0700; tightens an existing one. Returns whether it
/// tightened.
fn create_keys_dir(dir: &Path) -> Result<bool, InitError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(DIR_MODE);
    }
    builder.create(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(dir).map_err(io_err(dir))?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(io_err(dir))?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Writes a new file atomically: a temporary file in the same folder, created with `mode`,
/// written and synced, then renamed into place (after checking nothing appeared there).
fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), InitError> {
    write_file(path, contents, mode, false)
}

/// Writes a file atomically (temporary file, sync, rename, sync of the folder). Without
/// `replace`, refuses if the file exists.
pub(crate) fn write_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    replace: bool,
) -> Result<(), InitError> {
    let folder = path
        .parent()
        .ok_or_else(|| InitError::IsAFolder(path.to_path_buf()))?;
    let name = path
        .file_name()
        .ok_or_else(|| InitError::IsAFolder(path.to_path_buf()))?
        .to_string_lossy()
        .into_owned();
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(SealError::from)?;
    let tmp = folder.join(format!(".{name}.tmp-{}", hex::encode(suffix)));

    let written = (|| -> std::io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(mode);
        }
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            // The umask may have removed bits from a public file's 0644; set it exactly.
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        file.write_all(contents)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(InitError::Io { path: tmp, source });
    }
    if !replace && exists(path)? {
        let _ = fs::remove_file(&tmp);
        return Err(InitError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "appeared while being created; not overwritten",
            ),
        });
    }
    if let Err(source) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(InitError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    #[cfg(unix)]
    fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(io_err(folder))?;
    Ok(())
}
