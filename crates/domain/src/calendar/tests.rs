use std::collections::BTreeSet;

use time::macros::date;
use time::{Date, Month};

use super::*;

/// The Cabinet Office's published holidays (内閣府「国民の祝日について」), written out by hand
/// and independently of the embedded table, as (month, day).
const CABINET_OFFICE_2025: &[(u8, u8)] = &[
    (1, 1),
    (1, 13),
    (2, 11),
    (2, 23),
    (2, 24), // 振替休日
    (3, 20),
    (4, 29),
    (5, 3),
    (5, 4),
    (5, 5),
    (5, 6), // 振替休日
    (7, 21),
    (8, 11),
    (9, 15),
    (9, 23),
    (10, 13),
    (11, 3),
    (11, 23),
    (11, 24), // 振替休日
];

const CABINET_OFFICE_2026: &[(u8, u8)] = &[
    (1, 1),
    (1, 12),
    (2, 11),
    (2, 23),
    (3, 20),
    (4, 29),
    (5, 3),
    (5, 4),
    (5, 5),
    (5, 6), // 振替休日
    (7, 20),
    (8, 11),
    (9, 21),
    (9, 22), // 国民の休日
    (9, 23),
    (10, 12),
    (11, 3),
    (11, 23),
];

const CABINET_OFFICE_2027: &[(u8, u8)] = &[
    (1, 1),
    (1, 11),
    (2, 11),
    (2, 23),
    (3, 21),
    (3, 22), // 振替休日
    (4, 29),
    (5, 3),
    (5, 4),
    (5, 5),
    (7, 19),
    (8, 11),
    (9, 20),
    (9, 23),
    (10, 11),
    (11, 3),
    (11, 23),
];

fn day(year: i32, month: u8, day: u8) -> Date {
    let month = Month::try_from(month).expect("month");
    Date::from_calendar_date(year, month, day).expect("date")
}

/// Every day of `year` the calendar calls a public holiday, asked day by day.
fn holidays_in(calendar: &HolidayCalendar, year: i32) -> BTreeSet<Date> {
    std::iter::successors(Some(day(year, 1, 1)), |d| d.next_day())
        .take_while(|d| d.year() == year)
        .filter(|d| calendar.is_public_holiday(*d))
        .collect()
}

#[test]
fn holidays_match_the_cabinet_office_list_exactly() {
    let calendar = HolidayCalendar::embedded();
    for (year, published) in [
        (2025, CABINET_OFFICE_2025),
        (2026, CABINET_OFFICE_2026),
        (2027, CABINET_OFFICE_2027),
    ] {
        let expected: BTreeSet<Date> = published.iter().map(|&(m, d)| day(year, m, d)).collect();
        let found = holidays_in(&calendar, year);
        let missing: Vec<_> = expected.difference(&found).collect();
        let extra: Vec<_> = found.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{year}: missing {missing:?}, extra {extra:?}"
        );
        for date in &expected {
            assert!(calendar.holiday_name(*date).is_some_and(|n| !n.is_empty()));
            assert!(
                calendar
                    .holiday_name_en(*date)
                    .is_some_and(|n| !n.is_empty())
            );
        }
    }
}

#[test]
fn substitute_holidays_and_citizens_holiday_are_named() {
    let calendar = HolidayCalendar::embedded();
    assert_eq!(
        calendar.holiday_name(date!(2027 - 03 - 22)),
        Some("春分の日 振替休日")
    );
    assert_eq!(
        calendar.holiday_name_en(date!(2027 - 03 - 22)),
        Some("Holiday in lieu")
    );
    assert_eq!(
        calendar.holiday_name(date!(2025 - 11 - 24)),
        Some("勤労感謝の日 振替休日")
    );
    assert_eq!(calendar.holiday_name(date!(2026 - 09 - 22)), Some("休日"));
    assert_eq!(
        calendar.holiday_name_en(date!(2026 - 01 - 01)),
        Some("New Year's Day")
    );
    // A Sunday that is no holiday, and the Monday after a holiday that was not on a Sunday.
    assert!(!calendar.is_public_holiday(date!(2026 - 03 - 22)));
    assert!(!calendar.is_public_holiday(date!(2026 - 03 - 23)));
}

#[test]
fn year_end_closure_is_december_31_to_january_3() {
    let calendar = HolidayCalendar::embedded();
    for date in [
        date!(2026 - 12 - 31),
        date!(2027 - 01 - 01),
        date!(2027 - 01 - 02),
        date!(2027 - 01 - 03),
        date!(2060 - 12 - 31),
    ] {
        assert!(calendar.is_year_end_closure(date), "{date}");
        assert!(calendar.is_bank_closed_day(date), "{date}");
    }
    for date in [date!(2026 - 12 - 30), date!(2027 - 01 - 04)] {
        assert!(!calendar.is_year_end_closure(date), "{date}");
        assert!(!calendar.is_bank_closed_day(date), "{date}");
    }
    // 1/2 and 1/3 are closures, not public holidays.
    assert!(!calendar.is_public_holiday(date!(2027 - 01 - 02)));
}

#[test]
fn weekends_are_not_bank_closed_days_here() {
    let calendar = HolidayCalendar::embedded();
    // Saturday 2026-06-13 and Sunday 2026-06-14: up to each centre's hours.
    assert!(!calendar.is_bank_closed_day(date!(2026 - 06 - 13)));
    assert!(!calendar.is_bank_closed_day(date!(2026 - 06 - 14)));
    assert!(calendar.is_bank_closed_day(date!(2026 - 05 - 06)));
}

#[test]
fn overrides_add_rename_and_remove_days() {
    let calendar = HolidayCalendar::with_overrides(
        &[
            (date!(2027 - 05 - 06), "臨時休日".to_owned()),
            (date!(2026 - 11 - 03), "創立記念日".to_owned()),
        ],
        &[date!(2027 - 11 - 23), date!(2027 - 01 - 01)],
    );
    assert_eq!(
        calendar.holiday_name(date!(2027 - 05 - 06)),
        Some("臨時休日")
    );
    assert_eq!(
        calendar.holiday_name_en(date!(2027 - 05 - 06)),
        Some("臨時休日")
    );
    assert_eq!(
        calendar.holiday_name(date!(2026 - 11 - 03)),
        Some("創立記念日")
    );
    assert!(!calendar.is_public_holiday(date!(2027 - 11 - 23)));
    assert!(!calendar.is_bank_closed_day(date!(2027 - 11 - 23)));
    // Removing 1/1 does not reopen the bank: the closure is law.
    assert!(!calendar.is_public_holiday(date!(2027 - 01 - 01)));
    assert!(calendar.is_bank_closed_day(date!(2027 - 01 - 01)));
    // Untouched days keep the embedded answer.
    assert_eq!(
        calendar.holiday_name(date!(2027 - 11 - 03)),
        Some("文化の日")
    );
    assert_eq!(
        HolidayCalendar::embedded().holiday_name(date!(2027 - 11 - 23)),
        Some("勤労感謝の日")
    );
}

#[test]
fn an_addition_wins_over_a_removal_of_the_same_day() {
    let calendar = HolidayCalendar::with_overrides(
        &[(date!(2027 - 11 - 23), "勤労感謝の日".to_owned())],
        &[date!(2027 - 11 - 23)],
    );
    assert!(calendar.is_public_holiday(date!(2027 - 11 - 23)));
}

#[test]
fn the_table_is_sorted_valid_and_covers_2000_to_2050() {
    assert_eq!(HolidayCalendar::covered_years(), 2000..=2050);
    let mut previous = None;
    for &(y, m, d, ja, en) in HOLIDAYS {
        let date = day(y, m, d);
        assert!(previous < Some(date), "{date} out of order");
        assert!(!ja.is_empty() && !en.is_empty(), "{date}");
        previous = Some(date);
    }
    // Every year has at least the fixed holidays.
    for year in HolidayCalendar::covered_years() {
        assert!(
            holidays_in(&HolidayCalendar::embedded(), year).len() >= 14,
            "{year}"
        );
    }
}

#[test]
fn outside_the_table_only_the_closure_is_known() {
    let calendar = HolidayCalendar::embedded();
    assert!(!calendar.is_public_holiday(date!(2051 - 01 - 01)));
    assert!(calendar.is_bank_closed_day(date!(2051 - 01 - 01)));
    assert!(!calendar.is_public_holiday(date!(1999 - 05 - 03)));
}
