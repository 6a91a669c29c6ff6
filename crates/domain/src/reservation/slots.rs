//! A loan centre's slots, the days it opens, and the booking window.

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

use super::JST;
use crate::calendar::HolidayCalendar;
use crate::error::ErrorCode;
use crate::profile::{LoanCenter, OpeningHours, ReservationWindow};

/// One consultation slot of a loan centre: a start and end time in JST and how many
/// visitors it takes (the consultants available, [`LoanCenter::consultants_per_slot`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slot {
    center_id: String,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    capacity: u16,
}

impl Slot {
    /// The loan centre's id ([`LoanCenter::id`]).
    pub fn center_id(&self) -> &str {
        &self.center_id
    }

    /// Start, with offset [`JST`]; convert to UTC for storage.
    pub fn starts_at(&self) -> OffsetDateTime {
        self.starts_at
    }

    /// End (start plus the centre's slot length), with offset [`JST`].
    pub fn ends_at(&self) -> OffsetDateTime {
        self.ends_at
    }

    /// How many bookings the slot takes at most.
    pub fn capacity(&self) -> u16 {
        self.capacity
    }

    /// The day of the visit in Japan.
    pub fn date_jst(&self) -> Date {
        self.starts_at.date()
    }
}

/// The centre's hours on `date`, or `None` if it is closed that day.
fn hours_on(center: &LoanCenter, calendar: &HolidayCalendar, date: Date) -> Option<OpeningHours> {
    if calendar.is_bank_closed_day(date) || center.closed_days().contains(&date) {
        return None;
    }
    center.hours().on(date.weekday())
}

/// Whether `center` opens on `date`: it has hours that weekday, and the date is neither a
/// public holiday, nor in the year-end closure 12/31–1/3, nor one of the centre's own
/// closed days.
pub fn open_days(center: &LoanCenter, calendar: &HolidayCalendar, date: Date) -> bool {
    hours_on(center, calendar, date).is_some()
}

/// Every slot of `center` on `date`, in order: from the opening time in steps of the slot
/// length, as long as the slot ends by the closing time. Empty on a day the centre is
/// closed ([`open_days`]).
pub fn slots_on(center: &LoanCenter, calendar: &HolidayCalendar, date: Date) -> Vec<Slot> {
    let Some(hours) = hours_on(center, calendar, date) else {
        return Vec::new();
    };
    let length = center.slot_length();
    let opens = PrimitiveDateTime::new(date, hours.opens()).assume_offset(JST);
    let open_for = hours.closes() - hours.opens();
    let mut slots = Vec::new();
    let mut offset = Duration::ZERO;
    while length.is_positive() && offset + length <= open_for {
        slots.push(Slot {
            center_id: center.id().to_owned(),
            starts_at: opens + offset,
            ends_at: opens + offset + length,
            capacity: center.consultants_per_slot(),
        });
        offset += length;
    }
    slots
}

/// The days that can be booked at one moment: from `earliest_days_ahead` to
/// `latest_days_ahead` days after today, today being the date in Japan at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingWindow {
    first_day: Date,
    last_day: Date,
    /// The moment the window was computed at; slots starting by then have passed.
    now: OffsetDateTime,
}

impl BookingWindow {
    /// The window at `now` (any offset: the day is taken in JST, so at 2026-12-01T15:00Z
    /// it is already 12-02 in Japan).
    pub fn at(window: &ReservationWindow, now: OffsetDateTime) -> BookingWindow {
        let today = jst_date(now).unwrap_or(Date::MAX);
        let ahead = |days: u16| {
            today
                .checked_add(Duration::days(i64::from(days)))
                .unwrap_or(Date::MAX)
        };
        BookingWindow {
            first_day: ahead(window.earliest_days_ahead()),
            last_day: ahead(window.latest_days_ahead()),
            now,
        }
    }

    /// Whether visits on `date` (a JST date) may be booked.
    pub fn contains(&self, date: Date) -> bool {
        self.first_day <= date && date <= self.last_day
    }

    /// The first bookable day.
    pub fn first_day(&self) -> Date {
        self.first_day
    }

    /// The last bookable day.
    pub fn last_day(&self) -> Date {
        self.last_day
    }

    /// The bookable days, first to last.
    pub fn days(&self) -> impl Iterator<Item = Date> + use<> {
        days_between(self.first_day, self.last_day)
    }
}

/// `from`, the day after, … up to and including `to`; empty when `to` is before `from`.
fn days_between(from: Date, to: Date) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(from), |day| day.next_day()).take_while(move |day| *day <= to)
}

/// The date in Japan at `moment`, or `None` beyond the supported range of dates.
fn jst_date(moment: OffsetDateTime) -> Option<Date> {
    moment.checked_to_offset(JST).map(OffsetDateTime::date)
}

/// The slots of `center` from `from` to `to` (JST dates, both included) that lie in
/// `window` and have not started at the moment the window was computed, in order.
///
/// These are the slots offered; the caller leaves out the ones already booked to capacity.
pub fn available_slots(
    center: &LoanCenter,
    calendar: &HolidayCalendar,
    window: BookingWindow,
    from: Date,
    to: Date,
) -> Vec<Slot> {
    days_between(from.max(window.first_day), to.min(window.last_day))
        .flat_map(|date| slots_on(center, calendar, date))
        .filter(|slot| slot.starts_at > window.now)
        .collect()
}

/// Checks that a visit starting at `starts_at` (any offset) may be booked at `center` at
/// `now` (pass the moment `window` was computed at), and gives the slot, with JST offsets.
/// Capacity is not checked here.
pub fn check_slot(
    center: &LoanCenter,
    calendar: &HolidayCalendar,
    window: BookingWindow,
    now: OffsetDateTime,
    starts_at: OffsetDateTime,
) -> Result<Slot, SlotRefusal> {
    let date = jst_date(starts_at).ok_or(SlotRefusal::OutsideWindow)?;
    if starts_at <= now || !window.contains(date) {
        return Err(SlotRefusal::OutsideWindow);
    }
    if !open_days(center, calendar, date) {
        return Err(SlotRefusal::Closed);
    }
    slots_on(center, calendar, date)
        .into_iter()
        .find(|slot| slot.starts_at == starts_at)
        .ok_or(SlotRefusal::NotASlot)
}

/// Why [`check_slot`] refused a start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRefusal {
    /// Not the start time of one of this centre's slots on that day.
    NotASlot,
    /// The centre is closed that day: a public holiday, the year-end closure, one of its
    /// closed days, or a weekday without hours.
    Closed,
    /// Already started or past, before the first bookable day, or after the last.
    OutsideWindow,
}

impl SlotRefusal {
    /// The error code the web layer words for the visitor.
    pub fn code(self) -> ErrorCode {
        match self {
            SlotRefusal::NotASlot => ErrorCode::SlotNotOffered,
            SlotRefusal::Closed => ErrorCode::SlotClosed,
            SlotRefusal::OutsideWindow => ErrorCode::SlotOutsideWindow,
        }
    }
}
