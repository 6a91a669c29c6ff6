//! Personal data: per-record data keys (DEKs) wrapped to the back office, and field encryption.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{FormatError, SealError};
use crate::key_id::KeyId;
use crate::keyfile::KeyFileError;
use crate::office_key::{OfficePublicKey, P256PublicKey};
use crate::public_key::PublicKey;
use crate::suite::{
    DEK_INFO, DEK_LEN, FIELD_FORMAT_VERSION, FIELD_NONCE_LEN, HPKE_TAG_LEN, HpkeLayout,
    P256_POINT_LEN, field_aad, hpke_seal, p256_dek_aad, p256_kek, validate_field_name,
};

const WRAPPED_LAYOUT: HpkeLayout = HpkeLayout {
    what: "wrapped key",
    version: 1,
    header: 0,
    min_plaintext: DEK_LEN,
    max_plaintext: DEK_LEN,
};

/// Version byte of a data key wrapped with ECDH-ES to a P-256 key.
const P256_WRAP_VERSION: u8 = 2;
/// Length of a v2 wrap: version, key id, ephemeral point, DEK ciphertext and tag.
const P256_WRAP_LEN: usize = 1 + KeyId::LEN + P256_POINT_LEN + DEK_LEN + HPKE_TAG_LEN;

/// How a data key is wrapped, told by its version byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapScheme {
    /// v1: HPKE to an X25519 key (a key file).
    HpkeX25519,
    /// v2: ECDH-ES to a P-256 key (a PKCS#11 token).
    EcdhP256,
}

/// A record's data key, wrapped to the back office's public key.
///
/// v1 (89 bytes): `0x01 | key id (8) | encapped key (32) | ciphertext+tag (48)`, HPKE with
/// `info` = `madoguchi/dek/v1`, AAD = the record id's 16 bytes.
/// v2 (122 bytes): `0x02 | key id (8) | ephemeral P-256 point (65) | ciphertext+tag (48)`,
/// ChaCha20Poly1305 under [`p256_kek`] with a zero nonce (the key is used once),
/// AAD = [`p256_dek_aad`].
/// Deleting it makes the record's fields unreadable (crypto-shredding).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    bytes: Vec<u8>,
    key_id: KeyId,
    scheme: WrapScheme,
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
        if bytes.first() != Some(&P256_WRAP_VERSION) {
            let key_id = WRAPPED_LAYOUT.check(&bytes)?;
            let scheme = WrapScheme::HpkeX25519;
            return Ok(WrappedKey {
                bytes,
                key_id,
                scheme,
            });
        }
        const WHAT: &str = "wrapped key";
        if bytes.len() < P256_WRAP_LEN {
            return Err(FormatError::TooShort {
                what: WHAT,
                len: bytes.len(),
                min: P256_WRAP_LEN,
            });
        }
        if bytes.len() > P256_WRAP_LEN {
            return Err(FormatError::TooLong {
                what: WHAT,
                len: bytes.len(),
                max: P256_WRAP_LEN,
            });
        }
        let key_id =
            KeyId::from_prefix(&bytes[1..]).ok_or(FormatError::Truncated { what: WHAT })?;
        Ok(WrappedKey {
            bytes,
            key_id,
            scheme: WrapScheme::EcdhP256,
        })
    }

    /// The id of the back-office key it is wrapped to.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// How it is wrapped.
    pub fn scheme(&self) -> WrapScheme {
        self.scheme
    }

    /// The HPKE encapsulated key (v1) or the ephemeral P-256 point (v2).
    pub fn encapped_key(&self) -> &[u8] {
        match self.scheme {
            WrapScheme::HpkeX25519 => WRAPPED_LAYOUT.encapped(&self.bytes),
            WrapScheme::EcdhP256 => self
                .bytes
                .get(1 + KeyId::LEN..1 + KeyId::LEN + P256_POINT_LEN)
                .unwrap_or_default(),
        }
    }

    /// The wrapped data key's ciphertext with its tag.
    pub fn ciphertext(&self) -> &[u8] {
        match self.scheme {
            WrapScheme::HpkeX25519 => WRAPPED_LAYOUT.ciphertext(&self.bytes),
            WrapScheme::EcdhP256 => self
                .bytes
                .get(1 + KeyId::LEN + P256_POINT_LEN..)
                .unwrap_or_default(),
        }
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// How often a writer following `office.pub` re-reads it.
pub const OFFICE_PUB_REFRESH: Duration = Duration::from_secs(10);

/// Starts encrypted records for the back office.
///
/// A writer made by [`EnvelopeWriter::following`] re-reads `office.pub` at most every
/// [`OFFICE_PUB_REFRESH`], so a running public site starts wrapping to a rotated key without a
/// restart. Clones share the key and its refresh.
#[derive(Clone)]
pub struct EnvelopeWriter {
    current: Arc<RwLock<OfficePublicKey>>,
    follow: Option<Arc<Follow>>,
}

struct Follow {
    path: PathBuf,
    checked_at: Mutex<Instant>,
}

impl EnvelopeWriter {
    /// A writer wrapping data keys to this back-office public key.
    pub fn new(office_public: impl Into<OfficePublicKey>) -> Self {
        EnvelopeWriter {
            current: Arc::new(RwLock::new(office_public.into())),
            follow: None,
        }
    }

    /// A writer wrapping to the key `office_pub` names, now and after a rotation.
    pub fn following(office_pub: &Path) -> Result<Self, KeyFileError> {
        let key = OfficePublicKey::load(office_pub)?;
        Ok(EnvelopeWriter {
            current: Arc::new(RwLock::new(key)),
            follow: Some(Arc::new(Follow {
                path: office_pub.to_path_buf(),
                checked_at: Mutex::new(Instant::now()),
            })),
        })
    }

    /// The key data keys are wrapped to now.
    pub fn office_public(&self) -> OfficePublicKey {
        self.refresh();
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Re-reads `office.pub` when due. An unreadable or broken file keeps the key in use:
    /// records stay readable, and `doctor` and the back office report the file.
    fn refresh(&self) {
        let Some(follow) = &self.follow else { return };
        {
            let mut at = follow
                .checked_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if at.elapsed() < OFFICE_PUB_REFRESH {
                return;
            }
            *at = Instant::now();
        }
        if let Ok(key) = OfficePublicKey::load(&follow.path) {
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = key;
        }
    }

    /// The id of the key data keys are wrapped to.
    pub fn key_id(&self) -> KeyId {
        self.office_public().key_id()
    }

    /// Wraps an existing data key of `record_id` to this writer's key (new records, and the
    /// rewrap that moves old records to a rotated key).
    pub fn wrap(&self, record_id: &Uuid, dek: &[u8; DEK_LEN]) -> Result<WrappedKey, SealError> {
        match self.office_public() {
            OfficePublicKey::X25519(key) => wrap_hpke(&key, record_id, dek),
            OfficePublicKey::P256(key) => wrap_p256(&key, record_id, dek),
        }
    }

    /// Creates a fresh random data key for `record_id` and wraps it.
    pub fn begin(&self, record_id: &Uuid) -> Result<RecordEncryptor, SealError> {
        let mut dek = Zeroizing::new([0u8; DEK_LEN]);
        getrandom::fill(&mut dek[..])?;
        let wrapped = self.wrap(record_id, &dek)?;
        let cipher = XChaCha20Poly1305::new((&*dek).into());
        Ok(RecordEncryptor {
            record_id: *record_id,
            cipher,
            wrapped,
        })
    }
}

fn wrap_hpke(
    key: &PublicKey,
    record_id: &Uuid,
    dek: &[u8; DEK_LEN],
) -> Result<WrappedKey, SealError> {
    let (encapped, ct) = hpke_seal(key, DEK_INFO, record_id.as_bytes(), &dek[..])?;
    let key_id = key.key_id();
    Ok(WrappedKey {
        bytes: WRAPPED_LAYOUT.assemble(key_id, &[], &encapped, &ct),
        key_id,
        scheme: WrapScheme::HpkeX25519,
    })
}

impl fmt::Debug for EnvelopeWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeWriter")
            .field("key_id", &self.key_id())
            .field("follows", &self.follow.as_ref().map(|f| &f.path))
            .finish()
    }
}

/// ECDH-ES: a fresh ephemeral key per wrap, so each key-encryption key is used once.
fn wrap_p256(
    key: &P256PublicKey,
    record_id: &Uuid,
    dek: &[u8; DEK_LEN],
) -> Result<WrappedKey, SealError> {
    use chacha20poly1305::ChaCha20Poly1305;
    use p256::elliptic_curve::Generate as _;
    let ephemeral = p256::ecdh::EphemeralSecret::try_generate_from_rng(&mut getrandom::SysRng)?;
    let ephemeral_point: [u8; P256_POINT_LEN] = ephemeral
        .public_key()
        .to_sec1_bytes()
        .as_ref()
        .try_into()
        .map_err(|_| SealError::Aead)?;
    let shared = ephemeral.diffie_hellman(key.curve_key());
    let kek = p256_kek(
        shared.raw_secret_bytes().as_slice(),
        &ephemeral_point,
        &key.to_sec1(),
        record_id,
    )?;
    let key_id = key.key_id();
    let aad = p256_dek_aad(key_id, record_id);
    let ct = ChaCha20Poly1305::new((&*kek).into())
        .encrypt(
            &Default::default(),
            Payload {
                msg: &dek[..],
                aad: &aad,
            },
        )
        .map_err(|_| SealError::Aead)?;
    let mut bytes = Vec::with_capacity(P256_WRAP_LEN);
    bytes.push(P256_WRAP_VERSION);
    bytes.extend_from_slice(key_id.as_bytes());
    bytes.extend_from_slice(&ephemeral_point);
    bytes.extend_from_slice(&ct);
    Ok(WrappedKey {
        bytes,
        key_id,
        scheme: WrapScheme::EcdhP256,
    })
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
