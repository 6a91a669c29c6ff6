//! Opening errors. None carry plaintext or key material.

use madoguchi_seal::{FormatError, KeyId};

/// Opening a wrapped key, an encrypted field or a sealed message failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The data is for a key this keyring does not hold.
    #[error(
        "the data is sealed to key {wanted}, but this keyring holds {}: \
         load the key file holding {wanted}",
        list(.held)
    )]
    UnknownKey { wanted: KeyId, held: Vec<KeyId> },
    /// Wrong key, altered bytes, or data that belongs to another record, field or message.
    #[error(
        "authentication failed: the data was altered or belongs to another record, field or message"
    )]
    Authentication,
    /// The PKCS#11 token holding the key failed (unreachable, logged out, refused).
    #[error("the key token failed: {0}")]
    Token(String),
    /// The bytes do not have the expected structure.
    #[error(transparent)]
    Format(#[from] FormatError),
}

fn list(ids: &[KeyId]) -> String {
    if ids.is_empty() {
        return "no key".to_string();
    }
    ids.iter()
        .map(KeyId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
