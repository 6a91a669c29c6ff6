//! What the server's HMAC keys (blind index, CSRF) share: 32 random bytes, zeroized on drop,
//! kept in a one-line key file of mode 0600.

/// Declares the key-file half of an HMAC key type `$name { key: Zeroizing<[u8; 32]> }`:
/// `generate`, `from_bytes`, `load`, `parse_file_text`, `to_file_text`, and a `Debug` that
/// shows no key material.
macro_rules! hmac_key_file {
    ($name:ident, $tag:expr) => {
        impl $name {
            /// A fresh random key.
            pub fn generate() -> Result<Self, $crate::error::SealError> {
                let mut key = zeroize::Zeroizing::new([0u8; 32]);
                getrandom::fill(&mut key[..])?;
                Ok($name { key })
            }

            /// A key from its bytes.
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                $name {
                    key: zeroize::Zeroizing::new(bytes),
                }
            }

            /// Loads the key file (refused if group or others can read it).
            pub fn load(path: &std::path::Path) -> Result<Self, $crate::keyfile::KeyFileError> {
                use $crate::keyfile::{KEYS_INIT_FIX, KeyFileError, read_key_file};
                let text = read_key_file(path, true, KEYS_INIT_FIX)?;
                Self::parse_file_text(&text)
                    .map_err(|problem| KeyFileError::invalid(path, problem, KEYS_INIT_FIX))
            }

            /// Parses the key file's text.
            pub fn parse_file_text(text: &str) -> Result<Self, $crate::keyfile::KeyParseError> {
                Ok($name {
                    key: $crate::keyfile::parse_symmetric_line(text, $tag)?,
                })
            }

            /// The key file's text.
            pub fn to_file_text(&self) -> zeroize::Zeroizing<String> {
                $crate::keyfile::format_symmetric_line($tag, &self.key)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}
pub(crate) use hmac_key_file;
