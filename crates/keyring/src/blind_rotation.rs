//! Rotating the blind-index key (the HMAC key of e-mail indexes and code MACs).
//!
//! A rotation keeps the current key as `blind-index.previous.key` and writes a new
//! `blind-index.key` (atomically: at every instant a current key exists). Running processes
//! re-read both files every few seconds (`madoguchi_seal::BlindIndexKeys::following`): new
//! indexes are computed with the new key, look-ups try both. The back office then re-indexes
//! the stored rows (`madoguchi_office::reindex`), and `retire` deletes the previous key once no
//! stored index needs it and every process has long seen the new one.

use std::fs;
use std::path::Path;
use std::time::Duration;

use madoguchi_seal::keyfile::{BLIND_INDEX_KEY, BLIND_INDEX_PREVIOUS_KEY};
use madoguchi_seal::{BLIND_INDEX_REFRESH, BlindIndexKey, KeyId};

use crate::init::{InitError, io_err, write_file};
use crate::rotation::{RETIRE_GRACE, RotationError, age};

const PRIVATE_MODE: u32 = 0o600;

/// What a blind-index rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotatedBlindIndex {
    pub previous: KeyId,
    pub current: KeyId,
}

/// Makes a new blind-index key current and keeps the one it replaces as the previous key.
/// Refused while an earlier rotation is unfinished (its previous key still held), except when
/// that rotation stopped before writing its new key.
pub fn rotate_blind_index_key(keys_dir: &Path) -> Result<RotatedBlindIndex, RotationError> {
    let current_file = keys_dir.join(BLIND_INDEX_KEY);
    let previous_file = keys_dir.join(BLIND_INDEX_PREVIOUS_KEY);
    let current = BlindIndexKey::load(&current_file)?;
    if previous_file.exists() {
        let previous = BlindIndexKey::load(&previous_file)?;
        if previous.key_id() != current.key_id() {
            return Err(RotationError::BlindIndexUnfinished(previous.key_id()));
        }
    } else {
        write_file(
            &previous_file,
            current.to_file_text().as_bytes(),
            PRIVATE_MODE,
            false,
        )?;
    }
    let new = BlindIndexKey::generate().map_err(InitError::from)?;
    write_file(
        &current_file,
        new.to_file_text().as_bytes(),
        PRIVATE_MODE,
        true,
    )?;
    Ok(RotatedBlindIndex {
        previous: current.key_id(),
        current: new.key_id(),
    })
}

/// The previous blind-index key's id, while a rotation is under way.
pub fn previous_blind_index_key(keys_dir: &Path) -> Result<Option<KeyId>, RotationError> {
    let file = keys_dir.join(BLIND_INDEX_PREVIOUS_KEY);
    match file.exists() {
        true => Ok(Some(BlindIndexKey::load(&file)?.key_id())),
        false => Ok(None),
    }
}

/// How long after a rotation the re-index waits: twice the time a running process takes to
/// pick up the new key (`madoguchi_seal::BLIND_INDEX_REFRESH`). Until then a process may still
/// index, and look up, with the previous key alone — a row re-indexed meanwhile would be missed
/// by its status checks and its address's booking limit.
pub const REINDEX_AFTER: Duration = Duration::from_secs(2 * BLIND_INDEX_REFRESH.as_secs());

/// While a rotation is younger than [`REINDEX_AFTER`]: how much longer the re-index must wait.
/// `None` when no rotation is under way or it is old enough.
pub fn reindex_wait(keys_dir: &Path) -> Result<Option<Duration>, RotationError> {
    if previous_blind_index_key(keys_dir)?.is_none() {
        return Ok(None);
    }
    let elapsed = age(&keys_dir.join(BLIND_INDEX_KEY))?;
    Ok(REINDEX_AFTER.checked_sub(elapsed).filter(|d| !d.is_zero()))
}

/// Deletes the previous blind-index key once `stale` (stored indexes not computed by the
/// current key, counted after a last re-index) is zero and the rotation is older than
/// [`RETIRE_GRACE`]. Returns the retired key's id.
pub fn retire_blind_index_key(keys_dir: &Path, stale: u64) -> Result<KeyId, RotationError> {
    let previous =
        previous_blind_index_key(keys_dir)?.ok_or(RotationError::NoBlindIndexRotation)?;
    let elapsed = age(&keys_dir.join(BLIND_INDEX_KEY))?;
    if elapsed < RETIRE_GRACE {
        return Err(RotationError::BlindIndexTooSoon {
            elapsed_s: elapsed.as_secs(),
            grace_s: RETIRE_GRACE.as_secs(),
        });
    }
    if stale > 0 {
        return Err(RotationError::StaleIndexes {
            key_id: previous,
            count: stale,
        });
    }
    let file = keys_dir.join(BLIND_INDEX_PREVIOUS_KEY);
    fs::remove_file(&file).map_err(io_err(&file))?;
    Ok(previous)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn keys_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let key = BlindIndexKey::generate().unwrap();
        write_file(
            &dir.path().join(BLIND_INDEX_KEY),
            key.to_file_text().as_bytes(),
            PRIVATE_MODE,
            false,
        )
        .unwrap();
        dir
    }

    fn backdate(path: &Path) {
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - RETIRE_GRACE - Duration::from_secs(60))
            .unwrap();
    }

    #[test]
    fn a_rotation_keeps_the_replaced_key_until_it_is_retired() {
        let dir = keys_dir();
        let before = BlindIndexKey::load(&dir.path().join(BLIND_INDEX_KEY)).unwrap();
        let rotated = rotate_blind_index_key(dir.path()).unwrap();
        assert_eq!(rotated.previous, before.key_id());
        assert_ne!(rotated.current, rotated.previous);
        let after = BlindIndexKey::load(&dir.path().join(BLIND_INDEX_KEY)).unwrap();
        assert_eq!(after.key_id(), rotated.current);
        assert_eq!(
            previous_blind_index_key(dir.path()).unwrap(),
            Some(before.key_id())
        );

        // A second rotation before the first is finished is refused.
        assert!(matches!(
            rotate_blind_index_key(dir.path()),
            Err(RotationError::BlindIndexUnfinished(id)) if id == before.key_id()
        ));
        // The re-index waits for running processes to pick the new key up.
        assert!(reindex_wait(dir.path()).unwrap().is_some());
        // Too soon, then stale rows, then retired.
        assert!(matches!(
            retire_blind_index_key(dir.path(), 0),
            Err(RotationError::BlindIndexTooSoon { .. })
        ));
        backdate(&dir.path().join(BLIND_INDEX_KEY));
        assert_eq!(reindex_wait(dir.path()).unwrap(), None);
        assert!(matches!(
            retire_blind_index_key(dir.path(), 3),
            Err(RotationError::StaleIndexes { count: 3, .. })
        ));
        assert_eq!(
            retire_blind_index_key(dir.path(), 0).unwrap(),
            before.key_id()
        );
        assert!(!dir.path().join(BLIND_INDEX_PREVIOUS_KEY).exists());
        assert_eq!(
            reindex_wait(dir.path()).unwrap(),
            None,
            "no rotation under way"
        );
        assert!(matches!(
            retire_blind_index_key(dir.path(), 0),
            Err(RotationError::NoBlindIndexRotation)
        ));
        // The next rotation may start.
        rotate_blind_index_key(dir.path()).unwrap();
    }

    #[test]
    fn a_rotation_stopped_before_its_new_key_can_be_run_again() {
        let dir = keys_dir();
        let key = BlindIndexKey::load(&dir.path().join(BLIND_INDEX_KEY)).unwrap();
        // As if a rotation stopped right after keeping the current key.
        fs::copy(
            dir.path().join(BLIND_INDEX_KEY),
            dir.path().join(BLIND_INDEX_PREVIOUS_KEY),
        )
        .unwrap();
        let rotated = rotate_blind_index_key(dir.path()).unwrap();
        assert_eq!(rotated.previous, key.key_id());
        assert_ne!(rotated.current, key.key_id());
    }
}
