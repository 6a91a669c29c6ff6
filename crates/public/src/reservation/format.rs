//! Dates and times as pages and e-mails write them, in Japanese or English, always in Japan
//! time. The one place that knows these forms.

use madoguchi_domain::reservation::JST;
use time::{Date, Month, OffsetDateTime, Weekday};

use crate::messages::Lang;

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

fn weekday_en(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

fn month_en(month: Month) -> &'static str {
    match month {
        Month::January => "Jan",
        Month::February => "Feb",
        Month::March => "Mar",
        Month::April => "Apr",
        Month::May => "May",
        Month::June => "Jun",
        Month::July => "Jul",
        Month::August => "Aug",
        Month::September => "Sep",
        Month::October => "Oct",
        Month::November => "Nov",
        Month::December => "Dec",
    }
}

/// 12月1日（火） · Tue 1 Dec
pub fn day_label(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!(
            "{}月{}日（{}）",
            u8::from(date.month()),
            date.day(),
            weekday_ja(date.weekday())
        ),
        Lang::En => format!(
            "{} {} {}",
            weekday_en(date.weekday()),
            date.day(),
            month_en(date.month())
        ),
    }
}

/// 2026年12月1日（火） · Tue 1 Dec 2026
pub fn full_day_label(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{}年{}", date.year(), day_label(date, lang)),
        Lang::En => format!("{} {}", day_label(date, lang), date.year()),
    }
}

/// 2026年12月1日 · 1 Dec 2026 (a date without its weekday)
pub fn date_label(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!(
            "{}年{}月{}日",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
        Lang::En => format!("{} {} {}", date.day(), month_en(date.month()), date.year()),
    }
}

/// 10:00 (Japan time)
pub fn clock(at: OffsetDateTime) -> String {
    let local = at.to_offset(JST);
    format!("{}:{:02}", local.hour(), local.minute())
}

/// 9:30〜10:30 · 9:30–10:30
pub fn time_range(starts_at: OffsetDateTime, ends_at: OffsetDateTime, lang: Lang) -> String {
    let dash = match lang {
        Lang::Ja => "〜",
        Lang::En => "–",
    };
    format!("{}{dash}{}", clock(starts_at), clock(ends_at))
}

/// 2026年12月1日（火） 10:00〜11:00 · Tue 1 Dec 2026, 10:00–11:00 (JST)
pub fn visit_time(starts_at: OffsetDateTime, ends_at: OffsetDateTime, lang: Lang) -> String {
    let day = full_day_label(starts_at.to_offset(JST).date(), lang);
    let times = time_range(starts_at, ends_at, lang);
    match lang {
        Lang::Ja => format!("{day} {times}"),
        Lang::En => format!("{day}, {times} (JST)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn visits_are_written_in_japan_time() {
        let (from, to) = (
            datetime!(2026-12-01 00:30 UTC),
            datetime!(2026-12-01 01:30 UTC),
        );
        assert_eq!(
            visit_time(from, to, Lang::Ja),
            "2026年12月1日（火） 9:30〜10:30"
        );
        assert_eq!(
            visit_time(from, to, Lang::En),
            "Tue 1 Dec 2026, 9:30–10:30 (JST)"
        );
    }

    #[test]
    fn the_day_is_the_day_in_japan() {
        // 23:30 UTC on 30 November is already 1 December in Japan.
        let (from, to) = (
            datetime!(2026-11-30 23:30 UTC),
            datetime!(2026-12-01 00:30 UTC),
        );
        assert_eq!(
            visit_time(from, to, Lang::En),
            "Tue 1 Dec 2026, 8:30–9:30 (JST)"
        );
    }

    #[test]
    fn dates_in_both_languages() {
        assert_eq!(day_label(date!(2027 - 01 - 04), Lang::Ja), "1月4日（月）");
        assert_eq!(day_label(date!(2027 - 01 - 04), Lang::En), "Mon 4 Jan");
        assert_eq!(date_label(date!(2026 - 03 - 31), Lang::Ja), "2026年3月31日");
        assert_eq!(date_label(date!(2026 - 03 - 31), Lang::En), "31 Mar 2026");
    }
}
