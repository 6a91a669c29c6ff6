//! Where encrypted documents are kept: the documents folder (default) or an S3-compatible
//! bucket, behind one API ([`DocumentStore`]).
//!
//! Stored format, the same bytes in a file and in an object: `MDGDOC01` (8 bytes) followed by
//! the document encrypted as the field [`DOCUMENT_FIELD`] of the record `document id` with a
//! fresh data key (`madoguchi_seal::RecordEncryptor::encrypt_field`: `0x01 | nonce (24) |
//! ciphertext+tag`, XChaCha20-Poly1305, AAD = document id || 0x00 || field name). The data
//! key, wrapped to the back office's public key, is returned to the caller, who keeps it in
//! the database (`data_keys`, record id = document id): the folder or bucket alone reveals
//! nothing, and deleting the key shreds the document wherever copies of it went. A document is
//! encrypted ([`DocumentStore::seal`]) before any byte of it leaves the process; the name it is
//! stored under is its id, nothing else.
//!
//! Order of writes, the caller's part (`madoguchi-public` uploads, the purges): the document
//! is stored first and its row and key after, in one transaction; deletion removes the row and
//! key first (one transaction) and the file or object after. A crash between the two steps
//! leaves at worst a stored document without a key — unreadable, and swept an hour later by
//! `list` — never a row and key whose document is missing, nor a key without its row.

use std::io;
use std::path::Path;
use std::time::SystemTime;

use madoguchi_seal::{EnvelopeWriter, SealError};
use uuid::Uuid;

use crate::folder::DocumentFolder;
use crate::sanitize::SanitizedDocument;

/// The field name a document is encrypted under (part of the AEAD's associated data).
pub const DOCUMENT_FIELD: &str = "document";

pub(crate) const MAGIC: &[u8; 8] = b"MDGDOC01";

/// A document written to the store: what the database must keep to open it.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub id: Uuid,
    /// The id of the back-office key the data key is wrapped to.
    pub key_id: String,
    /// The data key, HPKE-wrapped to the back office (`madoguchi_seal::WrappedKey` bytes).
    pub wrapped_key: Vec<u8>,
    /// Bytes of the encrypted file or object.
    pub stored_bytes: u64,
}

/// A document encrypted and ready to store: the exact bytes of its file or object, and its
/// wrapped data key. Holds no plaintext.
#[derive(Debug, Clone)]
pub struct SealedDocument {
    stored: StoredDocument,
    bytes: Vec<u8>,
}

impl SealedDocument {
    /// The document's id (its file or object name).
    pub fn id(&self) -> Uuid {
        self.stored.id
    }

    /// What is written: `MDGDOC01` and the ciphertext.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What the database keeps.
    pub fn stored(&self) -> &StoredDocument {
        &self.stored
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreFileError {
    #[error("encrypting the document: {0}")]
    Encrypt(#[from] SealError),
    #[error("the documents folder: {0}")]
    Io(#[from] io::Error),
    #[error("the documents folder: {0}")]
    Task(String),
    /// The bucket answered with an error, or could not be reached.
    #[error(
        "{doing} in the S3 bucket {bucket} at {endpoint}: {message} (check that the bucket \
         exists, that --s3-endpoint and --s3-region name it, and that AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY may list, read, write and delete objects under its prefix)"
    )]
    S3 {
        doing: &'static str,
        bucket: String,
        endpoint: String,
        message: String,
    },
    /// `--documents s3://…` is not a usable bucket location.
    #[error("--documents {0}")]
    Location(String),
}

/// An entry of the folder or the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderEntry {
    pub id: Uuid,
    /// A temporary file of an interrupted write (the folder only: an S3 upload is whole or
    /// absent).
    pub temporary: bool,
    pub modified: SystemTime,
}

/// An S3-compatible bucket for the documents: `s3://BUCKET/PREFIX`, the endpoint (default:
/// AWS's for the region) and the region. Credentials come from the standard AWS environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or the instance's role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// e.g. `https://s3.ap-northeast-1.amazonaws.com` or a local server's `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// e.g. `ap-northeast-1`.
    pub region: Option<String>,
}

impl S3Location {
    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX` (letters, digits, `.`, `-`, `_` in each
    /// segment; no `.` or `..` segment).
    pub fn parse(
        url: &str,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> Result<S3Location, StoreFileError> {
        let refuse = |why: &str| StoreFileError::Location(format!("{url}: {why}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| refuse("expected s3://BUCKET/PREFIX"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_end_matches('/');
        let fine = |s: &str| {
            s.bytes().any(|b| b != b'.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        };
        if !fine(bucket) {
            return Err(refuse("the bucket name is empty or not [a-z0-9.-]"));
        }
        if !prefix.is_empty() && !prefix.split('/').all(fine) {
            return Err(refuse(
                "each segment of the prefix must be letters, digits, '.', '-' or '_'",
            ));
        }
        if let Some(endpoint) = &endpoint
            && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
        {
            return Err(StoreFileError::Location(format!(
                "--s3-endpoint {endpoint}: expected https://HOST[:PORT]"
            )));
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            endpoint,
            region,
        })
    }

    /// `s3://BUCKET/PREFIX`.
    pub fn url(&self) -> String {
        match self.prefix.is_empty() {
            true => format!("s3://{}", self.bucket),
            false => format!("s3://{}/{}", self.bucket, self.prefix),
        }
    }

    /// The object name of the document `id`: the prefix and the id, nothing else.
    pub fn key(&self, id: &Uuid) -> String {
        match self.prefix.is_empty() {
            true => id.hyphenated().to_string(),
            false => format!("{}/{}", self.prefix, id.hyphenated()),
        }
    }
}

/// Where the encrypted documents are.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Files in a local folder (the default: `<data-dir>/documents`).
    Folder(DocumentFolder),
    /// Objects in an S3-compatible bucket.
    #[cfg(feature = "s3")]
    S3(crate::s3::S3Bucket),
}

/// The encrypted documents: sealed here, stored in a folder or a bucket. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DocumentStore {
    envelopes: EnvelopeWriter,
    backend: Backend,
}

impl DocumentStore {
    /// The folder `dir`, created with mode 0700 if missing. Data keys are wrapped by
    /// `envelopes` (the back office's public key).
    pub fn open(dir: &Path, envelopes: EnvelopeWriter) -> io::Result<DocumentStore> {
        Ok(DocumentStore {
            envelopes,
            backend: Backend::Folder(DocumentFolder::open(dir)?),
        })
    }

    /// The bucket at `location`, after checking that it answers (a listing of the prefix):
    /// a wrong endpoint, bucket or credential fails here, with what to fix, not at the
    /// first upload.
    pub async fn open_s3(
        location: &S3Location,
        envelopes: EnvelopeWriter,
    ) -> Result<DocumentStore, StoreFileError> {
        #[cfg(feature = "s3")]
        {
            let bucket = crate::s3::S3Bucket::open(location)?;
            bucket.check().await?;
            Ok(DocumentStore {
                envelopes,
                backend: Backend::S3(bucket),
            })
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = envelopes;
            Err(StoreFileError::Location(format!(
                "{}: this build has no S3 support (build madoguchi with the default feature \
                 `s3`), or leave --documents unset for the data folder's documents/",
                location.url()
            )))
        }
    }

    /// Where the documents are.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The folder, when the documents are in one.
    pub fn folder(&self) -> Option<&DocumentFolder> {
        match &self.backend {
            Backend::Folder(folder) => Some(folder),
            #[cfg(feature = "s3")]
            Backend::S3(_) => None,
        }
    }

    /// For messages: the folder's path, or the bucket's URL and endpoint.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Folder(folder) => folder.dir().display().to_string(),
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => bucket.describe(),
        }
    }

    /// Encrypts `document` as `id` under a fresh data key. CPU work: call it from a blocking
    /// thread in async code.
    pub fn seal(
        &self,
        id: &Uuid,
        document: &SanitizedDocument,
    ) -> Result<SealedDocument, StoreFileError> {
        let encryptor = self.envelopes.begin(id)?;
        let ciphertext = encryptor.encrypt_field(DOCUMENT_FIELD, &document.bytes)?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + ciphertext.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&ciphertext);
        Ok(SealedDocument {
            stored: StoredDocument {
                id: *id,
                key_id: encryptor.wrapped_key().key_id().to_string(),
                wrapped_key: encryptor.wrapped_key().as_bytes().to_vec(),
                stored_bytes: bytes.len() as u64,
            },
            bytes,
        })
    }

    /// Stores `sealed` under its id; refuses to replace an existing document.
    pub async fn write(&self, sealed: SealedDocument) -> Result<StoredDocument, StoreFileError> {
        match &self.backend {
            Backend::Folder(folder) => {
                let folder = folder.clone();
                blocking(move || folder.write(&sealed).map(|()| sealed.stored)).await
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => {
                bucket.write(&sealed).await?;
                Ok(sealed.stored)
            }
        }
    }

    /// The encrypted document `id` as stored, without the magic, for the back office to open
    /// with its keyring; `None` if there is no such document.
    pub async fn read_sealed(&self, id: &Uuid) -> Result<Option<Vec<u8>>, StoreFileError> {
        let id = *id;
        match &self.backend {
            Backend::Folder(folder) => {
                let folder = folder.clone();
                blocking(move || folder.read_sealed(&id)).await
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => bucket.read_sealed(&id).await,
        }
    }

    /// Deletes the document `id`; `false` if it was not there (an S3 bucket does not say:
    /// `true`).
    pub async fn delete(&self, id: &Uuid) -> Result<bool, StoreFileError> {
        let id = *id;
        match &self.backend {
            Backend::Folder(folder) => {
                let folder = folder.clone();
                blocking(move || folder.delete(&id)).await
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => bucket.delete(&id).await.map(|()| true),
        }
    }

    /// The stored documents, with when each was written (see [`FolderEntry`]).
    pub async fn list(&self) -> Result<Vec<FolderEntry>, StoreFileError> {
        match &self.backend {
            Backend::Folder(folder) => {
                let folder = folder.clone();
                blocking(move || folder.list()).await
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => bucket.list().await,
        }
    }

    /// Deletes a temporary file left by an interrupted write (nothing to do in a bucket).
    pub async fn delete_temporary(&self, id: &Uuid) -> Result<(), StoreFileError> {
        let id = *id;
        match &self.backend {
            Backend::Folder(folder) => {
                let folder = folder.clone();
                blocking(move || folder.delete_temporary(&id)).await
            }
            #[cfg(feature = "s3")]
            Backend::S3(_) => Ok(()),
        }
    }
}

/// Runs file I/O on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, StoreFileError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreFileError::Task(format!("file task: {e}")))?
        .map_err(StoreFileError::Io)
}

#[cfg(test)]
mod tests {
    use super::S3Location;

    #[test]
    fn a_bucket_location_parses_and_names_objects_by_id_only() {
        let at = S3Location::parse("s3://documents/bank/identity/", None, None).expect("parses");
        assert_eq!(
            (at.bucket.as_str(), at.prefix.as_str()),
            ("documents", "bank/identity")
        );
        assert_eq!(at.url(), "s3://documents/bank/identity");
        let id = uuid::Uuid::nil();
        assert_eq!(
            at.key(&id),
            "bank/identity/00000000-0000-0000-0000-000000000000"
        );
        let bare = S3Location::parse("s3://documents", None, None).expect("parses");
        assert_eq!(bare.key(&id), "00000000-0000-0000-0000-000000000000");
        for refused in [
            "documents/bank",
            "https://documents/bank",
            "s3://",
            "s3://docu ments",
            "s3://documents//bank",
            "s3://documents/bank/../keys",
        ] {
            assert!(S3Location::parse(refused, None, None).is_err(), "{refused}");
        }
        let endpoint = Some("s3.example:9000".to_owned());
        assert!(S3Location::parse("s3://documents", endpoint, None).is_err());
    }
}
