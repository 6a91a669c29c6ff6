//! The booking form: the chosen slot, the consultation type, name and contact.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::Slot;
use madoguchi_domain::reservation::booking::{BookingDetails, Consultation, field};
use madoguchi_domain::{ErrorCode, FieldErrors};
use serde::Deserialize;
use time::OffsetDateTime;

use super::format::visit_time;
use super::service::{self, Refusal};
use super::week_path;
use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::session::BrowserSession;
use crate::state::{Layout, PublicState};
use crate::view::{Choice, FormView, choices};

#[derive(Template, WebTemplate)]
#[template(path = "reservation/book.html")]
struct BookPage {
    layout: Arc<Layout>,
    form: FormView,
    center_id: String,
    center_name: String,
    week_path: String,
    visit: String,
    slot: String,
    nonce: String,
    consultations: Vec<Choice>,
    existing_choices: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "reservation/booked.html")]
pub(super) struct DonePage {
    pub layout: Arc<Layout>,
    pub title: String,
    pub center_name: String,
    pub center_address: String,
    pub visit: String,
    pub consultation: Option<String>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct SlotQuery {
    slot: Option<String>,
}

fn center_of(state: &PublicState, id: &str) -> Result<LoanCenter, PublicError> {
    state
        .profile
        .loan_center(id)
        .cloned()
        .ok_or(PublicError::NotFound)
}

/// A fresh one-time value for a form: a second submit of the same form books nothing.
fn new_nonce() -> Result<String, PublicError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| PublicError::Internal(format!("randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn consultation_choices(state: &PublicState) -> Vec<Choice> {
    let codes: Vec<&str> = Consultation::ALL.iter().map(|c| c.as_str()).collect();
    choices(state.catalog(), field::CONSULTATION, &codes)
}

fn page(
    state: &PublicState,
    center: &LoanCenter,
    slot: &Slot,
    form: FormView,
    nonce: String,
) -> BookPage {
    BookPage {
        layout: state.layout(),
        form,
        center_id: center.id().to_owned(),
        center_name: state.center_name(center).to_owned(),
        week_path: week_path(center.id()),
        visit: visit_time(slot.starts_at(), slot.ends_at(), state.lang()),
        slot: madoguchi_domain::reservation::booking::format_slot_start(slot.starts_at()),
        nonce,
        consultations: consultation_choices(state),
        existing_choices: choices(state.catalog(), field::EXISTING_CUSTOMER, &["yes", "no"]),
    }
}

/// The slot of a form or link, or the page that says why it cannot be booked.
fn slot_or_refusal(
    state: &PublicState,
    center: &LoanCenter,
    requested: &str,
    now: OffsetDateTime,
) -> Result<Slot, PublicError> {
    service::bookable_slot(state, center, requested, now).map_err(|refusal| match refusal {
        Refusal::Fields(errors) => PublicError::SlotUnavailable(
            errors
                .iter()
                .next()
                .map_or(ErrorCode::SlotNotOffered, |e| e.code),
        ),
        _ => PublicError::SlotUnavailable(ErrorCode::SlotNotOffered),
    })
}

pub async fn form(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    Path(center_id): Path<String>,
    Query(query): Query<SlotQuery>,
) -> Result<Response, PublicError> {
    let center = center_of(&state, &center_id)?;
    let requested = query.slot.unwrap_or_default();
    let slot = slot_or_refusal(&state, &center, &requested, OffsetDateTime::now_utc())?;
    let form = FormView::new(session.csrf_token(&state));
    Ok(page(&state, &center, &slot, form, new_nonce()?).into_response())
}

pub async fn submit(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(center_id): Path<String>,
    form: FormData,
) -> Result<Response, PublicError> {
    session.check_csrf(&state, &form)?;
    state.limits.check(Action::Booking, client.ip())?;
    let center = center_of(&state, &center_id)?;
    let now = OffsetDateTime::now_utc();
    let slot = slot_or_refusal(&state, &center, form.get(field::SLOT).unwrap_or(""), now)?;
    let nonce = form.get("nonce").unwrap_or("").to_owned();
    if nonce.is_empty() || nonce.len() > 64 {
        return Err(PublicError::Csrf);
    }
    let details = match BookingDetails::parse(&form) {
        Ok(details) => details,
        Err(errors) => {
            return Ok(refused(
                &state, &session, &center, &slot, &form, errors, nonce,
            ));
        }
    };
    match service::book(&state, &center, slot.clone(), &details, &nonce, now).await {
        Ok(booked) => Ok(DonePage {
            layout: state.layout(),
            title: state.catalog().t("reservation.booked-title").to_owned(),
            center_name: state.center_name(&center).to_owned(),
            center_address: state.center_address(&center).to_owned(),
            visit: visit_time(booked.slot.starts_at(), booked.slot.ends_at(), state.lang()),
            consultation: Some(
                state
                    .catalog()
                    .choice(field::CONSULTATION, booked.consultation.as_str())
                    .to_owned(),
            ),
            message: state.catalog().t("reservation.booked-message").to_owned(),
        }
        .into_response()),
        Err(Refusal::Fields(errors)) => Ok(refused(
            &state, &session, &center, &slot, &form, errors, nonce,
        )),
        Err(Refusal::SlotFull) => Err(PublicError::SlotUnavailable(ErrorCode::SlotFull)),
        Err(Refusal::TooManyBookings) => Err(PublicError::TooManyBookings),
        Err(Refusal::Duplicate) => Err(PublicError::AlreadyBooked),
        Err(Refusal::Failed(e)) => Err(e),
        Err(other) => Err(PublicError::Internal(format!(
            "unexpected refusal: {other:?}"
        ))),
    }
}

/// The form again, with what was typed and a message next to each refused field.
fn refused(
    state: &PublicState,
    session: &BrowserSession,
    center: &LoanCenter,
    slot: &Slot,
    form: &FormData,
    errors: FieldErrors,
    nonce: String,
) -> Response {
    let view = FormView::new(session.csrf_token(state))
        .with_values(form.without(&["csrf", "nonce", "slot"]))
        .with_errors(
            state.catalog(),
            errors
                .iter()
                .map(|e| (e.field.to_owned(), e.code.as_str().to_owned())),
        );
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page(state, center, slot, view, nonce),
    )
        .into_response()
}
