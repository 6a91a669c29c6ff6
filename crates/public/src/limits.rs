//! Per-client rate limits on the public actions that cost the bank something or guard a
//! secret: starting an e-mail check (it sends an e-mail), trying a code, submitting, booking a
//! visit (it holds a consultant's time and sends an e-mail).
//!
//! A client is its address; an IPv6 client is its /64, which one subscriber usually holds
//! whole. Many customers of one mobile carrier can share an IPv4 address, so the defaults are
//! generous; the per-check limit on code tries (in the store) is the strict one.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::PublicError;

/// Requests per minute and per client, for each limited action.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    pub email_checks_per_minute: NonZeroU32,
    pub code_tries_per_minute: NonZeroU32,
    pub submissions_per_minute: NonZeroU32,
    /// Visit bookings made, changed or cancelled.
    pub bookings_per_minute: NonZeroU32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            email_checks_per_minute: NonZeroU32::MIN.saturating_add(29),
            code_tries_per_minute: NonZeroU32::MIN.saturating_add(59),
            submissions_per_minute: NonZeroU32::MIN.saturating_add(29),
            bookings_per_minute: NonZeroU32::MIN.saturating_add(19),
        }
    }
}

/// What a client is limited in.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    EmailCheck,
    CodeTry,
    Submission,
    Booking,
}

pub struct RateLimits {
    email_checks: DefaultKeyedRateLimiter<IpAddr>,
    code_tries: DefaultKeyedRateLimiter<IpAddr>,
    submissions: DefaultKeyedRateLimiter<IpAddr>,
    bookings: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// Forget idle clients every so many checks, so that the tables stay small.
const RETAIN_EVERY: u64 = 4096;

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> RateLimits {
        RateLimits {
            email_checks: RateLimiter::keyed(Quota::per_minute(settings.email_checks_per_minute)),
            code_tries: RateLimiter::keyed(Quota::per_minute(settings.code_tries_per_minute)),
            submissions: RateLimiter::keyed(Quota::per_minute(settings.submissions_per_minute)),
            bookings: RateLimiter::keyed(Quota::per_minute(settings.bookings_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one `action` of `client`, or refuses it with the seconds to wait.
    pub fn check(&self, action: Action, client: IpAddr) -> Result<(), PublicError> {
        let limiter = match action {
            Action::EmailCheck => &self.email_checks,
            Action::CodeTry => &self.code_tries,
            Action::Submission => &self.submissions,
            Action::Booking => &self.bookings,
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            for limiter in [
                &self.email_checks,
                &self.code_tries,
                &self.submissions,
                &self.bookings,
            ] {
                limiter.retain_recent();
            }
        }
        limiter.check_key(&client_key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            PublicError::RateLimited {
                retry_after_seconds: wait.as_secs().max(1),
            }
        })
    }
}

/// The shared counter of code e-mails per recipient (issue 16: no e-mail bombing).
const CODE_MAILS: &str = "code-mail-recipient";

/// Counts one code e-mail to the address of blind index `index` — in the database, so every
/// instance shares the count — or refuses it once the hour's are sent. Claimed before the
/// e-mail is queued (and whether or not a status check's address matches anything, so the
/// answer tells nothing).
pub(crate) async fn claim_code_mail(
    state: &crate::state::PublicState,
    index: &[u8],
) -> Result<(), PublicError> {
    let limit = u32::from(
        state
            .profile
            .applications()
            .email_codes_per_address_per_hour(),
    );
    let now = time::OffsetDateTime::now_utc();
    let claim = state
        .store
        .claim_limit(CODE_MAILS, index, limit, time::Duration::HOUR, now)
        .await?;
    match claim {
        madoguchi_store::LimitClaim::Granted { .. } => Ok(()),
        madoguchi_store::LimitClaim::Refused { until } => Err(PublicError::RecipientLimited {
            retry_after_seconds: (until - now).whole_seconds().max(1).unsigned_abs(),
        }),
    }
}

/// The address that stands for one client.
pub(crate) fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight() -> RateLimits {
        let two = NonZeroU32::MIN.saturating_add(1);
        RateLimits::new(RateLimitSettings {
            email_checks_per_minute: two,
            code_tries_per_minute: two,
            submissions_per_minute: two,
            bookings_per_minute: two,
        })
    }

    #[test]
    fn a_client_is_refused_past_its_quota_and_told_when_to_come_back() {
        let limits = tight();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(limits.check(Action::EmailCheck, client).is_ok());
        assert!(limits.check(Action::EmailCheck, client).is_ok());
        match limits.check(Action::EmailCheck, client) {
            Err(PublicError::RateLimited {
                retry_after_seconds,
            }) => assert!((1..=60).contains(&retry_after_seconds)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(
            limits.check(Action::CodeTry, client).is_ok(),
            "each action has its own quota"
        );
        assert!(
            limits
                .check(Action::EmailCheck, "203.0.113.8".parse().unwrap())
                .is_ok(),
            "and each client"
        );
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let limits = tight();
        for address in ["2001:db8:1:2::1", "2001:db8:1:2::ffff"] {
            let _ = limits.check(Action::Submission, address.parse().unwrap());
        }
        assert!(
            limits
                .check(Action::Submission, "2001:db8:1:2:aaaa::1".parse().unwrap())
                .is_err()
        );
        assert!(
            limits
                .check(Action::Submission, "2001:db8:1:3::1".parse().unwrap())
                .is_ok()
        );
    }
}
