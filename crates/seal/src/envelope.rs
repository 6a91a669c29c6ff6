//! Personal data: per-record data keys (DEKs) wrapped to the back office, and field encryption.

use std::collections::BTreeMap;
use std::fmt;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{FormatError, SealError};
use crate::key_id::KeyId;
use crate::public_key::PublicKey;
use crate::suite::{
    DEK_INFO, DEK_LEN, FIELD_FORMAT_VERSION, FIELD_NONCE_LEN, HpkeLayout, field_aad, hpke_seal,
    validate_field_name,
};

const WRAPPED_LAYOUT: HpkeLayout = HpkeLayout {
    what: "wrapped key",
    version: 1,
    header: 0,
    min_plaintext: DEK_LEN,
    max_plaintext: DEK_LEN,
};

/// A record's data key, wrapped with HPKE to the back office's public key.
///
/// Bytes (89): `version 0x01 | key id (8) | encapped key (32) | ciphertext+tag (48)`.
/// HPKE `info` = `madoguchi/dek/v1`, AAD = the record id's 16 bytes.
/// Deleting it makes the record's fields unreadable (crypto-shredding).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    bytes: Vec<u8>,
    key_id: KeyId,
}

impl WrappedKey {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The stored bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Reads stored bytes, checking only their structure.
    pub fn from_stored(bytes: Vec<u8>) -> Result<Self, FormatError> {
        let key_id = WRAPPED_LAYOUT.check(&bytes)?;
        Ok(WrappedKey { bytes, key_id })
    }

    /// The id of the back-office key it is wrapped to.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The HPKE encapsulated key.
    pub fn encapped_key(&self) -> &[u8] {
        WRAPPED_LAYOUT.encapped(&self.bytes)
    }

    /// The HPKE ciphertext with its tag.
    pub fn ciphertext(&self) -> &[u8] {
        WRAPPED_LAYOUT.ciphertext(&self.bytes)
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// Starts encrypted records for the back office.
#[derive(Debug, Clone)]
pub struct EnvelopeWriter {
    office_public: PublicKey,
}

impl EnvelopeWriter {
    /// A writer wrapping data keys to this back-office public key.
    pub fn new(office_public: PublicKey) -> Self {
        EnvelopeWriter { office_public }
    }

    /// The id of the key data keys are wrapped to.
    pub fn key_id(&self) -> KeyId {
        self.office_public.key_id()
    }

    /// Creates a fresh random data key for `record_id` and wraps it.
    pub fn begin(&self, record_id: &Uuid) -> Result<RecordEncryptor, SealError> {
        let mut dek = Zeroizing::new([0u8; DEK_LEN]);
        getrandom::fill(&mut dek[..])?;
        let (encapped, ct) = hpke_seal(
            &self.office_public,
            DEK_INFO,
            record_id.as_bytes(),
            &dek[..],
        )?;
        let key_id = self.office_public.key_id();
        let wrapped = WrappedKey {
            bytes: WRAPPED_LAYOUT.assemble(key_id, &[], &encapped, &ct),
            key_id,
        };
        let cipher = XChaCha20Poly1305::new((&*dek).into());
        Ok(RecordEncryptor {
            record_id: *record_id,
            cipher,
            wrapped,
        })
    }
}

/// Encrypts the fields of one record under its data key. The key is zeroized on drop.
pub struct RecordEncryptor {
    record_id: Uuid,
    cipher: XChaCha20Poly1305,
    wrapped: WrappedKey,
}

impl RecordEncryptor {
    /// The record these fields belong to.
    pub fn record_id(&self) -> &Uuid {
        &self.record_id
    }

    /// The wrapped data key to store with the record.
    pub fn wrapped_key(&self) -> &WrappedKey {
        &self.wrapped
    }

    /// Encrypts one field: `version 0x01 | nonce (24) | ciphertext+tag`,
    /// AAD = record id (16) || 0x00 || field name.
    pub fn encrypt_field(&self, field: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        validate_field_name(field)?;
        let mut nonce = [0u8; FIELD_NONCE_LEN];
        getrandom::fill(&mut nonce)?;
        let aad = field_aad(&self.record_id, field);
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Aead)?;
        let mut out = Vec::with_capacity(1 + FIELD_NONCE_LEN + ct.len());
        out.push(FIELD_FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Encrypts `plaintext` as `field` and adds it to `fields`.
    pub fn encrypt_into(
        &self,
        fields: &mut EncryptedFields,
        field: &str,
        plaintext: &[u8],
    ) -> Result<(), SealError> {
        let ct = self.encrypt_field(field, plaintext)?;
        fields.insert(field, ct)?;
        Ok(())
    }
}

impl fmt::Debug for RecordEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordEncryptor")
            .field("record_id", &self.record_id)
            .field("wrapped", &self.wrapped)
            .finish_non_exhaustive()
    }
}

/// Version byte of [`EncryptedFields::to_bytes`].
const FIELDS_FORMAT_VERSION: u8 = 1;
/// Most fields one record can hold.
pub const MAX_FIELDS: usize = u16::MAX as usize;

/// A record's encrypted fields: field name → ciphertext (from [`RecordEncryptor::encrypt_field`]).
///
/// Bytes: `version 0x01 | count (u16 BE) | entries`, each entry
/// `name length (u8, 1..=128) | name (printable ASCII) | ciphertext length (u32 BE) | ciphertext`,
/// names strictly ascending, nothing after the last entry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EncryptedFields {
    fields: BTreeMap<String, Vec<u8>>,
}

impl EncryptedFields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a field's ciphertext; returns the previous one.
    pub fn insert(
        &mut self,
        name: &str,
        ciphertext: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, FormatError> {
        validate_field_name(name)?;
        if u32::try_from(ciphertext.len()).is_err() {
            return Err(FormatError::TooLong {
                what: "encrypted field",
                len: ciphertext.len(),
                max: u32::MAX as usize,
            });
        }
        if self.fields.len() >= MAX_FIELDS && !self.fields.contains_key(name) {
            return Err(FormatError::TooManyEntries {
                what: "encrypted fields",
                max: MAX_FIELDS,
            });
        }
        Ok(self.fields.insert(name.to_string(), ciphertext))
    }

    /// A field's ciphertext.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields.get(name).map(Vec::as_slice)
    }

    /// Removes a field.
    pub fn remove(&mut self, name: &str) -> Option<Vec<u8>> {
        self.fields.remove(name)
    }

    /// Field names, ascending.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// (name, ciphertext) pairs, ascending by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// No fields?
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size: usize = 3 + self
            .fields
            .iter()
            .map(|(k, v)| 1 + k.len() + 4 + v.len())
            .sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.push(FIELDS_FORMAT_VERSION);
        // `insert` keeps count <= u16::MAX, names <= 128 bytes and values <= u32::MAX bytes.
        out.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        for (name, ct) in &self.fields {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(ct.len() as u32).to_be_bytes());
            out.extend_from_slice(ct);
        }
        out
    }

    /// Reads the stored form; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        const WHAT: &str = "encrypted fields";
        let mut r = Reader {
            rest: bytes,
            what: WHAT,
        };
        let version = r.take(1)?;
        if version != [FIELDS_FORMAT_VERSION] {
            return Err(FormatError::UnknownVersion {
                what: WHAT,
                version: version.first().copied().unwrap_or_default(),
            });
        }
        let count = u16::from_be_bytes(r.array::<2>()?);
        let mut fields = BTreeMap::new();
        let mut last: Option<&str> = None;
        for _ in 0..count {
            let name_len = usize::from(r.array::<1>()?[0]);
            let name = std::str::from_utf8(r.take(name_len)?)
                .map_err(|_| FormatError::InvalidFieldName)?;
            validate_field_name(name)?;
            if last.is_some_and(|prev| prev >= name) {
                return Err(FormatError::UnorderedFields);
            }
            last = Some(name);
            let ct_len = u32::from_be_bytes(r.array::<4>()?) as usize;
            let ct = r.take(ct_len)?;
            fields.insert(name.to_string(), ct.to_vec());
        }
        if !r.rest.is_empty() {
            return Err(FormatError::TrailingBytes {
                what: WHAT,
                extra: r.rest.len(),
            });
        }
        Ok(EncryptedFields { fields })
    }
}

impl fmt::Debug for EncryptedFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// Bounds-checked reading of a byte string.
struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if n > self.rest.len() {
            return Err(FormatError::Truncated { what: self.what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn writer() -> EnvelopeWriter {
        use hpke::Kem as _;
        let (_, pk) = crate::suite::Kem::derive_keypair(&[1u8; 32]);
        EnvelopeWriter::new(PublicKey::from_hpke(pk))
    }

    #[test]
    fn wrapped_key_structure() {
        let w = writer();
        let enc = w.begin(&Uuid::from_u128(3)).unwrap();
        let wk = enc.wrapped_key();
        assert_eq!(wk.as_bytes().len(), 89);
        assert_eq!(wk.key_id(), w.key_id());
        assert_eq!(
            WrappedKey::from_stored(wk.as_bytes().to_vec()).unwrap(),
            *wk
        );
        assert!(WrappedKey::from_stored(wk.as_bytes()[..88].to_vec()).is_err());
        let mut longer = wk.as_bytes().to_vec();
        longer.push(0);
        assert!(WrappedKey::from_stored(longer).is_err());
        // Two records never share a data key.
        let other = w.begin(&Uuid::from_u128(3)).unwrap();
        assert_ne!(other.wrapped_key().as_bytes(), wk.as_bytes());
    }

    #[test]
    fn field_ciphertext_structure() {
        let enc = writer().begin(&Uuid::from_u128(3)).unwrap();
        let ct = enc.encrypt_field("family_name", "山田".as_bytes()).unwrap();
        assert_eq!(ct.len(), 1 + 24 + 6 + 16);
        assert_eq!(ct[0], 1);
        assert!(enc.encrypt_field("", b"x").is_err());
        assert!(enc.encrypt_field("has space", b"x").is_err());
        assert!(enc.encrypt_field(&"a".repeat(129), b"x").is_err());
        let dbg = format!("{enc:?}");
        assert!(dbg.contains("RecordEncryptor"));
    }

    #[test]
    fn encrypted_fields_round_trip() {
        let enc = writer().begin(&Uuid::from_u128(3)).unwrap();
        let mut fields = EncryptedFields::new();
        enc.encrypt_into(&mut fields, "phone", b"0312345678")
            .unwrap();
        enc.encrypt_into(&mut fields, "email", b"a@example.jp")
            .unwrap();
        fields.insert("empty", Vec::new()).unwrap();
        let bytes = fields.to_bytes();
        let back = EncryptedFields::from_bytes(&bytes).unwrap();
        assert_eq!(back, fields);
        assert_eq!(
            back.names().collect::<Vec<_>>(),
            ["email", "empty", "phone"]
        );
        assert_eq!(format!("{back:?}"), r#"{"email", "empty", "phone"}"#);
        for cut in 0..bytes.len() {
            assert!(
                EncryptedFields::from_bytes(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            EncryptedFields::from_bytes(&trailing),
            Err(FormatError::TrailingBytes { .. })
        ));
        assert_eq!(
            EncryptedFields::from_bytes(&EncryptedFields::new().to_bytes()).unwrap(),
            EncryptedFields::new()
        );
    }

    #[test]
    fn encrypted_fields_rejects_unordered() {
        // "b" then "a".
        let bytes = [1, 0, 2, 1, b'b', 0, 0, 0, 0, 1, b'a', 0, 0, 0, 0];
        assert_eq!(
            EncryptedFields::from_bytes(&bytes),
            Err(FormatError::UnorderedFields)
        );
        let dup = [1, 0, 2, 1, b'a', 0, 0, 0, 0, 1, b'a', 0, 0, 0, 0];
        assert_eq!(
            EncryptedFields::from_bytes(&dup),
            Err(FormatError::UnorderedFields)
        );
    }
}
