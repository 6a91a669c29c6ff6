//! Dates and times of visits as Japanese pages and e-mails write them, always in Japan time.

use madoguchi_domain::reservation::JST;
use time::{Date, OffsetDateTime, Weekday};

fn weekday_ja(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "月",
        Weekday::Tuesday => "火",
        Weekday::Wednesday => "水",
        Weekday::Thursday => "木",
        Weekday::Friday => "金",
        Weekday::Saturday => "土",
        Weekday::Sunday => "日",
    }
}

/// 12月1日（火）
pub fn day_label(date: Date) -> String {
    format!(
        "{}月{}日（{}）",
        u8::from(date.month()),
        date.day(),
        weekday_ja(date.weekday())
    )
}

/// 2026年12月1日（火）
pub fn full_day_label(date: Date) -> String {
    format!("{}年{}", date.year(), day_label(date))
}

/// 10:00 (Japan time)
pub fn clock(at: OffsetDateTime) -> String {
    let local = at.to_offset(JST);
    format!("{}:{:02}", local.hour(), local.minute())
}

/// 2026年12月1日（火）10:00〜11:00
pub fn visit_time(starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> String {
    format!(
        "{} {}〜{}",
        full_day_label(starts_at.to_offset(JST).date()),
        clock(starts_at),
        clock(ends_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn visits_are_written_in_japan_time() {
        assert_eq!(
            visit_time(
                datetime!(2026-12-01 00:30 UTC),
                datetime!(2026-12-01 01:30 UTC)
            ),
            "2026年12月1日（火） 9:30〜10:30"
        );
    }
}
