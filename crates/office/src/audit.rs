//! The one function through which the back office records what staff read and change.
//!
//! The rule: **write the event first, return the data after** — when the event cannot be
//! written (or detection refuses it), the data is not shown ([`record`] returns an error the
//! caller propagates). The store chains each event into the tamper-evident log.

use madoguchi_store::AuditEventRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::OfficeState;
use crate::detection;
use crate::error::OfficeError;
use crate::session::StaffSession;

/// What happened, to what, and which fields (names only).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// e.g. `application.reveal`, `document.open`, `application.status`, `staff.add`.
    pub action: &'a str,
    /// `application`, `booking`, `document`, `staff`, `batch`, ...
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<String>,
    /// The exact field names read or changed.
    pub fields: &'a [&'a str],
    /// The purpose chosen from the list (reveals and document views).
    pub purpose: Option<&'a str>,
    /// Counts or codes, never content.
    pub detail: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: &'a str,
}

/// Records `event` done by `staff` (or, without a session, by `anonymous`, as for a failed
/// sign-in). See [`record_all`].
pub(crate) async fn record(
    state: &OfficeState,
    staff: Option<&StaffSession>,
    actor_address: Option<String>,
    event: Event<'_>,
) -> Result<(), OfficeError> {
    record_all(state, staff, actor_address, vec![event]).await
}

/// Records the events of one request (an export's rows), all or none. A member of staff's
/// events are screened by [`detection`] **in the same step as they are written**: when they
/// break a rule, they are written as denied instead, the alert raised and the error returned
/// — so the caller, which returns data only after this succeeds, returns none.
pub(crate) async fn record_all(
    state: &OfficeState,
    staff: Option<&StaffSession>,
    actor_address: Option<String>,
    events: Vec<Event<'_>>,
) -> Result<(), OfficeError> {
    let actor = staff.map_or_else(
        || "anonymous".to_owned(),
        |s| format!("staff:{}", s.staff_id),
    );
    let session = staff.map(|s| s.audit_id.clone());
    let rows: Vec<AuditEventRow> = events
        .into_iter()
        .map(|event| row_of(&actor, session.clone(), actor_address.clone(), event))
        .collect();
    let Some(staff) = staff else {
        return append(state, &rows).await;
    };
    match detection::screen(state, staff, &rows).await? {
        Ok(()) => Ok(()),
        Err(breach) => Err(detection::respond(state, staff, actor_address, breach).await),
    }
}

/// Writes `event` by `actor` (`staff:<id>`, `anonymous`, `system:<job>`) as it is.
pub(crate) async fn record_as(
    state: &OfficeState,
    actor: &str,
    session: Option<String>,
    actor_address: Option<String>,
    event: Event<'_>,
) -> Result<(), OfficeError> {
    append(state, &[row_of(actor, session, actor_address, event)]).await
}

/// Appends rows as they are (no detection).
pub(crate) async fn append(state: &OfficeState, rows: &[AuditEventRow]) -> Result<(), OfficeError> {
    for row in rows {
        state
            .store()
            .insert_audit_event(row)
            .await
            .map_err(OfficeError::Audit)?;
    }
    Ok(())
}

/// The audit row of `event` by `actor`, stamped now.
pub(crate) fn row_of(
    actor: &str,
    session: Option<String>,
    actor_address: Option<String>,
    event: Event<'_>,
) -> AuditEventRow {
    AuditEventRow {
        id: Uuid::now_v7(),
        at: OffsetDateTime::now_utc(),
        actor: actor.to_owned(),
        actor_address,
        session,
        action: event.action.to_owned(),
        subject_kind: event.subject_kind.map(str::to_owned),
        subject_id: event.subject_id,
        fields: event.fields.join(","),
        purpose: event.purpose.map(str::to_owned),
        detail: event.detail,
        outcome: event.outcome.to_owned(),
    }
}
