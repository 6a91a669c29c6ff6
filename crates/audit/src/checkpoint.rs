//! Checkpoints: the chain's size and head, signed, as C2SP `tlog-checkpoint` notes
//! (<https://c2sp.org/tlog-checkpoint>, <https://c2sp.org/signed-note>):
//!
//! ```text
//! madoguchi/audit/0999
//! 1048576
//! 3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
//!
//! — madoguchi/audit/0999 Ab3x…
//! ```
//!
//! The body is the origin (the log's name), the number of events, and the head hash in
//! standard base64, each line ending in a newline. After an empty line come signature lines:
//! an em dash, the key's name, and base64 of the key's 4-byte id (`SHA-256(name || "\n" ||
//! 0x01 || public key)[..4]`, 0x01 being Ed25519) followed by the 64-byte signature of the
//! body. Any tool that reads signed notes (a witness, `sigsum`, Go's `x/mod/sumdb/note`) can
//! check one given the public key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use crate::chain::Hash;
use crate::keys::{AuditVerifyingKey, CheckpointSigner, SignError};

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;
/// The longest note accepted (a checkpoint is under 200 bytes).
const MAX_NOTE: usize = 4096;

/// A signed statement: "the log named `origin` held `size` events, and its head was `root`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Why a note is not a valid checkpoint.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("it is not a signed note (body, empty line, signature lines)")]
    Malformed,
    #[error("its body is not origin, size and base64 head hash on three lines")]
    BadBody,
    #[error("it is not signed by the key {0:?}")]
    NoSignature(String),
    #[error("its signature by {0:?} does not verify")]
    BadSignature(String),
}

impl Checkpoint {
    /// The note's body.
    fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// The signed note, signed by `key` under the name `self.origin`.
    pub fn sign(&self, key: &dyn CheckpointSigner) -> Result<String, SignError> {
        let body = self.body();
        let mut blob = key_hash(&self.origin, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&key.sign_message(body.as_bytes())?);
        Ok(format!(
            "{body}\n\u{2014} {} {}\n",
            self.origin,
            STANDARD.encode(blob)
        ))
    }

    /// Opens `note` with whichever of `keys` names its origin: the current key and those it
    /// replaced (each key signs its own log name, so a rotation starts a new origin).
    pub fn open_with_any(
        note: &str,
        keys: &[AuditVerifyingKey],
    ) -> Result<Checkpoint, CheckpointError> {
        let origin = note.lines().next().unwrap_or_default();
        let mut last = CheckpointError::NoSignature(origin.chars().take(64).collect());
        for key in keys.iter().filter(|k| k.origin() == origin) {
            match Checkpoint::open(note, key) {
                Ok(checkpoint) => return Ok(checkpoint),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Parses `note` and checks its signature by `key` under the name of its origin.
    pub fn open(note: &str, key: &AuditVerifyingKey) -> Result<Checkpoint, CheckpointError> {
        if note.len() > MAX_NOTE {
            return Err(CheckpointError::Malformed);
        }
        let (body, signatures) = note.split_once("\n\n").ok_or(CheckpointError::Malformed)?;
        let body = format!("{body}\n");
        let checkpoint = parse_body(&body)?;
        let name = &checkpoint.origin;
        let wanted = key_hash(name, key);
        let mut found = false;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(CheckpointError::Malformed);
            };
            let Some((signer, blob)) = rest.split_once(' ') else {
                return Err(CheckpointError::Malformed);
            };
            let Ok(blob) = STANDARD.decode(blob) else {
                return Err(CheckpointError::Malformed);
            };
            if signer != name || blob.len() != 68 || blob[..4] != wanted {
                continue;
            }
            found = true;
            let mut signature = [0u8; 64];
            signature.copy_from_slice(&blob[4..]);
            if key.verify(body.as_bytes(), &signature) {
                return Ok(checkpoint);
            }
        }
        Err(if found {
            CheckpointError::BadSignature(name.clone())
        } else {
            CheckpointError::NoSignature(name.clone())
        })
    }
}

fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
    let mut lines = body.lines();
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(CheckpointError::BadBody);
    };
    let valid_origin = !origin.is_empty() && !origin.contains(char::is_whitespace);
    let size: u64 = size.parse().map_err(|_| CheckpointError::BadBody)?;
    let root: Hash = STANDARD
        .decode(root)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or(CheckpointError::BadBody)?;
    if !valid_origin || size.to_string() != body.lines().nth(1).unwrap_or_default() {
        return Err(CheckpointError::BadBody);
    }
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
    })
}

/// The key's 4-byte id under `name` (signed-note: SHA-256(name || "\n" || type || key)).
fn key_hash(name: &str, key: &AuditVerifyingKey) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([ED25519])
        .chain_update(key.as_bytes())
        .finalize();
    let mut id = [0u8; 4];
    id.copy_from_slice(&digest[..4]);
    id
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keys::AuditSigningKey;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "madoguchi/audit/0999".to_owned(),
            size: 1_048_576,
            root: [7; 32],
        }
    }

    #[test]
    fn a_note_has_the_c2sp_shape_and_opens_with_its_key() {
        let key = AuditSigningKey::generate().unwrap();
        let note = checkpoint().sign(&key).unwrap();
        let mut lines = note.lines();
        assert_eq!(lines.next(), Some("madoguchi/audit/0999"));
        assert_eq!(lines.next(), Some("1048576"));
        assert_eq!(lines.next(), Some(STANDARD.encode([7u8; 32]).as_str()));
        assert_eq!(lines.next(), Some(""));
        let signature = lines.next().unwrap();
        assert!(signature.starts_with("\u{2014} madoguchi/audit/0999 "));
        assert_eq!(lines.next(), None);
        assert!(note.ends_with('\n'));
        assert_eq!(
            Checkpoint::open(&note, &key.verifying_key()).unwrap(),
            checkpoint()
        );
    }

    #[test]
    fn a_changed_note_or_another_key_is_refused() {
        let key = AuditSigningKey::generate().unwrap();
        let note = checkpoint().sign(&key).unwrap();
        let bigger = note.replacen("1048576", "1048577", 1);
        assert_eq!(
            Checkpoint::open(&bigger, &key.verifying_key()),
            Err(CheckpointError::BadSignature(
                "madoguchi/audit/0999".to_owned()
            ))
        );
        let other = AuditSigningKey::generate().unwrap();
        assert_eq!(
            Checkpoint::open(&note, &other.verifying_key()),
            Err(CheckpointError::NoSignature(
                "madoguchi/audit/0999".to_owned()
            ))
        );
        assert_eq!(
            Checkpoint::open("garbage", &key.verifying_key()),
            Err(CheckpointError::Malformed)
        );
        let padded = note.replacen("1048576", "01048576", 1);
        assert!(Checkpoint::open(&padded, &key.verifying_key()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(note in ".{0,300}") {
            let key = AuditSigningKey::generate().unwrap();
            let _ = Checkpoint::open(&note, &key.verifying_key());
        }
    }
}
