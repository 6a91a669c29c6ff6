//! The visit booking form (来店予約): what the customer leaves besides the slot.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, Time};

use super::JST;
use crate::error::{ErrorCode, FieldErrors};
use crate::person::{EmailAddress, KanaName, KanjiName, PhoneNumber};
use crate::savings::{FormInput, optional, required};
use crate::text::BoundedText;

/// The names of the booking form's fields, identical to the keys of
/// [`BookingDetails::personal_fields`] where they are personal.
pub mod field {
    /// ご相談内容.
    pub const CONSULTATION: &str = "consultation";
    /// 氏名（姓）.
    pub const FAMILY_NAME: &str = "family_name";
    /// 氏名（名）.
    pub const GIVEN_NAME: &str = "given_name";
    /// フリガナ（セイ）.
    pub const FAMILY_NAME_KANA: &str = "family_name_kana";
    /// フリガナ（メイ）.
    pub const GIVEN_NAME_KANA: &str = "given_name_kana";
    /// 電話番号.
    pub const PHONE: &str = "phone";
    /// メールアドレス.
    pub const EMAIL: &str = "email";
    /// 当行とのお取引: "yes" or "no".
    pub const EXISTING_CUSTOMER: &str = "existing_customer";
    /// ご相談内容の補足 (optional).
    pub const NOTE: &str = "note";
    /// The slot, as its JST start `YYYY-MM-DDTHH:MM`.
    pub const SLOT: &str = "slot";
}

/// Longest note, in characters.
pub const NOTE_MAX: usize = 400;

/// What the customer wants to talk about (ご相談内容).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consultation {
    /// 住宅ローン.
    HousingLoan,
    /// 住宅ローンの借り換え.
    Refinancing,
    /// マイカーローン.
    CarLoan,
    /// 教育ローン.
    EducationLoan,
    /// フリーローン.
    FreeLoan,
    /// その他.
    Other,
}

impl Consultation {
    /// Every type, in the order the form lists them.
    pub const ALL: [Consultation; 6] = [
        Consultation::HousingLoan,
        Consultation::Refinancing,
        Consultation::CarLoan,
        Consultation::EducationLoan,
        Consultation::FreeLoan,
        Consultation::Other,
    ];

    /// The stable code used in forms, storage and the JSON API.
    pub fn as_str(self) -> &'static str {
        match self {
            Consultation::HousingLoan => "housing-loan",
            Consultation::Refinancing => "refinancing",
            Consultation::CarLoan => "car-loan",
            Consultation::EducationLoan => "education-loan",
            Consultation::FreeLoan => "free-loan",
            Consultation::Other => "other",
        }
    }

    /// Parses a code from [`Consultation::as_str`].
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        match input.trim() {
            "" => Err(ErrorCode::Required),
            code => Self::ALL
                .into_iter()
                .find(|c| c.as_str() == code)
                .ok_or(ErrorCode::InvalidChoice),
        }
    }
}

impl fmt::Display for Consultation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid booking form, without its slot (checked against the calendar separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingDetails {
    consultation: Consultation,
    family_name: KanjiName,
    given_name: KanjiName,
    family_name_kana: KanaName,
    given_name_kana: KanaName,
    phone: PhoneNumber,
    email: EmailAddress,
    existing_customer: bool,
    note: Option<BoundedText<NOTE_MAX>>,
}

impl BookingDetails {
    /// Parses the form, reporting every refused field at once.
    pub fn parse(form: &dyn FormInput) -> Result<Self, FieldErrors> {
        use field::*;
        let mut errors = FieldErrors::new();
        let consultation = errors.take(
            CONSULTATION,
            Consultation::parse(required(form, CONSULTATION)),
        );
        let family_name = errors.take(FAMILY_NAME, KanjiName::parse(required(form, FAMILY_NAME)));
        let given_name = errors.take(GIVEN_NAME, KanjiName::parse(required(form, GIVEN_NAME)));
        let family_name_kana = errors.take(
            FAMILY_NAME_KANA,
            KanaName::parse(required(form, FAMILY_NAME_KANA)),
        );
        let given_name_kana = errors.take(
            GIVEN_NAME_KANA,
            KanaName::parse(required(form, GIVEN_NAME_KANA)),
        );
        let phone = errors.take(PHONE, PhoneNumber::parse(required(form, PHONE)));
        let email = errors.take(EMAIL, EmailAddress::parse(required(form, EMAIL)));
        let existing_customer = errors.take(
            EXISTING_CUSTOMER,
            parse_yes_no(required(form, EXISTING_CUSTOMER)),
        );
        let note = errors.take(NOTE, parse_note(form));
        match (
            consultation,
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            phone,
            email,
            existing_customer,
            note,
        ) {
            (
                Some(consultation),
                Some(family_name),
                Some(given_name),
                Some(family_name_kana),
                Some(given_name_kana),
                Some(phone),
                Some(email),
                Some(existing_customer),
                Some(note),
            ) if errors.is_empty() => Ok(BookingDetails {
                consultation,
                family_name,
                given_name,
                family_name_kana,
                given_name_kana,
                phone,
                email,
                existing_customer,
                note,
            }),
            _ => Err(errors),
        }
    }

    /// The consultation type (operational: stored in clear for the centre's planning).
    pub fn consultation(&self) -> Consultation {
        self.consultation
    }

    /// The e-mail address the booking's messages go to.
    pub fn email(&self) -> &EmailAddress {
        &self.email
    }

    /// The full name for greetings and e-mails ("比嘉 花子").
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name.as_str(), self.given_name.as_str())
    }

    /// Every personal field by its form name, for encryption at rest (SPEC §6).
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        use field::*;
        let mut fields = vec![
            (FAMILY_NAME, self.family_name.as_str().to_owned()),
            (GIVEN_NAME, self.given_name.as_str().to_owned()),
            (FAMILY_NAME_KANA, self.family_name_kana.as_str().to_owned()),
            (GIVEN_NAME_KANA, self.given_name_kana.as_str().to_owned()),
            (PHONE, self.phone.to_string()),
            (EMAIL, self.email.to_string()),
            (
                EXISTING_CUSTOMER,
                if self.existing_customer { "yes" } else { "no" }.to_owned(),
            ),
        ];
        if let Some(note) = &self.note {
            fields.push((NOTE, note.to_string()));
        }
        fields
    }
}

/// Parses a slot's start as a form or the API sends it: `YYYY-MM-DDTHH:MM` in Japan time,
/// or an RFC 3339 timestamp with its offset.
pub fn parse_slot_start(input: &str) -> Result<OffsetDateTime, ErrorCode> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ErrorCode::Required);
    }
    if let Ok(at) = OffsetDateTime::parse(input, &Rfc3339) {
        return Ok(at.to_offset(JST));
    }
    PrimitiveDateTime::parse(
        input,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .map(|local| local.assume_offset(JST))
    .map_err(|_| ErrorCode::SlotNotOffered)
}

/// A slot's start as forms carry it: `YYYY-MM-DDTHH:MM` in Japan time.
pub fn format_slot_start(starts_at: OffsetDateTime) -> String {
    let local = starts_at.to_offset(JST);
    local
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .unwrap_or_default()
}

/// When the reminder of a visit is due: `hour` o'clock, Japan time, on the day before. `None`
/// when that moment is not after `now` (the confirmation has just told the customer).
pub fn reminder_due(
    starts_at: OffsetDateTime,
    hour: u8,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let day_before = starts_at.to_offset(JST).date().previous_day()?;
    let at = Time::from_hms(hour, 0, 0).ok()?;
    let due = PrimitiveDateTime::new(day_before, at).assume_offset(JST);
    (due > now).then_some(due)
}

/// Whether a booking may still be changed or cancelled by its link at `now`: until `cutoff`
/// before the visit.
pub fn may_change(starts_at: OffsetDateTime, now: OffsetDateTime, cutoff: Duration) -> bool {
    now + cutoff <= starts_at
}

fn parse_yes_no(input: &str) -> Result<bool, ErrorCode> {
    match input.trim() {
        "" => Err(ErrorCode::Required),
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(ErrorCode::InvalidChoice),
    }
}

/// A note may span lines in its text area; it is kept as one line (line breaks would be
/// refused as control characters, which a customer cannot see).
fn parse_note(form: &dyn FormInput) -> Result<Option<BoundedText<NOTE_MAX>>, ErrorCode> {
    optional(form, field::NOTE, |text| {
        let one_line: String = text
            .split(['\r', '\n'])
            .filter(|line| !line.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        BoundedText::parse(&one_line)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Form(HashMap<&'static str, &'static str>);

    impl FormInput for Form {
        fn get(&self, name: &str) -> Option<&str> {
            self.0.get(name).copied()
        }
        fn get_all(&self, name: &str) -> Vec<&str> {
            self.get(name).into_iter().collect()
        }
    }

    fn valid() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("consultation", "housing-loan"),
            ("family_name", "比嘉"),
            ("given_name", "花子"),
            ("family_name_kana", "ヒガ"),
            ("given_name_kana", "ハナコ"),
            ("phone", "090-1234-5678"),
            ("email", "hanako@example.jp"),
            ("existing_customer", "no"),
            ("note", "頭金について\r\n相談したいです"),
        ])
    }

    #[test]
    fn a_complete_form_parses_and_lists_its_personal_fields() {
        let details = BookingDetails::parse(&Form(valid())).unwrap();
        assert_eq!(details.consultation(), Consultation::HousingLoan);
        assert_eq!(details.display_name(), "比嘉 花子");
        let fields: HashMap<_, _> = details.personal_fields().into_iter().collect();
        assert_eq!(fields["note"], "頭金について 相談したいです");
        assert_eq!(fields["existing_customer"], "no");
        assert!(!fields.contains_key("consultation"));
    }

    #[test]
    fn every_refused_field_is_named_with_its_reason() {
        let mut form = valid();
        form.insert("consultation", "mortgage-fraud");
        form.insert("family_name_kana", "ひが");
        form.insert("phone", "12345");
        form.insert("email", "no-at-sign");
        form.remove("existing_customer");
        let errors = BookingDetails::parse(&Form(form)).unwrap_err();
        assert_eq!(errors.get("consultation"), Some(ErrorCode::InvalidChoice));
        assert_eq!(
            errors.get("family_name_kana"),
            Some(ErrorCode::NotFullWidthKatakana)
        );
        assert_eq!(errors.get("phone"), Some(ErrorCode::InvalidPhone));
        assert_eq!(errors.get("email"), Some(ErrorCode::InvalidEmail));
        assert_eq!(errors.get("existing_customer"), Some(ErrorCode::Required));
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn a_long_note_is_refused_and_a_missing_one_is_fine() {
        let long: &'static str = "あ".repeat(NOTE_MAX + 1).leak();
        let mut form = valid();
        form.insert("note", long);
        let errors = BookingDetails::parse(&Form(form)).unwrap_err();
        assert_eq!(errors.get("note"), Some(ErrorCode::TooLong));
        let mut form = valid();
        form.remove("note");
        assert!(BookingDetails::parse(&Form(form)).is_ok());
    }

    #[test]
    fn slot_starts_parse_in_japan_time_whatever_the_offset_given() {
        use time::macros::datetime;
        let jst = parse_slot_start("2026-12-01T10:00").unwrap();
        assert_eq!(jst, datetime!(2026-12-01 01:00 UTC));
        assert_eq!(
            parse_slot_start("2026-12-01T01:00:00Z").unwrap(),
            datetime!(2026-12-01 10:00 +9)
        );
        assert_eq!(format_slot_start(jst), "2026-12-01T10:00");
        assert_eq!(parse_slot_start(""), Err(ErrorCode::Required));
        for bad in [
            "2026-13-01T10:00",
            "tomorrow",
            "2026-12-01 10:00'; DROP TABLE",
        ] {
            assert_eq!(
                parse_slot_start(bad),
                Err(ErrorCode::SlotNotOffered),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_reminder_is_due_the_day_before_at_the_hour_in_japan() {
        use time::macros::datetime;
        let visit = datetime!(2026-12-03 09:00 +9);
        let due = reminder_due(visit, 10, datetime!(2026-11-30 00:00 UTC)).unwrap();
        assert_eq!(due, datetime!(2026-12-02 10:00 +9));
        // Booked after that moment: no reminder.
        assert_eq!(
            reminder_due(visit, 10, datetime!(2026-12-02 02:00 UTC)),
            None
        );
    }

    #[test]
    fn changes_close_at_the_cutoff() {
        use time::macros::datetime;
        let visit = datetime!(2026-12-03 09:00 +9);
        let cutoff = Duration::hours(24);
        assert!(may_change(visit, datetime!(2026-12-02 09:00 +9), cutoff));
        assert!(!may_change(
            visit,
            datetime!(2026-12-02 09:00:01 +9),
            cutoff
        ));
    }

    #[test]
    fn consultation_codes_round_trip() {
        for c in Consultation::ALL {
            assert_eq!(Consultation::parse(c.as_str()), Ok(c));
        }
        assert_eq!(Consultation::parse(" "), Err(ErrorCode::Required));
    }
}
