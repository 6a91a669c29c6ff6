//! Session tokens and their lifetimes.
//!
//! The cookie holds 256 random bits (base64url); the database holds only their SHA-256, so
//! neither a database copy nor the audit log (which gets a separate short id) lets anyone act
//! as the member of staff. A new token is issued when the password is accepted and again when
//! the session becomes fully signed in, so a token seen before sign-in is never upgraded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use time::Duration;
use zeroize::Zeroizing;

use crate::error::OfficeError;
use crate::session::Stage;

/// The cookie's base name (`__Host-mdg_staff` when Secure).
pub const COOKIE: &str = "mdg_staff";
/// A session unused this long ends: a desk left alone is not left signed in (the FFIEC and
/// PCI DSS 8.2.8 figure for administrative sessions is 15 minutes).
pub const IDLE_LIMIT: Duration = Duration::minutes(15);
/// A session ends this long after it began, used or not: about one working day.
pub const ABSOLUTE_LIMIT: Duration = Duration::hours(8);

/// A fresh token: (cookie value, session id = SHA-256 of the token's bytes).
pub(crate) fn new_token() -> Result<(Zeroizing<String>, [u8; 32]), OfficeError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..])
        .map_err(|e| OfficeError::Internal(format!("no randomness for a session: {e}")))?;
    let value = Zeroizing::new(URL_SAFE_NO_PAD.encode(&bytes[..]));
    Ok((value, Sha256::digest(&bytes[..]).into()))
}

/// The session id of a cookie value, or `None` when it is not a token of ours.
pub(crate) fn session_id(cookie: &str) -> Option<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    match URL_SAFE_NO_PAD.decode_slice(cookie.as_bytes(), &mut bytes[..]) {
        Ok(32) if cookie.len() == 43 => Some(Sha256::digest(&bytes[..]).into()),
        _ => None,
    }
}

/// The short, non-secret id of a session for the audit log: 8 hex digits of a hash of the
/// session id under its own label (not a prefix of the id itself).
pub(crate) fn audit_id(session_id: &[u8; 32]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"madoguchi/staff-session/audit-id\0");
    hash.update(session_id);
    hex::encode(&hash.finalize()[..4])
}

/// The stage as stored.
pub(crate) fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::SecondFactor => "second-factor",
        Stage::ChangePassword => "change-password",
        Stage::EnrollTotp => "enroll-totp",
        Stage::Active => "active",
    }
}

/// The stage of its stored name.
pub(crate) fn parse_stage(name: &str) -> Option<Stage> {
    [
        Stage::SecondFactor,
        Stage::ChangePassword,
        Stage::EnrollTotp,
        Stage::Active,
    ]
    .into_iter()
    .find(|s| stage_name(*s) == name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_session_and_nothing_else_does() {
        let (value, id) = new_token().unwrap();
        assert_eq!(value.len(), 43);
        assert_eq!(session_id(&value), Some(id));
        assert_eq!(session_id(""), None);
        assert_eq!(session_id("not-a-token"), None);
        assert_ne!(new_token().unwrap().1, id);
        assert_eq!(audit_id(&id).len(), 8);
        assert!(!hex::encode(id).starts_with(&audit_id(&id)));
    }

    #[test]
    fn stages_round_trip() {
        for stage in [
            Stage::SecondFactor,
            Stage::ChangePassword,
            Stage::EnrollTotp,
            Stage::Active,
        ] {
            assert_eq!(parse_stage(stage_name(stage)), Some(stage));
        }
        assert_eq!(parse_stage("admin"), None);
    }
}
