//! The batch's plaintext (JSON, only ever in memory) and its sealing to the core-banking key.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use madoguchi_seal::suite::{Aead, ENCAPPED_LEN, HPKE_TAG_LEN, Kdf, Kem};
use madoguchi_seal::{KeyId, PublicKey, SealError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::HandoffError;
use crate::manifest::Manifest;
use crate::signing::HandoffSigningKey;

/// HPKE `info` of a batch.
pub const BATCH_INFO: &[u8] = b"madoguchi/handoff/v1";
/// The payload format this build writes and reads.
pub const BATCH_FORMAT: &str = "madoguchi-handoff/v1";
const BATCH_VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + KeyId::LEN;

/// The decrypted batch.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchPayload {
    pub format: String,
    pub batch_id: Uuid,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub applications: Vec<BatchApplication>,
}

/// One application: operational values, personal fields in clear (the batch is encrypted as
/// a whole), and its sealed secrets exactly as stored: the back office never opened them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchApplication {
    pub application_id: Uuid,
    pub receipt_number: String,
    pub product: String,
    pub branch_code: String,
    /// RFC 3339, UTC.
    pub submitted_at: String,
    pub fields: PersonalValues,
    pub secrets: Vec<BatchSecret>,
}

/// A sealed secret passed through: its kind label, core key id and stored bytes (base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSecret {
    pub kind: String,
    pub key_id: String,
    pub sealed: String,
}

impl BatchSecret {
    /// A stored secret, copied.
    pub fn new(kind: &str, key_id: &str, sealed: &[u8]) -> Self {
        BatchSecret {
            kind: kind.to_owned(),
            key_id: key_id.to_owned(),
            sealed: STANDARD.encode(sealed),
        }
    }

    /// The stored bytes.
    pub fn sealed_bytes(&self) -> Result<Vec<u8>, HandoffError> {
        STANDARD
            .decode(self.sealed.as_bytes())
            .map_err(|_| HandoffError::MalformedBatch("a sealed secret is not base64"))
    }
}

/// Personal values by field name; wiped when dropped. `Debug` shows the names only.
#[derive(Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonalValues(BTreeMap<String, String>);

impl PersonalValues {
    /// Adds a field (replacing one of the same name).
    pub fn insert(&mut self, name: &str, value: String) {
        if let Some(mut old) = self.0.insert(name.to_owned(), value) {
            old.zeroize();
        }
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Field names, ascending.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// (name, value) pairs, ascending by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No fields?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for PersonalValues {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

impl std::fmt::Debug for PersonalValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl BatchPayload {
    /// A new, empty batch.
    pub fn new(batch_id: Uuid, created_at: OffsetDateTime) -> Self {
        BatchPayload {
            format: BATCH_FORMAT.to_owned(),
            batch_id,
            created_at: rfc3339(created_at),
            applications: Vec::new(),
        }
    }

    /// The JSON, in one buffer of exactly its size (no reallocation leaves a copy behind),
    /// wiped on drop.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, HandoffError> {
        let mut counter = Counter(0);
        serde_json::to_writer(&mut counter, self).map_err(|_| HandoffError::PayloadUnreadable)?;
        let mut out = Zeroizing::new(Vec::with_capacity(counter.0));
        serde_json::to_writer(&mut *out, self).map_err(|_| HandoffError::PayloadUnreadable)?;
        Ok(out)
    }

    /// Reads decrypted JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, HandoffError> {
        let payload: BatchPayload =
            serde_json::from_slice(bytes).map_err(|_| HandoffError::PayloadUnreadable)?;
        if payload.format != BATCH_FORMAT {
            return Err(HandoffError::PayloadMismatch("unknown batch format"));
        }
        Ok(payload)
    }
}

/// A timestamp as the batch writes it: RFC 3339, UTC, whole seconds.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A batch ready to write: the `.batch` file's bytes and its signed manifest.
#[derive(Debug)]
pub struct SealedBatch {
    pub ciphertext: Vec<u8>,
    pub manifest: Manifest,
}

/// Seals `payload` to the core-banking key and signs its manifest.
pub fn seal_batch(
    payload: &BatchPayload,
    core: &PublicKey,
    signer: &HandoffSigningKey,
) -> Result<SealedBatch, HandoffError> {
    use hpke::Serializable as _;
    let plaintext = payload.to_json()?;
    let (encapped, ct) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &hpke::OpModeS::Base,
        core.hpke_key(),
        BATCH_INFO,
        &plaintext,
        payload.batch_id.as_bytes(),
    )
    .map_err(SealError::from)?;
    let key_id = core.key_id();
    let mut ciphertext = Vec::with_capacity(HEADER_LEN + ENCAPPED_LEN + ct.len());
    ciphertext.push(BATCH_VERSION);
    ciphertext.extend_from_slice(key_id.as_bytes());
    ciphertext.extend_from_slice(&encapped.to_bytes());
    ciphertext.extend_from_slice(&ct);
    let created_at = OffsetDateTime::parse(
        &payload.created_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| HandoffError::PayloadMismatch("created_at is not RFC 3339"))?;
    let manifest = Manifest::sign(
        payload.batch_id,
        created_at,
        payload.applications.len() as u64,
        &ciphertext,
        key_id.to_string(),
        signer,
    );
    Ok(SealedBatch {
        ciphertext,
        manifest,
    })
}

/// Splits a `.batch` file into (core key id, encapsulated key, HPKE ciphertext).
pub fn batch_hpke_parts(bytes: &[u8]) -> Result<(KeyId, &[u8], &[u8]), HandoffError> {
    if bytes.len() < HEADER_LEN + ENCAPPED_LEN + HPKE_TAG_LEN {
        return Err(HandoffError::MalformedBatch("too short"));
    }
    let (header, rest) = bytes.split_at(HEADER_LEN);
    if header.first() != Some(&BATCH_VERSION) {
        return Err(HandoffError::MalformedBatch("unknown version"));
    }
    let mut id = [0u8; KeyId::LEN];
    id.copy_from_slice(&header[1..]);
    let (encapped, ct) = rest.split_at(ENCAPPED_LEN);
    Ok((KeyId::from_bytes(id), encapped, ct))
}

/// The core key id named in a `.batch` file's header.
pub fn batch_header_key_id(bytes: &[u8]) -> Result<KeyId, HandoffError> {
    batch_hpke_parts(bytes).map(|(id, _, _)| id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn core() -> PublicKey {
        use hpke::Kem as _;
        let (_, pk) = Kem::derive_keypair(&[9u8; 32]);
        PublicKey::from_hpke(pk)
    }

    fn payload() -> BatchPayload {
        let mut p = BatchPayload::new(Uuid::from_u128(5), OffsetDateTime::UNIX_EPOCH);
        let mut fields = PersonalValues::default();
        fields.insert("family_name", "山田".to_owned());
        p.applications.push(BatchApplication {
            application_id: Uuid::from_u128(6),
            receipt_number: "R-1".to_owned(),
            product: "savings-account".to_owned(),
            branch_code: "101".to_owned(),
            submitted_at: rfc3339(OffsetDateTime::UNIX_EPOCH),
            fields,
            secrets: vec![BatchSecret::new("cash-card-pin", "00", b"\x01sealed")],
        });
        p
    }

    #[test]
    fn sealed_batch_verifies_and_tampering_is_named() {
        let signer = HandoffSigningKey::generate().unwrap();
        let sealed = seal_batch(&payload(), &core(), &signer).unwrap();
        let trusted = signer.verifying_key();
        sealed
            .manifest
            .verify(&trusted, &sealed.ciphertext)
            .unwrap();
        assert_eq!(sealed.manifest.count, 1);
        assert_eq!(
            batch_header_key_id(&sealed.ciphertext).unwrap(),
            core().key_id()
        );
        let json = sealed.manifest.to_json();
        assert_eq!(Manifest::parse(&json).unwrap(), sealed.manifest);

        let mut batch = sealed.ciphertext.clone();
        let last = batch.len() - 1;
        batch[last] ^= 1;
        assert!(matches!(
            sealed.manifest.verify(&trusted, &batch),
            Err(HandoffError::HashMismatch { .. })
        ));
        let mut altered = sealed.manifest.clone();
        altered.count = 2;
        assert!(matches!(
            altered.verify(&trusted, &sealed.ciphertext),
            Err(HandoffError::BadSignature { .. })
        ));
        let other = HandoffSigningKey::generate().unwrap().verifying_key();
        assert!(matches!(
            sealed.manifest.verify(&other, &sealed.ciphertext),
            Err(HandoffError::SignerMismatch { .. })
        ));
        assert!(Manifest::parse(b"{}").is_err());
    }

    #[test]
    fn payload_json_round_trips_and_debug_hides_values() {
        let p = payload();
        let json = p.to_json().unwrap();
        assert_eq!(json.len(), json.capacity());
        let back = BatchPayload::from_json(&json).unwrap();
        assert_eq!(back.applications[0].fields.get("family_name"), Some("山田"));
        assert!(!format!("{back:?}").contains("山田"));
        assert!(batch_hpke_parts(&[1u8; 10]).is_err());
    }
}
