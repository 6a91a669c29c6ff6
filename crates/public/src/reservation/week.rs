//! The list of loan centres and a centre's week of slots, free and full.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::booking::format_slot_start;
use madoguchi_domain::reservation::{BookingWindow, open_days};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use super::format::{day_label, time_range};
use super::service::{self, SlotAvailability};
use crate::error::PublicError;
use crate::messages::Lang;
use crate::session::BrowserSession;
use crate::state::{Layout, PublicState};

/// Days shown on one page.
const WEEK_DAYS: i64 = 7;

pub struct CenterView {
    pub id: String,
    pub name: String,
    pub address: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reservation/centers.html")]
struct CentersPage {
    layout: Arc<Layout>,
    centers: Vec<CenterView>,
    earliest: u16,
    latest: u16,
}

pub async fn centers(State(state): State<PublicState>) -> Response {
    let window = state.profile.reservations();
    CentersPage {
        layout: state.layout(),
        centers: state
            .profile
            .loan_centers()
            .iter()
            .map(|c| CenterView {
                id: c.id().to_owned(),
                name: state.center_name(c).to_owned(),
                address: state.center_address(c).to_owned(),
            })
            .collect(),
        earliest: window.earliest_days_ahead(),
        latest: window.latest_days_ahead(),
    }
    .into_response()
}

/// One slot on the page.
pub struct SlotView {
    /// The value forms carry (`YYYY-MM-DDTHH:MM`, JST).
    pub value: String,
    pub time: String,
    pub free: bool,
    /// The slot the booking being changed holds now.
    pub current: bool,
}

/// One day on the page.
pub struct DayView {
    pub label: String,
    pub closed_reason: Option<String>,
    pub slots: Vec<SlotView>,
}

/// A week of one centre.
pub struct WeekView {
    pub center: CenterView,
    pub days: Vec<DayView>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WeekQuery {
    pub week: Option<String>,
}

/// The first day to show: the asked one if it parses and lies in the window, else the
/// window's first day.
fn first_day(asked: Option<&str>, window: BookingWindow) -> Date {
    asked
        .and_then(|text| Date::parse(text, format_description!("[year]-[month]-[day]")).ok())
        .filter(|day| window.contains(*day))
        .unwrap_or(window.first_day())
}

fn date_param(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// The week of `center` from the asked day, with each slot's free places.
pub async fn build_week(
    state: &PublicState,
    center: &LoanCenter,
    asked: Option<&str>,
    now: OffsetDateTime,
    current: Option<OffsetDateTime>,
) -> Result<WeekView, PublicError> {
    let window = service::window(state, now);
    let from = first_day(asked, window);
    let to = from.saturating_add(Duration::days(WEEK_DAYS - 1));
    let slots = service::availability(state, center, from, to, now).await?;
    let days = (0..WEEK_DAYS)
        .map(|n| from.saturating_add(Duration::days(n)))
        .filter(|day| window.contains(*day))
        .map(|day| day_view(state, center, day, &slots, current))
        .collect();
    let previous = from.saturating_sub(Duration::days(WEEK_DAYS));
    let next = to.saturating_add(Duration::days(1));
    Ok(WeekView {
        center: CenterView {
            id: center.id().to_owned(),
            name: state.center_name(center).to_owned(),
            address: state.center_address(center).to_owned(),
        },
        days,
        previous: (from > window.first_day()).then(|| date_param(previous.max(window.first_day()))),
        next: window.contains(next).then(|| date_param(next)),
    })
}

fn day_view(
    state: &PublicState,
    center: &LoanCenter,
    day: Date,
    slots: &[SlotAvailability],
    current: Option<OffsetDateTime>,
) -> DayView {
    let calendar = state.profile.calendar();
    let lang = state.lang();
    let catalog = state.catalog();
    let holiday = match lang {
        Lang::Ja => calendar.holiday_name(day),
        Lang::En => calendar.holiday_name_en(day),
    };
    let closed_reason = (!open_days(center, calendar, day)).then(|| match holiday {
        Some(holiday) => catalog
            .tr("reservation.closed-holiday")
            .arg("holiday", holiday)
            .to_string(),
        None if calendar.is_year_end_closure(day) => {
            catalog.t("reservation.closed-year-end").to_owned()
        }
        None => catalog.t("reservation.closed").to_owned(),
    });
    DayView {
        label: day_label(day, lang),
        closed_reason,
        slots: slots
            .iter()
            .filter(|s| s.slot.date_jst() == day)
            .map(|s| SlotView {
                value: format_slot_start(s.slot.starts_at()),
                time: time_range(s.slot.starts_at(), s.slot.ends_at(), lang),
                free: s.free > 0,
                current: current == Some(s.slot.starts_at()),
            })
            .collect(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "reservation/week.html")]
struct WeekPage {
    layout: Arc<Layout>,
    week: WeekView,
    /// `None`: slots link to the booking form; `Some(csrf)`: slots are buttons that move an
    /// existing booking (the change page).
    change_csrf: Option<String>,
    base_path: String,
}

/// Renders a week page: for booking, or (with `change_csrf`) for moving a booking.
pub fn week_page(
    state: &PublicState,
    week: WeekView,
    change_csrf: Option<String>,
    base_path: String,
) -> Response {
    WeekPage {
        layout: state.layout(),
        week,
        change_csrf,
        base_path,
    }
    .into_response()
}

pub async fn week(
    State(state): State<PublicState>,
    Extension(_session): Extension<BrowserSession>,
    Path(center_id): Path<String>,
    Query(query): Query<WeekQuery>,
) -> Result<Response, PublicError> {
    let center = state
        .profile
        .loan_center(&center_id)
        .ok_or(PublicError::NotFound)?;
    let week = build_week(
        &state,
        center,
        query.week.as_deref(),
        OffsetDateTime::now_utc(),
        None,
    )
    .await?;
    Ok(week_page(&state, week, None, super::week_path(center.id())))
}
