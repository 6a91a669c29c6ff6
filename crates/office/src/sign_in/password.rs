//! Staff password hashes: Argon2id, PHC strings.
//!
//! Parameters: m = 19 MiB (19,456 KiB), t = 2, p = 1 — the baseline of OWASP's Password
//! Storage Cheat Sheet for Argon2id (its other rows, e.g. m = 46 MiB with t = 1, are equal in
//! strength). One hash takes 18.7 ms on the 2-core build machine (`cargo bench -p
//! madoguchi-office --bench argon2`, release), so sign-ins stay instant and the unknown-user
//! path costs the same; every offline guess costs 19 MiB of memory, which is what slows GPUs.
//! RFC 9106's 64 MiB was not chosen: it would triple the memory of each concurrent sign-in
//! for passwords that are already 12+ characters and zxcvbn-checked. The PHC string carries
//! the parameters, so they can be raised at any time: a hash with other parameters is
//! replaced at the holder's next successful sign-in ([`Verified::needs_rehash`]).
//!
//! Hashing is slow on purpose, so it runs on tokio's blocking threads, never on the workers
//! that serve requests — and at most [`AT_ONCE`] at a time per process: each holds 19 MiB, so
//! a burst of parallel sign-ins must not become a burst of memory. The rest wait their turn
//! for up to [`WAIT_AT_MOST`], then get 503 with Retry-After ([`OfficeError::Busy`]).

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{Semaphore, SemaphorePermit};
use zeroize::Zeroizing;

use crate::error::OfficeError;

/// Argon2 computations at once per process (2 cores here: more would only queue on them).
pub const AT_ONCE: usize = 4;
/// How long a sign-in waits for its turn before it is answered 503.
pub const WAIT_AT_MOST: Duration = Duration::from_secs(10);

static TURNS: Semaphore = Semaphore::const_new(AT_ONCE);

/// A turn to compute one Argon2 hash, or [`OfficeError::Busy`] after [`WAIT_AT_MOST`].
async fn turn() -> Result<SemaphorePermit<'static>, OfficeError> {
    match tokio::time::timeout(WAIT_AT_MOST, TURNS.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) | Err(_) => Err(OfficeError::Busy),
    }
}

/// Memory in KiB.
pub const ARGON2_M_COST: u32 = 19_456;
/// Passes over the memory.
pub const ARGON2_T_COST: u32 = 2;
/// Lanes (one: the server's few cores serve other sign-ins meanwhile).
pub const ARGON2_P_COST: u32 = 1;

/// The parameters new hashes are made with.
pub fn current_params() -> Result<Params, OfficeError> {
    Params::new(ARGON2_M_COST, ARGON2_T_COST, ARGON2_P_COST, None)
        .map_err(|e| OfficeError::Internal(format!("Argon2 parameters: {e}")))
}

/// Hashes `password` with `params` and a fresh random salt.
pub fn hash_with(params: Params, password: &[u8]) -> Result<String, OfficeError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| OfficeError::Internal(format!("Argon2 hashing failed: {e}")))
}

/// Hashes `password` with these costs (for tests and benchmarks of other parameters).
pub fn hash_with_costs(
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    password: &[u8],
) -> Result<String, OfficeError> {
    let params = Params::new(m_cost, t_cost, p_cost, None)
        .map_err(|e| OfficeError::Internal(format!("Argon2 parameters: {e}")))?;
    hash_with(params, password)
}

/// Hashes `password` with the current parameters (blocking: call it from a blocking thread).
pub fn hash_password(password: &[u8]) -> Result<String, OfficeError> {
    hash_with(current_params()?, password)
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The hash was made with other parameters than `current`: store a new one.
    pub needs_rehash: bool,
}

/// Checks `password` against the PHC string `stored` (blocking).
pub fn verify(stored: &str, password: &[u8], current: &Params) -> Verified {
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verified {
            matches: false,
            needs_rehash: false,
        };
    };
    // The hash's own parameters are used for checking (`verify_password` reads them).
    let matches = Argon2::default().verify_password(password, &hash).is_ok();
    let same = hash.algorithm.as_str() == Algorithm::Argon2id.as_str()
        && hash.version == Some(Version::V0x13.into())
        && Params::try_from(&hash).is_ok_and(|p| {
            p.m_cost() == current.m_cost()
                && p.t_cost() == current.t_cost()
                && p.p_cost() == current.p_cost()
        });
    Verified {
        matches,
        needs_rehash: matches && !same,
    }
}

/// A hash of a password nobody has, made once with the current parameters: checking an
/// unknown username against it takes as long as checking a real one, so the answer's timing
/// does not tell which usernames exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(b"madoguchi: no such member of staff").unwrap_or_default())
}

/// Checks `password` against `stored` on a blocking thread; with `None` (unknown username,
/// disabled account) against the dummy hash, always answering no.
pub(crate) async fn verify_blocking(
    stored: Option<String>,
    password: Zeroizing<String>,
) -> Result<Verified, OfficeError> {
    let current = current_params()?;
    let _turn = turn().await?;
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(&stored, password.as_bytes(), &current),
        None => {
            let _ = verify(dummy_hash(), password.as_bytes(), &current);
            Verified {
                matches: false,
                needs_rehash: false,
            }
        }
    })
    .await
    .map_err(|e| OfficeError::Internal(format!("password check did not finish: {e}")))
}

/// Hashes `password` with the current parameters on a blocking thread.
pub(crate) async fn hash_blocking(password: Zeroizing<String>) -> Result<String, OfficeError> {
    let _turn = turn().await?;
    tokio::task::spawn_blocking(move || hash_password(password.as_bytes()))
        .await
        .map_err(|e| OfficeError::Internal(format!("password hashing did not finish: {e}")))?
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cheap(m: u32, t: u32) -> Params {
        Params::new(m, t, 1, None).unwrap()
    }

    #[test]
    fn a_hash_is_an_argon2id_phc_string_with_the_current_parameters() {
        let hash = hash_password(b"correct horse battery staple").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let current = current_params().unwrap();
        let ok = verify(&hash, b"correct horse battery staple", &current);
        assert_eq!(
            ok,
            Verified {
                matches: true,
                needs_rehash: false
            }
        );
        let wrong = verify(&hash, b"correct horse battery stapler", &current);
        assert!(!wrong.matches && !wrong.needs_rehash);
    }

    #[test]
    fn a_hash_with_other_parameters_is_renewed_after_a_right_password_only() {
        let old = hash_with(cheap(8, 1), b"passphrase of old").unwrap();
        let current = cheap(16, 2);
        assert_eq!(
            verify(&old, b"passphrase of old", &current),
            Verified {
                matches: true,
                needs_rehash: true
            }
        );
        // A wrong password says nothing about the hash.
        assert_eq!(
            verify(&old, b"another passphrase", &current),
            Verified {
                matches: false,
                needs_rehash: false
            }
        );
        let renewed = hash_with(current.clone(), b"passphrase of old").unwrap();
        assert!(renewed.contains("m=16,t=2,p=1"), "{renewed}");
        assert_eq!(
            verify(&renewed, b"passphrase of old", &current),
            Verified {
                matches: true,
                needs_rehash: false
            }
        );
    }

    #[test]
    fn argon2i_and_malformed_hashes_are_not_trusted_as_current() {
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, cheap(8, 1))
            .hash_password(b"pw-argon2i")
            .unwrap()
            .to_string();
        let current = cheap(8, 1);
        assert_eq!(
            verify(&argon2i, b"pw-argon2i", &current),
            Verified {
                matches: true,
                needs_rehash: true
            }
        );
        assert!(!verify("not a hash", b"x", &current).matches);
        assert!(!verify("", b"", &current).matches);
    }

    #[tokio::test]
    async fn unknown_usernames_are_checked_against_the_dummy_hash() {
        let answer = verify_blocking(None, Zeroizing::new("anything at all".to_owned()))
            .await
            .unwrap();
        assert!(!answer.matches);
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }
}
