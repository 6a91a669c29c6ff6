//! One-line key files and the names of the files in the server's keys folder.
//!
//! Formats (one line, fields separated by one space, an optional final newline):
//!
//! | file | line |
//! |---|---|
//! | `core-banking.pub`, `office.pub`, `mail.pub` | `madoguchi-x25519-public v1 <role> <base64 32 bytes>` |
//! | `office.key`, `mail.key`, the core-banking private key | `madoguchi-x25519-private v1 <role> <base64 32 bytes>` (mode 0600) |
//! | `blind-index.key`, `blind-index.previous.key` | `madoguchi-blind-index-key v1 <base64 32 bytes>` (mode 0600) |
//! | `csrf.key` | `madoguchi-csrf-key v1 <base64 32 bytes>` (mode 0600) |
//!
//! `<role>` is `core-banking`, `office` or `mail`; base64 is the standard alphabet with padding.
//! Secret files readable by group or others (`mode & 0o077 != 0`) are refused.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// First word of a public key file.
pub const PUBLIC_KEY_TAG: &str = "madoguchi-x25519-public";
/// First word of a private key file.
pub const PRIVATE_KEY_TAG: &str = "madoguchi-x25519-private";
/// First word of a P-256 public key file (a back-office key held in a PKCS#11 token).
pub const P256_PUBLIC_KEY_TAG: &str = "madoguchi-p256-public";
/// First word of the blind-index key file.
pub const BLIND_INDEX_KEY_TAG: &str = "madoguchi-blind-index-key";
/// First word of the CSRF key file.
pub const CSRF_KEY_TAG: &str = "madoguchi-csrf-key";
/// The only key file version this build reads and writes.
pub const FORMAT_VERSION: &str = "v1";

/// Core-banking public key, in the keys folder.
pub const CORE_BANKING_PUB: &str = "core-banking.pub";
/// Back-office public key, in the keys folder.
pub const OFFICE_PUB: &str = "office.pub";
/// Back-office private key, in the keys folder.
pub const OFFICE_KEY: &str = "office.key";
/// Mail worker public key, in the keys folder.
pub const MAIL_PUB: &str = "mail.pub";
/// Mail worker private key, in the keys folder.
pub const MAIL_KEY: &str = "mail.key";
/// Blind-index (HMAC) key, in the keys folder.
pub const BLIND_INDEX_KEY: &str = "blind-index.key";
/// The blind-index key a rotation replaced, kept until every stored index is recomputed.
pub const BLIND_INDEX_PREVIOUS_KEY: &str = "blind-index.previous.key";
/// CSRF (HMAC) key, in the keys folder.
pub const CSRF_KEY: &str = "csrf.key";

/// The fix suggested when a server key file is missing or broken.
pub const KEYS_INIT_FIX: &str = "run `madoguchi keys init`";

/// Key files are tiny; anything larger is not a key file.
const MAX_KEY_FILE_LEN: u64 = 4096;

/// Who a key pair belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// The bank's core-banking system: opens sealed secrets.
    CoreBanking,
    /// The back office: unwraps per-record data keys.
    Office,
    /// The mail delivery worker: opens sealed outbox messages.
    Mail,
}

impl KeyRole {
    /// The label used in key files.
    pub const fn label(self) -> &'static str {
        match self {
            KeyRole::CoreBanking => "core-banking",
            KeyRole::Office => "office",
            KeyRole::Mail => "mail",
        }
    }

    /// Parses a key-file label.
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "core-banking" => Some(KeyRole::CoreBanking),
            "office" => Some(KeyRole::Office),
            "mail" => Some(KeyRole::Mail),
            _ => None,
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The text of a key file is not what it should be. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The file holds more than one line.
    #[error("expected a single line")]
    MultipleLines,
    /// The first word is not the expected file type.
    #[error("expected a `{expected}` file, found `{found}`")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    /// The version word is not `v1`.
    #[error("unsupported key file version `{0}` (this build reads v1)")]
    UnsupportedVersion(String),
    /// The role word is unknown.
    #[error("unknown key role `{0}` (expected core-banking, office or mail)")]
    UnknownRole(String),
    /// The role word is valid but not the one this file must hold.
    #[error("this is a {found} key, but the {expected} key is needed here")]
    WrongRole { expected: KeyRole, found: KeyRole },
    /// A field is missing.
    #[error("the {0} is missing")]
    Missing(&'static str),
    /// More words than the format has.
    #[error("unexpected text after the key")]
    ExtraContent,
    /// The key is not valid base64 of the right length (32 bytes; 65 for P-256).
    #[error("the key is not base64 of the right length (32 bytes; a P-256 point 65)")]
    BadKey,
    /// The file is not UTF-8 text.
    #[error("the file is not text")]
    NotText,
    /// The path is a folder or something else that is not a regular file.
    #[error("not a regular file")]
    NotAFile,
    /// The file is too large to be a key file.
    #[error("the file is too large to be a key file")]
    TooLarge,
}

/// A key file cannot be used. The message names the file and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file does not exist.
    #[error("key file {path} is missing: {fix}")]
    Missing { path: PathBuf, fix: String },
    /// The file exists but cannot be read.
    #[error("key file {path} cannot be read ({source}): {fix}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        fix: String,
    },
    /// The file's content is not a valid key file.
    #[error("key file {path} is not valid: {problem}: {fix}")]
    Invalid {
        path: PathBuf,
        problem: KeyParseError,
        fix: String,
    },
    /// A secret key file is readable by group or others.
    #[error(
        "key file {path} is readable by group or others (mode {mode:o}); \
         restrict it with `chmod 600 {path}` and check who could have copied it"
    )]
    TooOpen { path: PathBuf, mode: u32 },
}

impl KeyFileError {
    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            KeyFileError::Missing { path, .. }
            | KeyFileError::Io { path, .. }
            | KeyFileError::Invalid { path, .. }
            | KeyFileError::TooOpen { path, .. } => path,
        }
    }

    /// Builds an [`KeyFileError::Invalid`].
    pub fn invalid(path: &Path, problem: KeyParseError, fix: &str) -> Self {
        KeyFileError::Invalid {
            path: path.to_path_buf(),
            problem,
            fix: fix.to_string(),
        }
    }
}

/// Reads a key file's text.
///
/// With `secret`, refuses (on unix) a file whose mode lets group or others read or write it.
/// The permission is checked on the opened file, so it is the file actually read.
pub fn read_key_file(
    path: &Path,
    secret: bool,
    fix: &str,
) -> Result<Zeroizing<String>, KeyFileError> {
    let io_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            KeyFileError::Missing {
                path: path.to_path_buf(),
                fix: fix.to_string(),
            }
        } else {
            KeyFileError::Io {
                path: path.to_path_buf(),
                source,
                fix: fix.to_string(),
            }
        }
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(KeyFileError::invalid(path, KeyParseError::NotAFile, fix));
    }
    if secret {
        check_secret_mode(path, &meta)?;
    }
    if meta.len() > MAX_KEY_FILE_LEN {
        return Err(KeyFileError::invalid(path, KeyParseError::TooLarge, fix));
    }
    let mut raw = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN as usize + 1));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut raw)
        .map_err(io_err)?;
    if raw.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(KeyFileError::invalid(path, KeyParseError::TooLarge, fix));
    }
    let text = std::str::from_utf8(&raw)
        .map_err(|_| KeyFileError::invalid(path, KeyParseError::NotText, fix))?;
    Ok(Zeroizing::new(text.to_string()))
}

#[cfg(unix)]
fn check_secret_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_secret_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    Ok(())
}

/// Splits a key file's single line into words.
fn words(text: &str) -> Result<Vec<&str>, KeyParseError> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains(['\n', '\r']) {
        return Err(KeyParseError::MultipleLines);
    }
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    if words.is_empty() {
        return Err(KeyParseError::Empty);
    }
    Ok(words)
}

/// Shows at most 40 characters of a word from a key file (never the key word itself).
fn shown(word: &str) -> String {
    word.chars().take(40).collect()
}

fn check_header(words: &[&str], tag: &'static str) -> Result<(), KeyParseError> {
    match words.first() {
        Some(first) if *first == tag => {}
        Some(first) => {
            return Err(KeyParseError::WrongType {
                expected: tag,
                found: shown(first),
            });
        }
        None => return Err(KeyParseError::Empty),
    }
    match words.get(1) {
        Some(v) if *v == FORMAT_VERSION => Ok(()),
        Some(v) => Err(KeyParseError::UnsupportedVersion(shown(v))),
        None => Err(KeyParseError::Missing("version")),
    }
}

fn decode_key(word: &str) -> Result<Zeroizing<[u8; 32]>, KeyParseError> {
    let mut key = Zeroizing::new([0u8; 32]);
    if word.len() != 44 {
        return Err(KeyParseError::BadKey);
    }
    match STANDARD.decode_slice(word.as_bytes(), &mut key[..]) {
        Ok(32) => Ok(key),
        _ => Err(KeyParseError::BadKey),
    }
}

fn encode_key(key: &[u8; 32], out: &mut String) {
    STANDARD.encode_string(key, out);
}

/// Parses `<tag> v1 <role> <base64>`.
pub fn parse_x25519_line(
    text: &str,
    tag: &'static str,
) -> Result<(KeyRole, Zeroizing<[u8; 32]>), KeyParseError> {
    let words = words(text)?;
    check_header(&words, tag)?;
    let role_word = words.get(2).ok_or(KeyParseError::Missing("role"))?;
    let role = KeyRole::from_label(role_word)
        .ok_or_else(|| KeyParseError::UnknownRole(shown(role_word)))?;
    let key_word = words.get(3).ok_or(KeyParseError::Missing("key"))?;
    if words.len() > 4 {
        return Err(KeyParseError::ExtraContent);
    }
    Ok((role, decode_key(key_word)?))
}

/// Parses `<tag> v1 <base64>`.
pub fn parse_symmetric_line(
    text: &str,
    tag: &'static str,
) -> Result<Zeroizing<[u8; 32]>, KeyParseError> {
    let words = words(text)?;
    check_header(&words, tag)?;
    let key_word = words.get(2).ok_or(KeyParseError::Missing("key"))?;
    if words.len() > 3 {
        return Err(KeyParseError::ExtraContent);
    }
    decode_key(key_word)
}

/// Formats `<tag> v1 <role> <base64>\n`.
pub fn format_x25519_line(tag: &str, role: KeyRole, key: &[u8; 32]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(128));
    out.push_str(tag);
    out.push(' ');
    out.push_str(FORMAT_VERSION);
    out.push(' ');
    out.push_str(role.label());
    out.push(' ');
    encode_key(key, &mut out);
    out.push('\n');
    out
}

/// Parses `madoguchi-p256-public v1 <role> <base64 of the 65-byte SEC1 uncompressed point>`.
pub fn parse_p256_line(text: &str) -> Result<(KeyRole, [u8; 65]), KeyParseError> {
    let words = words(text)?;
    check_header(&words, P256_PUBLIC_KEY_TAG)?;
    let role_word = words.get(2).ok_or(KeyParseError::Missing("role"))?;
    let role = KeyRole::from_label(role_word)
        .ok_or_else(|| KeyParseError::UnknownRole(shown(role_word)))?;
    let key_word = words.get(3).ok_or(KeyParseError::Missing("key"))?;
    if words.len() > 4 {
        return Err(KeyParseError::ExtraContent);
    }
    let mut point = [0u8; 65];
    match STANDARD.decode_slice(key_word.as_bytes(), &mut point[..]) {
        Ok(65) if key_word.len() == 88 => Ok((role, point)),
        _ => Err(KeyParseError::BadKey),
    }
}

/// Formats `madoguchi-p256-public v1 <role> <base64>\n`.
pub fn format_p256_line(role: KeyRole, point: &[u8; 65]) -> String {
    let mut out = format!("{P256_PUBLIC_KEY_TAG} {FORMAT_VERSION} {} ", role.label());
    STANDARD.encode_string(point, &mut out);
    out.push('\n');
    out
}

/// The first word of a key file's text, if any (to tell X25519 from P-256 public keys).
pub fn file_type(text: &str) -> Option<&str> {
    text.split_ascii_whitespace().next()
}

/// Formats `<tag> v1 <base64>\n`.
pub fn format_symmetric_line(tag: &str, key: &[u8; 32]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(128));
    out.push_str(tag);
    out.push(' ');
    out.push_str(FORMAT_VERSION);
    out.push(' ');
    encode_key(key, &mut out);
    out.push('\n');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn x25519_line_round_trip() {
        let key = [9u8; 32];
        let line = format_x25519_line(PUBLIC_KEY_TAG, KeyRole::Office, &key);
        assert!(line.starts_with("madoguchi-x25519-public v1 office "));
        let (role, parsed) = parse_x25519_line(&line, PUBLIC_KEY_TAG).unwrap();
        assert_eq!(role, KeyRole::Office);
        assert_eq!(*parsed, key);
        // CRLF and no newline are accepted too.
        let crlf = line.replace('\n', "\r\n");
        assert!(parse_x25519_line(&crlf, PUBLIC_KEY_TAG).is_ok());
        assert!(parse_x25519_line(line.trim_end(), PUBLIC_KEY_TAG).is_ok());
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let good = format_x25519_line(PUBLIC_KEY_TAG, KeyRole::Mail, &[1u8; 32]);
        let key_word = good.split(' ').nth(3).unwrap().trim_end().to_string();
        let cases: Vec<(String, KeyParseError)> = vec![
            (String::new(), KeyParseError::Empty),
            (
                format!("madoguchi-x25519-private v1 mail {key_word}"),
                KeyParseError::WrongType {
                    expected: PUBLIC_KEY_TAG,
                    found: PRIVATE_KEY_TAG.to_string(),
                },
            ),
            (
                format!("madoguchi-x25519-public v2 mail {key_word}"),
                KeyParseError::UnsupportedVersion("v2".into()),
            ),
            (
                format!("madoguchi-x25519-public v1 bank {key_word}"),
                KeyParseError::UnknownRole("bank".into()),
            ),
            (
                "madoguchi-x25519-public v1 mail".into(),
                KeyParseError::Missing("key"),
            ),
            (
                "madoguchi-x25519-public v1 mail AAAA".into(),
                KeyParseError::BadKey,
            ),
            (
                format!("madoguchi-x25519-public v1 mail {key_word} x"),
                KeyParseError::ExtraContent,
            ),
            (
                format!("madoguchi-x25519-public v1 mail {key_word}\nmore"),
                KeyParseError::MultipleLines,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_x25519_line(&text, PUBLIC_KEY_TAG),
                Err(want),
                "{text}"
            );
        }
    }

    #[test]
    fn symmetric_line_round_trip() {
        let line = format_symmetric_line(CSRF_KEY_TAG, &[3u8; 32]);
        assert_eq!(
            *parse_symmetric_line(&line, CSRF_KEY_TAG).unwrap(),
            [3u8; 32]
        );
        assert!(matches!(
            parse_symmetric_line(&line, BLIND_INDEX_KEY_TAG),
            Err(KeyParseError::WrongType { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn secret_file_with_open_mode_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("csrf.key");
        std::fs::write(
            &path,
            format_symmetric_line(CSRF_KEY_TAG, &[3u8; 32]).as_bytes(),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_key_file(&path, true, KEYS_INIT_FIX).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, KeyFileError::TooOpen { mode: 0o644, .. }));
        assert!(msg.contains("chmod 600"), "{msg}");
        assert!(msg.contains("csrf.key"), "{msg}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_key_file(&path, true, KEYS_INIT_FIX).is_ok());
    }

    #[test]
    fn missing_file_names_path_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.pub");
        let msg = read_key_file(&path, false, KEYS_INIT_FIX)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("office.pub") && msg.contains("madoguchi keys init"),
            "{msg}"
        );
    }
}
