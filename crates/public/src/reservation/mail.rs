//! The e-mails of a visit booking: confirmation, change, cancellation and the reminder the day
//! before. Each is sealed to the mail worker's key before it is queued, carries the bank's
//! standing warning, and links only to the booking's own change/cancel page (which never asks
//! for a PIN or password).

use madoguchi_domain::OutgoingMail;
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::Slot;
use madoguchi_store::OutboxRow;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::format::visit_time;
use super::service::Refusal;
use crate::mail::{compose, seal};
use crate::state::PublicState;

/// Who a booking's e-mails go to; stored only encrypted under the booking link's key.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Contact {
    pub name: String,
    pub email: String,
}

fn sealed(state: &PublicState, mail: OutgoingMail) -> Result<OutboxRow, Refusal> {
    seal(state, &mail).map_err(Refusal::Failed)
}

fn visit_lines(
    state: &PublicState,
    center: &LoanCenter,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
) -> String {
    state
        .catalog()
        .mail("visit")
        .arg("time", visit_time(starts_at, ends_at, state.lang()))
        .arg("center", state.center_name(center))
        .arg("address", state.center_address(center))
        .to_string()
}

fn manage_lines(state: &PublicState, link: &str) -> String {
    let hours = state.profile.reservations().change_cutoff_hours();
    state
        .catalog()
        .mail("manage")
        .arg("hours", hours)
        .arg("link", link)
        .to_string()
}

/// One of the booking's e-mails (`key` names its texts in the catalogue).
fn booking_mail(
    state: &PublicState,
    key: &str,
    contact: &Contact,
    center: &LoanCenter,
    (starts_at, ends_at): (OffsetDateTime, OffsetDateTime),
    link: Option<&str>,
) -> Result<OutboxRow, Refusal> {
    let visit = visit_lines(state, center, starts_at, ends_at);
    let manage = link
        .map(|link| manage_lines(state, link))
        .unwrap_or_default();
    sealed(
        state,
        compose(
            state,
            &contact.email,
            key,
            &[
                ("name", &contact.name),
                ("center", state.center_name(center)),
                ("visit", &visit),
                ("manage", &manage),
            ],
        ),
    )
}

/// The confirmation of a new booking, with its change/cancel link.
pub fn booked(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
) -> Result<OutboxRow, Refusal> {
    let when = (slot.starts_at(), slot.ends_at());
    booking_mail(state, "booked", contact, center, when, Some(link))
}

/// The notice of a changed booking.
pub fn changed(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
) -> Result<OutboxRow, Refusal> {
    let when = (slot.starts_at(), slot.ends_at());
    booking_mail(state, "changed", contact, center, when, Some(link))
}

/// The notice of a cancelled booking.
pub fn cancelled(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
) -> Result<OutboxRow, Refusal> {
    booking_mail(
        state,
        "cancelled",
        contact,
        center,
        (starts_at, ends_at),
        None,
    )
}

/// The reminder sent the day before the visit (queued with the booking, due later, in the
/// language of the page the booking was made or last changed on).
pub fn reminder(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
) -> Result<OutboxRow, Refusal> {
    let when = (slot.starts_at(), slot.ends_at());
    booking_mail(state, "reminder", contact, center, when, Some(link))
}
