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
