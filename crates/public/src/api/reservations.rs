//! The visit reservation service as JSON: centres, slots, booking, and the booking link's
//! look-up, change and cancellation (the token comes from the e-mail, never from the API).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::booking::{BookingDetails, field};
use madoguchi_domain::reservation::{JST, Slot};
use madoguchi_domain::{ErrorCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Weekday};
use utoipa::{IntoParams, ToSchema};

use super::body::JsonFields;
use super::error::{ApiError, Problem};
use crate::limits::Action;
use crate::reservation::service::{self, OpenBooking, Refusal};
use crate::state::PublicState;

/// Longest range of days one slots request may cover.
const MAX_RANGE_DAYS: i64 = 62;

/// A loan centre.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoanCenterJson {
    /// Stable identifier used in the other requests.
    pub id: String,
    /// Name, in English for `Accept-Language: en` when the bank gives one, else in Japanese.
    pub name: String,
    /// Address, in the same language as `name`.
    pub address: String,
    /// Length of one consultation slot.
    pub slot_minutes: u16,
    /// Places per slot (consultants available).
    pub places_per_slot: u16,
    /// Weekly opening hours, Monday first; `null` hours mean closed that weekday.
    pub hours: Vec<DayHoursJson>,
}

/// Opening hours on one weekday, Japan time.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayHoursJson {
    /// `monday` … `sunday`.
    pub weekday: String,
    /// `HH:MM`, or null when closed.
    pub opens: Option<String>,
    /// `HH:MM`, or null when closed.
    pub closes: Option<String>,
}

/// The offered slots of a centre in a range of days.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsJson {
    pub center_id: String,
    /// First day that can be booked now (Japan time, `YYYY-MM-DD`).
    pub first_bookable_day: String,
    /// Last day that can be booked now.
    pub last_bookable_day: String,
    pub slots: Vec<SlotJson>,
}

/// One slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotJson {
    /// RFC 3339 with the Japan offset, e.g. `2026-12-01T10:00:00+09:00`.
    pub starts_at: String,
    pub ends_at: String,
    pub places: u16,
    /// Places still free; 0 means full.
    pub free: u16,
}

/// Days to list, Japan time; both optional (default: the whole booking window), at most 62.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SlotsQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// A booking request. Validated exactly as the booking form.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct BookingRequest {
    pub center_id: String,
    /// A slot's `starts_at` from the slots list.
    pub starts_at: String,
    /// `housing-loan`, `refinancing`, `car-loan`, `education-loan`, `free-loan` or `other`.
    pub consultation: String,
    /// 氏名（姓）.
    pub family_name: String,
    /// 氏名（名）.
    pub given_name: String,
    /// フリガナ（セイ）, full-width katakana.
    pub family_name_kana: String,
    /// フリガナ（メイ）, full-width katakana.
    pub given_name_kana: String,
    pub phone: String,
    pub email: String,
    /// Whether the customer already banks with us.
    pub existing_customer: bool,
    /// Up to 400 characters. Never a PIN or password.
    pub note: Option<String>,
    /// The client's idempotency key (up to 64 characters): the same key never books twice.
    pub request_id: Option<String>,
}

/// A booking's change/cancel token, from the link in its e-mail.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct TokenRequest {
    pub token: String,
}

/// Moving a booking to another slot of its centre.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct ChangeRequest {
    pub token: String,
    /// The new slot's `starts_at`.
    pub starts_at: String,
}

/// A booking as its customer sees it: no personal field is ever returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingJson {
    pub center_id: String,
    pub starts_at: String,
    pub ends_at: String,
    pub consultation: String,
    /// `booked`, `cancelled`, `visited` or `no_show`.
    pub status: String,
    /// Whether it may still be changed or cancelled with its token.
    pub changeable: bool,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(JST).format(&Rfc3339).unwrap_or_default()
}

fn day(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn hhmm(time: time::Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

fn center_json(state: &PublicState, center: &LoanCenter) -> LoanCenterJson {
    let weekdays = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    LoanCenterJson {
        id: center.id().to_owned(),
        name: state.center_name(center).to_owned(),
        address: state.center_address(center).to_owned(),
        slot_minutes: center.slot_minutes(),
        places_per_slot: center.consultants_per_slot(),
        hours: weekdays
            .into_iter()
            .map(|weekday| {
                let hours = center.hours().on(weekday);
                DayHoursJson {
                    weekday: weekday.to_string().to_lowercase(),
                    opens: hours.map(|h| hhmm(h.opens())),
                    closes: hours.map(|h| hhmm(h.closes())),
                }
            })
            .collect(),
    }
}

fn center_of(state: &PublicState, id: &str) -> Result<LoanCenter, ApiError> {
    state
        .profile
        .loan_center(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("loan-center"))
}

/// The loan centres taking visit reservations.
#[utoipa::path(get, path = "/api/v1/loan-centers", tag = "reservations",
    responses((status = 200, description = "The centres", body = [LoanCenterJson])))]
pub async fn centers(State(state): State<PublicState>) -> Json<Vec<LoanCenterJson>> {
    Json(
        state
            .profile
            .loan_centers()
            .iter()
            .map(|center| center_json(&state, center))
            .collect(),
    )
}

fn parse_day(name: &'static str, text: Option<&str>, default: Date) -> Result<Date, FieldError> {
    match text.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| FieldError::new(name, ErrorCode::InvalidDate)),
    }
}

/// The slots of a centre, free and full, in a range of days within the booking window.
#[utoipa::path(get, path = "/api/v1/loan-centers/{center_id}/slots", tag = "reservations",
    params(("center_id" = String, Path, description = "A centre's id"), SlotsQuery),
    responses(
        (status = 200, description = "The slots", body = SlotsJson),
        (status = 404, description = "No such centre", body = Problem),
        (status = 422, description = "A day does not parse, or the range is too long", body = Problem),
    ))]
pub async fn slots(
    State(state): State<PublicState>,
    Path(center_id): Path<String>,
    Query(query): Query<SlotsQuery>,
) -> Result<Json<SlotsJson>, ApiError> {
    let center = center_of(&state, &center_id)?;
    let now = OffsetDateTime::now_utc();
    let window = service::window(&state, now);
    let mut errors = FieldErrors::new();
    let from = errors.take_result(parse_day("from", query.from.as_deref(), window.first_day()));
    let to = errors.take_result(parse_day("to", query.to.as_deref(), window.last_day()));
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::field_errors(state.catalog(), &errors));
    };
    if to < from || to - from >= Duration::days(MAX_RANGE_DAYS) {
        errors.push(FieldError::new("to", ErrorCode::InvalidDate));
        return Err(ApiError::field_errors(state.catalog(), &errors));
    }
    let slots = service::availability(&state, &center, from, to, now).await?;
    Ok(Json(SlotsJson {
        center_id: center.id().to_owned(),
        first_bookable_day: day(window.first_day()),
        last_bookable_day: day(window.last_day()),
        slots: slots
            .into_iter()
            .map(|s| SlotJson {
                starts_at: rfc3339(s.slot.starts_at()),
                ends_at: rfc3339(s.slot.ends_at()),
                places: s.slot.capacity(),
                free: s.free,
            })
            .collect(),
    }))
}

fn refusal(state: &PublicState, refusal: Refusal) -> ApiError {
    let conflict = |code: &str| ApiError::new(StatusCode::CONFLICT, code);
    match refusal {
        Refusal::Fields(errors) => ApiError::field_errors(state.catalog(), &errors),
        Refusal::SlotFull => conflict("slot-full"),
        Refusal::TooManyBookings => conflict("too-many-bookings"),
        Refusal::Duplicate => conflict("already-booked"),
        Refusal::UnknownLink => ApiError::not_found("booking"),
        Refusal::Closed => conflict("booking-closed"),
        Refusal::Changed => conflict("booking-changed"),
        Refusal::Failed(e) => e.into(),
    }
}

fn booking_json(state: &PublicState, booking: &OpenBooking, now: OffsetDateTime) -> BookingJson {
    BookingJson {
        center_id: booking.row.center_id.clone(),
        starts_at: rfc3339(booking.row.starts_at),
        ends_at: rfc3339(booking.row.ends_at),
        consultation: booking.row.consultation.clone(),
        status: booking.row.status.clone(),
        changeable: booking.changeable(state, now),
    }
}

fn request_nonce(form: &crate::form::FormData) -> Result<String, ApiError> {
    match form.get("request_id").map(str::trim) {
        Some(key) if !key.is_empty() && key.len() <= 64 => Ok(key.to_owned()),
        Some(key) if !key.is_empty() => Err(ApiError::bad_request("invalid-request-id")),
        _ => {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| {
                ApiError::from(crate::error::PublicError::Internal(format!(
                    "randomness: {e}"
                )))
            })?;
            Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
}

/// Books a slot. The confirmation e-mail carries the link (and token) to change or cancel.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "reservations",
    request_body = BookingRequest,
    responses(
        (status = 201, description = "Booked; the confirmation e-mail is queued", body = BookingJson),
        (status = 404, description = "No such centre", body = Problem),
        (status = 409, description = "Slot full, too many bookings, or request_id already used", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Fields to correct", body = Problem),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = Problem),
    ))]
pub async fn book(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: JsonFields,
) -> Result<(StatusCode, Json<BookingJson>), ApiError> {
    state.limits.check(Action::Booking, client.ip())?;
    let form = body.into_form(&[field::EXISTING_CUSTOMER], state.catalog())?;
    let center = center_of(&state, form.get("center_id").unwrap_or(""))?;
    let now = OffsetDateTime::now_utc();
    let mut errors = FieldErrors::new();
    let requested = form.get("starts_at").unwrap_or("");
    let slot = match service::bookable_slot(&state, &center, requested, now) {
        Ok(slot) => Some(slot),
        Err(Refusal::Fields(refused)) => {
            for e in refused.iter() {
                errors.push(FieldError::new("starts_at", e.code));
            }
            None
        }
        Err(other) => return Err(refusal(&state, other)),
    };
    let details = BookingDetails::parse(&form)
        .map_err(|e| errors.extend(e))
        .ok();
    let (Some(slot), Some(details)) = (slot, details) else {
        return Err(ApiError::field_errors(state.catalog(), &errors));
    };
    let nonce = request_nonce(&form)?;
    let booked = service::book(&state, &center, slot.clone(), &details, &nonce, now)
        .await
        .map_err(|r| refusal(&state, r))?;
    Ok((
        StatusCode::CREATED,
        Json(slot_booking_json(
            &center,
            &booked.slot,
            booked.consultation.as_str(),
        )),
    ))
}

/// The API names the slot `starts_at`, the form `slot`.
fn renamed_slot_field(refusal: Refusal) -> Refusal {
    match refusal {
        Refusal::Fields(errors) => {
            let mut renamed = FieldErrors::new();
            for e in errors.iter() {
                renamed.push(FieldError::new("starts_at", e.code));
            }
            Refusal::Fields(renamed)
        }
        other => other,
    }
}

fn slot_booking_json(center: &LoanCenter, slot: &Slot, consultation: &str) -> BookingJson {
    BookingJson {
        center_id: center.id().to_owned(),
        starts_at: rfc3339(slot.starts_at()),
        ends_at: rfc3339(slot.ends_at()),
        consultation: consultation.to_owned(),
        status: "booked".to_owned(),
        changeable: true,
    }
}

async fn open_by_body(
    state: &PublicState,
    body: JsonFields,
) -> Result<(crate::form::FormData, OpenBooking), ApiError> {
    let form = body.into_form(&[], state.catalog())?;
    let token = form.get("token").unwrap_or("").to_owned();
    let booking = service::open(state, &token)
        .await
        .map_err(|r| refusal(state, r))?;
    Ok((form, booking))
}

/// The booking of a token.
#[utoipa::path(post, path = "/api/v1/bookings/lookup", tag = "reservations",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The booking", body = BookingJson),
        (status = 404, description = "Unknown or expired token", body = Problem),
    ))]
pub async fn lookup(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: JsonFields,
) -> Result<Json<BookingJson>, ApiError> {
    state.limits.check(Action::Booking, client.ip())?;
    let (_, booking) = open_by_body(&state, body).await?;
    Ok(Json(booking_json(
        &state,
        &booking,
        OffsetDateTime::now_utc(),
    )))
}

/// Moves a booking to another free slot of its centre (until the profile's cut-off).
#[utoipa::path(post, path = "/api/v1/bookings/change", tag = "reservations",
    request_body = ChangeRequest,
    responses(
        (status = 200, description = "Changed; the notice e-mail is queued", body = BookingJson),
        (status = 404, description = "Unknown or expired token", body = Problem),
        (status = 409, description = "Slot full, past the cut-off, or changed meanwhile", body = Problem),
        (status = 422, description = "The slot cannot be booked", body = Problem),
    ))]
pub async fn change(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: JsonFields,
) -> Result<Json<BookingJson>, ApiError> {
    state.limits.check(Action::Booking, client.ip())?;
    let (form, booking) = open_by_body(&state, body).await?;
    let center = center_of(&state, &booking.row.center_id)?;
    let now = OffsetDateTime::now_utc();
    let requested = form.get("starts_at").unwrap_or("");
    let slot = service::change(&state, &center, &booking, requested, now)
        .await
        .map_err(|r| refusal(&state, renamed_slot_field(r)))?;
    Ok(Json(slot_booking_json(
        &center,
        &slot,
        &booking.row.consultation,
    )))
}

/// Cancels a booking (until the profile's cut-off).
#[utoipa::path(post, path = "/api/v1/bookings/cancel", tag = "reservations",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Cancelled; the notice e-mail is queued", body = BookingJson),
        (status = 404, description = "Unknown or expired token", body = Problem),
        (status = 409, description = "Past the cut-off, or changed meanwhile", body = Problem),
    ))]
pub async fn cancel(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: JsonFields,
) -> Result<Json<BookingJson>, ApiError> {
    state.limits.check(Action::Booking, client.ip())?;
    let (_, booking) = open_by_body(&state, body).await?;
    let center = center_of(&state, &booking.row.center_id)?;
    let now = OffsetDateTime::now_utc();
    service::cancel(&state, &center, &booking, now)
        .await
        .map_err(|r| refusal(&state, r))?;
    let mut json = booking_json(&state, &booking, now);
    json.status = "cancelled".to_owned();
    json.changeable = false;
    Ok(Json(json))
}
