//! Japanese era years (和暦), as people write them on forms and sometimes choose as a PIN.
//!
//! A small table of era start dates, not date arithmetic: the era year is the Gregorian
//! year minus the era's first year plus one (元年 = 1).

use time::{Date, Month};

/// A Japanese era (元号) since the adoption of the Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// 明治, from 1868-10-23 (its first year counted from 1868-01-01 by decree).
    Meiji,
    /// 大正, from 1912-07-30.
    Taisho,
    /// 昭和, from 1926-12-25.
    Showa,
    /// 平成, from 1989-01-08.
    Heisei,
    /// 令和, from 2019-05-01.
    Reiwa,
}

/// Eras with their first day, latest first.
const ERAS: [(Era, i32, Month, u8); 5] = [
    (Era::Reiwa, 2019, Month::May, 1),
    (Era::Heisei, 1989, Month::January, 8),
    (Era::Showa, 1926, Month::December, 25),
    (Era::Taisho, 1912, Month::July, 30),
    (Era::Meiji, 1868, Month::October, 23),
];

impl Era {
    /// The era's name in kanji, e.g. 平成.
    pub const fn name_ja(self) -> &'static str {
        match self {
            Self::Meiji => "明治",
            Self::Taisho => "大正",
            Self::Showa => "昭和",
            Self::Heisei => "平成",
            Self::Reiwa => "令和",
        }
    }
}

/// A date's era and year within it (平成5年 is `EraYear { era: Heisei, year: 5 }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EraYear {
    /// The era in force on the date.
    pub era: Era,
    /// The year within the era, 1 for 元年.
    pub year: u16,
}

/// The era year of `date`, or `None` before the Meiji era.
pub fn era_year(date: Date) -> Option<EraYear> {
    ERAS.iter().find_map(|&(era, year, month, day)| {
        let start = Date::from_calendar_date(year, month, day).ok()?;
        if date < start {
            return None;
        }
        let era_year = u16::try_from(date.year() - year + 1).ok()?;
        Some(EraYear {
            era,
            year: era_year,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn ey(date: Date) -> Option<(Era, u16)> {
        era_year(date).map(|e| (e.era, e.year))
    }

    #[test]
    fn era_boundaries() {
        assert_eq!(ey(date!(1989 - 01 - 07)), Some((Era::Showa, 64)));
        assert_eq!(ey(date!(1989 - 01 - 08)), Some((Era::Heisei, 1)));
        assert_eq!(ey(date!(2019 - 04 - 30)), Some((Era::Heisei, 31)));
        assert_eq!(ey(date!(2019 - 05 - 01)), Some((Era::Reiwa, 1)));
        assert_eq!(ey(date!(1926 - 12 - 24)), Some((Era::Taisho, 15)));
        assert_eq!(ey(date!(1926 - 12 - 25)), Some((Era::Showa, 1)));
        assert_eq!(ey(date!(1912 - 07 - 30)), Some((Era::Taisho, 1)));
        assert_eq!(ey(date!(1912 - 07 - 29)), Some((Era::Meiji, 45)));
        assert_eq!(ey(date!(1868 - 10 - 22)), None);
    }

    #[test]
    fn ordinary_years() {
        assert_eq!(ey(date!(1993 - 05 - 01)), Some((Era::Heisei, 5)));
        assert_eq!(ey(date!(1975 - 11 - 30)), Some((Era::Showa, 50)));
        assert_eq!(ey(date!(2026 - 01 - 01)), Some((Era::Reiwa, 8)));
        assert_eq!(Era::Heisei.name_ja(), "平成");
    }
}
