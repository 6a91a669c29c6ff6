use proptest::prelude::*;

use super::*;

struct Applicant {
    birth: BirthDate,
    phone: PhoneNumber,
    account: AccountNumber,
    family_kana: KanaName,
    given_kana: KanaName,
    family: KanjiName,
    given: KanjiName,
}

impl Applicant {
    fn new(family: &str, given: &str, family_kana: &str, given_kana: &str) -> Applicant {
        Applicant {
            birth: BirthDate::parse("1993-05-01").expect("valid"),
            phone: PhoneNumber::parse("090-1234-8252").expect("valid"),
            account: AccountNumber::parse("12345").expect("valid"),
            family_kana: KanaName::parse(family_kana).expect("valid"),
            given_kana: KanaName::parse(given_kana).expect("valid"),
            family: KanjiName::parse(family).expect("valid"),
            given: KanjiName::parse(given).expect("valid"),
        }
    }

    fn higa() -> Applicant {
        Applicant::new("比嘉", "花子", "ヒガ", "ハナコ")
    }

    fn context<'a>(&'a self, other: &[&'a str]) -> PasswordContext<'a> {
        PasswordContext {
            birth_date: Some(&self.birth),
            phones: vec![&self.phone],
            account_number: Some(&self.account),
            name_readings: vec![&self.family_kana, &self.given_kana],
            names: vec![&self.family, &self.given],
            other_inputs: other.to_vec(),
        }
    }

    fn code(&self, password: &str) -> Option<ErrorCode> {
        self.code_with(password, &[])
    }

    fn code_with(&self, password: &str, other: &[&str]) -> Option<ErrorCode> {
        LogonPassword::parse(password, password, &self.context(other))
            .err()
            .map(|e| {
                assert_eq!(e.field, "logon_password");
                e.code
            })
    }
}

#[test]
fn random_passwords_of_every_allowed_length_are_accepted() {
    let a = Applicant::higa();
    for password in [
        "kT9#vQ2m",
        "7kq2m9xa4htd",
        "Sh1sa-Mabui",
        "Q7v!x2Lp9#mT4wZr8&nB3kD6yH1sF5jC",
    ] {
        assert_eq!(a.code(password), None, "{password}");
    }
    let ok = LogonPassword::parse("kT9#vQ2m", "kT9#vQ2m", &a.context(&[])).expect("accepted");
    assert_eq!(ok.expose_for_sealing(), b"kT9#vQ2m");
    assert_eq!(format!("{ok:?}"), "LogonPassword(****)");
}

#[test]
fn length_and_characters() {
    let a = Applicant::higa();
    assert_eq!(a.code(""), Some(ErrorCode::Required));
    assert_eq!(a.code("kT9#vQ2"), Some(ErrorCode::PasswordTooShort));
    assert_eq!(
        a.code("Q7v!x2Lp9#mT4wZr8&nB3kD6yH1sF5jCx"),
        Some(ErrorCode::PasswordTooLong)
    );
    assert_eq!(
        a.code(&"x7".repeat(50_000)),
        Some(ErrorCode::PasswordTooLong)
    );
    for bad in [
        "kT9 vQ2mx",
        "ｋT9#vQ2m",
        "パスワード1234abcd",
        "kT9#vQ2mé",
        " kT9#vQ2m",
    ] {
        assert_eq!(
            a.code(bad),
            Some(ErrorCode::PasswordInvalidCharacter),
            "{bad}"
        );
    }
    assert_eq!(a.code("kT9#vQ2m\n"), Some(ErrorCode::ControlCharacter));
    assert_eq!(
        a.code("kT9#\u{202E}vQ2m"),
        Some(ErrorCode::ControlCharacter)
    );
    for bad in ["abcdefghijk", "8402751963", "!#$%&*+=?@^"] {
        assert_eq!(
            a.code(bad),
            Some(ErrorCode::PasswordLettersAndDigits),
            "{bad}"
        );
    }
}

#[test]
fn the_birth_date_in_any_usual_form_is_refused() {
    // Born 1993-05-01, 平成5年.
    let a = Applicant::higa();
    for bad in [
        "xQ7!19930501",
        "xQ7!930501",
        "Zk#0501mqw",
        "Zk#0105mqw",
        "Zk#1993mqw",
        "1993/05/01Zk",
        "1993-05-01Zk",
        "Zk#199351mq",
        "Zk#9351mqwx",
        "Zk#050501mq",
        "Zk#H05mqw7x",
        "Zk#h50501mq",
    ] {
        assert_eq!(
            a.code(bad),
            Some(ErrorCode::PasswordContainsBirthDate),
            "{bad}"
        );
    }
}

#[test]
fn phone_digits_and_the_account_number_are_refused() {
    let a = Applicant::higa();
    for bad in ["Zk#8252mqX", "09012348252Zk", "Zk090-1234-8252"] {
        assert_eq!(a.code(bad), Some(ErrorCode::PasswordContainsPhone), "{bad}");
    }
    for bad in ["Zk#0012345q", "Zk#12345qwx"] {
        assert_eq!(
            a.code(bad),
            Some(ErrorCode::PasswordContainsAccountNumber),
            "{bad}"
        );
    }
    // Four digits of the account number alone are not the account number.
    assert_eq!(a.code("Zk#2345qw7x!"), None);
}

#[test]
fn the_name_in_roman_letters_is_refused_in_every_spelling() {
    let a = Applicant::higa();
    for bad in [
        "higa#7Zkq2",
        "HANAKO#7zq",
        "hanakohiga7!",
        "7!HigaHanako",
        "Hana-ko#7zq",
    ] {
        assert_eq!(a.code(bad), Some(ErrorCode::PasswordContainsName), "{bad}");
    }
    let cho = Applicant::new("張", "優子", "チョウ", "ユウコ");
    for bad in [
        "cho#7Zkq2x",
        "chou#7Zkq2",
        "choh#7Zkq2",
        "tyou#7Zkq2",
        "yuko7#Zkq2",
        "yuuko7#Zkq",
    ] {
        assert_eq!(
            cho.code(bad),
            Some(ErrorCode::PasswordContainsName),
            "{bad}"
        );
    }
    let shuri = Applicant::new("首里", "蒼", "シュリ", "ソウ");
    assert_eq!(
        shuri.code("Shuri#7Zkq"),
        Some(ErrorCode::PasswordContainsName)
    );
    assert_eq!(
        shuri.code("Syuri#7Zkq"),
        Some(ErrorCode::PasswordContainsName)
    );
    assert_eq!(
        shuri.code("so#7Zkq2xw"),
        None,
        "two letters are not checked"
    );
    let honma = Applicant::new("本間", "一", "ホンマ", "ハジメ");
    assert_eq!(
        honma.code("homma#7Zkq"),
        Some(ErrorCode::PasswordContainsName)
    );
    let latin = Applicant::new("Smith", "John", "スミス", "ジョン");
    assert_eq!(
        latin.code("SMITH#7zkq"),
        Some(ErrorCode::PasswordContainsName)
    );
    assert_eq!(
        latin.code("sumisu#7Zk"),
        Some(ErrorCode::PasswordContainsName)
    );
}

#[test]
fn guessable_passwords_are_weak_and_user_inputs_count() {
    let a = Applicant::higa();
    for weak in [
        "Password1",
        "Abcd1234!",
        "Iloveyou2",
        "okinawa2024",
        "qwerty123",
    ] {
        assert_eq!(a.code(weak), Some(ErrorCode::PasswordWeak), "{weak}");
    }
    assert_eq!(a.code("Madoguchi2026"), None);
    assert_eq!(
        a.code_with("Madoguchi2026", &["まどぐち銀行 Madoguchi Bank"]),
        Some(ErrorCode::PasswordWeak)
    );
}

#[test]
fn the_confirmation_must_match_and_specific_reasons_come_first() {
    let a = Applicant::higa();
    let mismatch = LogonPassword::parse("kT9#vQ2m", "kT9#vQ2n", &a.context(&[]));
    assert_eq!(
        mismatch.err(),
        Some(FieldError::new(
            "logon_password_confirm",
            ErrorCode::PasswordMismatch
        ))
    );
    // A weak password is reported on the password even when the confirmation differs.
    let both = LogonPassword::parse("Password1", "x", &a.context(&[]));
    assert_eq!(both.err().map(|e| e.code), Some(ErrorCode::PasswordWeak));
    // "higa1993" is a name and a birth year: the birth date is reported, not "weak".
    assert_eq!(
        a.code("higa1993"),
        Some(ErrorCode::PasswordContainsBirthDate)
    );
}

fn filler() -> impl Strategy<Value = String> {
    "[a-zA-Z!#%&*+=?@^]{0,10}"
}

proptest! {
    /// No accepted password contains the birth date: whatever surrounds one of its forms, the
    /// password is refused, for the birth date if nothing more basic is wrong.
    #[test]
    fn no_accepted_password_contains_the_birth_date(
        days in 0i64..36_000,
        which in any::<prop::sample::Index>(),
        prefix in filler(),
        suffix in filler(),
    ) {
        let date = time::macros::date!(1910 - 01 - 01) + time::Duration::days(days);
        let birth = BirthDate::parse(&date.to_string()).expect("valid");
        let forms = birth_date_forms(&birth);
        let form = which.get(&forms);
        let password = format!("{prefix}{form}{suffix}");
        let ctx = PasswordContext { birth_date: Some(&birth), ..PasswordContext::default() };
        let refused = LogonPassword::parse(&password, &password, &ctx).expect_err("refused");
        prop_assert!(matches!(
            refused.code,
            ErrorCode::PasswordContainsBirthDate
                | ErrorCode::PasswordTooShort
                | ErrorCode::PasswordLettersAndDigits
        ), "{password}: {:?}", refused.code);
    }

    /// Every accepted password leaves out every form of the birth date.
    #[test]
    fn accepted_passwords_hold_no_birth_date_form(
        days in 0i64..36_000,
        password in "[a-zA-Z0-9!#%&*+=?@^/-]{8,20}",
    ) {
        let date = time::macros::date!(1910 - 01 - 01) + time::Duration::days(days);
        let birth = BirthDate::parse(&date.to_string()).expect("valid");
        let ctx = PasswordContext { birth_date: Some(&birth), ..PasswordContext::default() };
        if LogonPassword::parse(&password, &password, &ctx).is_ok() {
            let compact: String = password.chars().filter(|c| !matches!(c, '-' | '/')).collect();
            for form in birth_date_forms(&birth) {
                prop_assert!(!password.to_ascii_lowercase().contains(&form), "{password} holds {form}");
                prop_assert!(!compact.to_ascii_lowercase().contains(&form), "{password} holds {form}");
            }
        }
    }

    /// A name reading of two or more syllables, in any case, inside a password, is refused.
    #[test]
    fn no_accepted_password_contains_the_name(
        syllables in prop::collection::vec(prop::sample::select(vec![
            'カ', 'キ', 'シ', 'チ', 'ツ', 'ナ', 'ハ', 'フ', 'マ', 'ヨ', 'ラ', 'ワ', 'ガ', 'ジ', 'ド', 'ボ', 'ピ',
        ]), 2..5),
        upper in any::<bool>(),
        prefix in filler(),
    ) {
        let reading: String = syllables.into_iter().collect();
        let kana = KanaName::parse(&reading).expect("valid");
        let mut spelled = romaji::hepburn(&reading).expect("romanizes");
        if upper {
            spelled = spelled.to_ascii_uppercase();
        }
        let password = format!("{prefix}{spelled}7#q");
        let ctx = PasswordContext { name_readings: vec![&kana], ..PasswordContext::default() };
        let refused = LogonPassword::parse(&password, &password, &ctx).expect_err("refused");
        prop_assert!(matches!(
            refused.code,
            ErrorCode::PasswordContainsName | ErrorCode::PasswordTooShort | ErrorCode::PasswordTooLong
        ), "{password}: {:?}", refused.code);
    }
}
