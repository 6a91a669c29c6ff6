//! The blind-index keys a process uses: the current key and, while a rotation is under way,
//! the previous one.
//!
//! Indexes and code MACs are always *written* with the current key; look-ups try both, so an
//! applicant's status check and the per-address booking limit keep working while the back
//! office re-indexes the stored rows. A set made by [`BlindIndexKeys::following`] re-reads
//! `blind-index.key` and `blind-index.previous.key` at most every [`BLIND_INDEX_REFRESH`], so a
//! running public site picks up a rotation (and the retirement of the previous key) without a
//! restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::KeyId;
use crate::blind::{BlindIndex, BlindIndexKey};
use crate::keyfile::{BLIND_INDEX_KEY, BLIND_INDEX_PREVIOUS_KEY, KeyFileError};

/// How often a following set re-reads the key files.
pub const BLIND_INDEX_REFRESH: Duration = Duration::from_secs(10);

/// The current blind-index key and, during a rotation, the previous one.
#[derive(Clone)]
pub struct BlindIndexKeys {
    pair: Arc<RwLock<Arc<Pair>>>,
    follow: Option<Arc<Follow>>,
}

struct Pair {
    current: BlindIndexKey,
    previous: Option<BlindIndexKey>,
}

struct Follow {
    keys_dir: PathBuf,
    checked_at: Mutex<Instant>,
}

/// An e-mail address's index under the current key, with the id of that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailIndex {
    pub index: BlindIndex,
    pub key_id: KeyId,
}

/// What to look an e-mail address up by: its index under the current key and, during a
/// rotation, under the previous key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailLookup {
    pub current: EmailIndex,
    pub previous: Option<BlindIndex>,
}

impl EmailLookup {
    /// Both indexes to match (the current one twice when there is no previous key), for a
    /// query of the form `email_index IN ($a, $b)`.
    pub fn candidates(&self) -> [&[u8]; 2] {
        let current = self.current.index.as_bytes();
        [
            current,
            self.previous.as_ref().map_or(current, |p| p.as_bytes()),
        ]
    }
}

impl BlindIndexKeys {
    /// A fixed set (tests, and commands that run once).
    pub fn new(current: BlindIndexKey, previous: Option<BlindIndexKey>) -> Self {
        BlindIndexKeys {
            pair: Arc::new(RwLock::new(Arc::new(Pair { current, previous }))),
            follow: None,
        }
    }

    /// Loads `blind-index.key` and, if present, `blind-index.previous.key` once.
    pub fn load(keys_dir: &Path) -> Result<Self, KeyFileError> {
        let pair = load_pair(keys_dir)?;
        Ok(BlindIndexKeys {
            pair: Arc::new(RwLock::new(Arc::new(pair))),
            follow: None,
        })
    }

    /// Loads the keys now and re-reads them every [`BLIND_INDEX_REFRESH`]: a rotation or a
    /// retirement applies without a restart.
    pub fn following(keys_dir: &Path) -> Result<Self, KeyFileError> {
        let mut keys = Self::load(keys_dir)?;
        keys.follow = Some(Arc::new(Follow {
            keys_dir: keys_dir.to_path_buf(),
            checked_at: Mutex::new(Instant::now()),
        }));
        Ok(keys)
    }

    /// The keys in use now, after re-reading the files when due. An unreadable or broken file
    /// keeps the keys in use: look-ups go on working, and `doctor` reports the file.
    fn pair(&self) -> Arc<Pair> {
        if let Some(follow) = &self.follow {
            let due = {
                let mut at = follow
                    .checked_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let due = at.elapsed() >= BLIND_INDEX_REFRESH;
                if due {
                    *at = Instant::now();
                }
                due
            };
            if due && let Ok(pair) = load_pair(&follow.keys_dir) {
                *self.pair.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(pair);
            }
        }
        self.pair
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The id of the key new indexes are computed with.
    pub fn current_key_id(&self) -> KeyId {
        self.pair().current.key_id()
    }

    /// The id of the previous key, while a rotation is under way.
    pub fn previous_key_id(&self) -> Option<KeyId> {
        self.pair().previous.as_ref().map(BlindIndexKey::key_id)
    }

    /// The index to store for a normalized e-mail address, and its key.
    pub fn email_index(&self, normalized_email: &str) -> EmailIndex {
        let pair = self.pair();
        EmailIndex {
            index: pair.current.email_index(normalized_email),
            key_id: pair.current.key_id(),
        }
    }

    /// The indexes to look a normalized e-mail address up by.
    pub fn email_lookup(&self, normalized_email: &str) -> EmailLookup {
        let pair = self.pair();
        EmailLookup {
            current: EmailIndex {
                index: pair.current.email_index(normalized_email),
                key_id: pair.current.key_id(),
            },
            previous: pair
                .previous
                .as_ref()
                .map(|key| key.email_index(normalized_email)),
        }
    }

    /// A code MAC with the current key (see [`BlindIndexKey::code_mac`]).
    pub fn code_mac(&self, purpose: &str, subject: &[u8], code: &str) -> [u8; 32] {
        self.pair().current.code_mac(purpose, subject, code)
    }

    /// The same MAC with the previous key, while a rotation is under way: for values looked up
    /// by their MAC (a form's one-time nonce), made before and after the rotation alike.
    pub fn previous_code_mac(&self, purpose: &str, subject: &[u8], code: &str) -> Option<[u8; 32]> {
        let pair = self.pair();
        pair.previous
            .as_ref()
            .map(|key| key.code_mac(purpose, subject, code))
    }

    /// Checks a code against a MAC made with the current or the previous key: a code sent just
    /// before a rotation is still accepted.
    pub fn verify_code(&self, purpose: &str, subject: &[u8], code: &str, stored: &[u8]) -> bool {
        let pair = self.pair();
        pair.current.verify_code(purpose, subject, code, stored)
            || pair
                .previous
                .as_ref()
                .is_some_and(|key| key.verify_code(purpose, subject, code, stored))
    }
}

fn load_pair(keys_dir: &Path) -> Result<Pair, KeyFileError> {
    let current = BlindIndexKey::load(&keys_dir.join(BLIND_INDEX_KEY))?;
    let previous_file = keys_dir.join(BLIND_INDEX_PREVIOUS_KEY);
    let previous = match previous_file.exists() {
        true => Some(BlindIndexKey::load(&previous_file)?),
        false => None,
    };
    Ok(Pair { current, previous })
}

impl std::fmt::Debug for BlindIndexKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pair = self.pair();
        f.debug_struct("BlindIndexKeys")
            .field("current", &pair.current.key_id())
            .field(
                "previous",
                &pair.previous.as_ref().map(BlindIndexKey::key_id),
            )
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_the_current_key_and_finds_with_both() {
        let old = BlindIndexKey::from_bytes([1u8; 32]);
        let new = BlindIndexKey::from_bytes([2u8; 32]);
        let old_index = old.email_index("taro@example.jp");
        let new_index = new.email_index("taro@example.jp");
        let old_mac = old.code_mac("p", b"s", "123456");
        let keys = BlindIndexKeys::new(new, Some(old));

        let written = keys.email_index("taro@example.jp");
        assert_eq!(written.index, new_index);
        assert_eq!(written.key_id, keys.current_key_id());
        let lookup = keys.email_lookup("taro@example.jp");
        assert_eq!(
            lookup.candidates(),
            [&new_index.as_bytes()[..], &old_index.as_bytes()[..]]
        );
        assert!(keys.verify_code("p", b"s", "123456", &old_mac));
        assert!(!keys.verify_code("p", b"s", "123457", &old_mac));
        let new_mac = keys.code_mac("p", b"s", "123456");
        assert_ne!(new_mac, old_mac);
        assert_eq!(keys.previous_code_mac("p", b"s", "123456"), Some(old_mac));
        assert!(keys.verify_code("p", b"s", "123456", &new_mac));
    }

    #[test]
    fn without_a_rotation_the_one_index_is_both_candidates() {
        let keys = BlindIndexKeys::new(BlindIndexKey::from_bytes([3u8; 32]), None);
        let lookup = keys.email_lookup("a@example.jp");
        assert_eq!(lookup.previous, None);
        let [a, b] = lookup.candidates();
        assert_eq!(a, b);
        assert_eq!(keys.previous_key_id(), None);
        assert_eq!(keys.previous_code_mac("p", b"s", "1"), None);
        let old_mac = BlindIndexKey::from_bytes([1u8; 32]).code_mac("p", b"s", "1");
        assert!(!keys.verify_code("p", b"s", "1", &old_mac));
    }
}
