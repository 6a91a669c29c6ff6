//! What the booking pages and the JSON API share: availability, booking, opening a booking by
//! its link, changing and cancelling it. Both front ends only translate to and from this.

use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::booking::{
    self, BookingDetails, field, may_change, parse_slot_start, reminder_due,
};
use madoguchi_domain::reservation::{BookingWindow, Slot, available_slots, check_slot};
use madoguchi_domain::{ErrorCode, FieldError, FieldErrors};
use madoguchi_seal::{BookingToken, EncryptedFields};
use madoguchi_store::{
    BookingChange, BookingRow, EncryptedRecord, NewBooking, SlotRef, StoreError,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::mail::{self, Contact};
use crate::error::PublicError;
use crate::state::PublicState;

/// A slot and how many of its places are still free.
#[derive(Debug, Clone)]
pub struct SlotAvailability {
    pub slot: Slot,
    pub free: u16,
}

/// Why a booking, a change or a cancellation was refused; each changes nothing.
#[derive(Debug)]
pub enum Refusal {
    /// Fields to correct, as (field, code).
    Fields(FieldErrors),
    /// Every place of the slot was taken meanwhile.
    SlotFull,
    /// The e-mail address already holds the most future bookings allowed.
    TooManyBookings,
    /// This form was already submitted.
    Duplicate,
    /// The link is not (or no longer) one of a booking.
    UnknownLink,
    /// The booking can no longer be changed or cancelled online (cut-off, cancelled, past).
    Closed,
    /// The booking was changed meanwhile (by another tab).
    Changed,
    /// Something else went wrong.
    Failed(PublicError),
}

impl From<PublicError> for Refusal {
    fn from(e: PublicError) -> Self {
        Refusal::Failed(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SlotFull => Refusal::SlotFull,
            StoreError::TooManyBookings => Refusal::TooManyBookings,
            StoreError::DuplicateRequest => Refusal::Duplicate,
            StoreError::BookingChanged => Refusal::Changed,
            other => Refusal::Failed(other.into()),
        }
    }
}

fn one_field(name: &'static str, code: ErrorCode) -> Refusal {
    let mut errors = FieldErrors::new();
    errors.push(FieldError::new(name, code));
    Refusal::Fields(errors)
}

/// The booking window at `now`.
pub fn window(state: &PublicState, now: OffsetDateTime) -> BookingWindow {
    BookingWindow::at(state.profile.reservations(), now)
}

/// The offered slots of `center` from `from` to `to` (JST dates), with their free places
/// (none in a slot the back office blocked).
pub async fn availability(
    state: &PublicState,
    center: &LoanCenter,
    from: Date,
    to: Date,
    now: OffsetDateTime,
) -> Result<Vec<SlotAvailability>, PublicError> {
    let slots = available_slots(
        center,
        state.profile.calendar(),
        window(state, now),
        from,
        to,
    );
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok(Vec::new());
    };
    let states = state
        .store
        .slot_states(center.id(), first.starts_at(), last.ends_at())
        .await?;
    Ok(slots
        .into_iter()
        .map(|slot| {
            let row = states.iter().find(|c| c.starts_at == slot.starts_at());
            // A slot the back office blocked is offered as full: the page and the API keep
            // their shape, and the booking itself is refused by the store anyway.
            let booked = match row {
                Some(row) if row.blocked => i64::from(slot.capacity()),
                Some(row) => row.booked,
                None => 0,
            };
            let free = i64::from(slot.capacity()).saturating_sub(booked).max(0);
            SlotAvailability {
                free: u16::try_from(free).unwrap_or(0),
                slot,
            }
        })
        .collect())
}

/// Checks a requested start against the centre's calendar and the window.
pub fn bookable_slot(
    state: &PublicState,
    center: &LoanCenter,
    requested: &str,
    now: OffsetDateTime,
) -> Result<Slot, Refusal> {
    let starts_at = parse_slot_start(requested).map_err(|code| one_field(field::SLOT, code))?;
    check_slot(
        center,
        state.profile.calendar(),
        window(state, now),
        now,
        starts_at,
    )
    .map_err(|refusal| one_field(field::SLOT, refusal.code()))
}

fn slot_ref(slot: &Slot) -> SlotRef {
    SlotRef {
        center_id: slot.center_id().to_owned(),
        starts_at: slot.starts_at(),
        ends_at: slot.ends_at(),
        capacity: i64::from(slot.capacity()),
    }
}

/// A booking made: what the confirmation page and the API answer show.
#[derive(Debug, Clone)]
pub struct Booked {
    pub slot: Slot,
    pub consultation: booking::Consultation,
}

/// Books `slot` for `details`. `nonce` is the form's one-time value (or the API client's
/// idempotency key): the same nonce never books twice.
pub async fn book(
    state: &PublicState,
    center: &LoanCenter,
    slot: Slot,
    details: &BookingDetails,
    nonce: &str,
    now: OffsetDateTime,
) -> Result<Booked, Refusal> {
    let id = Uuid::now_v7();
    let token = BookingToken::generate().map_err(internal)?;
    let contact = Contact {
        name: details.display_name(),
        email: details.email().to_string(),
    };
    let personal = encrypt_personal(state, &id, details)?;
    let lookup = state
        .crypto
        .blind_index
        .email_lookup(&details.email().normalized());
    let new = NewBooking {
        id,
        slot: slot_ref(&slot),
        consultation: details.consultation().as_str().to_owned(),
        manage_id: token.lookup_id().to_vec(),
        request_id: request_id(state, nonce),
        request_id_previous: previous_request_id(state, nonce),
        email_index: lookup.current.index.as_bytes().to_vec(),
        email_index_key: lookup.current.key_id.to_string(),
        email_index_previous: lookup.previous.map(|index| index.as_bytes().to_vec()),
        contact_sealed: seal_contact(&token, &id, &contact)?,
        personal_fields: personal.fields,
        data_key_id: personal.key_id,
        wrapped_data_key: personal.wrapped,
        max_future_per_email: i64::from(
            state.profile.reservations().max_future_bookings_per_email(),
        ),
        created_at: now,
    };
    let link = manage_link(state, &token);
    let confirmation = mail::booked(state, &contact, center, &slot, &link)?;
    let reminder = reminder(state, &contact, center, &slot, &link, id, now)?;
    state
        .store
        .book(&new, &confirmation, reminder.as_ref())
        .await?;
    tracing::info!(center = center.id(), "visit booked");
    Ok(Booked {
        slot,
        consultation: details.consultation(),
    })
}

/// Every personal field encrypted under a fresh data key, wrapped to the back office.
fn encrypt_personal(
    state: &PublicState,
    id: &Uuid,
    details: &BookingDetails,
) -> Result<EncryptedRecord, Refusal> {
    let envelope = state.crypto.envelopes.begin(id).map_err(internal)?;
    let mut fields = EncryptedFields::default();
    for (name, value) in details.personal_fields() {
        let value = Zeroizing::new(value);
        envelope
            .encrypt_into(&mut fields, name, value.as_bytes())
            .map_err(internal)?;
    }
    Ok(EncryptedRecord {
        fields: fields.to_bytes(),
        key_id: envelope.wrapped_key().key_id().to_string(),
        wrapped: envelope.wrapped_key().as_bytes().to_vec(),
    })
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::Failed(PublicError::Internal(format!("booking: {e}")))
}

fn seal_contact(token: &BookingToken, id: &Uuid, contact: &Contact) -> Result<Vec<u8>, Refusal> {
    let plain = Zeroizing::new(serde_json::to_vec(contact).map_err(internal)?);
    token
        .cipher()
        .encrypt(&plain, id.as_bytes())
        .map_err(internal)
}

/// The change/cancel link of the e-mails.
fn manage_link(state: &PublicState, token: &BookingToken) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "{}/reservations/manage/{}",
        state.public_url.trim_end_matches('/'),
        token.to_link_value().as_str()
    ))
}

fn reminder(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<madoguchi_store::OutboxRow>, Refusal> {
    let hour = state.profile.reservations().reminder_hour();
    let Some(due) = reminder_due(slot.starts_at(), hour, now) else {
        return Ok(None);
    };
    let mut row = mail::reminder(state, contact, center, slot, link)?;
    row.due_at = Some(due);
    row.reminder_for = Some(id);
    Ok(Some(row))
}

/// A booking opened by its link: the row, the token, and the contact for e-mails.
pub struct OpenBooking {
    pub row: BookingRow,
    token: BookingToken,
    contact: Contact,
}

impl OpenBooking {
    /// Whether it may still be changed or cancelled at `now`.
    pub fn changeable(&self, state: &PublicState, now: OffsetDateTime) -> bool {
        self.row.status == "booked"
            && may_change(
                self.row.starts_at,
                now,
                state.profile.reservations().change_cutoff(),
            )
    }
}

/// Opens the booking of a change/cancel link value.
pub async fn open(state: &PublicState, link_value: &str) -> Result<OpenBooking, Refusal> {
    let token = BookingToken::from_link_value(link_value).ok_or(Refusal::UnknownLink)?;
    let row = state
        .store
        .booking_by_manage_id(&token.lookup_id())
        .await?
        .ok_or(Refusal::UnknownLink)?;
    let sealed = row.contact_sealed.as_deref().ok_or(Refusal::UnknownLink)?;
    let plain = token
        .cipher()
        .decrypt(sealed, row.id.as_bytes())
        .map_err(|_| Refusal::UnknownLink)?;
    let contact: Contact = serde_json::from_slice(&plain).map_err(internal)?;
    Ok(OpenBooking {
        row,
        token,
        contact,
    })
}

/// Moves an opened booking to another slot of its centre.
pub async fn change(
    state: &PublicState,
    center: &LoanCenter,
    booking: &OpenBooking,
    requested: &str,
    now: OffsetDateTime,
) -> Result<Slot, Refusal> {
    if !booking.changeable(state, now) {
        return Err(Refusal::Closed);
    }
    let slot = bookable_slot(state, center, requested, now)?;
    if slot.starts_at() == booking.row.starts_at {
        return Err(one_field(field::SLOT, ErrorCode::SlotUnchanged));
    }
    let link = manage_link(state, &booking.token);
    let notice = mail::changed(state, &booking.contact, center, &slot, &link)?;
    let reminder = reminder(
        state,
        &booking.contact,
        center,
        &slot,
        &link,
        booking.row.id,
        now,
    )?;
    let change = BookingChange {
        id: booking.row.id,
        from_starts_at: booking.row.starts_at,
        to: slot_ref(&slot),
        at: now,
    };
    state
        .store
        .change_booking(&change, &notice, reminder.as_ref())
        .await?;
    tracing::info!(center = center.id(), "visit booking changed");
    Ok(slot)
}

/// Cancels an opened booking.
pub async fn cancel(
    state: &PublicState,
    center: &LoanCenter,
    booking: &OpenBooking,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    if !booking.changeable(state, now) {
        return Err(Refusal::Closed);
    }
    let notice = mail::cancelled(
        state,
        &booking.contact,
        center,
        booking.row.starts_at,
        booking.row.ends_at,
    )?;
    state
        .store
        .cancel_booking(booking.row.id, booking.row.starts_at, now, &notice)
        .await?;
    tracing::info!(center = center.id(), "visit booking cancelled");
    Ok(())
}

/// The stored form of a form's one-time nonce: a keyed hash, so that a nonce seen in a page
/// cannot be matched to its row without the server's key.
fn request_id(state: &PublicState, nonce: &str) -> Vec<u8> {
    state
        .crypto
        .blind_index
        .code_mac("booking-request", nonce.as_bytes(), "")
        .to_vec()
}

/// The same under the previous blind-index key, during a rotation.
fn previous_request_id(state: &PublicState, nonce: &str) -> Option<Vec<u8>> {
    state
        .crypto
        .blind_index
        .previous_code_mac("booking-request", nonce.as_bytes(), "")
        .map(|mac| mac.to_vec())
}
