use proptest::prelude::*;
use time::macros::{date, datetime, time};
use time::{Date, Duration, OffsetDateTime, Time};

use super::*;
use crate::calendar::HolidayCalendar;
use crate::error::ErrorCode;
use crate::profile::{BankProfile, LoanCenter};

/// A profile with two centres: "weekday" (Mon–Fri 09:00–17:00, 60-minute slots for 3,
/// closed on 2026-08-14) and "everyday" (every day 10:00–17:00, 90-minute slots for 2).
fn profile(earliest: u16, latest: u16) -> BankProfile {
    let text = format!(
        r#"
[bank]
name_ja = "テスト銀行"
name_en = "Test Bank"
name_kana = "テストギンコウ"
finance_code = "9991"
swift_code = "TESTJPJT"

[[branches]]
code = "001"
name = "本店"
kana = "ホンテン"

[[loan_centers]]
id = "weekday"
name = "平日ローンセンター"
address = "那覇市1-1"
slot_minutes = 60
consultants_per_slot = 3
closed_days = [2026-08-14]

[loan_centers.hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"

[[loan_centers]]
id = "everyday"
name = "毎日ローンプラザ"
address = "北谷町2-2"
slot_minutes = 90
consultants_per_slot = 2

[loan_centers.hours]
mon = "10:00-17:00"
tue = "10:00-17:00"
wed = "10:00-17:00"
thu = "10:00-17:00"
fri = "10:00-17:00"
sat = "10:00-17:00"
sun = "10:00-17:00"

[support]
phone = "098-123-4567"
hours_ja = "平日"
hours_en = "Weekdays"

[products]
savings_account = true
internet_banking = false
debit_card = false

[reservations]
earliest_days_ahead = {earliest}
latest_days_ahead = {latest}
"#
    );
    match BankProfile::from_toml_str("test.toml", &text) {
        Ok(profile) => profile,
        Err(e) => panic!("test profile refused: {e}"),
    }
}

fn center<'a>(profile: &'a BankProfile, id: &str) -> &'a LoanCenter {
    profile.loan_center(id).expect("centre")
}

fn start_times(center: &LoanCenter, calendar: &HolidayCalendar, date: Date) -> Vec<Time> {
    slots_on(center, calendar, date)
        .iter()
        .map(|slot| slot.starts_at().time())
        .collect()
}

/// Asserts that both centres are closed on `date`.
fn closed_everywhere(profile: &BankProfile, date: Date) {
    for id in ["weekday", "everyday"] {
        let c = center(profile, id);
        assert!(
            !open_days(c, profile.calendar(), date),
            "{id} open on {date}"
        );
        assert!(
            slots_on(c, profile.calendar(), date).is_empty(),
            "{id} {date}"
        );
    }
}

#[test]
fn centres_close_on_public_substitute_and_citizens_holidays() {
    let profile = profile(2, 60);
    // 文化の日 (Tuesday), 春分の日 振替休日 (Monday), 国民の休日 (Tuesday).
    for date in [
        date!(2026 - 11 - 03),
        date!(2027 - 03 - 22),
        date!(2026 - 09 - 22),
    ] {
        closed_everywhere(&profile, date);
    }
    let weekday = center(&profile, "weekday");
    assert!(open_days(
        weekday,
        profile.calendar(),
        date!(2027 - 03 - 23)
    ));
    assert!(open_days(
        weekday,
        profile.calendar(),
        date!(2026 - 09 - 24)
    ));
}

#[test]
fn the_year_end_closure_holds_even_at_a_centre_open_every_day() {
    let profile = profile(2, 60);
    for date in [
        date!(2026 - 12 - 31),
        date!(2027 - 01 - 01),
        date!(2027 - 01 - 02),
        date!(2027 - 01 - 03),
    ] {
        closed_everywhere(&profile, date);
    }
    let everyday = center(&profile, "everyday");
    assert!(open_days(
        everyday,
        profile.calendar(),
        date!(2026 - 12 - 30)
    ));
    assert!(open_days(
        everyday,
        profile.calendar(),
        date!(2027 - 01 - 04)
    ));
}

#[test]
fn weekends_follow_each_centres_hours() {
    let profile = profile(2, 60);
    let calendar = profile.calendar();
    for date in [date!(2026 - 06 - 13), date!(2026 - 06 - 14)] {
        assert!(!open_days(center(&profile, "weekday"), calendar, date));
        assert!(open_days(center(&profile, "everyday"), calendar, date));
    }
}

#[test]
fn a_centres_own_closed_day_closes_only_that_centre() {
    let profile = profile(2, 60);
    let calendar = profile.calendar();
    let day = date!(2026 - 08 - 14);
    assert!(!open_days(center(&profile, "weekday"), calendar, day));
    assert!(open_days(center(&profile, "everyday"), calendar, day));
    assert!(open_days(
        center(&profile, "weekday"),
        calendar,
        date!(2026 - 08 - 13)
    ));
}

#[test]
fn slots_are_aligned_to_the_opening_time_and_end_by_closing() {
    let profile = profile(2, 60);
    let calendar = profile.calendar();
    let day = date!(2026 - 06 - 15);
    // 90 minutes from 10:00: a slot at 16:00 would end at 17:30, after closing.
    assert_eq!(
        start_times(center(&profile, "everyday"), calendar, day),
        [time!(10:00), time!(11:30), time!(13:00), time!(14:30)]
    );
    let slots = slots_on(center(&profile, "everyday"), calendar, day);
    let last = slots.last().expect("slots");
    assert_eq!(last.ends_at(), datetime!(2026-06-15 16:00 +9));
    assert_eq!(
        (last.center_id(), last.capacity(), last.date_jst()),
        ("everyday", 2, day)
    );
    // 60 minutes from 09:00: the last slot ends exactly at 17:00.
    let weekday = slots_on(center(&profile, "weekday"), calendar, day);
    assert_eq!(weekday.len(), 8);
    assert_eq!(
        weekday.last().map(Slot::ends_at),
        Some(datetime!(2026-06-15 17:00 +9))
    );
    assert!(weekday.iter().all(|s| s.starts_at().offset() == JST));
    assert!(weekday.iter().all(|s| s.capacity() == 3));
}

#[test]
fn the_first_bookable_day_turns_at_midnight_in_japan() {
    let window = *profile(2, 60).reservations();
    let before = BookingWindow::at(&window, datetime!(2026-12-01 14:59:59 UTC));
    let after = BookingWindow::at(&window, datetime!(2026-12-01 15:00:00 UTC));
    assert_eq!(before.first_day(), date!(2026 - 12 - 03));
    assert_eq!(after.first_day(), date!(2026 - 12 - 04));
    assert_eq!(before.last_day(), date!(2027 - 01 - 30));
    assert_eq!(after.last_day(), date!(2027 - 01 - 31));
    assert!(before.contains(date!(2026 - 12 - 03)));
    assert!(!after.contains(date!(2026 - 12 - 03)));
    assert_eq!(before.days().count(), 59);
    assert_eq!(before.days().next(), Some(date!(2026 - 12 - 03)));
    assert_eq!(before.days().last(), Some(date!(2027 - 01 - 30)));
    // The same moment written in JST gives the same window.
    assert_eq!(
        BookingWindow::at(&window, datetime!(2026-12-02 00:00:00 +9)).first_day(),
        after.first_day()
    );
}

#[test]
fn available_slots_are_clamped_to_the_window() {
    let profile = profile(2, 10);
    let everyday = center(&profile, "everyday");
    let now = datetime!(2026-06-15 09:00 +9);
    let window = BookingWindow::at(profile.reservations(), now);
    let slots = available_slots(
        everyday,
        profile.calendar(),
        window,
        date!(2026 - 06 - 01),
        date!(2026 - 07 - 31),
    );
    assert_eq!(
        slots.first().map(Slot::date_jst),
        Some(date!(2026 - 06 - 17))
    );
    assert_eq!(
        slots.last().map(Slot::date_jst),
        Some(date!(2026 - 06 - 25))
    );
    assert_eq!(slots.len(), 9 * 4);
    let none = available_slots(
        everyday,
        profile.calendar(),
        window,
        date!(2026 - 06 - 20),
        date!(2026 - 06 - 19),
    );
    assert!(none.is_empty());
}

#[test]
fn same_day_booking_leaves_out_slots_that_have_started() {
    let profile = profile(0, 5);
    let everyday = center(&profile, "everyday");
    let now = datetime!(2026-06-15 11:30 +9);
    let window = BookingWindow::at(profile.reservations(), now);
    let today = date!(2026 - 06 - 15);
    let slots = available_slots(everyday, profile.calendar(), window, today, today);
    let starts: Vec<_> = slots.iter().map(|s| s.starts_at().time()).collect();
    assert_eq!(starts, [time!(13:00), time!(14:30)]);
    let started = datetime!(2026-06-15 11:30 +9);
    assert_eq!(
        check_slot(everyday, profile.calendar(), window, now, started),
        Err(SlotRefusal::OutsideWindow)
    );
}

#[test]
fn check_slot_accepts_offered_slots_given_in_any_offset() {
    let profile = profile(2, 60);
    let everyday = center(&profile, "everyday");
    let now = datetime!(2026-06-15 09:00 +9);
    let window = BookingWindow::at(profile.reservations(), now);
    // 2026-06-20 11:30 JST is 02:30 UTC.
    let slot = check_slot(
        everyday,
        profile.calendar(),
        window,
        now,
        datetime!(2026-06-20 02:30 UTC),
    )
    .expect("offered");
    assert_eq!(slot.starts_at(), datetime!(2026-06-20 11:30 +9));
    assert_eq!(slot.starts_at().offset(), JST);
    assert_eq!(slot.ends_at(), datetime!(2026-06-20 13:00 +9));
    assert_eq!(slot.date_jst(), date!(2026 - 06 - 20));
}

#[test]
fn check_slot_refuses_with_the_reason() {
    let profile = profile(2, 60);
    let calendar = profile.calendar();
    let everyday = center(&profile, "everyday");
    let weekday = center(&profile, "weekday");
    let now = datetime!(2026-06-15 09:00 +9);
    let window = BookingWindow::at(profile.reservations(), now);
    let check = |c, at| check_slot(c, calendar, window, now, at);
    let refusals = [
        (
            everyday,
            datetime!(2026-06-20 10:30 +9),
            SlotRefusal::NotASlot,
        ),
        (
            everyday,
            datetime!(2026-06-20 10:00:01 +9),
            SlotRefusal::NotASlot,
        ),
        (
            everyday,
            datetime!(2026-06-20 16:00 +9),
            SlotRefusal::NotASlot,
        ),
        (
            everyday,
            datetime!(2026-06-20 09:00 +9),
            SlotRefusal::NotASlot,
        ),
        (weekday, datetime!(2026-06-20 10:00 +9), SlotRefusal::Closed),
        (weekday, datetime!(2026-07-20 10:00 +9), SlotRefusal::Closed),
        (
            everyday,
            datetime!(2026-06-15 13:00 +9),
            SlotRefusal::OutsideWindow,
        ),
        (
            everyday,
            datetime!(2026-06-16 13:00 +9),
            SlotRefusal::OutsideWindow,
        ),
        (
            everyday,
            datetime!(2026-06-10 13:00 +9),
            SlotRefusal::OutsideWindow,
        ),
        (
            everyday,
            datetime!(2026-08-15 10:00 +9),
            SlotRefusal::OutsideWindow,
        ),
        (
            everyday,
            datetime!(9999-12-31 23:00 UTC),
            SlotRefusal::OutsideWindow,
        ),
    ];
    for (c, at, refusal) in refusals {
        assert_eq!(check(c, at), Err(refusal), "{} at {at}", c.id());
    }
    assert!(check(everyday, datetime!(2026-08-14 10:00 +9)).is_ok());
    assert!(check(weekday, datetime!(2026-08-14 10:00 +9)).is_err());
    assert_eq!(SlotRefusal::NotASlot.code(), ErrorCode::SlotNotOffered);
    assert_eq!(SlotRefusal::Closed.code(), ErrorCode::SlotClosed);
    assert_eq!(
        SlotRefusal::OutsideWindow.code().as_str(),
        "slot-outside-window"
    );
}

#[test]
fn a_profile_holiday_closes_the_centres() {
    let calendar = HolidayCalendar::with_overrides(
        &[(date!(2026 - 06 - 19), "臨時休業".to_owned())],
        &[date!(2026 - 07 - 20)],
    );
    let profile = profile(2, 60);
    let weekday = center(&profile, "weekday");
    assert!(!open_days(weekday, &calendar, date!(2026 - 06 - 19)));
    assert!(open_days(weekday, &calendar, date!(2026 - 07 - 20)));
}

/// A moment between 2025 and 2049, to the second.
fn moment() -> impl Strategy<Value = OffsetDateTime> {
    (1_735_657_200_i64..2_524_575_600)
        .prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

proptest! {
    // Failures are reported, not written next to the sources.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        cases: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_available_slot_passes_check_slot(
        now in moment(),
        earliest in 0u16..=3,
        span in 1u16..=40,
        from_offset in -5i64..=50,
        length in 0i64..=60,
        weekday_centre in any::<bool>(),
    ) {
        let profile = profile(earliest, earliest + span);
        let centre = center(&profile, if weekday_centre { "weekday" } else { "everyday" });
        let window = BookingWindow::at(profile.reservations(), now);
        let today = now.to_offset(JST).date();
        let from = today + Duration::days(from_offset);
        let to = from + Duration::days(length);
        let slots = available_slots(centre, profile.calendar(), window, from, to);
        for slot in &slots {
            prop_assert!(window.contains(slot.date_jst()));
            prop_assert!(slot.starts_at() > now);
            let utc = slot.starts_at().to_offset(time::UtcOffset::UTC);
            let checked = check_slot(centre, profile.calendar(), window, now, utc);
            prop_assert_eq!(checked.as_ref(), Ok(slot));
        }
        prop_assert!(slots.windows(2).all(|w| w[0].starts_at() < w[1].starts_at()));
    }
}
