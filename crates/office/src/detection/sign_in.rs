//! Failed sign-ins over all accounts from one client address (password spraying): the
//! address's attempts are counted before each is checked (`crate::sign_in::attempt`, a
//! counter every instance shares); the failure that fills the hour's limit raises the alert,
//! once, and the address is refused until the hour is over.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::alert::{Culprit, raise};
use super::{Breach, Rule};
use crate::OfficeState;
use crate::error::OfficeError;

/// After the attempt that was the `count`-th of its address's hour failed: the one that
/// reaches the limit raises the alert.
pub(crate) async fn after_failure(
    state: &OfficeState,
    client: IpAddr,
    count: i64,
) -> Result<(), OfficeError> {
    let limit = state.profile().detection().failed_sign_ins_per_hour();
    if count != i64::from(limit) {
        return Ok(());
    }
    let breach = Breach {
        rule: Rule::FailedSignIns,
        count,
        limit,
        subject: None,
    };
    let address = client.to_string();
    let now = OffsetDateTime::now_utc();
    raise(state, &breach, &Culprit::Address, Some(&address), now).await
}
