use super::*;
use crate::person::{Address, AddressBuilding, AddressLine, Prefecture};

fn birth(s: &str) -> BirthDate {
    BirthDate::parse(s).expect("valid birth date")
}

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s).expect("valid phone")
}

fn check(pin: &str, ctx: &PinContext<'_>) -> Result<Vec<u8>, FieldError> {
    Pin::parse(pin, pin, ctx).map(|p| p.expose_for_sealing().to_vec())
}

fn code(pin: &str, ctx: &PinContext<'_>) -> Option<ErrorCode> {
    check(pin, ctx).err().map(|e| e.code)
}

#[test]
fn accepts_a_good_pin_with_full_width_digits_and_spaces() {
    let ctx = PinContext::default();
    assert_eq!(check("4071", &ctx), Ok(b"4071".to_vec()));
    assert_eq!(
        Pin::parse("４０７１", " 4071 ", &ctx).map(|p| p.expose_for_sealing().to_vec()),
        Ok(b"4071".to_vec())
    );
}

#[test]
fn refuses_anything_but_four_digits() {
    let ctx = PinContext::default();
    for bad in [
        "",
        "407",
        "40712",
        "40a1",
        "4 071",
        "４０７",
        "-407",
        "٤٠٧١",
        "4071\n5",
    ] {
        let error = check(bad, &ctx).err();
        assert_eq!(
            error,
            Some(FieldError::new(
                "cash_card_pin",
                ErrorCode::PinNotFourDigits
            )),
            "{bad:?}"
        );
    }
}

#[test]
fn mismatch_is_reported_on_the_confirmation_field() {
    let ctx = PinContext::default();
    for confirmation in ["4072", "", "407", "abcd"] {
        let error = Pin::parse("4071", confirmation, &ctx).err();
        assert_eq!(
            error,
            Some(FieldError::new(
                "cash_card_pin_confirm",
                ErrorCode::PinMismatch
            ))
        );
    }
    let error = Pin::parse_fields(PinFields::DEBIT_CARD, "4071", "4017", &ctx).err();
    assert_eq!(
        error,
        Some(FieldError::new(
            "debit_card_pin_confirm",
            ErrorCode::PinMismatch
        ))
    );
}

#[test]
fn refuses_same_digits() {
    let ctx = PinContext::default();
    for d in 0..10 {
        let pin = d.to_string().repeat(4);
        assert_eq!(code(&pin, &ctx), Some(ErrorCode::PinSameDigits), "{pin}");
    }
    assert_eq!(code("1112", &ctx), None);
}

#[test]
fn refuses_runs_up_and_down_including_wrap_around() {
    let ctx = PinContext::default();
    for pin in [
        "0123", "1234", "6789", "7890", "8901", "9012", "9876", "3210", "0987", "1098", "2109",
    ] {
        assert_eq!(code(pin, &ctx), Some(ErrorCode::PinSequence), "{pin}");
    }
    for pin in ["1235", "1357", "2468", "1243", "9875"] {
        assert_eq!(code(pin, &ctx), None, "{pin}");
    }
}

#[test]
fn refuses_birth_date_forms_including_japanese_era_year() {
    // 1993-05-01 is 平成5年5月1日.
    let b = birth("1993-05-01");
    let ctx = PinContext {
        birth_date: Some(&b),
        ..PinContext::default()
    };
    for pin in [
        "1993", // YYYY
        "0501", // MMDD
        "0105", // DDMM
        "9305", // YYMM
        "0593", // MMYY
        "9301", // YYDD
        "0193", // DDYY
        "0505", // era year + month (平成05年05月), also MM + era year
        "0105", // day + era year
        "9351", // YY M D
        "5193", // M D YY
        "0551", // era year M D
        "5105", // M D era year
    ] {
        assert_eq!(code(pin, &ctx), Some(ErrorCode::PinBirthDate), "{pin}");
    }
    for pin in ["1994", "0502", "9306", "0506", "4071"] {
        assert_eq!(code(pin, &ctx), None, "{pin}");
    }
    // Without the birth date in the context, the same PIN is allowed.
    assert_eq!(code("0501", &PinContext::default()), None);
}

#[test]
fn era_year_follows_the_era_boundaries() {
    // 1989-01-07 is 昭和64年: era year 64 with month 01 or day 07.
    let showa = birth("1989-01-07");
    let ctx = PinContext {
        birth_date: Some(&showa),
        ..PinContext::default()
    };
    assert_eq!(code("6401", &ctx), Some(ErrorCode::PinBirthDate));
    assert_eq!(code("0764", &ctx), Some(ErrorCode::PinBirthDate));
    // 1989-01-08 is 平成元年: era year 01, so 0108 and 0801 but not 6401.
    let heisei = birth("1989-01-08");
    let ctx = PinContext {
        birth_date: Some(&heisei),
        ..PinContext::default()
    };
    assert_eq!(code("6401", &ctx), None);
    assert_eq!(code("0801", &ctx), Some(ErrorCode::PinBirthDate));
    // Reiwa: born 2020-12-24 is 令和2年: 0212 (era year + month), 2402 (day + era year).
    let reiwa = birth("2020-12-24");
    let ctx = PinContext {
        birth_date: Some(&reiwa),
        ..PinContext::default()
    };
    assert_eq!(code("0212", &ctx), Some(ErrorCode::PinBirthDate));
    assert_eq!(code("2402", &ctx), Some(ErrorCode::PinBirthDate));
    assert_eq!(code("2020", &ctx), Some(ErrorCode::PinBirthDate));
    assert_eq!(code("1224", &ctx), Some(ErrorCode::PinBirthDate));
    // Showa 50 = 1975: 5011 (era year + month).
    let showa50 = birth("1975-11-30");
    let ctx = PinContext {
        birth_date: Some(&showa50),
        ..PinContext::default()
    };
    assert_eq!(code("5011", &ctx), Some(ErrorCode::PinBirthDate));
    assert_eq!(code("3050", &ctx), Some(ErrorCode::PinBirthDate));
    // Two-digit month and day: no single-digit compact forms.
    assert_eq!(code("7513", &ctx), None);
}

#[test]
fn refuses_last_four_digits_of_any_phone() {
    let (home, mobile) = (phone("098-123-4071"), phone("090-1111-8252"));
    let ctx = PinContext {
        phones: vec![&home, &mobile],
        ..PinContext::default()
    };
    assert_eq!(code("4071", &ctx), Some(ErrorCode::PinPhoneDigits));
    assert_eq!(code("8252", &ctx), Some(ErrorCode::PinPhoneDigits));
    assert_eq!(code("0981", &ctx), None);
}

#[test]
fn refuses_address_digits() {
    let address = Address::new(
        Prefecture::parse("47").expect("valid"),
        AddressLine::parse("那覇市安里４０７１番地").expect("valid"),
        AddressBuilding::parse_optional(Some("メゾン 82-52")).expect("valid"),
    );
    let ctx = PinContext {
        address_digit_runs: address.digit_runs(),
        ..PinContext::default()
    };
    assert_eq!(code("4071", &ctx), Some(ErrorCode::PinAddressDigits));
    assert_eq!(code("8252", &ctx), Some(ErrorCode::PinAddressDigits));
    assert_eq!(code("5282", &ctx), None);
}

#[test]
fn debug_never_shows_the_digits() {
    let pin = Pin::parse("4071", "4071", &PinContext::default()).expect("valid");
    assert_eq!(format!("{pin:?}"), "Pin(****)");
    assert_eq!(format!("{pin:#?}"), "Pin(****)");
}
