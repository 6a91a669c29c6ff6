//! Detection (SPEC §7): before an audit event of a member of staff is written, their recent
//! activity (counted from the audit log, so that every instance sees the same) is held
//! against the profile's limits, and the subject against the canary records. A breach is
//! answered at once ([`respond`]): the read is refused and audited as denied, the member of
//! staff is held (every session ended, sign-in refused until an administrator resets the
//! account), and an alert goes out — an audit event, an e-mail to the security contact
//! through the outbox, a metric and a log line.
//!
//! Failed sign-ins are counted per client address instead ([`sign_in`]): the address is
//! refused for the rest of the hour and the alert raised once.

mod alert;
pub(crate) mod sign_in;

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::OfficeState;
use crate::audit::Event;
use crate::error::OfficeError;
use crate::session::StaffSession;

pub(crate) use alert::respond;

/// The rules, by the names the audit log, the e-mail and the metric use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Too many distinct customers read within an hour.
    CustomersRead,
    /// Too many reveals outside business hours within an hour.
    OffHoursReveals,
    /// Too many application rows exported within a day.
    ExportedRows,
    /// Too many failed sign-ins from one address within an hour.
    FailedSignIns,
    /// A canary record was touched.
    Canary,
}

impl Rule {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Rule::CustomersRead => "customers-read",
            Rule::OffHoursReveals => "off-hours-reveals",
            Rule::ExportedRows => "exported-rows",
            Rule::FailedSignIns => "failed-sign-ins",
            Rule::Canary => "canary",
        }
    }

    /// A canary is touched only by someone who should not be there.
    pub(crate) fn severity(self) -> &'static str {
        match self {
            Rule::Canary => "critical",
            _ => "high",
        }
    }

    pub(crate) fn label_ja(self) -> &'static str {
        match self {
            Rule::CustomersRead => "1時間あたりの閲覧顧客数の上限超過",
            Rule::OffHoursReveals => "業務時間外の個人情報表示の上限超過",
            Rule::ExportedRows => "1日あたりのCSV出力件数の上限超過",
            Rule::FailedSignIns => "同一アドレスからのサインイン失敗の上限超過",
            Rule::Canary => "カナリアレコード（おとりの申込・予約）へのアクセス",
        }
    }
}

/// A rule broken: by how much, and on what.
#[derive(Debug, Clone)]
pub(crate) struct Breach {
    pub rule: Rule,
    /// The count including the refused request (1 for a canary).
    pub count: i64,
    /// The profile's limit (0 for a canary).
    pub limit: u32,
    /// The subject that tripped it (`application:<id>`), for canaries.
    pub subject: Option<String>,
}

const HOUR: Duration = Duration::hours(1);
const DAY: Duration = Duration::days(1);

/// Holds `event` (about to be written for `staff`) against the rules; `Some` when it must
/// be refused. Events that did not happen (denied, failed) are not screened.
pub(crate) async fn screen(
    state: &OfficeState,
    staff: &StaffSession,
    event: &Event<'_>,
) -> Result<Option<Breach>, OfficeError> {
    if event.outcome != "ok" {
        return Ok(None);
    }
    let Some(customer) = customer_of(event) else {
        return Ok(None);
    };
    if let Some(breach) = canary(state, &customer).await? {
        return Ok(Some(breach));
    }
    let reads_personal_data = !event.fields.is_empty() && event.action != "application.export";
    if !reads_personal_data {
        return Ok(None);
    }
    let actor = actor(staff);
    let now = OffsetDateTime::now_utc();
    let rules = state.profile().detection();
    let (read, seen) = state
        .store()
        .customers_read_since(&actor, now - HOUR, &customer.1)
        .await?;
    let count = read + i64::from(!seen);
    if count > i64::from(rules.customers_read_per_hour()) {
        return Ok(Some(breach(
            Rule::CustomersRead,
            count,
            rules.customers_read_per_hour(),
        )));
    }
    let calendar = state.profile().calendar();
    if !rules.is_business_hours(now, calendar) {
        let earlier = state.store().customer_reads_at(&actor, now - HOUR).await?;
        let off_hours = earlier
            .iter()
            .filter(|at| !rules.is_business_hours(**at, calendar))
            .count();
        let count = i64::try_from(off_hours)
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        if count > i64::from(rules.off_hours_reveals_per_hour()) {
            let limit = rules.off_hours_reveals_per_hour();
            return Ok(Some(breach(Rule::OffHoursReveals, count, limit)));
        }
    }
    Ok(None)
}

/// Holds a CSV export of `applications` by `staff` against the rules, before any row is
/// read: a canary among them, or more rows than the day's limit, refuses the whole export.
pub(crate) async fn screen_export(
    state: &OfficeState,
    staff: &StaffSession,
    applications: &[Uuid],
) -> Result<Option<Breach>, OfficeError> {
    for id in applications {
        if let Some(breach) = canary(state, &("application", id.to_string())).await? {
            return Ok(Some(breach));
        }
    }
    let now = OffsetDateTime::now_utc();
    let limit = state.profile().detection().exported_rows_per_day();
    let earlier = state
        .store()
        .exported_rows_since(&actor(staff), now - DAY)
        .await?;
    let count = earlier.saturating_add(i64::try_from(applications.len()).unwrap_or(i64::MAX));
    Ok((count > i64::from(limit)).then(|| breach(Rule::ExportedRows, count, limit)))
}

/// A page that shows a record without personal data (an application's or a booking's page)
/// still trips a canary: whoever opens one is browsing where no work leads.
pub(crate) async fn tripwire(
    state: &OfficeState,
    staff: &StaffSession,
    client: IpAddr,
    kind: &'static str,
    id: Uuid,
) -> Result<(), OfficeError> {
    let Some(breach) = canary(state, &(kind, id.to_string())).await? else {
        return Ok(());
    };
    let action = if kind == "booking" {
        "booking.view"
    } else {
        "application.view"
    };
    let event = Event {
        action,
        subject_kind: Some(kind),
        subject_id: Some(id.to_string()),
        fields: &[],
        purpose: None,
        detail: Some(format!("detection:{}", breach.rule.name())),
        outcome: "denied",
    };
    crate::audit::record(state, Some(staff), Some(client.to_string()), event).await?;
    Err(respond(state, staff, Some(client.to_string()), breach).await)
}

fn breach(rule: Rule, count: i64, limit: u32) -> Breach {
    Breach {
        rule,
        count,
        limit,
        subject: None,
    }
}

/// The application or booking an event is about (a document counts as its application).
fn customer_of(event: &Event<'_>) -> Option<(&'static str, String)> {
    match event.subject_kind? {
        "application" => Some(("application", event.subject_id.clone()?)),
        "booking" => Some(("booking", event.subject_id.clone()?)),
        "document" => {
            let application = event.detail.as_deref()?.strip_prefix("application:")?;
            Some(("application", application.to_owned()))
        }
        _ => None,
    }
}

async fn canary(
    state: &OfficeState,
    (kind, id): &(&'static str, String),
) -> Result<Option<Breach>, OfficeError> {
    if !state.store().is_canary(kind, id).await? {
        return Ok(None);
    }
    Ok(Some(Breach {
        rule: Rule::Canary,
        count: 1,
        limit: 0,
        subject: Some(format!("{kind}:{id}")),
    }))
}

/// The actor column of a member of staff's events.
fn actor(staff: &StaffSession) -> String {
    format!("staff:{}", staff.staff_id)
}
