//! madoguchi-documents — identity documents (本人確認書類) from untrusted uploads.
//!
//! Its one job: turn the bytes a browser uploaded into a document that is safe to keep
//! ([`sanitize`]), and keep it encrypted on disk ([`DocumentStore`]).
//!
//! - **Type by content, never by name** ([`sniff`]): JPEG (`FF D8 FF`), PNG (the 8-byte
//!   signature) and PDF (`%PDF-`) only; a file called `.jpg` that holds a script is refused.
//! - **Limits before work** ([`limits`]): the size first, then the dimensions read from the
//!   image's own header by a bounded walk of its structure, and only then a decode with
//!   `image::Limits` set (width, height, allocation). A decompression bomb (a small PNG that
//!   claims 20,000 × 20,000 pixels) is refused before any pixel buffer exists.
//! - **Images are re-encoded** (JPEG quality 90, or PNG) from their decoded pixels, after the
//!   EXIF orientation has been applied: nothing of the original file but its pixels survives,
//!   so EXIF (GPS, camera serial numbers), XMP, IPTC, ICC, comments and PNG text chunks are
//!   gone. A truncated or damaged image is refused, not half-decoded.
//! - **PDFs are checked, not rewritten** (see [`sanitize`] for the decision and its limits):
//!   structure (header, cross-reference trailer, `%%EOF`), no encryption, and no active
//!   content (JavaScript, launch actions, embedded files, forms, multimedia) in the file or in
//!   its compressed object streams. Their document information and XMP metadata are **not**
//!   removed, and the back office must open them only in a sandboxed viewer.
//! - **Encrypted before it touches the disk or the network** ([`DocumentStore`]): each
//!   document gets its own data key from `madoguchi_seal::EnvelopeWriter` (HPKE-wrapped to
//!   the back office's public key; the caller keeps the wrapped key in the database, so that
//!   deleting it shreds the document, backups included), and is stored under its UUID —
//!   never the uploaded name — either as a file of the documents folder ([`folder`]: written
//!   atomically, temporary file, fsync, rename, mode 0600) or, with the default feature `s3`,
//!   as an object of an S3-compatible bucket (`s3`: the same bytes, one PUT that never
//!   overwrites).
//!
//! Invariants:
//! - it cannot read back what it stored: it depends on `madoguchi-seal` (write-only keys) and
//!   never on `madoguchi-keyring`, so the public site may use it. The back office opens a
//!   document with `OfficeKeyring::open_record(document_id, wrapped)` and
//!   `RecordDecryptor::decrypt_field(DOCUMENT_FIELD, DocumentStore::read_sealed(..))`;
//! - it writes no SQL and keeps no index: the database rows are the caller's; the order of
//!   writes that keeps a crash from leaving a key without its document is described in
//!   [`store`];
//! - malformed input is a [`Refusal`], never a panic (decoder panics are caught as damage).
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! **Folder or bucket** (`store.rs`, `folder.rs`, `s3.rs`): `DocumentStore` seals a document
//! (`seal`, CPU, on a blocking thread) into the bytes that are stored — `MDGDOC01` and the
//! ciphertext — and then writes them (`write`, async) to its `Backend`: `Folder` (the files above)
//! or, with the default feature `s3`, `S3` (`object_store` 0.14 `aws`: one `PUT` with
//! `If-None-Match: *` of the same bytes as `PREFIX/<uuid>`; 30 s timeout, 2 retries; its rustls
//! uses aws-lc-rs like sqlx and lettre, and nothing brings ring). `serve --documents
//! s3://BUCKET/PREFIX` selects it (crates/cli/src/documents.rs), after listing the prefix once.
//! The order of writes is the same for both and is what makes a crash harmless: store the
//! document, *then* insert its row and key in one transaction (a failure deletes the document; a
//! crash leaves a keyless, unreadable object that the hourly sweep removes); delete row and key in
//! one transaction, *then* the document. So there is never a key whose document is missing, nor a
//! readable document without its row. Only the binary enables `s3` (the workspace dependency has
//! `default-features = false`): a build without it has no HTTP client in this crate.

pub mod folder;
pub mod limits;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sanitize;
pub mod sniff;
pub mod spool;
pub mod store;

mod pdf;
mod structure;

pub use folder::DocumentFolder;
pub use sanitize::{Inspection, SanitizedDocument, inspect, sanitize};
pub use sniff::{ContentType, sniff};
pub use store::{
    Backend, DOCUMENT_FIELD, DocumentStore, FolderEntry, S3Location, SealedDocument,
    StoreFileError, StoredDocument,
};

use std::fmt;

/// Which of the three uploads a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentKind {
    /// The front of the identity document (本人確認書類（おもて）).
    Front,
    /// Its back (本人確認書類（うら）).
    Back,
    /// A photo of the applicant's face (本人の顔写真（セルフィー）).
    Selfie,
}

impl DocumentKind {
    /// Every kind, in form order.
    pub const ALL: [DocumentKind; 3] = [
        DocumentKind::Front,
        DocumentKind::Back,
        DocumentKind::Selfie,
    ];

    /// The stable name stored in the database: `front`, `back`, `selfie`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Front => "front",
            DocumentKind::Back => "back",
            DocumentKind::Selfie => "selfie",
        }
    }

    /// The kind named `name` ([`DocumentKind::as_str`]).
    pub fn parse(name: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an upload was refused. Each has a stable code ([`Refusal::code`]) that the web layer
/// words in the applicant's language, naming the file and saying what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `document-empty`: no bytes.
    #[error("the file is empty")]
    Empty,
    /// `document-not-accepted-type`: not a JPEG, PNG or PDF by its content.
    #[error("not a JPEG, PNG or PDF")]
    NotAcceptedType,
    /// `document-too-large`: more than [`limits::MAX_FILE_BYTES`].
    #[error("larger than the size limit")]
    TooLarge,
    /// `document-too-many-pixels`: wider or higher than [`limits::MAX_DIMENSION`], more
    /// pixels than [`limits::MAX_PIXELS`], or more memory to decode than
    /// [`limits::MAX_DECODE_ALLOC`].
    #[error("too many pixels")]
    TooManyPixels,
    /// `document-damaged`: truncated, inconsistent or undecodable.
    #[error("damaged or truncated")]
    Damaged,
    /// `document-pdf-not-accepted`: a PDF that is encrypted or carries active content
    /// (scripts, actions, embedded files, forms, multimedia), or hides its objects where the
    /// check cannot look.
    #[error("PDF with encryption or active content")]
    PdfNotAccepted,
}

impl Refusal {
    /// Every refusal, so that the web layer can test it has a message for each.
    pub const ALL: [Refusal; 6] = [
        Refusal::Empty,
        Refusal::NotAcceptedType,
        Refusal::TooLarge,
        Refusal::TooManyPixels,
        Refusal::Damaged,
        Refusal::PdfNotAccepted,
    ];

    /// The stable kebab-case code.
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::Empty => "document-empty",
            Refusal::NotAcceptedType => "document-not-accepted-type",
            Refusal::TooLarge => "document-too-large",
            Refusal::TooManyPixels => "document-too-many-pixels",
            Refusal::Damaged => "document-damaged",
            Refusal::PdfNotAccepted => "document-pdf-not-accepted",
        }
    }
}
