//! Opening a hand-off batch: manifest first, then the batch, then each sealed secret.

use madoguchi_handoff::{
    BATCH_INFO, BatchPayload, HandoffError, HandoffVerifyingKey, Manifest, PersonalValues,
    batch_hpke_parts,
};
use madoguchi_seal::{SealedSecret, SecretKind};
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{CoreKeys, CorePrivateKey, OpenError};

/// Why a batch was not opened. Names what is wrong, never content.
#[derive(Debug, thiserror::Error)]
pub enum BatchOpenError {
    /// The manifest or the batch file failed verification (signature, signer, hash, format):
    /// nothing was decrypted.
    #[error("refused: {0}")]
    Refused(#[source] HandoffError),
    /// The batch is for another core-banking key.
    #[error("{0}")]
    WrongKey(#[source] HandoffError),
    /// The batch verified but does not decrypt with this key, or its content is not a batch.
    #[error("the batch cannot be opened: {0}")]
    Undecryptable(#[source] HandoffError),
    /// A sealed secret in the batch does not open for its application.
    #[error("application {receipt_number}: secret {kind}: {source}")]
    Secret {
        receipt_number: String,
        kind: String,
        #[source]
        source: OpenError,
    },
    /// A secret's kind or bytes are not of a known format.
    #[error("application {receipt_number}: secret {kind} is malformed")]
    MalformedSecret {
        receipt_number: String,
        kind: String,
    },
}

/// An opened batch: what the core system reads.
#[derive(Debug, Serialize)]
pub struct OpenedBatch {
    pub batch_id: Uuid,
    pub created_at: String,
    pub count: u64,
    pub core_key_id: String,
    pub signer_key_id: String,
    pub applications: Vec<OpenedApplication>,
}

/// One application with its personal fields and its secrets in clear (wiped on drop).
#[derive(Debug, Serialize)]
pub struct OpenedApplication {
    pub application_id: Uuid,
    pub receipt_number: String,
    pub product: String,
    pub branch_code: String,
    pub submitted_at: String,
    pub fields: PersonalValues,
    /// By kind label (`cash-card-pin`, …).
    pub secrets: PersonalValues,
}

impl OpenedBatch {
    /// Pretty JSON in a buffer wiped on drop.
    /// Sized first, so that no reallocation leaves a copy of the secrets behind.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let mut counter = Counter(0);
        // Serializing plain structs to memory cannot fail.
        let _ = serde_json::to_writer_pretty(&mut counter, self);
        let mut out = Zeroizing::new(Vec::with_capacity(counter.0 + 1));
        let _ = serde_json::to_writer_pretty(&mut *out, self);
        out.push(b'\n');
        out
    }
}

impl CorePrivateKey {
    /// Verifies `manifest` (signed by `signer`) against `batch`, then decrypts the batch and
    /// opens every sealed secret for its own application.
    pub fn open_batch(
        &self,
        manifest: &[u8],
        batch: &[u8],
        signer: &HandoffVerifyingKey,
    ) -> Result<OpenedBatch, BatchOpenError> {
        CoreKeys::new(vec![self.clone()]).open_batch(manifest, batch, signer)
    }
}

impl CoreKeys {
    /// Opens a hand-off batch: the batch with the key it is sealed to, each secret in it with
    /// the key that secret is sealed to (secrets sealed before a core key rotation carry the
    /// earlier key's id).
    pub fn open_batch(
        &self,
        manifest: &[u8],
        batch: &[u8],
        signer: &HandoffVerifyingKey,
    ) -> Result<OpenedBatch, BatchOpenError> {
        let manifest = Manifest::parse(manifest).map_err(BatchOpenError::Refused)?;
        manifest
            .verify(signer, batch)
            .map_err(BatchOpenError::Refused)?;
        let (key_id, encapped, ct) = batch_hpke_parts(batch).map_err(BatchOpenError::Refused)?;
        let wrong_key = || {
            BatchOpenError::WrongKey(HandoffError::WrongCoreKey {
                sealed_for: key_id.to_string(),
                this_key: self.ids(),
            })
        };
        let key = self.get(key_id).ok_or_else(wrong_key)?;
        if manifest.core_key_id != key.key_id().to_string() {
            return Err(wrong_key());
        }
        let plaintext = key
            .key
            .open_hpke(BATCH_INFO, manifest.batch_id.as_bytes(), encapped, ct)
            .map_err(|_| {
                BatchOpenError::Undecryptable(HandoffError::MalformedBatch("authentication failed"))
            })?;
        let payload = BatchPayload::from_json(&plaintext).map_err(BatchOpenError::Undecryptable)?;
        if payload.batch_id != manifest.batch_id {
            return Err(BatchOpenError::Undecryptable(
                HandoffError::PayloadMismatch("batch id differs"),
            ));
        }
        if payload.applications.len() as u64 != manifest.count {
            return Err(BatchOpenError::Undecryptable(
                HandoffError::PayloadMismatch("application count differs"),
            ));
        }
        let mut applications = Vec::with_capacity(payload.applications.len());
        for app in payload.applications {
            let mut secrets = PersonalValues::default();
            for secret in &app.secrets {
                let malformed = || BatchOpenError::MalformedSecret {
                    receipt_number: app.receipt_number.clone(),
                    kind: secret.kind.chars().take(40).collect(),
                };
                let kind = SecretKind::from_label(&secret.kind).ok_or_else(malformed)?;
                let bytes = secret.sealed_bytes().map_err(|_| malformed())?;
                let sealed = SealedSecret::from_stored(bytes).map_err(|_| malformed())?;
                let opened = self
                    .open_secret(&sealed, kind, &app.application_id)
                    .map_err(|source| BatchOpenError::Secret {
                        receipt_number: app.receipt_number.clone(),
                        kind: kind.label().to_owned(),
                        source,
                    })?;
                let text = String::from_utf8(opened.to_vec()).map_err(|e| {
                    drop(Zeroizing::new(e.into_bytes()));
                    malformed()
                })?;
                secrets.insert(kind.label(), text);
            }
            applications.push(OpenedApplication {
                application_id: app.application_id,
                receipt_number: app.receipt_number.clone(),
                product: app.product.clone(),
                branch_code: app.branch_code.clone(),
                submitted_at: app.submitted_at.clone(),
                fields: app.fields,
                secrets,
            });
        }
        Ok(OpenedBatch {
            batch_id: manifest.batch_id,
            created_at: manifest.created_at,
            count: manifest.count,
            core_key_id: manifest.core_key_id,
            signer_key_id: manifest.signer_key_id,
            applications,
        })
    }
}

/// Counts the bytes a serialization would write.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
