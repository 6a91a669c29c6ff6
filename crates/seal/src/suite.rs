//! The algorithms, labels and byte layouts shared by the sealing side (this crate) and the
//! opening sides (`madoguchi-keyring`, `madoguchi-core-open`).
//!
//! Nothing here opens anything: it only names the HPKE suite, the `info`/AAD strings and the
//! layout of the stored formats, so both sides agree on them in one place.
//!
//! HPKE suite: DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + ChaCha20Poly1305, mode Base.

use uuid::Uuid;

use crate::error::{FormatError, SealError};
use crate::key_id::KeyId;
use crate::public_key::PublicKey;
use crate::secret::SecretKind;

/// HPKE KEM: DHKEM(X25519, HKDF-SHA256).
pub type Kem = hpke::kem::X25519HkdfSha256;
/// HPKE KDF: HKDF-SHA256.
pub type Kdf = hpke::kdf::HkdfSha256;
/// HPKE AEAD: ChaCha20Poly1305.
pub type Aead = hpke::aead::ChaCha20Poly1305;

/// Length of an X25519 encapsulated key.
pub const ENCAPPED_LEN: usize = 32;
/// Length of the HPKE AEAD tag appended to every HPKE ciphertext.
pub const HPKE_TAG_LEN: usize = 16;

/// HPKE `info` prefix for sealed secrets; the [`SecretKind`] label follows.
pub const SECRET_INFO_PREFIX: &[u8] = b"madoguchi/secret/v1/";
/// HPKE `info` for wrapped data keys.
pub const DEK_INFO: &[u8] = b"madoguchi/dek/v1";
/// HPKE `info` for sealed outbox messages.
pub const MAIL_INFO: &[u8] = b"madoguchi/mail/v1";

/// The HPKE `info` for one kind of secret: `madoguchi/secret/v1/<kind label>`.
pub fn secret_info(kind: SecretKind) -> Vec<u8> {
    let mut info = SECRET_INFO_PREFIX.to_vec();
    info.extend_from_slice(kind.label().as_bytes());
    info
}

/// HKDF salt of a data key wrapped with ECDH-ES to a P-256 back-office key (wrap format v2).
pub const P256_DEK_SALT: &[u8] = b"madoguchi/dek/v2/p256-ecdh-es";
/// Length of a SEC1 uncompressed P-256 point.
pub const P256_POINT_LEN: usize = 65;

/// The one-time key-encryption key of an ECDH-ES/P-256 wrap:
/// HKDF-SHA256(salt = [`P256_DEK_SALT`], ikm = Z (the shared x-coordinate),
/// info = ephemeral point || recipient point || record id).
///
/// Binding both points and the record id means a wrap cannot be moved to another record or
/// replayed against another key. Both sides call this; only the opening side can compute Z.
pub fn p256_kek(
    shared_x: &[u8],
    ephemeral: &[u8; P256_POINT_LEN],
    recipient: &[u8; P256_POINT_LEN],
    record_id: &Uuid,
) -> Result<zeroize::Zeroizing<[u8; DEK_LEN]>, SealError> {
    let mut info = Vec::with_capacity(2 * P256_POINT_LEN + 16);
    info.extend_from_slice(ephemeral);
    info.extend_from_slice(recipient);
    info.extend_from_slice(record_id.as_bytes());
    let mut kek = zeroize::Zeroizing::new([0u8; DEK_LEN]);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(P256_DEK_SALT), shared_x)
        .expand(&info, &mut kek[..])
        .map_err(|_| SealError::Kdf)?;
    Ok(kek)
}

/// AEAD associated data of an ECDH-ES/P-256 wrap: key id || record id.
pub fn p256_dek_aad(key_id: KeyId, record_id: &Uuid) -> [u8; 24] {
    let mut aad = [0u8; 24];
    aad[..8].copy_from_slice(key_id.as_bytes());
    aad[8..].copy_from_slice(record_id.as_bytes());
    aad
}

/// Length of a per-record data key (XChaCha20Poly1305 key).
pub const DEK_LEN: usize = 32;
/// Version byte of an encrypted field.
pub const FIELD_FORMAT_VERSION: u8 = 1;
/// XChaCha20Poly1305 nonce length.
pub const FIELD_NONCE_LEN: usize = 24;
/// XChaCha20Poly1305 tag length.
pub const FIELD_TAG_LEN: usize = 16;
/// Longest field name.
pub const MAX_FIELD_NAME_LEN: usize = 128;

/// Field names are 1 to 128 printable ASCII characters (0x21..=0x7e).
pub fn validate_field_name(name: &str) -> Result<(), FormatError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_FIELD_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(FormatError::InvalidFieldName)
    }
}

/// AAD of one encrypted field: record id (16 bytes) || 0x00 || field name.
pub fn field_aad(record_id: &Uuid, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(17 + field.len());
    aad.extend_from_slice(record_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// Splits an encrypted field `version (1) | nonce (24) | ciphertext+tag (>= 16)`.
pub fn split_field_ciphertext(bytes: &[u8]) -> Result<([u8; FIELD_NONCE_LEN], &[u8]), FormatError> {
    const WHAT: &str = "encrypted field";
    let min = 1 + FIELD_NONCE_LEN + FIELD_TAG_LEN;
    if bytes.len() < min {
        return Err(FormatError::TooShort {
            what: WHAT,
            len: bytes.len(),
            min,
        });
    }
    let (version, rest) = bytes.split_at(1);
    if version != [FIELD_FORMAT_VERSION] {
        return Err(FormatError::UnknownVersion {
            what: WHAT,
            version: version.first().copied().unwrap_or_default(),
        });
    }
    let (nonce_bytes, ct) = rest.split_at(FIELD_NONCE_LEN);
    let mut nonce = [0u8; FIELD_NONCE_LEN];
    nonce.copy_from_slice(nonce_bytes);
    Ok((nonce, ct))
}

/// HPKE single-shot seal (mode Base) to `recipient`; returns (encapped key, ciphertext+tag).
pub(crate) fn hpke_seal(
    recipient: &PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<([u8; ENCAPPED_LEN], Vec<u8>), SealError> {
    use hpke::Serializable as _;
    let (encapped, ct) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &hpke::OpModeS::Base,
        recipient.hpke_key(),
        info,
        plaintext,
        aad,
    )?;
    let mut enc = [0u8; ENCAPPED_LEN];
    enc.copy_from_slice(&encapped.to_bytes());
    Ok((enc, ct))
}

/// Layout of an HPKE blob: `version (1) | key id (8) | header (n) | encapped (32) | ct+tag`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HpkeLayout {
    pub what: &'static str,
    pub version: u8,
    /// Extra header bytes between the key id and the encapsulated key.
    pub header: usize,
    /// Smallest plaintext.
    pub min_plaintext: usize,
    /// Largest plaintext.
    pub max_plaintext: usize,
}

impl HpkeLayout {
    fn prefix(&self) -> usize {
        1 + KeyId::LEN + self.header
    }

    /// Assembles a blob.
    pub fn assemble(
        &self,
        key_id: KeyId,
        header: &[u8],
        encapped: &[u8; ENCAPPED_LEN],
        ct: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix() + ENCAPPED_LEN + ct.len());
        out.push(self.version);
        out.extend_from_slice(key_id.as_bytes());
        out.extend_from_slice(header);
        out.extend_from_slice(encapped);
        out.extend_from_slice(ct);
        out
    }

    /// Checks a blob's structure and returns its key id.
    pub fn check(&self, bytes: &[u8]) -> Result<KeyId, FormatError> {
        let min = self.prefix() + ENCAPPED_LEN + HPKE_TAG_LEN + self.min_plaintext;
        let max = self.prefix() + ENCAPPED_LEN + HPKE_TAG_LEN + self.max_plaintext;
        if bytes.len() < min {
            return Err(FormatError::TooShort {
                what: self.what,
                len: bytes.len(),
                min,
            });
        }
        if bytes.len() > max {
            return Err(FormatError::TooLong {
                what: self.what,
                len: bytes.len(),
                max,
            });
        }
        match bytes.first() {
            Some(v) if *v == self.version => {}
            v => {
                return Err(FormatError::UnknownVersion {
                    what: self.what,
                    version: v.copied().unwrap_or_default(),
                });
            }
        }
        KeyId::from_prefix(bytes.get(1..).unwrap_or_default())
            .ok_or(FormatError::Truncated { what: self.what })
    }

    /// The header bytes of a checked blob.
    pub fn header<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(1 + KeyId::LEN..self.prefix()).unwrap_or_default()
    }

    /// The encapsulated key of a checked blob.
    pub fn encapped<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes
            .get(self.prefix()..self.prefix() + ENCAPPED_LEN)
            .unwrap_or_default()
    }

    /// The HPKE ciphertext (with tag) of a checked blob.
    pub fn ciphertext<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes
            .get(self.prefix() + ENCAPPED_LEN..)
            .unwrap_or_default()
    }
}
