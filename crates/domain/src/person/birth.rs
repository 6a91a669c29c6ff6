//! Birth date (生年月日) and age.

use std::fmt;

use time::{Date, Month};
use unicode_normalization::UnicodeNormalization;

use crate::era::{EraYear, era_year};
use crate::error::ErrorCode;
use crate::text::{ascii_digit_or_hyphen, is_forbidden_char};

/// A birth date that exists in the calendar.
///
/// Accepted input (after NFKC, so full-width digits are fine): `YYYY-MM-DD`, `YYYY/MM/DD`
/// (month and day may have one digit when separated) and `YYYYMMDD`. The browser's date
/// picker sends the first form.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct BirthDate(Date);

impl BirthDate {
    /// Parses a calendar date; `invalid-date` for any other text or a day that does not
    /// exist (2023-02-29).
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        if input.chars().count() > 32 {
            return Err(ErrorCode::InvalidDate);
        }
        if input.chars().any(is_forbidden_char) {
            return Err(ErrorCode::ControlCharacter);
        }
        let text: String = input.nfkc().map(ascii_digit_or_hyphen).collect();
        let text = text.trim();
        if text.is_empty() {
            return Err(ErrorCode::Required);
        }
        let (year, month, day) = split_date(text).ok_or(ErrorCode::InvalidDate)?;
        let month = Month::try_from(month).map_err(|_| ErrorCode::InvalidDate)?;
        Date::from_calendar_date(year, month, day)
            .map(Self)
            .map_err(|_| ErrorCode::InvalidDate)
    }

    /// Parses and checks the age on `today` against the bank's limits: `in-future` after
    /// today, `under-age` below `min_age`, `over-age` above `max_age`.
    pub fn parse_with_age(
        input: &str,
        today: Date,
        min_age: u16,
        max_age: u16,
    ) -> Result<Self, ErrorCode> {
        let birth = Self::parse(input)?;
        birth.check_age(today, min_age, max_age)?;
        Ok(birth)
    }

    /// Checks the age on `today`, as [`BirthDate::parse_with_age`] does.
    pub fn check_age(&self, today: Date, min_age: u16, max_age: u16) -> Result<(), ErrorCode> {
        if self.0 > today {
            return Err(ErrorCode::InFuture);
        }
        let age = self.age_on(today);
        if age < min_age {
            Err(ErrorCode::UnderAge)
        } else if age > max_age {
            Err(ErrorCode::OverAge)
        } else {
            Ok(())
        }
    }

    /// Age in full years on `today`, counted the everyday Japanese way (満年齢): one year
    /// older on each birthday; someone born on 29 February turns a year older on 1 March in
    /// common years. 0 for a date after `today`.
    pub fn age_on(&self, today: Date) -> u16 {
        if self.0 > today {
            return 0;
        }
        let mut years = today.year() - self.0.year();
        if (u8::from(today.month()), today.day()) < (u8::from(self.0.month()), self.0.day()) {
            years -= 1;
        }
        u16::try_from(years).unwrap_or(0)
    }

    /// The date.
    pub const fn date(&self) -> Date {
        self.0
    }

    /// The Japanese era year (和暦) of the date, if on or after the Meiji era.
    pub fn era_year(&self) -> Option<EraYear> {
        era_year(self.0)
    }
}

/// Splits `YYYY-M-D`, `YYYY/M/D` or `YYYYMMDD` into numbers.
fn split_date(text: &str) -> Option<(i32, u8, u8)> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (year, month, day) = if let Some(sep) = text.chars().find(|c| matches!(c, '-' | '/')) {
        let mut parts = text.split(sep);
        let parts = (parts.next()?, parts.next()?, parts.next()?, parts.next());
        match parts {
            (y, m, d, None) if m.len() <= 2 && d.len() <= 2 => (y, m, d),
            _ => return None,
        }
    } else if text.len() == 8 {
        (text.get(0..4)?, text.get(4..6)?, text.get(6..8)?)
    } else {
        return None;
    };
    if year.len() != 4 || !all_digits(year) || !all_digits(month) || !all_digits(day) {
        return None;
    }
    Some((year.parse().ok()?, month.parse().ok()?, day.parse().ok()?))
}

impl TryFrom<String> for BirthDate {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<BirthDate> for String {
    fn from(value: BirthDate) -> Self {
        value.to_string()
    }
}

impl fmt::Display for BirthDate {
    /// ISO 8601, `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn accepts_the_three_forms_and_full_width_digits() {
        let expected = Ok(BirthDate(date!(1993 - 05 - 01)));
        for input in [
            "1993-05-01",
            "1993/05/01",
            "19930501",
            "1993/5/1",
            " １９９３－０５－０１ ",
            "１９９３０５０１",
        ] {
            assert_eq!(BirthDate::parse(input), expected, "{input}");
        }
    }

    #[test]
    fn refuses_impossible_or_malformed_dates() {
        for input in [
            "2023-02-29",
            "2023-13-01",
            "2023-00-10",
            "2023-04-31",
            "93-05-01",
            "1993-05",
            "1993-05-01-02",
            "1993.05.01",
            "1993-5/1",
            "199305011",
            "1993-005-01",
            "abcd-ef-gh",
            "+993-05-01",
            "1993-05-1x",
        ] {
            assert_eq!(
                BirthDate::parse(input),
                Err(ErrorCode::InvalidDate),
                "{input}"
            );
        }
        assert_eq!(BirthDate::parse(""), Err(ErrorCode::Required));
        assert_eq!(
            BirthDate::parse("1993-05-01\n"),
            Err(ErrorCode::ControlCharacter)
        );
        assert!(BirthDate::parse("2024-02-29").is_ok());
    }

    #[test]
    fn displays_and_round_trips_iso() {
        let birth = BirthDate::parse("1993/5/1").expect("valid");
        assert_eq!(birth.to_string(), "1993-05-01");
        assert_eq!(BirthDate::try_from(birth.to_string()), Ok(birth));
    }

    #[test]
    fn age_changes_on_the_birthday_not_the_day_before() {
        let birth = BirthDate::parse("2008-06-15").expect("valid");
        assert_eq!(birth.age_on(date!(2026 - 06 - 14)), 17);
        assert_eq!(birth.age_on(date!(2026 - 06 - 15)), 18);
        let today_before = date!(2026 - 06 - 14);
        assert_eq!(
            BirthDate::parse_with_age("2008-06-15", today_before, 18, 120),
            Err(ErrorCode::UnderAge)
        );
        assert!(BirthDate::parse_with_age("2008-06-15", date!(2026 - 06 - 15), 18, 120).is_ok());
    }

    #[test]
    fn leap_day_birthdays_age_on_first_of_march_in_common_years() {
        let birth = BirthDate::parse("2008-02-29").expect("valid");
        assert_eq!(birth.age_on(date!(2026 - 02 - 28)), 17);
        assert_eq!(birth.age_on(date!(2026 - 03 - 01)), 18);
        assert_eq!(birth.age_on(date!(2028 - 02 - 29)), 20);
    }

    #[test]
    fn future_and_over_age() {
        let today = date!(2026 - 06 - 15);
        assert_eq!(
            BirthDate::parse_with_age("2026-06-16", today, 0, 120),
            Err(ErrorCode::InFuture)
        );
        assert!(BirthDate::parse_with_age("2026-06-15", today, 0, 120).is_ok());
        assert_eq!(
            BirthDate::parse_with_age("1905-06-15", today, 18, 120),
            Err(ErrorCode::OverAge)
        );
        assert!(BirthDate::parse_with_age("1905-06-16", today, 18, 120).is_ok());
        assert_eq!(
            BirthDate::parse("2026-06-16").map(|b| b.age_on(today)),
            Ok(0)
        );
    }

    #[test]
    fn era_year_of_birth_date() {
        let birth = BirthDate::parse("1993-05-01").expect("valid");
        assert_eq!(birth.era_year().map(|e| e.year), Some(5));
    }
}
