//! Properties over arbitrary input: parsers never panic, whatever they accept is clean and
//! parses back to itself, and receipt numbers round-trip.

use madoguchi_domain::person::{
    BirthDate, EmailAddress, KanaName, KanjiName, PhoneNumber, PostalCode, Prefecture, Sex,
};
use madoguchi_domain::pin::{Pin, PinContext, PinFields};
use madoguchi_domain::profile::{BankProfile, BranchCode};
use madoguchi_domain::receipt::{ALPHABET, ReceiptNumber};
use madoguchi_domain::text::is_forbidden_char;
use proptest::prelude::*;
use time::{Date, Duration};

/// Arbitrary Unicode, or text made of what Japanese forms actually receive (kana of both
/// widths, full-width digits and dashes, spaces, line breaks, e-mail punctuation).
fn form_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ァ-ヶｦ-ﾟ０-９0-9ー－\\-/ 　\r\n\t@.a-zA-Z山田﨑\u{202E}]{0,40}",
    ]
}

/// What a stored reading may contain.
fn is_stored_kana(c: char) -> bool {
    matches!(c, 'ァ'..='ヶ' | 'ー' | '\u{3000}')
}

fn date() -> impl Strategy<Value = Date> {
    (1900i32..2100, 1u16..=365)
        .prop_map(|(year, day)| Date::from_ordinal_date(year, day).unwrap_or(Date::MIN))
}

proptest! {
    // Failures are reported, not written next to the sources.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(input in form_text(), other in form_text()) {
        let _ = KanjiName::parse(&input);
        let _ = KanaName::parse(&input).map(|k| k.to_zengin());
        let _ = BirthDate::parse(&input);
        let _ = BirthDate::parse_with_age(&input, Date::MAX, 0, u16::MAX);
        let _ = PostalCode::parse(&input);
        let _ = Prefecture::parse(&input);
        let _ = PhoneNumber::parse(&input);
        let _ = EmailAddress::parse(&input);
        let _ = Sex::parse(&input);
        let _ = BranchCode::parse(&input);
        let _ = ReceiptNumber::parse(&input);
        let _ = Pin::parse(&input, &other, &PinContext::default());
        let _ = Pin::parse_fields(PinFields::DEBIT_CARD, &other, &input, &PinContext::default());
        let _ = BankProfile::from_toml_str("x.toml", &input);
    }

    #[test]
    fn accepted_text_is_clean_and_parses_back_to_itself(input in form_text()) {
        if let Ok(name) = KanjiName::parse(&input) {
            prop_assert!(!name.as_str().chars().any(is_forbidden_char));
            prop_assert_eq!(KanjiName::parse(name.as_str()), Ok(name.clone()));
        }
        if let Ok(kana) = KanaName::parse(&input) {
            prop_assert!(kana.as_str().chars().all(is_stored_kana));
            prop_assert!(kana.to_zengin().chars().all(|c| matches!(c, 'ｦ' | 'ｱ'..='ﾝ' | 'ﾞ' | 'ﾟ' | '-' | ' ')));
            prop_assert_eq!(KanaName::parse(kana.as_str()), Ok(kana.clone()));
        }
        if let Ok(email) = EmailAddress::parse(&input) {
            prop_assert!(email.as_str().is_ascii() && !email.as_str().contains(' '));
            prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
        }
        if let Ok(phone) = PhoneNumber::parse(&input) {
            let digits = phone.digits();
            prop_assert!(digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(digits.len() == 10 || digits.len() == 11);
            prop_assert_eq!(PhoneNumber::parse(digits), Ok(phone.clone()));
        }
        if let Ok(postal) = PostalCode::parse(&input) {
            prop_assert_eq!(PostalCode::parse(&postal.to_string()), Ok(postal));
        }
        if let Ok(birth) = BirthDate::parse(&input) {
            prop_assert_eq!(BirthDate::parse(&birth.to_string()), Ok(birth));
        }
    }

    #[test]
    fn receipt_numbers_parse_however_they_are_typed(
        symbols in proptest::collection::vec(0usize..32, 12),
        lower in any::<bool>(),
        hyphens in any::<bool>(),
    ) {
        let canonical: String = symbols.iter().map(|&i| char::from(ALPHABET[i])).collect();
        let mut typed = if lower { canonical.to_lowercase() } else { canonical.clone() };
        if hyphens {
            typed.insert(8, '-');
            typed.insert(4, '-');
        }
        let parsed = ReceiptNumber::parse(&typed);
        prop_assert!(parsed.is_ok());
        let parsed = parsed.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(parsed.as_str().replace('-', ""), canonical);
        prop_assert_eq!(ReceiptNumber::parse(parsed.as_str()), Ok(parsed.clone()));
    }

    #[test]
    fn generated_receipt_numbers_round_trip(_round in 0u8..16) {
        let number = ReceiptNumber::generate();
        prop_assert!(number.is_ok());
        let number = number.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(ReceiptNumber::parse(number.as_str()), Ok(number.clone()));
    }

    #[test]
    fn dates_round_trip_and_age_grows_by_at_most_one_a_day(birth in date(), today in date()) {
        let text = format!("{:04}{:02}{:02}", birth.year(), u8::from(birth.month()), birth.day());
        let parsed = BirthDate::parse(&text);
        prop_assert_eq!(parsed.map(|b| b.date()), Ok(birth));
        let birth = BirthDate::parse(&text).unwrap_or_else(|_| unreachable!());
        let tomorrow = today + Duration::days(1);
        let (a, b) = (birth.age_on(today), birth.age_on(tomorrow));
        prop_assert!(b == a || b == a + 1);
    }

    #[test]
    fn accepted_pins_are_never_trivial(digits in "[0-9]{4}") {
        if Pin::parse(&digits, &digits, &PinContext::default()).is_ok() {
            let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
            prop_assert!(d.iter().any(|&x| x != d[0]));
            let up = d.windows(2).all(|w| (w[0] + 1) % 10 == w[1]);
            let down = d.windows(2).all(|w| (w[1] + 1) % 10 == w[0]);
            prop_assert!(!up && !down);
        }
    }
}
