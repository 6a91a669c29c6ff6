//! Step お客さま情報 of the applications for an existing account (internet banking, debit
//! card): the account holder's name, reading, birth date and phone, which the bank matches
//! against the account, and the age rules of each product.

use time::{Date, Month};

use crate::error::{ErrorCode, FieldErrors};
use crate::person::{BirthDate, KanaName, KanjiName, PhoneNumber};
use crate::pin::PinContext;
use crate::profile::ApplicationRules;
use crate::savings::FormInput;

/// The form field names of the step.
pub mod field {
    pub use crate::savings::field::{
        BIRTH_DATE, FAMILY_NAME, FAMILY_NAME_KANA, GIVEN_NAME, GIVEN_NAME_KANA,
    };
    /// 電話番号 (the one registered with the account).
    pub const PHONE: &str = "phone";
}

use field::*;

/// Who may apply, by age on the day of the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeRule {
    /// Youngest age accepted (満年齢).
    pub min_age: u16,
    /// Oldest plausible age; above it is a typo.
    pub max_age: u16,
    /// Refuse junior high school pupils (中学生を除く), whatever their age; see
    /// [`junior_high_or_younger`].
    pub excludes_junior_high: bool,
}

impl AgeRule {
    /// Internet banking: the profile's `savings_min_age` (18 in the demo bank: since 2022 the
    /// age of majority, below which a contract needs a guardian's consent that an online form
    /// cannot collect) up to `max_age`.
    pub fn internet_banking(rules: &ApplicationRules) -> AgeRule {
        AgeRule {
            min_age: rules.savings_min_age(),
            max_age: rules.max_age(),
            excludes_junior_high: false,
        }
    }

    /// Visa debit card: the profile's `debit_card_min_age` (15 in the demo bank) up to
    /// `max_age`, junior high school pupils excluded, as Japanese banks word it: 「15歳以上
    /// （中学生を除く）」.
    pub fn debit_card(rules: &ApplicationRules) -> AgeRule {
        AgeRule {
            min_age: rules.debit_card_min_age(),
            max_age: rules.max_age(),
            excludes_junior_high: true,
        }
    }

    /// Checks a birth date against the rule on `today`: `in-future`, `under-age`,
    /// `over-age`, then `junior-high-student`.
    pub fn check(&self, birth: &BirthDate, today: Date) -> Result<(), ErrorCode> {
        birth.check_age(today, self.min_age, self.max_age)?;
        if self.excludes_junior_high && junior_high_or_younger(birth.date(), today) {
            return Err(ErrorCode::JuniorHighStudent);
        }
        Ok(())
    }
}

/// Whether someone born on `birth` is, on `today`, at most in the last year of junior high
/// school (中学3年生) by their birth cohort.
///
/// Japanese school years run from 1 April to 31 March, and a child starts school in the April
/// after turning six, counted the legal way (an age is reached on the day before the
/// birthday, so those born on 1 April join the older cohort: 学校教育法 §17, 年齢計算ニ関スル
/// 法律). The pupils of 中学3年 in the school year that began on 1 April of year Y are those
/// born from 2 April Y−15 to 1 April Y−14; so someone has left junior high school exactly
/// when born on or before 1 April Y−15.
///
/// This is the cohort rule: it cannot know of the rare pupil who started school a year late
/// or repeated a year, whom the branch can still serve in person.
pub fn junior_high_or_younger(birth: Date, today: Date) -> bool {
    let school_year = if today.month() >= Month::April {
        today.year()
    } else {
        today.year() - 1
    };
    match Date::from_calendar_date(school_year - 15, Month::April, 1) {
        Ok(last_birth_day_of_leavers) => birth > last_birth_day_of_leavers,
        Err(_) => false,
    }
}

/// The account holder as the bank knows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerStep {
    family_name: KanjiName,
    given_name: KanjiName,
    family_name_kana: KanaName,
    given_name_kana: KanaName,
    birth_date: BirthDate,
    phone: PhoneNumber,
}

impl CustomerStep {
    /// Parses the step's form, the birth date checked against `age` on `today`.
    pub fn parse(form: &dyn FormInput, today: Date, age: AgeRule) -> Result<Self, FieldErrors> {
        let text = |name: &str| form.get(name).unwrap_or("");
        let mut errors = FieldErrors::new();
        let family_name = errors.take(FAMILY_NAME, KanjiName::parse(text(FAMILY_NAME)));
        let given_name = errors.take(GIVEN_NAME, KanjiName::parse(text(GIVEN_NAME)));
        let family_name_kana =
            errors.take(FAMILY_NAME_KANA, KanaName::parse(text(FAMILY_NAME_KANA)));
        let given_name_kana = errors.take(GIVEN_NAME_KANA, KanaName::parse(text(GIVEN_NAME_KANA)));
        let birth_date = errors.take(
            BIRTH_DATE,
            BirthDate::parse(text(BIRTH_DATE))
                .and_then(|birth| age.check(&birth, today).map(|()| birth)),
        );
        let phone = errors.take(PHONE, PhoneNumber::parse(text(PHONE)));
        match (
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            birth_date,
            phone,
        ) {
            (
                Some(family_name),
                Some(given_name),
                Some(family_name_kana),
                Some(given_name_kana),
                Some(birth_date),
                Some(phone),
            ) => Ok(Self {
                family_name,
                given_name,
                family_name_kana,
                given_name_kana,
                birth_date,
                phone,
            }),
            _ => Err(errors),
        }
    }

    /// Family name, a space, given name ("比嘉 花子"), for greetings and e-mails.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name, self.given_name)
    }

    /// 氏名（姓）.
    pub fn family_name(&self) -> &KanjiName {
        &self.family_name
    }

    /// 氏名（名）.
    pub fn given_name(&self) -> &KanjiName {
        &self.given_name
    }

    /// フリガナ（セイ）.
    pub fn family_name_kana(&self) -> &KanaName {
        &self.family_name_kana
    }

    /// フリガナ（メイ）.
    pub fn given_name_kana(&self) -> &KanaName {
        &self.given_name_kana
    }

    /// 生年月日.
    pub fn birth_date(&self) -> &BirthDate {
        &self.birth_date
    }

    /// 電話番号.
    pub fn phone(&self) -> &PhoneNumber {
        &self.phone
    }

    /// What a PIN must not be made of: the birth date and the phone (no address is asked).
    pub fn pin_context(&self) -> PinContext<'_> {
        PinContext {
            birth_date: Some(&self.birth_date),
            phones: vec![&self.phone],
            address_digit_runs: Vec::new(),
        }
    }

    /// Every field as (form field name, plaintext), in form order; they parse back.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            (FAMILY_NAME, self.family_name.to_string()),
            (GIVEN_NAME, self.given_name.to_string()),
            (FAMILY_NAME_KANA, self.family_name_kana.to_string()),
            (GIVEN_NAME_KANA, self.given_name_kana.to_string()),
            (BIRTH_DATE, self.birth_date.to_string()),
            (PHONE, self.phone.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 25);

    fn rules() -> AgeRule {
        AgeRule {
            min_age: 15,
            max_age: 120,
            excludes_junior_high: true,
        }
    }

    fn form() -> Vec<(&'static str, String)> {
        [
            (FAMILY_NAME, "比嘉"),
            (GIVEN_NAME, "花子"),
            (FAMILY_NAME_KANA, "ﾋｶﾞ"),
            (GIVEN_NAME_KANA, "ハナコ"),
            (BIRTH_DATE, "１９９３/５/１"),
            (PHONE, "090-1234-8252"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
    }

    fn with(name: &'static str, value: &str) -> Vec<(&'static str, String)> {
        let mut f = form();
        f.retain(|(k, _)| *k != name);
        f.push((name, value.to_owned()));
        f
    }

    fn birth_error(birth: &str, today: Date) -> Option<ErrorCode> {
        CustomerStep::parse(&with(BIRTH_DATE, birth), today, rules())
            .err()
            .and_then(|e| e.get(BIRTH_DATE))
    }

    #[test]
    fn the_step_parses_normalizes_and_round_trips() {
        let step = CustomerStep::parse(&form(), TODAY, rules()).expect("valid");
        assert_eq!(step.family_name_kana().as_str(), "ヒガ");
        assert_eq!(step.birth_date().to_string(), "1993-05-01");
        assert_eq!(step.phone().digits(), "09012348252");
        assert_eq!(step.display_name(), "比嘉 花子");
        let fields = step.personal_fields();
        assert_eq!(
            fields.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [
                FAMILY_NAME,
                GIVEN_NAME,
                FAMILY_NAME_KANA,
                GIVEN_NAME_KANA,
                BIRTH_DATE,
                PHONE
            ]
        );
        assert_eq!(CustomerStep::parse(&fields, TODAY, rules()), Ok(step));
    }

    #[test]
    fn an_empty_form_reports_every_field() {
        let empty: Vec<(&str, &str)> = Vec::new();
        let errors = CustomerStep::parse(&empty, TODAY, rules()).expect_err("refused");
        assert_eq!(errors.len(), 6);
        assert!(errors.iter().all(|e| e.code == ErrorCode::Required));
        let errors =
            CustomerStep::parse(&with(PHONE, "098-123"), TODAY, rules()).expect_err("refused");
        assert_eq!(errors.get(PHONE), Some(ErrorCode::InvalidPhone));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn junior_high_pupils_are_refused_by_cohort() {
        // School year 2026 began on 2026-04-01: its 中学3年 were born 2011-04-02..=2012-04-01.
        assert!(!junior_high_or_younger(date!(2011 - 04 - 01), TODAY));
        assert!(junior_high_or_younger(date!(2011 - 04 - 02), TODAY));
        assert!(junior_high_or_younger(date!(2012 - 04 - 01), TODAY));
        // Before 1 April the school year is still the previous one.
        assert!(junior_high_or_younger(
            date!(2010 - 04 - 02),
            date!(2026 - 03 - 31)
        ));
        assert!(!junior_high_or_younger(
            date!(2010 - 04 - 02),
            date!(2026 - 04 - 01)
        ));
        // Born 2011-04-01: high school (高校1年) and 15 years old: accepted.
        assert_eq!(birth_error("2011-04-01", TODAY), None);
        // Born 2011-04-02: 15 since April but still 中学3年.
        assert_eq!(
            birth_error("2011-04-02", TODAY),
            Some(ErrorCode::JuniorHighStudent)
        );
        // 14 years old: under age comes first.
        assert_eq!(birth_error("2012-01-10", TODAY), Some(ErrorCode::UnderAge));
        // In April a first-year high school pupil may still be 14: under age.
        assert_eq!(
            birth_error("2011-10-01", date!(2026 - 04 - 10)),
            Some(ErrorCode::UnderAge)
        );
        let no_rule = AgeRule {
            excludes_junior_high: false,
            ..rules()
        };
        assert!(CustomerStep::parse(&with(BIRTH_DATE, "2011-04-02"), TODAY, no_rule).is_ok());
    }

    proptest! {
        /// Whoever the debit-card rule accepts is at least 15 and has left junior high school
        /// before the current school year began.
        #[test]
        fn accepted_applicants_have_left_junior_high(days in 0i64..60_000, today_offset in 0i64..3_650) {
            let today = date!(2020 - 01 - 01) + time::Duration::days(today_offset);
            let birth = date!(1900 - 01 - 01) + time::Duration::days(days);
            let Ok(birth) = BirthDate::parse(&birth.to_string()) else { return Ok(()); };
            if rules().check(&birth, today).is_ok() {
                prop_assert!(birth.age_on(today) >= 15);
                // Their cohort finished 中学3年 on the last 31 March.
                let school_year = if today.month() >= Month::April { today.year() } else { today.year() - 1 };
                let sixteenth_birth_year = birth.date().year() + 16;
                let april_cohort = birth.date().month() < Month::April
                    || (birth.date().month() == Month::April && birth.date().day() == 1);
                let entered_high_school = if april_cohort { sixteenth_birth_year - 1 } else { sixteenth_birth_year };
                prop_assert!(entered_high_school <= school_year);
            }
        }
    }
}
