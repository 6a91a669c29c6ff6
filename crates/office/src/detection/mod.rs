//! Detection (SPEC §7): as an audit event of a member of staff is written, their recent
//! activity (counted from the audit log under its lock, so that every instance sees the same
//! and parallel requests are counted one after another) is held against the profile's limits, and the subject against the canary records. A breach is
//! answered at once ([`respond`]): the read is refused and audited as denied, the member of
//! staff is held (every session ended, sign-in refused until an administrator resets the
//! account), and an alert goes out — an audit event, an e-mail to the security contact
//! through the outbox, a metric and a log line.
//!
//! Failed sign-ins are counted per client address instead ([`sign_in`]): the address is
//! refused for the rest of the hour and the alert raised once.

mod alert;
pub mod command;
pub(crate) mod sign_in;

use std::net::IpAddr;

use madoguchi_domain::HolidayCalendar;
use madoguchi_domain::profile::Detection;
use madoguchi_store::{ActorTally, AuditEventRow, TallyWindows};
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

/// Writes a member of staff's `rows` (the events of one request), screened against the
/// rules: `Err` with the breach when they must be refused — then they are written as denied.
/// Events that did not happen (denied, failed) are not counted.
///
/// The counts and the append are one step ([`madoguchi_store::Store::append_audit_screened`]):
/// parallel requests of one member of staff, on any instance, cannot all pass a check that
/// counts only what is already written.
pub(crate) async fn screen(
    state: &OfficeState,
    staff: &StaffSession,
    rows: &[AuditEventRow],
) -> Result<Result<(), Breach>, OfficeError> {
    // A canary is refused whatever the counts say.
    for customer in rows
        .iter()
        .filter(|r| r.outcome == "ok")
        .filter_map(customer_of)
    {
        if let Some(breach) = canary(state, &customer).await? {
            let denied: Vec<_> = rows.iter().map(|r| denied(r, &breach)).collect();
            crate::audit::append(state, &denied).await?;
            return Ok(Err(breach));
        }
    }
    let reads = rows.iter().any(reads_personal_data);
    let exports = rows.iter().any(is_export);
    if !reads && !exports {
        crate::audit::append(state, rows).await?;
        return Ok(Ok(()));
    }
    let now = OffsetDateTime::now_utc();
    let windows = TallyWindows {
        actor: actor(staff),
        reads_since: now - HOUR,
        exports_since: now - DAY,
    };
    let profile = state.profile();
    let judge = |tally: &ActorTally| {
        let rules = profile.detection();
        let calendar = profile.calendar();
        let breached = reads.then(|| over_read_limits(rules, calendar, now, tally));
        let exported = exports.then(|| over_export_limit(rules, tally));
        breached.flatten().or(exported.flatten())
    };
    state
        .store()
        .append_audit_screened(rows, &windows, judge, denied)
        .await
        .map_err(OfficeError::Audit)
}

/// The rules on reading customers: how many within the hour, and how many outside business
/// hours. `tally` includes the reads being screened.
fn over_read_limits(
    rules: &Detection,
    calendar: &HolidayCalendar,
    now: OffsetDateTime,
    tally: &ActorTally,
) -> Option<Breach> {
    let limit = rules.customers_read_per_hour();
    if tally.customers_read > i64::from(limit) {
        return Some(breach(Rule::CustomersRead, tally.customers_read, limit));
    }
    if rules.is_business_hours(now, calendar) {
        return None;
    }
    let off_hours = tally
        .reads_at
        .iter()
        .filter(|at| !rules.is_business_hours(**at, calendar))
        .count();
    let count = i64::try_from(off_hours).unwrap_or(i64::MAX);
    let limit = rules.off_hours_reveals_per_hour();
    (count > i64::from(limit)).then(|| breach(Rule::OffHoursReveals, count, limit))
}

/// The rule on exported rows within a day (`tally` includes the rows being exported).
fn over_export_limit(rules: &Detection, tally: &ActorTally) -> Option<Breach> {
    let limit = rules.exported_rows_per_day();
    (tally.exported_rows > i64::from(limit))
        .then(|| breach(Rule::ExportedRows, tally.exported_rows, limit))
}

/// What a refused event is written as.
fn denied(row: &AuditEventRow, breach: &Breach) -> AuditEventRow {
    AuditEventRow {
        id: Uuid::now_v7(),
        outcome: "denied".to_owned(),
        detail: Some(format!("detection:{}", breach.rule.name())),
        ..row.clone()
    }
}

fn reads_personal_data(row: &AuditEventRow) -> bool {
    row.outcome == "ok"
        && !row.fields.is_empty()
        && row.action != "application.export"
        && customer_of(row).is_some()
}

fn is_export(row: &AuditEventRow) -> bool {
    row.outcome == "ok" && row.action == "application.export"
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
fn customer_of(row: &AuditEventRow) -> Option<(&'static str, String)> {
    match row.subject_kind.as_deref()? {
        "application" => Some(("application", row.subject_id.clone()?)),
        "booking" => Some(("booking", row.subject_id.clone()?)),
        "document" => {
            let application = row.detail.as_deref()?.strip_prefix("application:")?;
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
