use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::account::field::{ACCOUNT_NUMBER, ACCOUNT_TYPE, BRANCH_CODE};
use crate::customer::AgeRule;
use crate::customer::field::*;
use crate::profile::BankProfile;

fn parse(input: &str) -> Result<String, ErrorCode> {
    EmbossedName::parse(input).map(|n| n.to_string())
}

#[test]
fn embossed_names_are_normalized_where_unambiguous() {
    for (input, expected) in [
        ("HANAKO HIGA", "HANAKO HIGA"),
        ("hanako higa", "HANAKO HIGA"),
        ("ＨＡＮＡＫＯ　ＨＩＧＡ", "HANAKO HIGA"),
        ("  Hanako   Higa ", "HANAKO HIGA"),
        ("TARO ŌSHIRO", "TARO OSHIRO"),
        ("Yūko Chō", "YUKO CHO"),
        ("MARY O’NEIL", "MARY O'NEIL"),
        ("JEAN-LUC PICARD", "JEAN-LUC PICARD"),
        ("JOHN F. KENNEDY", "JOHN F. KENNEDY"),
        ("ABCDEFGHIJKLM NOPQRSTUVWXY", "ABCDEFGHIJKLM NOPQRSTUVWXY"),
    ] {
        assert_eq!(parse(input), Ok(expected.to_owned()), "{input}");
    }
}

#[test]
fn other_embossed_names_are_refused_with_the_reason() {
    for bad in [
        "花子 比嘉",
        "ハナコ ヒガ",
        "HANAKO HIGA2",
        "HANAKO_HIGA",
        "MÜLLER ANNA",
        "JOSÉ SILVA",
        "HANAKO .HIGA",
        "-HANAKO HIGA",
        "HANAKO・HIGA",
        "HANAKO,HIGA",
    ] {
        assert_eq!(
            parse(bad),
            Err(ErrorCode::EmbossedNameInvalidCharacter),
            "{bad}"
        );
    }
    assert_eq!(
        parse("ABCDEFGHIJKLM NOPQRSTUVWXYZ"),
        Err(ErrorCode::EmbossedNameTooLong)
    );
    assert_eq!(
        parse(&"A ".repeat(10_000)),
        Err(ErrorCode::EmbossedNameTooLong)
    );
    assert_eq!(parse("HANAKO"), Err(ErrorCode::EmbossedNameIncomplete));
    assert_eq!(parse("　"), Err(ErrorCode::Required));
    assert_eq!(parse("HANAKO\tHIGA"), Err(ErrorCode::ControlCharacter));
    assert_eq!(
        format!("{:?}", EmbossedName::parse("HANAKO HIGA").expect("valid")),
        "EmbossedName(11 characters)"
    );
}

proptest! {
    /// Whatever is typed, an accepted name fits the card: at most 26 characters of A–Z, space
    /// and `.-'`, two words or more, each starting with a letter.
    #[test]
    fn accepted_names_fit_the_card(input in "\\PC{0,40}") {
        if let Ok(name) = EmbossedName::parse(&input) {
            let text = name.as_str();
            prop_assert!(text.len() <= 26);
            prop_assert!(text.chars().all(|c| c.is_ascii_uppercase() || matches!(c, ' ' | '.' | '-' | '\'')));
            prop_assert!(text.split(' ').count() >= 2);
            prop_assert!(text.split(' ').all(|w| w.starts_with(|c: char| c.is_ascii_uppercase())));
            prop_assert_eq!(EmbossedName::parse(text).map(|n| n.to_string()), Ok(text.to_owned()));
        }
    }
}

fn customer(family_kana: &str, given_kana: &str) -> CustomerStep {
    let form = [
        (FAMILY_NAME, "比嘉"),
        (GIVEN_NAME, "花子"),
        (FAMILY_NAME_KANA, family_kana),
        (GIVEN_NAME_KANA, given_kana),
        (BIRTH_DATE, "1993-05-01"),
        (PHONE, "090-1234-8252"),
    ];
    let rule = AgeRule {
        min_age: 15,
        max_age: 120,
        excludes_junior_high: true,
    };
    CustomerStep::parse(&form, date!(2026 - 11 - 25), rule).expect("valid")
}

#[test]
fn the_suggested_name_is_the_passport_spelling_given_name_first() {
    let suggest = |f: &str, g: &str| EmbossedName::suggest(&customer(f, g)).map(|n| n.to_string());
    assert_eq!(suggest("ヒガ", "ハナコ"), Some("HANAKO HIGA".to_owned()));
    assert_eq!(
        suggest("オオシロ", "ユウコ"),
        Some("YUKO OSHIRO".to_owned())
    );
    assert_eq!(
        suggest("ホンマ", "シュウイチ"),
        Some("SHUICHI HOMMA".to_owned())
    );
    assert_eq!(
        suggest("ナカンダカリ", "アレクサンドリアキャサリン"),
        None,
        "too long for the card: the applicant writes it"
    );
}

#[test]
fn the_debit_card_pin_follows_the_weak_pin_rules_on_its_own_fields() {
    let customer = customer("ヒガ", "ハナコ");
    let code = |pin: &str, again: &str| {
        parse_debit_card_pin(
            &[(DEBIT_CARD_PIN, pin), (DEBIT_CARD_PIN_CONFIRM, again)],
            &customer,
        )
        .err()
        .map(|e| (e.field, e.code))
    };
    assert_eq!(code("4071", "4071"), None);
    assert_eq!(
        code("8252", "8252"),
        Some((DEBIT_CARD_PIN, ErrorCode::PinPhoneDigits))
    );
    assert_eq!(
        code("0501", "0501"),
        Some((DEBIT_CARD_PIN, ErrorCode::PinBirthDate))
    );
    assert_eq!(
        code("1111", "1111"),
        Some((DEBIT_CARD_PIN, ErrorCode::PinSameDigits))
    );
    assert_eq!(
        code("4071", "4072"),
        Some((DEBIT_CARD_PIN_CONFIRM, ErrorCode::PinMismatch))
    );
    assert_eq!(PinFields::DEBIT_CARD.pin, DEBIT_CARD_PIN);
    assert_eq!(PinFields::DEBIT_CARD.confirmation, DEBIT_CARD_PIN_CONFIRM);
}

#[test]
fn the_application_lists_every_personal_field_once_and_no_pin() {
    let profile =
        BankProfile::from_toml_str("demo", include_str!("../../../../config/demo-bank.toml"))
            .expect("demo profile");
    let account = crate::account::AccountStep::parse(
        &[
            (BRANCH_CODE, "101"),
            (ACCOUNT_TYPE, "ordinary"),
            (ACCOUNT_NUMBER, "1234567"),
        ],
        &profile,
    )
    .expect("valid");
    let card = CardStep::parse(&[(EMBOSSED_NAME, "hanako higa")]).expect("valid");
    let application = DebitCardApplication {
        customer: customer("ヒガ", "ハナコ"),
        account,
        card: card.clone(),
    };
    let fields = application.personal_fields();
    let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            FAMILY_NAME,
            GIVEN_NAME,
            FAMILY_NAME_KANA,
            GIVEN_NAME_KANA,
            BIRTH_DATE,
            PHONE,
            BRANCH_CODE,
            ACCOUNT_TYPE,
            ACCOUNT_NUMBER,
            EMBOSSED_NAME
        ]
    );
    assert!(fields.iter().all(|(k, _)| !k.contains("pin")));
    assert_eq!(CardStep::parse(&card.personal_fields()), Ok(card));
    let draft = toml::to_string(&application).expect("serializable");
    assert_eq!(
        toml::from_str::<DebitCardApplication>(&draft).ok(),
        Some(application)
    );
}
