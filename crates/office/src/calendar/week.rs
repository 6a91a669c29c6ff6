//! The centres a consultant works for, and one centre's week: every slot with its capacity,
//! its bookings (masked) and whether it is blocked.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::booking::format_slot_start;
use madoguchi_domain::reservation::{JST, open_days, slots_on};
use madoguchi_store::{CenterBooking, SlotState};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

use super::{
    MASK, WEEK_FIELDS, consultation_label, date_param, day_label, field_label, monday_of,
    parse_date, status_label, time_range,
};
use crate::OfficeState;
use crate::error::OfficeError;
use crate::session::Actor;
use crate::view::Layout;

/// Days on one page: Monday to Sunday.
const WEEK_DAYS: i64 = 7;

/// A centre in the list.
pub(crate) struct CenterLink {
    id: String,
    name: String,
    address: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar_centers.html")]
pub(crate) struct CentersPage {
    layout: Layout,
    centers: Vec<CenterLink>,
}

/// `GET /reservations`: the loan centres in the consultant's scope.
pub(crate) async fn centers(State(state): State<OfficeState>, Actor(staff): Actor) -> CentersPage {
    // A list, not a subject: it is filtered by the scope here, as the table's
    // `Subject::None` rows are (each link is checked again by its own row).
    let centers = state
        .profile()
        .loan_centers()
        .iter()
        .filter(|c| staff.scope.covers_center(c.id()))
        .map(|c| CenterLink {
            id: c.id().to_owned(),
            name: c.name().to_owned(),
            address: c.address().to_owned(),
        })
        .collect();
    CentersPage {
        layout: Layout::new(&state, Some(&staff), "来店予約"),
        centers,
    }
}

/// A booking as the week shows it: no personal value, only labels and masks.
pub(crate) struct BookingLine {
    id: String,
    status: &'static str,
    consultation: &'static str,
    time: String,
    masked: Vec<(&'static str, &'static str)>,
    purged: bool,
}

/// One slot of a day.
pub(crate) struct SlotLine {
    /// The value the block and free forms carry (`YYYY-MM-DDTHH:MM`, JST).
    value: String,
    time: String,
    /// `None` for a booking's time that is no slot of the centre's hours today.
    capacity: Option<i64>,
    /// Bookings not cancelled.
    taken: usize,
    blocked: bool,
    /// Not started yet: it may be blocked or freed.
    upcoming: bool,
    bookings: Vec<BookingLine>,
}

pub(crate) struct DayLine {
    label: String,
    closed: Option<String>,
    slots: Vec<SlotLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar_week.html")]
pub(crate) struct WeekPage {
    layout: Layout,
    center_id: String,
    week: String,
    previous: String,
    next: String,
    days: Vec<DayLine>,
}

/// `GET /reservations/{center}?week=YYYY-MM-DD`: the week holding that day (this week
/// without it), Monday to Sunday, in Japan time.
pub(crate) async fn week(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Path(center_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, OfficeError> {
    let Some(center) = super::center(&state, &center_id) else {
        return Ok(super::not_found());
    };
    let now = OffsetDateTime::now_utc();
    let asked = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "week")
            .and_then(|(_, v)| parse_date(&v))
    });
    let monday = monday_of(asked.unwrap_or_else(|| now.to_offset(JST).date()));
    let days: Vec<Date> = (0..WEEK_DAYS)
        .map(|n| monday.saturating_add(Duration::days(n)))
        .collect();
    let from = midnight(monday);
    let until = midnight(monday.saturating_add(Duration::days(WEEK_DAYS)));
    let store = state.store();
    let rows = store.slot_states(center.id(), from, until).await?;
    let bookings = store.center_bookings(center.id(), from, until).await?;
    let lines = days
        .iter()
        .map(|day| day_line(&state, center, *day, &rows, &bookings, now))
        .collect();
    let title = format!("来店予約 {}", center.name());
    Ok(WeekPage {
        layout: Layout::new(&state, Some(&staff), &title),
        center_id: center.id().to_owned(),
        week: format!(
            "{}〜{}",
            day_label(monday),
            day_label(monday.saturating_add(Duration::days(WEEK_DAYS - 1)))
        ),
        previous: date_param(monday.saturating_sub(Duration::days(WEEK_DAYS))),
        next: date_param(monday.saturating_add(Duration::days(WEEK_DAYS))),
        days: lines,
    }
    .into_response())
}

fn midnight(day: Date) -> OffsetDateTime {
    PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(JST)
}

fn day_line(
    state: &OfficeState,
    center: &LoanCenter,
    day: Date,
    rows: &[SlotState],
    bookings: &[CenterBooking],
    now: OffsetDateTime,
) -> DayLine {
    let calendar = state.profile().calendar();
    let closed = (!open_days(center, calendar, day)).then(|| match calendar.holiday_name(day) {
        Some(holiday) => format!("休業日（{holiday}）"),
        None if calendar.is_year_end_closure(day) => "休業日（年末年始）".to_owned(),
        None => "休業日".to_owned(),
    });
    let of_day: Vec<&CenterBooking> = bookings
        .iter()
        .filter(|b| b.starts_at.to_offset(JST).date() == day)
        .collect();
    let mut slots: Vec<SlotLine> = slots_on(center, calendar, day)
        .into_iter()
        .map(|slot| {
            let row = rows.iter().find(|r| r.starts_at == slot.starts_at());
            slot_line(
                slot.starts_at(),
                slot.ends_at(),
                Some(i64::from(slot.capacity())),
                row,
                &of_day,
                now,
            )
        })
        .collect();
    // Bookings at a time that is no slot today (the centre's hours changed, or a closed day
    // was added): listed all the same, so that the consultant can contact them.
    for booking in &of_day {
        if !slots
            .iter()
            .any(|s| s.value == format_slot_start(booking.starts_at))
        {
            let row = rows.iter().find(|r| r.starts_at == booking.starts_at);
            slots.push(slot_line(
                booking.starts_at,
                booking.ends_at,
                None,
                row,
                &of_day,
                now,
            ));
        }
    }
    slots.sort_by(|a, b| a.value.cmp(&b.value));
    DayLine {
        label: day_label(day),
        closed,
        slots,
    }
}

fn slot_line(
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    capacity: Option<i64>,
    row: Option<&SlotState>,
    bookings: &[&CenterBooking],
    now: OffsetDateTime,
) -> SlotLine {
    let here: Vec<BookingLine> = bookings
        .iter()
        .filter(|b| b.starts_at == starts_at)
        .map(|b| booking_line(b))
        .collect();
    let taken = bookings
        .iter()
        .filter(|b| b.starts_at == starts_at && b.status != "cancelled")
        .count();
    SlotLine {
        value: format_slot_start(starts_at),
        time: time_range(starts_at, ends_at),
        capacity,
        taken,
        blocked: row.is_some_and(|r| r.blocked),
        upcoming: starts_at > now,
        bookings: here,
    }
}

fn booking_line(booking: &CenterBooking) -> BookingLine {
    BookingLine {
        id: booking.id.to_string(),
        status: status_label(&booking.status),
        consultation: consultation_label(&booking.consultation),
        time: time_range(booking.starts_at, booking.ends_at),
        masked: WEEK_FIELDS
            .iter()
            .map(|name| (field_label(name), MASK))
            .collect(),
        purged: booking.purged_at.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_masks_every_field_it_names() {
        let line = booking_line(&CenterBooking {
            id: uuid::Uuid::nil(),
            center_id: "naha".to_owned(),
            starts_at: OffsetDateTime::UNIX_EPOCH,
            ends_at: OffsetDateTime::UNIX_EPOCH,
            consultation: "housing-loan".to_owned(),
            status: "booked".to_owned(),
            purged_at: None,
        });
        assert!(line.masked.iter().all(|(_, value)| *value == MASK));
        assert_eq!(line.masked.len(), WEEK_FIELDS.len());
    }
}
