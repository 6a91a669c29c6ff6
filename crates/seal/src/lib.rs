//! madoguchi-seal — the write-only half of madoguchi's cryptography, used by the public site.
//!
//! Its job: turn what an applicant types into bytes the public process can store but never read
//! back.
//!
//! - Secrets (cash-card PIN, logon password, debit-card PIN) are sealed with HPKE (RFC 9180,
//!   DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + ChaCha20Poly1305, mode Base) to the core-banking
//!   public key ([`SecretSealer`]). Only `madoguchi-core-open` can open them.
//! - Personal fields are encrypted with XChaCha20Poly1305 under a fresh per-record data key
//!   (DEK) that is wrapped with HPKE to the back office's public key ([`EnvelopeWriter`]).
//! - Outbox e-mails are sealed with HPKE to the mail worker's public key ([`MailSealer`]).
//! - Keyed blind indexes and code MACs ([`BlindIndexKey`]), CSRF tokens ([`CsrfKey`]) and
//!   browser-keyed drafts ([`DraftSecret`], [`DraftCipher`]) complete the public process's kit.
//!
//! Invariants:
//! - This crate holds **no private key and no code that opens** a sealed secret, a wrapped data
//!   key or a sealed message. The only decryption here is of drafts, whose key comes from the
//!   applicant's own cookie.
//! - Every stored byte format starts with a version byte; every HPKE output carries the
//!   [`KeyId`] of the key it is for, so keys can rotate.
//! - Parsers of stored bytes (`from_stored`, `from_bytes`, file parsers) never panic on any
//!   input: they return errors.
//! - Symmetric keys and DEKs are zeroized on drop; `Debug` never prints key material or
//!   plaintext.
//! - Randomness comes from the operating system (`getrandom`). HPKE encapsulation uses
//!   `getrandom::SysRng` through hpke's own API, which panics only if the OS RNG fails.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! `EnvelopeWriter` wraps to the `office.pub` it follows (re-read every 10 s, so a key rotation
//! reaches a running public site) — HPKE/X25519 for a key file (wrap v1), ECDH-ES/P-256 for a
//! key in a token (wrap v2). `BlindIndexKeys` follows `blind-index.key` and, during a rotation,
//! `blind-index.previous.key` the same way: indexes and code MACs are written with the current
//! key and looked up by both (`EmailLookup::candidates`); each index is stored with its key's id
//! (an HMAC of a label, which reveals nothing of the key).

mod blind;
mod blind_keys;
mod csrf;
mod draft;
mod envelope;
mod error;
mod hmac_key;
mod key_id;
pub mod keyfile;
mod keyset;
mod mail;
mod office_key;
mod public_key;
mod secret;
pub mod suite;

pub use blind::{BlindIndex, BlindIndexKey};
pub use blind_keys::{BLIND_INDEX_REFRESH, BlindIndexKeys, EmailIndex, EmailLookup};
pub use csrf::CsrfKey;
pub use draft::{BookingToken, DraftCipher, DraftError, DraftSecret};
pub use envelope::{EncryptedFields, EnvelopeWriter, RecordEncryptor, WrapScheme, WrappedKey};
pub use error::{FormatError, SealError};
pub use key_id::{KeyId, KeyIdParseError};
pub use keyfile::{KeyFileError, KeyParseError, KeyRole};
pub use keyset::PublicKeySet;
pub use mail::{MailSealer, SealedMessage};
pub use office_key::{OfficePublicKey, P256PublicKey};
pub use public_key::PublicKey;
pub use secret::{Sealable, SealedSecret, SecretKind, SecretSealer};
