//! Failed sign-ins over all accounts from one client address (password spraying): at the
//! profile's limit within an hour the alert is raised once, and the address is refused until
//! its failures fall out of the hour.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::alert::{Culprit, raise};
use super::{Breach, HOUR, Rule};
use crate::OfficeState;
use crate::error::OfficeError;

/// Whether sign-in from `client` is refused for now.
pub(crate) async fn refused(state: &OfficeState, client: IpAddr) -> Result<bool, OfficeError> {
    let limit = state.profile().detection().failed_sign_ins_per_hour();
    Ok(failures(state, client).await? >= i64::from(limit))
}

/// After a failed sign-in from `client` was audited: the failure that reaches the limit
/// raises the alert.
pub(crate) async fn after_failure(state: &OfficeState, client: IpAddr) -> Result<(), OfficeError> {
    let limit = state.profile().detection().failed_sign_ins_per_hour();
    let count = failures(state, client).await?;
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

async fn failures(state: &OfficeState, client: IpAddr) -> Result<i64, OfficeError> {
    let Some(key) = madoguchi_store::ip_key(&client.to_string()) else {
        return Ok(0);
    };
    let since = OffsetDateTime::now_utc() - HOUR;
    Ok(state.store().failed_sign_ins_from(key, since).await?)
}
