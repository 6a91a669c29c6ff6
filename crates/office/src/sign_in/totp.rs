//! The second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of
//! clock difference either way), its seed kept encrypted, and its enrolment QR code.
//!
//! The seed is field [`SECRET_FIELD`] of record <staff id>, under a data key wrapped to the back
//! office's public key (`madoguchi_seal::EnvelopeWriter`), and opened only with the
//! `OfficeKeyring`: a copy of the database alone gives no second factor. A code is accepted
//! once: its time step must be later than the last one used (`Store::use_totp_step`), so
//! neither the same code nor an older one within the window works again.

use std::time::{SystemTime, UNIX_EPOCH};

use madoguchi_seal::WrappedKey;
use madoguchi_store::StaffTotpRow;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::OfficeState;
use crate::error::OfficeError;

/// The field name of the encrypted seed.
pub const SECRET_FIELD: &str = "totp_secret";
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;

/// A fresh random seed.
pub(crate) fn new_secret() -> Result<Zeroizing<Vec<u8>>, OfficeError> {
    let mut secret = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    getrandom::fill(&mut secret[..])
        .map_err(|e| OfficeError::Internal(format!("no randomness for a TOTP seed: {e}")))?;
    Ok(secret)
}

/// The generator of `secret` for `account` at `issuer` (the bank).
pub(crate) fn generator(secret: &[u8], account: &str, issuer: &str) -> Result<Totp, OfficeError> {
    // `:` separates issuer and account in the otpauth label; neither may hold one.
    let issuer = issuer.replace(':', " ");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account.replace(':', " "))
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| OfficeError::Internal(format!("TOTP settings: {e}")))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The time step whose code `typed` is (within one step of `now`), if any. Spaces are
/// ignored, so `123 456` works.
pub(crate) fn matching_step(totp: &Totp, typed: &str, now: u64) -> Option<i64> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    totp.check(&code, now)
        .and_then(|step| i64::try_from(step).ok())
}

/// The seed in base32, as typed into an authenticator app by hand.
pub(crate) fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// Encrypts a seed for `staff_id`: (ciphertext, key id, wrapped data key).
pub(crate) fn seal_secret(
    state: &OfficeState,
    staff_id: Uuid,
    secret: &[u8],
) -> Result<(Vec<u8>, String, Vec<u8>), OfficeError> {
    let record = state
        .inner
        .keys
        .envelope_writer()
        .begin(&staff_id)
        .map_err(|e| OfficeError::Internal(format!("cannot start the TOTP seed's record: {e}")))?;
    let ciphertext = record
        .encrypt_field(SECRET_FIELD, secret)
        .map_err(|e| OfficeError::Internal(format!("cannot encrypt the TOTP seed: {e}")))?;
    let wrapped = record.wrapped_key();
    Ok((
        ciphertext,
        wrapped.key_id().to_string(),
        wrapped.as_bytes().to_vec(),
    ))
}

/// Decrypts the seed of `staff_id` with the office keyring.
pub(crate) fn open_secret(
    state: &OfficeState,
    staff_id: Uuid,
    row: &StaffTotpRow,
) -> Result<Zeroizing<Vec<u8>>, OfficeError> {
    let wrapped = WrappedKey::from_stored(row.wrapped.clone()).map_err(|e| {
        OfficeError::Internal(format!("the TOTP seed's data key is malformed: {e}"))
    })?;
    let record = state.inner.keyring.open_record(&staff_id, &wrapped)?;
    Ok(record.decrypt_field(SECRET_FIELD, &row.totp_secret)?)
}

/// A QR code as rows of dark runs, drawn by the template as `<rect>` elements of an inline
/// `<svg>` (the CSP allows no `data:` image, and nothing is marked safe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QrCode {
    /// Modules per side, quiet zone included.
    pub size: usize,
    /// (x, y, length) of each horizontal run of dark modules.
    pub runs: Vec<(usize, usize, usize)>,
}

/// The QR code of `text` (the otpauth URL).
pub(crate) fn qr_code(text: &str) -> Result<QrCode, OfficeError> {
    const QUIET: usize = 4;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| OfficeError::Internal(format!("cannot draw the QR code: {e}")))?;
    let width = code.width();
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let mut runs = Vec::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if dark.get(y * width + x).copied().unwrap_or(false) {
                let start = x;
                while x < width && dark.get(y * width + x).copied().unwrap_or(false) {
                    x += 1;
                }
                runs.push((start + QUIET, y + QUIET, x - start));
            } else {
                x += 1;
            }
        }
    }
    Ok(QrCode {
        size: width + 2 * QUIET,
        runs,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector_and_the_window() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890": 94287082 at T=59 (8 digits),
        // so 287082 with 6.
        let totp = generator(b"12345678901234567890", "tanaka", "デモ銀行").unwrap();
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(matching_step(&totp, "287 082", 59 + 30), Some(1));
        assert_eq!(matching_step(&totp, "287082", 59 + 60), None);
        assert_eq!(matching_step(&totp, "28708", 59), None);
        assert_eq!(matching_step(&totp, "abcdef", 59), None);
    }

    #[test]
    fn the_otpauth_url_names_the_bank_and_the_account() {
        let totp = generator(b"12345678901234567890", "tanaka", "デモ銀行").unwrap();
        let url = totp.to_url().unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains("tanaka") && url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn a_qr_code_has_its_finder_patterns() {
        let qr = qr_code("otpauth://totp/x:y?secret=ABC").unwrap();
        assert!(qr.size >= 21 + 8);
        // The top-left finder pattern starts with a run of 7 dark modules inside the quiet zone.
        assert!(qr.runs.contains(&(4, 4, 7)));
    }
}
