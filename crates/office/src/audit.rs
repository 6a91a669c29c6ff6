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
/// sign-in). A member of staff's event is screened by [`detection`] first: when it breaks a
/// rule, the event is written as denied, the alert raised, and the error returned — so the
/// caller, which returns data only after this succeeds, returns none.
pub(crate) async fn record(
    state: &OfficeState,
    staff: Option<&StaffSession>,
    actor_address: Option<String>,
    event: Event<'_>,
) -> Result<(), OfficeError> {
    let actor = staff.map_or_else(
        || "anonymous".to_owned(),
        |s| format!("staff:{}", s.staff_id),
    );
    let session = staff.map(|s| s.audit_id.clone());
    if let Some(staff) = staff
        && let Some(breach) = detection::screen(state, staff, &event).await?
    {
        let denied = Event {
            outcome: "denied",
            detail: Some(format!("detection:{}", breach.rule.name())),
            ..event
        };
        record_as(state, &actor, session, actor_address.clone(), denied).await?;
        return Err(detection::respond(state, staff, actor_address, breach).await);
    }
    record_as(state, &actor, session, actor_address, event).await
}

/// Writes `event` by `actor` (`staff:<id>`, `anonymous`, `system:<job>`) as it is.
pub(crate) async fn record_as(
    state: &OfficeState,
    actor: &str,
    session: Option<String>,
    actor_address: Option<String>,
    event: Event<'_>,
) -> Result<(), OfficeError> {
    let row = AuditEventRow {
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
    };
    state
        .store()
        .insert_audit_event(&row)
        .await
        .map(|_seq| ())
        .map_err(OfficeError::Audit)
}
