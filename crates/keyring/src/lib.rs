//! madoguchi-keyring — the server's private keys: the back office's and the mail worker's.
//!
//! Its job: load the X25519 private keys that open what the public site wrote with
//! `madoguchi-seal` — per-record data keys wrapped to the back office ([`OfficeKeyring`],
//! [`RecordDecryptor`]) and outbox messages sealed to the mail worker ([`MailKeyring`]) — and
//! create the server's key files ([`init_keys`]).
//!
//! Invariants:
//! - Private key files (`madoguchi-x25519-private v1 <role> <base64>`) are refused when group
//!   or others may read them (unix `mode & 0o077 != 0`); the error names the file and the fix.
//! - Private keys and unwrapped data keys are zeroized on drop and never printed by `Debug`;
//!   decrypted plaintext is returned in `Zeroizing` buffers.
//! - Nothing here opens a secret sealed to the core-banking key: that key never lives on the
//!   server. [`init_keys`] writes the development core-banking private key only outside the
//!   data folder and never overwrites an existing key file.
//! - Every opening checks the key id first, then authenticates (HPKE / XChaCha20Poly1305 with
//!   the record id, field name or message id as associated data); malformed input is an error,
//!   never a panic.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! The back office's key may instead live in a PKCS#11 token (`token.rs`, the `cryptoki` crate;
//! SoftHSM2 in the tests). Tokens have ECDH on P-256, not X25519, so a token key is a P-256 key
//! pair generated inside the token (sensitive, never extractable) and data keys are wrapped to it
//! with ECDH-ES (wrap format v2, `madoguchi_seal::suite::p256_kek`): the token computes the one-time
//! shared secret, the key schedule and the data key's AEAD run here. `OfficeKeyring` holds file
//! keys and token keys by key id, and reloads from its `OfficeKeySource` when it meets an id it
//! does not hold — how a running back office picks up a rotated key. `rotation.rs` rotates
//! (`office.key` + `office.pub` current, earlier keys as `office.<id>.key` until retired; the
//! audit signing key with its earlier verifying keys kept — in the token too, as an Ed25519 key
//! that signs checkpoints through `madoguchi_audit::CheckpointSigner`), and refuses to retire a key
//! that still wraps a data key or that `office.pub` named less than ten minutes ago.
//! `blind_rotation.rs` rotates the blind-index key (the replaced key kept as
//! `blind-index.previous.key`) and retires it only when no stored index needs it and the rotation
//! is ten minutes old; the re-index itself is the back office's (`madoguchi_office::reindex`: it
//! opens each stale row's `email` field, nothing else, and swaps the index compare-and-set).

pub mod blind_rotation;
mod error;
mod init;
mod mail;
mod office;
mod private_key;
pub mod rotation;
pub mod token;

pub use error::OpenError;
pub use init::{InitError, KeyInitEntry, KeyInitOutcome, KeyInitReport, init_keys};
pub use mail::MailKeyring;
pub use office::{OfficeKey, OfficeKeyring, RecordDecryptor};
pub use private_key::PrivateKey;
pub use rotation::{
    AuditSignerError, OfficeKeyError, OfficeKeySource, Rotated, RotationError, load_audit_signer,
};
pub use token::{KeyProtection, Token, TokenAuditKey, TokenConfig, TokenError, TokenKey};
