//! What can be wrong with a batch or its manifest. Messages name the problem, never content.

use madoguchi_seal::SealError;

/// Writing or checking a batch failed.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// The manifest is not JSON of the manifest format.
    #[error("the manifest is not a madoguchi hand-off manifest: {0}")]
    ManifestUnreadable(String),
    /// The manifest names a format this build does not know.
    #[error("the manifest has format {found:?}; this build reads {expected:?}")]
    ManifestFormat {
        found: String,
        expected: &'static str,
    },
    /// The manifest was signed by another key than the one trusted.
    #[error(
        "the manifest is signed by hand-off key {signed_by}, but the trusted signer is \
         {expected}: refused (pass the back office's handoff-signing.pub with --signer)"
    )]
    SignerMismatch { signed_by: String, expected: String },
    /// The signature does not verify: the manifest was altered or not signed by the signer.
    #[error(
        "the manifest's signature is invalid: the manifest was altered after signing, \
         or was not signed by hand-off key {signer}"
    )]
    BadSignature { signer: String },
    /// The batch file is not the one the manifest describes.
    #[error(
        "the batch file does not match its manifest (SHA-256 {actual}, manifest says \
         {expected}): the batch was altered, truncated or swapped"
    )]
    HashMismatch { expected: String, actual: String },
    /// The batch is sealed to another core-banking key than the one loaded.
    #[error(
        "the batch is sealed to core-banking key {sealed_for}, but the key loaded is \
         {this_key}: use the private key whose id is {sealed_for}"
    )]
    WrongCoreKey {
        sealed_for: String,
        this_key: String,
    },
    /// The batch's bytes do not have the batch structure.
    #[error("the batch file is malformed: {0}")]
    MalformedBatch(&'static str),
    /// The decrypted batch is not the payload the manifest announced.
    #[error("the batch's content does not match its manifest: {0}")]
    PayloadMismatch(&'static str),
    /// The decrypted batch is not valid JSON of the batch format.
    #[error("the batch's content is not a madoguchi hand-off batch")]
    PayloadUnreadable,
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}
