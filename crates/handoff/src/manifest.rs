//! The signed manifest of a batch: what the core banking side checks before decrypting.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::error::HandoffError;
use crate::signing::{HandoffSigningKey, HandoffVerifyingKey};

/// The manifest format this build writes and reads.
pub const MANIFEST_FORMAT: &str = "madoguchi-handoff-manifest/v1";

/// `<batch id>.manifest.json`. Every field but `signature` is covered by the signature, in
/// the fixed text of [`Manifest::signed_text`] (JSON itself is not canonical).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub batch_id: Uuid,
    /// RFC 3339, UTC, whole seconds.
    pub created_at: String,
    /// Applications in the batch.
    pub count: u64,
    /// SHA-256 of the `.batch` file, lowercase hex.
    pub ciphertext_sha256: String,
    /// The core-banking key the batch is sealed to.
    pub core_key_id: String,
    /// The hand-off signing key that signed this manifest.
    pub signer_key_id: String,
    /// Ed25519 signature over [`Manifest::signed_text`], base64.
    pub signature: String,
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Manifest {
    /// A signed manifest for a batch file.
    pub(crate) fn sign(
        batch_id: Uuid,
        created_at: OffsetDateTime,
        count: u64,
        ciphertext: &[u8],
        core_key_id: String,
        signer: &HandoffSigningKey,
    ) -> Manifest {
        let created_at = created_at
            .replace_nanosecond(0)
            .unwrap_or(created_at)
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut manifest = Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            batch_id,
            created_at,
            count,
            ciphertext_sha256: sha256_hex(ciphertext),
            core_key_id,
            signer_key_id: signer.key_id().to_string(),
            signature: String::new(),
        };
        manifest.signature = STANDARD.encode(signer.sign(manifest.signed_text().as_bytes()));
        manifest
    }

    /// The text the signature covers: one `name=value` line per field, in this order.
    pub fn signed_text(&self) -> String {
        format!(
            "{}\nbatch_id={}\ncreated_at={}\ncount={}\nciphertext_sha256={}\ncore_key_id={}\nsigner_key_id={}\n",
            MANIFEST_FORMAT,
            self.batch_id,
            self.created_at,
            self.count,
            self.ciphertext_sha256,
            self.core_key_id,
            self.signer_key_id,
        )
    }

    /// Reads a manifest file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, HandoffError> {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| HandoffError::ManifestUnreadable(e.to_string()))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(HandoffError::ManifestFormat {
                found: manifest.format.chars().take(60).collect(),
                expected: MANIFEST_FORMAT,
            });
        }
        Ok(manifest)
    }

    /// The manifest file's bytes (pretty JSON, final newline).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The creation time.
    pub fn created_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.created_at, &Rfc3339).ok()
    }

    /// Checks, in this order, the signer, the signature and the batch file's hash. Nothing
    /// of the batch may be decrypted before this returned `Ok`.
    pub fn verify(&self, signer: &HandoffVerifyingKey, batch: &[u8]) -> Result<(), HandoffError> {
        let trusted = signer.key_id().to_string();
        if self.signer_key_id != trusted {
            return Err(HandoffError::SignerMismatch {
                signed_by: self.signer_key_id.chars().take(40).collect(),
                expected: trusted,
            });
        }
        let signature = STANDARD
            .decode(self.signature.as_bytes())
            .unwrap_or_default();
        // The text's values are validated so that no line can smuggle another (a newline
        // inside created_at, say): an unparsable value is as bad as a wrong signature.
        let well_formed = self.created_at().is_some()
            && is_hex(&self.ciphertext_sha256, 64)
            && is_hex(&self.core_key_id, 16);
        if !well_formed || !signer.verify(self.signed_text().as_bytes(), &signature) {
            return Err(HandoffError::BadSignature { signer: trusted });
        }
        let actual = sha256_hex(batch);
        if actual != self.ciphertext_sha256 {
            return Err(HandoffError::HashMismatch {
                expected: self.ciphertext_sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
