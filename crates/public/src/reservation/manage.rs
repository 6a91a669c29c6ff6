//! Changing and cancelling a booking through the link of its e-mail.
//!
//! The link carries the token once: `GET /reservations/manage/{token}` moves it into a
//! short-lived HttpOnly cookie and redirects, so the token leaves the address bar (and any
//! later Referer) at once. Every other page reads the cookie; nothing else opens a booking.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Extension, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::booking::field;
use madoguchi_domain::{ErrorCode, FieldErrors};
use madoguchi_http::{read_cookie, remove_cookie, set_cookie};
use time::OffsetDateTime;

use super::book::DonePage;
use super::format::visit_time;
use super::service::{self, OpenBooking, Refusal};
use super::week::{WeekQuery, build_week, week_page};
use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::session::BrowserSession;
use crate::state::{Layout, PublicState};

/// The cookie that holds a booking's token while its pages are open.
const BOOKING_COOKIE: &str = "mdg_booking";
/// How long the cookie lives: long enough to choose another slot.
const BOOKING_COOKIE_SECONDS: i64 = 30 * 60;

#[derive(Template, WebTemplate)]
#[template(path = "reservation/manage.html")]
struct ManagePage {
    layout: Arc<Layout>,
    center_name: String,
    visit: String,
    consultation: String,
    status: String,
    changeable: bool,
    cutoff_hours: u16,
    csrf: String,
}

/// The e-mail link: keep the token in a cookie and show the booking.
pub async fn enter(
    State(state): State<PublicState>,
    Path(token): Path<String>,
) -> Result<Response, PublicError> {
    // Only a token that decodes is kept: the cookie never carries what a client wrote (a
    // segment such as `a; Max-Age=…; Domain=…` would otherwise reach Set-Cookie).
    if madoguchi_seal::BookingToken::from_link_value(&token).is_none() {
        return Err(PublicError::BookingLinkInvalid);
    }
    let mut response = Redirect::to("/reservations/manage").into_response();
    set_cookie(
        response.headers_mut(),
        state.cookies,
        BOOKING_COOKIE,
        &token,
        Some(BOOKING_COOKIE_SECONDS),
    );
    Ok(response)
}

/// The booking of the cookie, and its centre.
async fn opened(
    state: &PublicState,
    headers: &HeaderMap,
) -> Result<(OpenBooking, LoanCenter), PublicError> {
    let token = read_cookie(headers, state.cookies, BOOKING_COOKIE)
        .ok_or(PublicError::BookingLinkInvalid)?;
    let booking = service::open(state, &token).await.map_err(page_error)?;
    let center = state
        .profile
        .loan_center(&booking.row.center_id)
        .cloned()
        .ok_or(PublicError::BookingLinkInvalid)?;
    Ok((booking, center))
}

fn page_error(refusal: Refusal) -> PublicError {
    match refusal {
        Refusal::UnknownLink => PublicError::BookingLinkInvalid,
        Refusal::Closed => PublicError::BookingClosed,
        Refusal::Changed => PublicError::BookingChanged,
        Refusal::SlotFull => PublicError::SlotUnavailable(ErrorCode::SlotFull),
        Refusal::TooManyBookings => PublicError::TooManyBookings,
        Refusal::Duplicate => PublicError::AlreadyBooked,
        Refusal::Fields(errors) => PublicError::SlotUnavailable(first_code(&errors)),
        Refusal::Failed(e) => e,
    }
}

fn first_code(errors: &FieldErrors) -> ErrorCode {
    errors
        .iter()
        .next()
        .map_or(ErrorCode::SlotNotOffered, |e| e.code)
}

fn status_label(state: &PublicState, status: &str) -> String {
    let known = matches!(status, "booked" | "cancelled" | "visited");
    state
        .catalog()
        .choice("booking_status", if known { status } else { "closed" })
        .to_owned()
}

pub async fn show(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    headers: HeaderMap,
) -> Result<Response, PublicError> {
    let (booking, center) = opened(&state, &headers).await?;
    let now = OffsetDateTime::now_utc();
    Ok(ManagePage {
        layout: state.layout(),
        center_name: state.center_name(&center).to_owned(),
        visit: visit_time(booking.row.starts_at, booking.row.ends_at, state.lang()),
        consultation: state
            .catalog()
            .choice(field::CONSULTATION, &booking.row.consultation)
            .to_owned(),
        status: status_label(&state, &booking.row.status),
        changeable: booking.changeable(&state, now),
        cutoff_hours: state.profile.reservations().change_cutoff_hours(),
        csrf: session.csrf_token(&state),
    }
    .into_response())
}

pub async fn change_week(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    Query(query): Query<WeekQuery>,
    headers: HeaderMap,
) -> Result<Response, PublicError> {
    let (booking, center) = opened(&state, &headers).await?;
    let now = OffsetDateTime::now_utc();
    if !booking.changeable(&state, now) {
        return Err(PublicError::BookingClosed);
    }
    let week = build_week(
        &state,
        &center,
        query.week.as_deref(),
        now,
        Some(booking.row.starts_at),
    )
    .await?;
    Ok(week_page(
        &state,
        week,
        Some(session.csrf_token(&state)),
        "/reservations/manage/change".to_owned(),
    ))
}

pub async fn change(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(&state, &form)?;
    state.limits.check(Action::Booking, client.ip())?;
    let (booking, center) = opened(&state, &headers).await?;
    let now = OffsetDateTime::now_utc();
    let requested = form.get(field::SLOT).unwrap_or("");
    let slot = service::change(&state, &center, &booking, requested, now)
        .await
        .map_err(page_error)?;
    Ok(DonePage {
        layout: state.layout(),
        title: state.catalog().t("reservation.changed-title").to_owned(),
        center_name: state.center_name(&center).to_owned(),
        center_address: state.center_address(&center).to_owned(),
        visit: visit_time(slot.starts_at(), slot.ends_at(), state.lang()),
        consultation: None,
        message: state.catalog().t("reservation.changed-message").to_owned(),
    }
    .into_response())
}

pub async fn cancel(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(&state, &form)?;
    state.limits.check(Action::Booking, client.ip())?;
    let (booking, center) = opened(&state, &headers).await?;
    service::cancel(&state, &center, &booking, OffsetDateTime::now_utc())
        .await
        .map_err(page_error)?;
    let mut response = DonePage {
        layout: state.layout(),
        title: state.catalog().t("reservation.cancelled-title").to_owned(),
        center_name: state.center_name(&center).to_owned(),
        center_address: state.center_address(&center).to_owned(),
        visit: visit_time(booking.row.starts_at, booking.row.ends_at, state.lang()),
        consultation: None,
        message: state
            .catalog()
            .t("reservation.cancelled-message")
            .to_owned(),
    }
    .into_response();
    remove_cookie(response.headers_mut(), state.cookies, BOOKING_COOKIE);
    Ok(response)
}
