//! Blocking and freeing one slot of a centre. A blocked slot takes no new booking (the store
//! refuses it in the booking's own capacity statement); the bookings it holds stay, and the
//! week page lists them so that the consultant can contact them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::reservation::booking::{format_slot_start, parse_slot_start};
use madoguchi_domain::reservation::{JST, Slot, slots_on};
use madoguchi_store::SlotRef;
use time::OffsetDateTime;

use super::week_path;
use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession};

/// Block or free.
#[derive(Clone, Copy)]
enum Change {
    Block,
    Free,
}

impl Change {
    fn action(self) -> &'static str {
        match self {
            Change::Block => "slot.block",
            Change::Free => "slot.free",
        }
    }
}

/// `POST /reservations/{center}/block` with `starts_at`.
pub(crate) async fn block(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Path(center_id): Path<String>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    apply(&state, &staff, &center_id, &body, Change::Block).await
}

/// `POST /reservations/{center}/free` with `starts_at`.
pub(crate) async fn free(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Path(center_id): Path<String>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    apply(&state, &staff, &center_id, &body, Change::Free).await
}

async fn apply(
    state: &OfficeState,
    staff: &StaffSession,
    center_id: &str,
    body: &[u8],
    change: Change,
) -> Result<Response, OfficeError> {
    let Some(center) = super::center(state, center_id) else {
        return Ok(super::not_found());
    };
    let now = OffsetDateTime::now_utc();
    let asked = form_urlencoded::parse(body)
        .find(|(k, _)| k == "starts_at")
        .and_then(|(_, v)| parse_slot_start(&v).ok());
    let back = week_path(center.id(), asked.unwrap_or(now));
    // Only a slot of the centre's hours that has not started: a past slot takes no booking
    // anyway, and a made-up time would leave a row no page shows.
    let slot: Option<Slot> = asked.and_then(|at| {
        slots_on(center, state.profile().calendar(), at.to_offset(JST).date())
            .into_iter()
            .find(|s| s.starts_at() == at)
    });
    let Some(slot) = slot.filter(|s| s.starts_at() > now) else {
        return Ok(super::message(
            state,
            staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            "この時間枠は受付停止・再開できません（開始済み、または営業時間外です）。",
            back,
        ));
    };
    let event = |outcome: &'static str| Event {
        action: change.action(),
        subject_kind: Some("slot"),
        subject_id: Some(format!(
            "{}/{}",
            center.id(),
            format_slot_start(slot.starts_at())
        )),
        fields: &["blocked"],
        purpose: None,
        detail: None,
        outcome,
    };
    // Recorded before the change, so that no change is ever unaudited.
    audit::record(state, Some(staff), None, event("ok")).await?;
    let result = match change {
        Change::Block => {
            state
                .store()
                .block_slot(&SlotRef {
                    center_id: center.id().to_owned(),
                    starts_at: slot.starts_at(),
                    ends_at: slot.ends_at(),
                    capacity: i64::from(slot.capacity()),
                })
                .await
        }
        Change::Free => state.store().free_slot(center.id(), slot.starts_at()).await,
    };
    if let Err(e) = result {
        if let Err(audit_error) = audit::record(state, Some(staff), None, event("failed")).await {
            tracing::error!(error = %audit_error, "the failed slot change could not be audited");
        }
        return Err(e.into());
    }
    tracing::info!(
        center = center.id(),
        action = change.action(),
        "slot changed"
    );
    Ok(Redirect::to(&back).into_response())
}
