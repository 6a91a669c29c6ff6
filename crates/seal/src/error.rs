//! Error types shared by the sealing operations and the stored-byte parsers.

/// A stored byte string does not have the structure of the format it claims.
///
/// Messages name the format and the problem, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Fewer bytes than the smallest valid value.
    #[error("{what}: {len} bytes is too short (at least {min} expected)")]
    TooShort {
        what: &'static str,
        len: usize,
        min: usize,
    },
    /// More bytes than the largest valid value.
    #[error("{what}: {len} bytes is too long (at most {max} expected)")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// A version byte this build does not know.
    #[error("{what}: unknown format version {version}")]
    UnknownVersion { what: &'static str, version: u8 },
    /// A secret-kind code this build does not know.
    #[error("sealed secret: unknown secret kind code {0}")]
    UnknownKind(u8),
    /// A length field points past the end of the input.
    #[error("{what}: truncated")]
    Truncated { what: &'static str },
    /// Bytes left over after the last entry.
    #[error("{what}: {extra} unexpected trailing bytes")]
    TrailingBytes { what: &'static str, extra: usize },
    /// A field name that is empty, too long or not printable ASCII.
    #[error("invalid field name (1 to 128 printable ASCII characters expected)")]
    InvalidFieldName,
    /// Field names must appear once each, in ascending order.
    #[error("encrypted fields: field names are duplicated or not in ascending order")]
    UnorderedFields,
    /// Too many entries for the format.
    #[error("{what}: too many entries (at most {max})")]
    TooManyEntries { what: &'static str, max: usize },
}

/// Sealing or encrypting failed. None of these carry plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Random,
    /// The HPKE library refused the operation (for example an invalid recipient public key).
    #[error("HPKE sealing failed: {0}")]
    Hpke(String),
    /// The AEAD refused the operation.
    #[error("authenticated encryption failed")]
    Aead,
    /// The plaintext is longer than the format allows.
    #[error("{what} is too long: at most {max} bytes")]
    TooLong { what: &'static str, max: usize },
    /// A field name that is empty, too long or not printable ASCII.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Key derivation failed.
    #[error("key derivation failed")]
    Kdf,
}

impl From<hpke::HpkeError> for SealError {
    fn from(e: hpke::HpkeError) -> Self {
        SealError::Hpke(e.to_string())
    }
}

impl From<getrandom::Error> for SealError {
    fn from(_: getrandom::Error) -> Self {
        SealError::Random
    }
}
