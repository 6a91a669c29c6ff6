//! The documents folder: one encrypted file per document, named by its UUID.
//!
//! The file holds the document's [`SealedDocument::bytes`] (`MDGDOC01` and the ciphertext,
//! see [`crate::store`]). Writes are atomic: a temporary file (`.<uuid>.tmp`, created
//! exclusively with mode 0600), fsync, rename to `<uuid>`, fsync of the folder. A reader sees
//! the whole file or none. All methods block (call them from a blocking thread in async
//! code; [`crate::DocumentStore`] does).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::store::{FolderEntry, MAGIC, SealedDocument};

/// The folder of encrypted documents. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DocumentFolder {
    dir: PathBuf,
}

impl DocumentFolder {
    /// Opens `dir`, creating it with mode 0700 if missing.
    pub fn open(dir: &Path) -> io::Result<DocumentFolder> {
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Ok(DocumentFolder {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the document `id` is (or would be) stored.
    pub fn path(&self, id: &Uuid) -> PathBuf {
        self.dir.join(id.hyphenated().to_string())
    }

    /// Writes `sealed` as its id. Refuses to replace an existing document (ids are fresh
    /// UUIDs).
    pub fn write(&self, sealed: &SealedDocument) -> io::Result<()> {
        let id = sealed.id();
        let path = self.path(&id);
        if path.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "document id in use",
            ));
        }
        let tmp = self.dir.join(format!(".{}.tmp", id.hyphenated()));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(sealed.bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// The encrypted document `id` as stored (without the file's magic), for the back office
    /// to open with its keyring; `None` if there is no such file.
    pub fn read_sealed(&self, id: &Uuid) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.path(id)) {
            Ok(bytes) => strip_magic(bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the document `id`; `false` if it was not there.
    pub fn delete(&self, id: &Uuid) -> io::Result<bool> {
        match fs::remove_file(self.path(id)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The documents in the folder, with when each was last written; temporary files left by
    /// an interrupted write are listed with `temporary: true`. Other names are ignored.
    pub fn list(&self) -> io::Result<Vec<FolderEntry>> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let (id, temporary) = match name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp"))
            {
                Some(id) => (id, true),
                None => (name, false),
            };
            let Ok(id) = Uuid::parse_str(id) else {
                continue;
            };
            let modified = entry.metadata()?.modified()?;
            entries.push(FolderEntry {
                id,
                temporary,
                modified,
            });
        }
        Ok(entries)
    }

    /// Deletes a temporary file left by an interrupted write.
    pub fn delete_temporary(&self, id: &Uuid) -> io::Result<()> {
        match fs::remove_file(self.dir.join(format!(".{}.tmp", id.hyphenated()))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether the folder is private to its owner (mode `& 0o077 == 0`).
    pub fn is_private(&self) -> io::Result<bool> {
        Ok(fs::metadata(&self.dir)?.permissions().mode() & 0o077 == 0)
    }
}

/// The ciphertext of a stored document (file or object): its bytes without the magic.
pub(crate) fn strip_magic(mut bytes: Vec<u8>) -> io::Result<Vec<u8>> {
    if !bytes.starts_with(MAGIC) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a madoguchi document",
        ));
    }
    bytes.drain(..MAGIC.len());
    Ok(bytes)
}
