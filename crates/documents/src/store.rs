//! The documents folder: one encrypted file per document, named by its UUID.
//!
//! File format: `MDGDOC01` (8 bytes) followed by the document encrypted as the field
//! [`DOCUMENT_FIELD`] of the record `document id` with a fresh data key
//! (`madoguchi_seal::RecordEncryptor::encrypt_field`: `0x01 | nonce (24) | ciphertext+tag`,
//! XChaCha20-Poly1305, AAD = document id || 0x00 || field name). The data key, wrapped to the
//! back office's public key, is returned to the caller, who keeps it in the database
//! (`data_keys`, record id = document id): the folder alone reveals nothing, and deleting the
//! key shreds the file wherever copies of it went.
//!
//! Writes are atomic: a temporary file (`.<uuid>.tmp`, created exclusively with mode 0600),
//! fsync, rename to `<uuid>`, fsync of the folder. A reader sees the whole file or none.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use madoguchi_seal::{EnvelopeWriter, SealError};
use uuid::Uuid;

use crate::sanitize::SanitizedDocument;

/// The field name a document is encrypted under (part of the AEAD's associated data).
pub const DOCUMENT_FIELD: &str = "document";

const MAGIC: &[u8; 8] = b"MDGDOC01";

/// A document written to the folder: what the database must keep to open it.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub id: Uuid,
    /// The id of the back-office key the data key is wrapped to.
    pub key_id: String,
    /// The data key, HPKE-wrapped to the back office (`madoguchi_seal::WrappedKey` bytes).
    pub wrapped_key: Vec<u8>,
    /// Bytes of the encrypted file.
    pub stored_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreFileError {
    #[error("encrypting the document: {0}")]
    Encrypt(#[from] SealError),
    #[error("writing the document file: {0}")]
    Io(#[from] io::Error),
}

/// The folder of encrypted documents. Cheap to clone; all methods block (call them from a
/// blocking thread in async code).
#[derive(Debug, Clone)]
pub struct DocumentStore {
    dir: PathBuf,
    envelopes: EnvelopeWriter,
}

impl DocumentStore {
    /// Opens `dir`, creating it with mode 0700 if missing. Data keys are wrapped by
    /// `envelopes` (the back office's public key).
    pub fn open(dir: &Path, envelopes: EnvelopeWriter) -> io::Result<DocumentStore> {
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Ok(DocumentStore {
            dir: dir.to_path_buf(),
            envelopes,
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

    /// Encrypts `document` under a fresh data key and writes it as `id`. Refuses to replace
    /// an existing document (ids are fresh UUIDs).
    pub fn put(
        &self,
        id: &Uuid,
        document: &SanitizedDocument,
    ) -> Result<StoredDocument, StoreFileError> {
        let encryptor = self.envelopes.begin(id)?;
        let ciphertext = encryptor.encrypt_field(DOCUMENT_FIELD, &document.bytes)?;
        let path = self.path(id);
        if path.exists() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "document id in use").into());
        }
        let tmp = self.dir.join(format!(".{}.tmp", id.hyphenated()));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&ciphertext)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        Ok(StoredDocument {
            id: *id,
            key_id: encryptor.wrapped_key().key_id().to_string(),
            wrapped_key: encryptor.wrapped_key().as_bytes().to_vec(),
            stored_bytes: (MAGIC.len() + ciphertext.len()) as u64,
        })
    }

    /// The encrypted document `id` as stored (without the file's magic), for the back office
    /// to open with its keyring; `None` if there is no such file.
    pub fn read_sealed(&self, id: &Uuid) -> io::Result<Option<Vec<u8>>> {
        let mut bytes = match fs::read(self.path(id)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !bytes.starts_with(MAGIC) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a madoguchi document file",
            ));
        }
        bytes.drain(..MAGIC.len());
        Ok(Some(bytes))
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

/// A file of the documents folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderEntry {
    pub id: Uuid,
    pub temporary: bool,
    pub modified: SystemTime,
}
