//! madoguchi-handoff — the hand-off batch format between the back office and core banking.
//!
//! Its job: the one definition of a batch, shared by the side that writes it (the back office:
//! `madoguchi handoff export` and the supervisors' button) and the side that opens it
//! (`madoguchi-core-open`, run by the core banking system).
//!
//! A batch is two files in `<data-dir>/handoff/`:
//! - `<batch id>.batch`: the applications as JSON ([`BatchPayload`]), sealed with HPKE (the
//!   suite of `madoguchi_seal::suite`) to the core-banking public key, `info`
//!   `madoguchi/handoff/v1`, AAD the batch id's 16 bytes. Bytes:
//!   `version 0x01 | core key id (8) | encapped key (32) | ciphertext+tag`.
//! - `<batch id>.manifest.json`: [`Manifest`]: batch id, creation time, count, SHA-256 of the
//!   `.batch` file, core key id, signer key id, and an Ed25519 signature by the back office's
//!   hand-off signing key over [`Manifest::signed_text`].
//!
//! Invariants:
//! - only public-key operations: sealing to the core key, signing with the back office's own
//!   signing key, checking a manifest. Opening a batch needs the core-banking private key and
//!   lives in `madoguchi-core-open`; this crate depends on neither `madoguchi-keyring` nor the
//!   store, so the core side's tool links no server code.
//! - a reader checks the manifest (signature, then the batch's hash) **before** decrypting.
//! - plaintext personal values are held in buffers zeroized on drop; parsers never panic.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! `Manifest::verify` checks the signer, the signature, then the hash; a reader decrypts nothing
//! before it passed. Personal values are held in `PersonalValues`, wiped on drop, whose `Debug`
//! prints field names only; the JSON is written into one buffer of its exact size.

mod batch;
mod error;
mod manifest;
mod signing;

pub use batch::{
    BATCH_FORMAT, BATCH_INFO, BatchApplication, BatchPayload, BatchSecret, PersonalValues,
    SealedBatch, batch_header_key_id, batch_hpke_parts, seal_batch,
};
pub use error::HandoffError;
pub use manifest::{MANIFEST_FORMAT, Manifest, sha256_hex};
pub use signing::{HandoffSigningKey, HandoffVerifyingKey, SIGNING_KEY_FILE, VERIFYING_KEY_FILE};

/// File name of a batch's ciphertext.
pub fn batch_file_name(batch_id: &uuid::Uuid) -> String {
    format!("{batch_id}.batch")
}

/// File name of a batch's manifest.
pub fn manifest_file_name(batch_id: &uuid::Uuid) -> String {
    format!("{batch_id}.manifest.json")
}

/// The manifest beside a `.batch` file: `X.batch` → `X.manifest.json`.
pub fn manifest_path_for(batch: &std::path::Path) -> std::path::PathBuf {
    let stem = batch
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.strip_suffix(".batch").unwrap_or(&stem);
    batch.with_file_name(format!("{stem}.manifest.json"))
}
