use std::collections::HashMap;

use time::Date;
use time::macros::date;

use super::field::*;
use super::*;
use crate::error::{ErrorCode, FieldError};
use crate::profile::BankProfile;

const TODAY: Date = date!(2026 - 06 - 15);

fn personal_form() -> Vec<(&'static str, String)> {
    [
        (FAMILY_NAME, "比嘉"),
        (GIVEN_NAME, "花子"),
        (FAMILY_NAME_KANA, "ﾋｶﾞ"),
        (GIVEN_NAME_KANA, "ハナコ"),
        (BIRTH_DATE, "1993-05-01"),
        (SEX, "female"),
        (POSTAL_CODE, "９００－０００５"),
        (PREFECTURE, "47"),
        (ADDRESS_LINE, "那覇市天久１２３番地"),
        (ADDRESS_BUILDING, "ハイツ天久 2806"),
        (PHONE_HOME, ""),
        (PHONE_MOBILE, "０９０－１２３４－８２５２"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn with(
    mut form: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| *k != name);
    form.push((name, value.to_owned()));
    form
}

fn personal_error(form: &dyn FormInput, field: &str) -> Option<ErrorCode> {
    match PersonalStep::parse(form, TODAY, 18, 120) {
        Ok(_) => None,
        Err(errors) => errors.get(field),
    }
}

fn profile_form() -> Vec<(&'static str, String)> {
    [
        (OCCUPATION, "company-employee"),
        (EMPLOYER_NAME, "株式会社まどぐち商事"),
        (EMPLOYER_PHONE, "098-123-4567"),
        (PURPOSES, "salary-pension"),
        (PURPOSES, "living-expenses"),
        (PURPOSES, "salary-pension"),
        (NATIONALITY, "JP"),
        (TAX_RESIDENCE, "japan-only"),
        (US_PERSON, "no"),
        (FOREIGN_PEP, "no"),
        (ANTI_SOCIAL_DECLARATION, "yes"),
        (CONSENT_TERMS, "yes"),
        (CONSENT_PRIVACY, "yes"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn profile_error(form: &dyn FormInput, field: &str) -> Option<ErrorCode> {
    ProfileStep::parse(form)
        .err()
        .and_then(|errors| errors.get(field))
}

fn demo_profile() -> BankProfile {
    BankProfile::from_toml_str("demo", include_str!("../../../../config/demo-bank.toml"))
        .expect("demo profile")
}

#[test]
fn a_complete_personal_step_parses_and_normalizes() {
    let step = PersonalStep::parse(&personal_form(), TODAY, 18, 120).expect("valid form");
    assert_eq!(step.family_name_kana().as_str(), "ヒガ");
    assert_eq!(step.postal_code().to_string(), "900-0005");
    assert_eq!(step.phone_mobile().map(|p| p.digits()), Some("09012348252"));
    assert!(step.phone_home().is_none());
    assert_eq!(step.address().prefecture().name_ja(), "沖縄県");
    assert_eq!(step.birth_date().to_string(), "1993-05-01");
    assert_eq!(step.display_name(), "比嘉 花子");
}

#[test]
fn personal_fields_use_form_names_and_parse_back() {
    let step = PersonalStep::parse(&personal_form(), TODAY, 18, 120).expect("valid form");
    let fields = step.personal_fields();
    let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            FAMILY_NAME,
            GIVEN_NAME,
            FAMILY_NAME_KANA,
            GIVEN_NAME_KANA,
            BIRTH_DATE,
            SEX,
            POSTAL_CODE,
            PREFECTURE,
            ADDRESS_LINE,
            ADDRESS_BUILDING,
            PHONE_MOBILE
        ]
    );
    assert!(fields.contains(&(PREFECTURE, "47".to_owned())));
    assert_eq!(PersonalStep::parse(&fields, TODAY, 18, 120), Ok(step));
}

#[test]
fn an_empty_personal_form_reports_every_required_field() {
    let empty: Vec<(&str, &str)> = Vec::new();
    let errors = PersonalStep::parse(&empty, TODAY, 18, 120).expect_err("refused");
    for name in [
        FAMILY_NAME,
        GIVEN_NAME,
        FAMILY_NAME_KANA,
        GIVEN_NAME_KANA,
        BIRTH_DATE,
        SEX,
        POSTAL_CODE,
        PREFECTURE,
        ADDRESS_LINE,
    ] {
        assert_eq!(errors.get(name), Some(ErrorCode::Required), "{name}");
    }
    assert_eq!(errors.get(ADDRESS_BUILDING), None);
    assert_eq!(errors.get(PHONE_HOME), None);
    assert_eq!(errors.get(PHONE_MOBILE), Some(ErrorCode::PhoneRequired));
    assert_eq!(errors.len(), 10);
}

#[test]
fn personal_field_rules_are_applied() {
    let form = personal_form();
    assert_eq!(
        personal_error(&with(form.clone(), FAMILY_NAME, "比嘉\r\n"), FAMILY_NAME),
        Some(ErrorCode::ControlCharacter)
    );
    assert_eq!(
        personal_error(&with(form.clone(), GIVEN_NAME, "花\n子"), GIVEN_NAME),
        Some(ErrorCode::ControlCharacter)
    );
    assert_eq!(
        personal_error(
            &with(form.clone(), GIVEN_NAME_KANA, "はなこ"),
            GIVEN_NAME_KANA
        ),
        Some(ErrorCode::NotFullWidthKatakana)
    );
    assert_eq!(
        personal_error(
            &with(form.clone(), FAMILY_NAME, &"比".repeat(21)),
            FAMILY_NAME
        ),
        Some(ErrorCode::TooLong)
    );
    assert_eq!(
        personal_error(&with(form.clone(), BIRTH_DATE, "2023-02-29"), BIRTH_DATE),
        Some(ErrorCode::InvalidDate)
    );
    assert_eq!(
        personal_error(&with(form.clone(), SEX, "unknown"), SEX),
        Some(ErrorCode::InvalidChoice)
    );
    assert_eq!(
        personal_error(&with(form.clone(), POSTAL_CODE, "900-05"), POSTAL_CODE),
        Some(ErrorCode::InvalidPostalCode)
    );
    assert_eq!(
        personal_error(&with(form.clone(), PREFECTURE, "48"), PREFECTURE),
        Some(ErrorCode::InvalidChoice)
    );
    assert_eq!(
        personal_error(
            &with(form.clone(), ADDRESS_BUILDING, &"a".repeat(61)),
            ADDRESS_BUILDING
        ),
        Some(ErrorCode::TooLong)
    );
    assert_eq!(
        personal_error(&with(form.clone(), PHONE_HOME, "098-123-456"), PHONE_HOME),
        Some(ErrorCode::InvalidPhone)
    );
}

#[test]
fn age_limit_turns_on_the_birthday() {
    let form = with(personal_form(), BIRTH_DATE, "2008-06-16");
    assert_eq!(personal_error(&form, BIRTH_DATE), Some(ErrorCode::UnderAge));
    let form = with(personal_form(), BIRTH_DATE, "2008-06-15");
    assert_eq!(personal_error(&form, BIRTH_DATE), None);
    assert!(PersonalStep::parse(&form, TODAY, 18, 120).is_ok());
}

#[test]
fn one_phone_is_enough_and_a_bad_one_is_not_reported_twice() {
    let home_only = with(
        with(personal_form(), PHONE_MOBILE, " "),
        PHONE_HOME,
        "098-867-5309",
    );
    let step = PersonalStep::parse(&home_only, TODAY, 18, 120).expect("home phone only");
    assert_eq!(step.phone_home().map(|p| p.digits()), Some("0988675309"));
    let bad_mobile = with(personal_form(), PHONE_MOBILE, "090-1234");
    let errors = PersonalStep::parse(&bad_mobile, TODAY, 18, 120).expect_err("refused");
    assert_eq!(errors.get(PHONE_MOBILE), Some(ErrorCode::InvalidPhone));
    assert_eq!(errors.len(), 1);
}

#[test]
fn steps_survive_a_draft_round_trip_and_drafts_are_reparsed() {
    let step = PersonalStep::parse(&personal_form(), TODAY, 18, 120).expect("valid form");
    let draft = toml::to_string(&step).expect("serializable");
    assert_eq!(toml::from_str::<PersonalStep>(&draft).ok(), Some(step));
    let tampered = draft.replace("ハナコ", "はなこ");
    assert_ne!(tampered, draft);
    assert!(toml::from_str::<PersonalStep>(&tampered).is_err());
    let profile = ProfileStep::parse(&profile_form()).expect("valid form");
    let draft = toml::to_string(&profile).expect("serializable");
    assert_eq!(toml::from_str::<ProfileStep>(&draft).ok(), Some(profile));
}

#[test]
fn a_complete_profile_step_parses() {
    let step = ProfileStep::parse(&profile_form()).expect("valid form");
    assert_eq!(step.occupation(), Occupation::CompanyEmployee);
    assert_eq!(
        step.purposes(),
        [Purpose::LivingExpenses, Purpose::SalaryPension]
    );
    assert_eq!(step.nationality(), &Nationality::Japan);
    assert_eq!(step.tax_residence(), &TaxResidence::JapanOnly);
    assert!(!step.us_person() && !step.foreign_pep());
    assert_eq!(ProfileStep::parse(&step.personal_fields()), Ok(step));
}

#[test]
fn employer_is_required_only_for_employed_occupations() {
    let no_employer = with(with(profile_form(), EMPLOYER_NAME, ""), EMPLOYER_PHONE, "");
    for occupation in Occupation::ALL {
        let form = with(no_employer.clone(), OCCUPATION, occupation.as_str());
        let expected = occupation
            .requires_employer()
            .then_some(ErrorCode::Required);
        assert_eq!(
            profile_error(&form, EMPLOYER_NAME),
            expected,
            "{occupation}"
        );
        assert_eq!(
            profile_error(&form, EMPLOYER_PHONE),
            expected,
            "{occupation}"
        );
    }
    let student = with(
        with(no_employer, OCCUPATION, "student"),
        EMPLOYER_PHONE,
        "12345",
    );
    assert_eq!(
        profile_error(&student, EMPLOYER_PHONE),
        Some(ErrorCode::InvalidPhone)
    );
}

#[test]
fn purposes_need_one_valid_choice_and_other_needs_text() {
    let mut none = profile_form();
    none.retain(|(k, _)| *k != PURPOSES);
    assert_eq!(profile_error(&none, PURPOSES), Some(ErrorCode::Required));
    let bad = with(none.clone(), PURPOSES, "gambling");
    assert_eq!(
        profile_error(&bad, PURPOSES),
        Some(ErrorCode::InvalidChoice)
    );
    let other = with(none.clone(), PURPOSES, "other");
    assert_eq!(
        profile_error(&other, PURPOSE_OTHER),
        Some(ErrorCode::Required)
    );
    let described = with(other, PURPOSE_OTHER, "仕送りの受取");
    let step = ProfileStep::parse(&described).expect("valid");
    assert_eq!(
        step.purpose_other().map(|t| t.as_str()),
        Some("仕送りの受取")
    );
    let too_long = with(described, PURPOSE_OTHER, &"あ".repeat(101));
    assert_eq!(
        profile_error(&too_long, PURPOSE_OTHER),
        Some(ErrorCode::TooLong)
    );
    // Text for "other" without choosing "other" is dropped, not kept.
    let stray = with(profile_form(), PURPOSE_OTHER, "x");
    assert_eq!(
        ProfileStep::parse(&stray).map(|s| s.purpose_other().is_none()),
        Ok(true)
    );
}

#[test]
fn nationality_and_tax_residence_other_need_details() {
    let other = with(profile_form(), NATIONALITY, "other");
    assert_eq!(
        profile_error(&other, NATIONALITY_COUNTRY),
        Some(ErrorCode::Required)
    );
    let step = ProfileStep::parse(&with(other, NATIONALITY_COUNTRY, "ブラジル")).expect("valid");
    assert!(
        matches!(step.nationality(), Nationality::Other { country } if country.as_str() == "ブラジル")
    );
    assert_eq!(
        profile_error(&with(profile_form(), NATIONALITY, "jp"), NATIONALITY),
        Some(ErrorCode::InvalidChoice)
    );
    let tax = with(profile_form(), TAX_RESIDENCE, "other");
    assert_eq!(
        profile_error(&tax, TAX_COUNTRIES),
        Some(ErrorCode::Required)
    );
    let tax = with(tax, TAX_COUNTRIES, "アメリカ合衆国");
    let step = ProfileStep::parse(&with(tax.clone(), FOREIGN_TIN, "123-45-6789")).expect("valid");
    assert_eq!(ProfileStep::parse(&step.personal_fields()), Ok(step));
    assert!(ProfileStep::parse(&tax).is_ok());
}

#[test]
fn declarations_must_be_answered_and_accepted() {
    for name in [US_PERSON, FOREIGN_PEP] {
        assert_eq!(
            profile_error(&with(profile_form(), name, ""), name),
            Some(ErrorCode::Required)
        );
        assert_eq!(
            profile_error(&with(profile_form(), name, "maybe"), name),
            Some(ErrorCode::InvalidChoice)
        );
    }
    let pep = ProfileStep::parse(&with(profile_form(), FOREIGN_PEP, "yes")).expect("valid");
    assert!(pep.foreign_pep());
    for name in [ANTI_SOCIAL_DECLARATION, CONSENT_TERMS, CONSENT_PRIVACY] {
        assert_eq!(
            profile_error(&with(profile_form(), name, "no"), name),
            Some(ErrorCode::MustAccept)
        );
        let mut missing = profile_form();
        missing.retain(|(k, _)| *k != name);
        assert_eq!(profile_error(&missing, name), Some(ErrorCode::MustAccept));
    }
}

#[test]
fn branch_must_be_one_of_the_profile() {
    let profile = demo_profile();
    let parse = |code: &str| BranchStep::parse(&[(BRANCH_CODE, code)], &profile);
    let step = parse("102").expect("known branch");
    assert_eq!(step.branch(&profile).map(|b| b.name()), Some("那覇支店"));
    assert_eq!(
        parse("１０２").map(|s| s.branch_code().to_string()),
        Ok("102".to_owned())
    );
    for bad in ["999", "10", "abc", "1020"] {
        assert_eq!(
            parse(bad),
            Err(FieldError::new(BRANCH_CODE, ErrorCode::UnknownBranch).into()),
            "{bad}"
        );
    }
    assert_eq!(
        parse(""),
        Err(FieldError::new(BRANCH_CODE, ErrorCode::Required).into())
    );
    assert_eq!(
        step.personal_fields(),
        vec![(BRANCH_CODE, "102".to_owned())]
    );
}

#[test]
fn cash_card_pin_is_checked_against_the_personal_step() {
    let personal = PersonalStep::parse(&personal_form(), TODAY, 18, 120).expect("valid form");
    let pin = |value: &str| {
        parse_cash_card_pin(
            &[(CASH_CARD_PIN, value), (CASH_CARD_PIN_CONFIRM, value)],
            &personal,
        )
    };
    let code = |value: &str| pin(value).err().map(|e| (e.field, e.code));
    assert_eq!(
        code("8252"),
        Some((CASH_CARD_PIN, ErrorCode::PinPhoneDigits))
    );
    assert_eq!(
        code("2806"),
        Some((CASH_CARD_PIN, ErrorCode::PinAddressDigits))
    );
    assert_eq!(code("0505"), Some((CASH_CARD_PIN, ErrorCode::PinBirthDate)));
    assert_eq!(code("1993"), Some((CASH_CARD_PIN, ErrorCode::PinBirthDate)));
    assert_eq!(code("4071"), None);
    let mismatch = parse_cash_card_pin(
        &[(CASH_CARD_PIN, "4071"), (CASH_CARD_PIN_CONFIRM, "4070")],
        &personal,
    );
    assert_eq!(
        mismatch.err(),
        Some(FieldError::new(
            CASH_CARD_PIN_CONFIRM,
            ErrorCode::PinMismatch
        ))
    );
    assert_eq!(crate::pin::PinFields::CASH_CARD.pin, CASH_CARD_PIN);
    assert_eq!(
        crate::pin::PinFields::CASH_CARD.confirmation,
        CASH_CARD_PIN_CONFIRM
    );
}

#[test]
fn the_assembled_application_lists_all_fields_once_in_form_order() {
    let application = SavingsApplication {
        personal: PersonalStep::parse(&personal_form(), TODAY, 18, 120).expect("valid"),
        profile: ProfileStep::parse(&profile_form()).expect("valid"),
        branch: BranchStep::parse(&[(BRANCH_CODE, "101")], &demo_profile()).expect("valid"),
    };
    let fields = application.personal_fields();
    assert_eq!(fields.first().map(|f| f.0), Some(FAMILY_NAME));
    assert_eq!(fields.last(), Some(&(BRANCH_CODE, "101".to_owned())));
    assert_eq!(fields.iter().filter(|(k, _)| *k == PURPOSES).count(), 2);
    assert!(fields.iter().all(|(k, _)| !k.contains("pin")));
    let draft = toml::to_string(&application).expect("serializable");
    assert_eq!(
        toml::from_str::<SavingsApplication>(&draft).ok(),
        Some(application)
    );
}

#[test]
fn a_hash_map_form_works_too() {
    let mut form: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in profile_form() {
        form.entry(k.to_owned()).or_default().push(v);
    }
    assert_eq!(FormInput::get(&form, PURPOSES), Some("salary-pension"));
    assert_eq!(FormInput::get_all(&form, PURPOSES).len(), 3);
    assert_eq!(FormInput::get_all(&form, "missing"), Vec::<&str>::new());
    assert!(ProfileStep::parse(&form).is_ok());
}
