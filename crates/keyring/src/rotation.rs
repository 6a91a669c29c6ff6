//! Rotating the back office's key pair without downtime.
//!
//! The keys folder holds the current key as `office.key` + `office.pub` and every earlier key
//! not yet retired as `office.<key id>.key`. With a PKCS#11 token, the token holds the key
//! pairs and `office.pub` names the current one.
//!
//! A rotation writes the new private key before `office.pub` names it, so no record is ever
//! wrapped to a key the back office cannot load. The back office reloads its keys when it
//! meets an unknown key id; the public site re-reads `office.pub` every few seconds. A
//! background rewrap then moves every data key to the current key, and `retire` deletes an old
//! key only when no data key uses it any more.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use madoguchi_seal::keyfile::{KEYS_INIT_FIX, KeyFileError, KeyRole, OFFICE_KEY, OFFICE_PUB};
use madoguchi_seal::{KeyId, OfficePublicKey};

use crate::init::{InitError, io_err, write_file};
use crate::office::OfficeKeyring;
use crate::private_key::PrivateKey;
use crate::token::{Token, TokenConfig, TokenError};

const PRIVATE_MODE: u32 = 0o600;
const PUBLIC_MODE: u32 = 0o644;

/// How long `office.pub` must have named the current key before an older key may be retired:
/// longer than any public process takes to pick up a new `office.pub`
/// (`madoguchi_seal::EnvelopeWriter` re-reads it every 10 s) plus a rewrap pass.
pub const RETIRE_GRACE: Duration = Duration::from_secs(10 * 60);

/// The file an earlier office key is kept in until it is retired: `office.<key id>.key`.
pub fn previous_office_key_file(keys_dir: &Path, key_id: KeyId) -> PathBuf {
    keys_dir.join(format!("office.{key_id}.key"))
}

/// The `office.<key id>.key` files in the keys folder, sorted.
pub fn previous_office_key_files(keys_dir: &Path) -> Result<Vec<PathBuf>, KeyFileError> {
    let entries = fs::read_dir(keys_dir).map_err(|source| KeyFileError::Io {
        path: keys_dir.to_path_buf(),
        source,
        fix: KEYS_INIT_FIX.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("office."))
                .and_then(|n| n.strip_suffix(".key"))
                .is_some_and(|id| id.parse::<KeyId>().is_ok())
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Something went wrong while rotating or retiring a key.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// Writing or moving a key file failed.
    #[error(transparent)]
    Init(#[from] InitError),
    /// A key file could not be read.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// The token failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The key to retire is the current one.
    #[error("key {0} is the current back-office key; rotate first, then retire the old one")]
    RetireCurrent(KeyId),
    /// The key to retire is not held.
    #[error("no back-office key {0} is held in the keys folder or the token")]
    NotHeld(KeyId),
    /// Records still use the key.
    #[error(
        "{count} data keys are still wrapped to {key_id}: run `madoguchi keys rewrap` (or let \
         the running server finish its rewrap) and retire it afterwards"
    )]
    StillUsed { key_id: KeyId, count: u64 },
    /// A blind-index rotation is under way.
    #[error(
        "an earlier blind-index rotation is unfinished (blind-index.previous.key, key {0}, is \
         still held): let the server re-index or run `madoguchi keys reindex`, then \
         `madoguchi keys retire blind-index`, before rotating again"
    )]
    BlindIndexUnfinished(KeyId),
    /// There is no previous blind-index key.
    #[error("no blind-index rotation is under way: there is no blind-index.previous.key to retire")]
    NoBlindIndexRotation,
    /// Stored e-mail indexes still need the previous blind-index key.
    #[error(
        "{count} stored e-mail indexes were not computed by the current blind-index key (the \
         previous one is {key_id}), and could not be re-indexed: their e-mail fields did not \
         open; `madoguchi keys status` counts them"
    )]
    StaleIndexes { key_id: KeyId, count: u64 },
    /// The blind-index rotation is too recent for every process to have seen it.
    #[error(
        "blind-index.key was replaced only {elapsed_s} s ago; a running process may still \
         index with the previous key: retire it after {grace_s} s"
    )]
    BlindIndexTooSoon { elapsed_s: u64, grace_s: u64 },
    /// The rotation is too recent for every public process to have seen it.
    #[error(
        "office.pub has named the current key for only {elapsed_s} s; public processes may \
         still wrap to {key_id}: retire it after {grace_s} s"
    )]
    TooSoon {
        key_id: KeyId,
        elapsed_s: u64,
        grace_s: u64,
    },
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The key `office.pub` named before.
    pub previous: KeyId,
    /// The new current key.
    pub current: KeyId,
    /// Whether the new key lives in a token.
    pub in_token: bool,
}

/// Makes a new back-office key pair current: in the token if one is given, else a key file.
/// The previous `office.key`, if any, moves to `office.<key id>.key`.
pub fn rotate_office_key(
    keys_dir: &Path,
    token: Option<&Arc<Token>>,
) -> Result<Rotated, RotationError> {
    let previous = OfficePublicKey::load(&keys_dir.join(OFFICE_PUB))?;
    let current_file = keys_dir.join(OFFICE_KEY);
    let new_public: OfficePublicKey = match token {
        Some(token) => {
            let public = token.generate_office_key()?;
            // The file key (if the office used one) becomes an earlier key.
            if current_file.exists() {
                keep_as_previous(keys_dir, &current_file)?;
                fs::remove_file(&current_file).map_err(io_err(&current_file))?;
            }
            public.into()
        }
        None => {
            let key = PrivateKey::generate().map_err(InitError::from)?;
            let text = key.to_file_text(KeyRole::Office);
            // 1. the new key under its own name: loaded as an extra key if we stop here;
            let staged = previous_office_key_file(keys_dir, key.key_id());
            write_file(&staged, text.as_bytes(), PRIVATE_MODE, false)?;
            // 2. the current key kept under its id; 3. the new key made current.
            if current_file.exists() {
                keep_as_previous(keys_dir, &current_file)?;
            }
            fs::rename(&staged, &current_file).map_err(io_err(&current_file))?;
            key.public_key().clone().into()
        }
    };
    // 4. last, the public key: from here on new records are wrapped to the new key.
    write_file(
        &keys_dir.join(OFFICE_PUB),
        new_public.to_file_text().as_bytes(),
        PUBLIC_MODE,
        true,
    )?;
    Ok(Rotated {
        previous: previous.key_id(),
        current: new_public.key_id(),
        in_token: token.is_some(),
    })
}

/// Copies the current key file to `office.<key id>.key` (kept if already there).
fn keep_as_previous(keys_dir: &Path, current_file: &Path) -> Result<(), RotationError> {
    let key = PrivateKey::load_expecting(current_file, KeyRole::Office)?;
    let kept = previous_office_key_file(keys_dir, key.key_id());
    if !kept.exists() {
        let text = key.to_file_text(KeyRole::Office);
        write_file(&kept, text.as_bytes(), PRIVATE_MODE, false)?;
    }
    Ok(())
}

/// What an audit signing key rotation did: the log names (origins) before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatedAuditKey {
    pub previous_origin: String,
    pub current_origin: String,
}

/// Replaces the audit signing key. The earlier verifying key stays as
/// `audit-signing.<id>.pub`, so `audit verify` still opens every checkpoint it signed; the
/// earlier private key is gone (nothing needs it: checkpoints are only ever signed anew).
///
/// With a token, the new key is generated inside it (Ed25519, never extractable) and the key
/// file, if any, is deleted.
pub fn rotate_audit_signing_key(
    keys_dir: &Path,
    token: Option<&Arc<Token>>,
) -> Result<RotatedAuditKey, RotationError> {
    use madoguchi_audit::{
        AuditSigningKey, AuditVerifyingKey, SIGNING_KEY_FILE, VERIFYING_KEY_FILE,
    };
    let previous = AuditVerifyingKey::load(&keys_dir.join(VERIFYING_KEY_FILE))?;
    trust_audit_key(keys_dir, &previous)?;
    let key_file = keys_dir.join(SIGNING_KEY_FILE);
    // Each new key is trusted (kept under its id) before it signs anything; then the key; last
    // the file naming it current.
    let public = match token {
        Some(token) => {
            let public = token.generate_audit_key()?;
            trust_audit_key(keys_dir, &public)?;
            if key_file.exists() {
                fs::remove_file(&key_file).map_err(io_err(&key_file))?;
            }
            public
        }
        None => {
            let key = AuditSigningKey::generate().map_err(InitError::from)?;
            let public = key.verifying_key();
            trust_audit_key(keys_dir, &public)?;
            write_file(&key_file, key.to_file_text().as_bytes(), PRIVATE_MODE, true)?;
            public
        }
    };
    write_file(
        &keys_dir.join(VERIFYING_KEY_FILE),
        public.to_file_text().as_bytes(),
        PUBLIC_MODE,
        true,
    )?;
    Ok(RotatedAuditKey {
        previous_origin: previous.origin(),
        current_origin: public.origin(),
    })
}

/// Keeps a verifying key as `audit-signing.<id>.pub` (if not kept yet): `audit verify` trusts
/// the checkpoints it signed.
fn trust_audit_key(
    keys_dir: &Path,
    key: &madoguchi_audit::AuditVerifyingKey,
) -> Result<(), RotationError> {
    let kept = madoguchi_audit::earlier_verifying_key_file(keys_dir, key);
    if !kept.exists() {
        write_file(&kept, key.to_file_text().as_bytes(), PUBLIC_MODE, false)?;
    }
    Ok(())
}

/// The key that signs checkpoints now: the one `audit-signing.pub` names, from
/// `audit-signing.key` or from the token.
pub fn load_audit_signer(
    keys_dir: &Path,
    token: Option<&Arc<Token>>,
) -> Result<Box<dyn madoguchi_audit::CheckpointSigner>, AuditSignerError> {
    use madoguchi_audit::{
        AuditSigningKey, AuditVerifyingKey, SIGNING_KEY_FILE, VERIFYING_KEY_FILE,
    };
    let current = AuditVerifyingKey::load(&keys_dir.join(VERIFYING_KEY_FILE))?;
    let key_file = keys_dir.join(SIGNING_KEY_FILE);
    if key_file.exists() {
        let key = AuditSigningKey::load(&key_file)?;
        if key.verifying_key() == current {
            return Ok(Box::new(key));
        }
    }
    if let Some(token) = token
        && let Some(key) = token.audit_key()?
        && madoguchi_audit::CheckpointSigner::verifying_key(&key) == current
    {
        return Ok(Box::new(key));
    }
    Err(AuditSignerError::NotHeld(current.origin()))
}

/// The audit signing key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuditSignerError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(
        "audit-signing.pub names {0}, but neither audit-signing.key nor the token (--pkcs11-*) \
         holds its private key: restore it, or run `madoguchi keys rotate audit-signing`"
    )]
    NotHeld(String),
}

/// Deletes an earlier back-office key once `in_use` (data keys still wrapped to it) is zero and
/// the rotation is older than [`RETIRE_GRACE`]. Returns where it was (a file or the token).
pub fn retire_office_key(
    keys_dir: &Path,
    key_id: KeyId,
    in_use: u64,
    token: Option<&Arc<Token>>,
) -> Result<String, RotationError> {
    let office_pub = keys_dir.join(OFFICE_PUB);
    let current = OfficePublicKey::load(&office_pub)?;
    if current.key_id() == key_id {
        return Err(RotationError::RetireCurrent(key_id));
    }
    if in_use > 0 {
        return Err(RotationError::StillUsed {
            key_id,
            count: in_use,
        });
    }
    let elapsed = age(&office_pub)?;
    if elapsed < RETIRE_GRACE {
        return Err(RotationError::TooSoon {
            key_id,
            elapsed_s: elapsed.as_secs(),
            grace_s: RETIRE_GRACE.as_secs(),
        });
    }
    let file = previous_office_key_file(keys_dir, key_id);
    if file.exists() {
        fs::remove_file(&file).map_err(io_err(&file))?;
        return Ok(file.display().to_string());
    }
    if let Some(token) = token
        && token.destroy_office_key(key_id)?
    {
        return Ok("the token".to_string());
    }
    Err(RotationError::NotHeld(key_id))
}

/// How long ago `file` was last written (a rotation's moment: retirements wait out the grace).
pub(crate) fn age(file: &Path) -> Result<Duration, RotationError> {
    let since = fs::metadata(file)
        .and_then(|m| m.modified())
        .map_err(io_err(file))?;
    Ok(SystemTime::now()
        .duration_since(since)
        .unwrap_or(Duration::ZERO))
}

/// Where the back office's keys are: the keys folder and, optionally, a PKCS#11 token.
#[derive(Debug, Clone)]
pub struct OfficeKeySource {
    /// The keys folder.
    pub keys_dir: PathBuf,
    /// The token, when the office key lives in one.
    pub token: Option<TokenConfig>,
}

impl OfficeKeySource {
    /// Loads every back-office key: the token's and the folder's. `office.key` is required
    /// only without a token. Fails if the key `office.pub` names is not among them.
    pub fn load(&self) -> Result<OfficeKeyring, OfficeKeyError> {
        let token = self.token.as_ref().map(Token::open).transpose()?;
        self.load_with(token.as_ref())
    }

    /// As [`OfficeKeySource::load`], with a token already open.
    pub fn load_with(&self, token: Option<&Arc<Token>>) -> Result<OfficeKeyring, OfficeKeyError> {
        let mut ring = match token {
            None => OfficeKeyring::load(&self.keys_dir)?,
            Some(token) => {
                let mut files = Vec::new();
                let current_file = self.keys_dir.join(OFFICE_KEY);
                if current_file.exists() {
                    files.push(current_file);
                }
                files.extend(previous_office_key_files(&self.keys_dir)?);
                let keys = files
                    .iter()
                    .map(|f| PrivateKey::load_expecting(f, KeyRole::Office))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut ring = OfficeKeyring::from_keys(keys);
                ring.extend(token.office_keys()?);
                ring
            }
        };
        let current = OfficePublicKey::load(&self.keys_dir.join(OFFICE_PUB))?;
        if !ring.holds(current.key_id()) {
            return Err(OfficeKeyError::CurrentNotHeld {
                key_id: current.key_id(),
                held: ring.key_ids(),
            });
        }
        ring.set_source(self.clone());
        Ok(ring)
    }
}

/// The back office's keys cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum OfficeKeyError {
    /// A key file is missing, broken or too open.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// The token is unreachable or refused.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// `office.pub` names a key neither the folder nor the token holds.
    #[error(
        "office.pub names key {key_id}, but the keys folder and the token hold only {}: \
         restore that key (or its token) before serving",
        held.iter().map(KeyId::to_string).collect::<Vec<_>>().join(", ")
    )]
    CurrentNotHeld { key_id: KeyId, held: Vec<KeyId> },
}
