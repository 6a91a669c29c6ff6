//! One sign-in attempt — a password or a code about to be checked — **counted before it is
//! checked** (issue 16), so that parallel requests cannot all be checked against a count of
//! what has already failed:
//!
//! - per client address, over all accounts ([`Attempt::begin`]): a counter shared by every
//!   instance (`limit_counters`), at most the profile's `failed_sign_ins_per_hour` in an hour;
//!   the claim that reaches the limit and fails raises the alert;
//! - per account ([`Attempt::claim_account`]): at most [`MAX_FAILURES`] in a row; the failure
//!   that reaches it locks the account, for longer each time in a row ([`lock_for`]).
//!
//! A right answer gives its claims back ([`Attempt::succeeded`]); one that comes back after
//! the account was locked by the failures beside it is refused all the same.

use std::net::IpAddr;

use madoguchi_store::LimitClaim;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{LOCK_DURATION, MAX_FAILURES, MAX_LOCK_DURATION};
use crate::OfficeState;
use crate::detection;
use crate::error::OfficeError;

/// The name of the per-address counter.
const ADDRESS_LIMIT: &str = "sign-in-address";

/// How long the `n`-th lock-out in a row lasts: [`LOCK_DURATION`], doubled each time, at most
/// [`MAX_LOCK_DURATION`].
pub(crate) fn lock_for(n: i64) -> Duration {
    // The first (or a count that makes no sense) is not doubled; 2^16 × 15 min is past a day.
    let doublings = u32::try_from(n.max(1) - 1).unwrap_or(u32::MAX).min(16);
    (LOCK_DURATION * 2_i32.pow(doublings)).min(MAX_LOCK_DURATION)
}

/// An attempt in progress: what it claimed.
pub(crate) struct Attempt {
    client: Option<IpAddr>,
    /// The address's claim: its key, window and place in the window.
    address: Option<([u8; 16], OffsetDateTime, i64)>,
    account: Option<Uuid>,
}

impl Attempt {
    /// Claims an attempt from `client`; `None` when the address has failed too often this hour.
    pub(crate) async fn begin(
        state: &OfficeState,
        client: IpAddr,
    ) -> Result<Option<Attempt>, OfficeError> {
        let mut attempt = Attempt {
            client: Some(client),
            address: None,
            account: None,
        };
        let Some(key) = madoguchi_store::ip_key(&client.to_string()) else {
            return Ok(Some(attempt));
        };
        let limit = state.profile().detection().failed_sign_ins_per_hour();
        let now = OffsetDateTime::now_utc();
        let claim = state
            .store()
            .claim_limit(ADDRESS_LIMIT, &key, limit, Duration::HOUR, now)
            .await?;
        match claim {
            LimitClaim::Granted { count, window } => {
                attempt.address = Some((key, window, count));
                Ok(Some(attempt))
            }
            LimitClaim::Refused { .. } => Ok(None),
        }
    }

    /// An attempt of a member of staff already past the password (second factor, signing in
    /// again): counted against the account only.
    pub(crate) fn of_session() -> Attempt {
        Attempt {
            client: None,
            address: None,
            account: None,
        }
    }

    /// Claims the attempt against the account `staff_id`; `false` when the account is locked
    /// or has as many attempts in progress as failures allowed.
    pub(crate) async fn claim_account(
        &mut self,
        state: &OfficeState,
        staff_id: Uuid,
    ) -> Result<bool, OfficeError> {
        let now = OffsetDateTime::now_utc();
        let claimed = state
            .store()
            .claim_sign_in_attempt(staff_id, MAX_FAILURES, now)
            .await?;
        if claimed {
            self.account = Some(staff_id);
        }
        Ok(claimed)
    }

    /// The answer was right: the claims are given back. `false` when the account was locked
    /// meanwhile: the attempt is refused after all.
    pub(crate) async fn succeeded(self, state: &OfficeState) -> Result<bool, OfficeError> {
        let store = state.store();
        if let Some((key, window, _)) = &self.address {
            store.release_limit(ADDRESS_LIMIT, key, *window).await?;
        }
        match self.account {
            Some(id) => Ok(store
                .sign_in_attempt_succeeded(id, OffsetDateTime::now_utc())
                .await?),
            None => Ok(true),
        }
    }

    /// The answer could not be checked (too busy, an error): the account's claim is taken
    /// back without counting either way; the address's stays counted.
    pub(crate) async fn abandoned(self, state: &OfficeState) -> Result<(), OfficeError> {
        if let Some(id) = self.account {
            state.store().sign_in_attempt_abandoned(id).await?;
        }
        Ok(())
    }

    /// `checked`, or — when it failed — the attempt abandoned and the error returned.
    pub(crate) async fn unless_unchecked<T>(
        self,
        state: &OfficeState,
        checked: Result<T, OfficeError>,
    ) -> Result<(Attempt, T), OfficeError> {
        match checked {
            Ok(value) => Ok((self, value)),
            Err(e) => {
                self.abandoned(state).await?;
                Err(e)
            }
        }
    }

    /// The answer was wrong (or the attempt refused): the claims stay counted. Returns until
    /// when the account is locked, when this failure locked it.
    pub(crate) async fn failed(
        self,
        state: &OfficeState,
    ) -> Result<Option<OffsetDateTime>, OfficeError> {
        let now = OffsetDateTime::now_utc();
        let locked = match self.account {
            Some(id) => {
                state
                    .store()
                    .sign_in_attempt_failed(id, MAX_FAILURES, lock_for, now)
                    .await?
            }
            None => None,
        };
        if let (Some(client), Some((_, _, count))) = (self.client, self.address) {
            detection::sign_in::after_failure(state, client, count).await?;
        }
        Ok(locked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_outs_in_a_row_double_up_to_a_day() {
        assert_eq!(lock_for(1), Duration::minutes(15));
        assert_eq!(lock_for(2), Duration::minutes(30));
        assert_eq!(lock_for(3), Duration::hours(1));
        assert_eq!(lock_for(7), Duration::hours(16));
        assert_eq!(lock_for(8), Duration::hours(24));
        assert_eq!(lock_for(1_000), Duration::hours(24));
        assert_eq!(lock_for(0), Duration::minutes(15));
    }
}
