use super::*;
use crate::calendar::HolidayCalendar;
use time::macros::{date, time};
use time::{Duration, Weekday};

const DEMO: &str = include_str!("../../../../config/demo-bank.toml");

fn demo() -> BankProfile {
    match BankProfile::from_toml_str("demo-bank.toml", DEMO) {
        Ok(profile) => profile,
        Err(e) => panic!("demo profile refused: {e}"),
    }
}

/// Replaces the first `from` in the demo profile by `to`, loads it, and checks that the
/// error points at the line where the replacement was made and mentions `needle`.
fn refused_at_replacement(from: &str, to: &str, needle: &str) {
    let position = DEMO
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in the demo profile"));
    let expected_line = DEMO[..position].matches('\n').count() + 1;
    let text = DEMO.replacen(from, to, 1);
    match BankProfile::from_toml_str("bank.toml", &text) {
        Ok(_) => panic!("accepted a profile with {to}"),
        Err(e) => {
            assert_eq!(e.line(), expected_line, "{e}");
            assert!(e.reason().contains(needle), "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("bank.toml:{expected_line}:")),
                "{e}"
            );
        }
    }
}

#[test]
fn demo_profile_loads() {
    let profile = demo();
    let bank = profile.bank();
    assert_eq!(
        (bank.name_ja(), bank.name_en()),
        ("まどぐち銀行", "Madoguchi Demo Bank")
    );
    assert_eq!(bank.name_kana().as_str(), "マドグチギンコウ");
    assert_eq!(
        (bank.finance_code(), bank.swift_code()),
        ("9990", "MDGCJPJTXXX")
    );
    assert_eq!(profile.branches().len(), 4);
    let naha = BranchCode::parse("102").expect("valid code");
    assert_eq!(profile.branch(&naha).map(|b| b.name()), Some("那覇支店"));
    assert_eq!(
        profile.branch(&naha).map(|b| b.kana().to_zengin()),
        Some("ﾅﾊｼﾃﾝ".to_owned())
    );
    assert!(
        profile
            .branch(&BranchCode::parse("999").expect("valid code"))
            .is_none()
    );
    assert_eq!(profile.support().phone().digits(), "0120999000");
    assert!(
        profile
            .products()
            .offers(crate::product::Product::DebitCard)
    );
    assert_eq!(profile.retention().completed_days(), 2557);
}

#[test]
fn demo_loan_centres_have_weekday_and_weekend_hours() {
    let profile = demo();
    assert_eq!(profile.loan_centers().len(), 2);
    let naha = profile.loan_center("naha").expect("naha centre");
    assert_eq!(
        naha.hours().on(Weekday::Monday),
        Some(OpeningHours {
            opens: time!(09:00),
            closes: time!(17:00)
        })
    );
    assert_eq!(naha.hours().on(Weekday::Saturday), None);
    assert_eq!(naha.closed_days().first(), Some(&date!(2026 - 08 - 14)));
    assert_eq!(naha.slot_length(), Duration::hours(1));
    let weekend = profile
        .loan_center("chatan-weekend")
        .expect("weekend centre");
    assert_eq!(weekend.hours().on(Weekday::Wednesday), None);
    assert!(weekend.hours().on(Weekday::Sunday).is_some());
    assert_eq!(weekend.consultants_per_slot(), 2);
}

#[test]
fn minimal_profile_gets_the_defaults() {
    let text = r#"
[bank]
name_ja = "テスト銀行"
name_en = "Test Bank"
name_kana = "テストギンコウ"
finance_code = "9991"
swift_code = "TESTJPJT"

[[branches]]
code = "001"
name = "本店"
kana = "ホンテン"

[support]
phone = "098-123-4567"
hours_ja = "平日"
hours_en = "Weekdays"

[products]
savings_account = true
internet_banking = false
debit_card = false
"#;
    let profile = BankProfile::from_toml_str("min.toml", text).expect("minimal profile");
    let rules = profile.applications();
    assert_eq!(
        (
            rules.savings_min_age(),
            rules.max_age(),
            rules.debit_card_min_age()
        ),
        (18, 120, 15)
    );
    assert_eq!(
        (
            rules.email_code_ttl_minutes(),
            rules.email_code_max_tries(),
            rules.draft_ttl_hours()
        ),
        (10, 5, 24)
    );
    assert_eq!(rules.email_code_ttl(), Duration::minutes(10));
    assert_eq!(rules.draft_ttl(), Duration::hours(24));
    assert!(rules.identity_image_method_offered(date!(2027 - 03 - 31)));
    assert!(!rules.identity_image_method_offered(date!(2027 - 04 - 01)));
    let window = profile.reservations();
    assert_eq!(
        (window.earliest_days_ahead(), window.latest_days_ahead()),
        (2, 60)
    );
    assert_eq!(
        (
            window.change_cutoff_hours(),
            window.max_future_bookings_per_email(),
            window.retention_days(),
            window.reminder_hour()
        ),
        (24, 3, 90, 10)
    );
    assert_eq!(window.change_cutoff(), Duration::hours(24));
    assert_eq!(window.retention(), Duration::days(90));
    assert_eq!(profile.calendar(), &HolidayCalendar::embedded());
    assert_eq!(
        (
            profile.retention().completed_days(),
            profile.retention().rejected_days()
        ),
        (2557, 180)
    );
    assert!(profile.loan_centers().is_empty());
    assert!(profile.support().email().is_none());
    assert!(
        !profile
            .products()
            .offers(crate::product::Product::InternetBanking)
    );
}

#[test]
fn bad_bank_codes_are_refused_at_their_line() {
    refused_at_replacement(
        r#"finance_code = "9990""#,
        r#"finance_code = "99a0""#,
        "finance_code",
    );
    refused_at_replacement(
        r#"finance_code = "9990""#,
        r#"finance_code = "99900""#,
        "finance_code",
    );
    refused_at_replacement(
        r#"swift_code = "MDGCJPJTXXX""#,
        r#"swift_code = "MDGCJPJ""#,
        "swift_code",
    );
    refused_at_replacement(
        r#"swift_code = "MDGCJPJTXXX""#,
        r#"swift_code = "mdgcjpjt""#,
        "swift_code",
    );
    refused_at_replacement(
        r#"swift_code = "MDGCJPJTXXX""#,
        r#"swift_code = "MDG1JPJT""#,
        "swift_code",
    );
    refused_at_replacement(
        r#"swift_code = "MDGCJPJTXXX""#,
        r#"swift_code = "MDGCJPJTXX""#,
        "swift_code",
    );
    refused_at_replacement(
        r#"name_kana = "マドグチギンコウ""#,
        r#"name_kana = "まどぐちぎんこう""#,
        "katakana",
    );
    refused_at_replacement(
        r#"name_ja = "まどぐち銀行""#,
        r#"name_ja = "まど\tぐち銀行""#,
        "control",
    );
    refused_at_replacement(
        r#"name_en = "Madoguchi Demo Bank""#,
        r#"name_en = " ""#,
        "must not be empty",
    );
}

#[test]
fn unknown_keys_and_tables_are_refused_at_the_key() {
    refused_at_replacement(
        "name_en = ",
        "colour = \"blue\"\nname_en = ",
        "unknown field",
    );
    refused_at_replacement("[support]", "[suport]", "unknown field");
    refused_at_replacement("slot_minutes = 90", "slot_minute = 90", "unknown field");
    refused_at_replacement(
        r#"sat = "10:00-17:00""#,
        r#"saturday = "10:00-17:00""#,
        "unknown field",
    );
}

#[test]
fn branches_are_checked() {
    refused_at_replacement(r#"code = "102""#, r#"code = "101""#, "appears twice");
    refused_at_replacement(r#"code = "102""#, r#"code = "1020""#, "3-digit");
    refused_at_replacement(r#"code = "102""#, r#"code = "１０２""#, "3-digit");
    refused_at_replacement(r#"kana = "ナハシテン""#, r#"kana = "那覇""#, "katakana");
}

#[test]
fn loan_centres_are_checked() {
    refused_at_replacement(
        r#"id = "chatan-weekend""#,
        r#"id = "naha""#,
        "appears twice",
    );
    refused_at_replacement(r#"id = "chatan-weekend""#, r#"id = "Chatan""#, "lower-case");
    refused_at_replacement(
        "slot_minutes = 90",
        "slot_minutes = 10",
        "between 15 and 180",
    );
    refused_at_replacement(
        "consultants_per_slot = 2",
        "consultants_per_slot = 0",
        "between 1 and 50",
    );
    refused_at_replacement(
        r#"sat = "10:00-17:00""#,
        r#"sat = "9:00-17:00""#,
        "HH:MM-HH:MM",
    );
    refused_at_replacement(
        r#"sat = "10:00-17:00""#,
        r#"sat = "10:00-25:00""#,
        "HH:MM-HH:MM",
    );
    refused_at_replacement(
        r#"sat = "10:00-17:00""#,
        r#"sat = "17:00-10:00""#,
        "close after it opens",
    );
    refused_at_replacement(
        r#"sat = "10:00-17:00""#,
        r#"sat = "10:00-11:00""#,
        "at least one slot",
    );
    refused_at_replacement(
        "closed_days = [2026-08-14",
        r#"closed_days = ["2026-08-14""#,
        "",
    );
    refused_at_replacement(
        "closed_days = [2026-08-14",
        "closed_days = [2026-08-14T10:00:00",
        "plain date",
    );
}

#[test]
fn a_centre_without_open_days_is_refused() {
    let text = DEMO.replace(
        "mon = \"09:00-17:00\"\ntue = \"09:00-17:00\"\nwed = \"09:00-17:00\"\nthu = \"09:00-17:00\"\nfri = \"09:00-17:00\"\n",
        "mon = \"closed\"\n",
    );
    let error = BankProfile::from_toml_str("bank.toml", &text).expect_err("refused");
    assert!(error.reason().contains("no open day"), "{error}");
    let hours_line = text
        .lines()
        .position(|l| l == "mon = \"closed\"")
        .map(|i| i + 1)
        .expect("line");
    assert!(
        (hours_line - 1..=hours_line).contains(&error.line()),
        "{error}"
    );
}

#[test]
fn support_and_limits_are_checked() {
    refused_at_replacement(
        r#"phone = "0120-999-000""#,
        r#"phone = "0120-999-0000""#,
        "support.phone",
    );
    refused_at_replacement(
        r#"email = "support@madoguchi-demo.example""#,
        r#"email = "support""#,
        "support.email",
    );
    refused_at_replacement(
        "email_code_ttl_minutes = 10",
        "email_code_ttl_minutes = 60",
        "between 1 and 30",
    );
    refused_at_replacement(
        r#"exempt_commands = ["handoff-export", "incident-notify-list"]"#,
        r#"exempt_commands = ["handoff-export", "everything"]"#,
        "may list only",
    );
    refused_at_replacement(
        "email_codes_per_address_per_hour = 10",
        "email_codes_per_address_per_hour = 0",
        "between 1 and 60",
    );
    refused_at_replacement(
        "email_code_max_tries = 5",
        "email_code_max_tries = 0",
        "between 1 and 10",
    );
    refused_at_replacement(
        "draft_ttl_hours = 24",
        "draft_ttl_hours = 200",
        "between 1 and 168",
    );
    refused_at_replacement(
        "savings_min_age = 18",
        "savings_min_age = 14",
        "between 15 and 120",
    );
    refused_at_replacement("max_age = 120", "max_age = 17", "between 18 and 150");
    refused_at_replacement(
        "latest_days_ahead = 60",
        "latest_days_ahead = 1",
        "must not be before",
    );
    refused_at_replacement(
        "completed_days = 2557",
        "completed_days = 0",
        "between 1 and 36500",
    );
    refused_at_replacement(
        "identity_image_method_until = 2027-04-01",
        "identity_image_method_until = 2027-04-01T00:00:00Z",
        "plain date",
    );
    refused_at_replacement("debit_card = true", "debit_card = \"yes\"", "");
}

#[test]
fn toml_syntax_errors_report_their_line() {
    refused_at_replacement(r#"name = "那覇支店""#, r#"name = "那覇支店"#, "");
    refused_at_replacement("[products]", "[products", "");
}

#[test]
fn missing_sections_are_named() {
    let text = DEMO.replace(
        "[products]\nsavings_account = true\ninternet_banking = true\ndebit_card = true\n",
        "",
    );
    let error = BankProfile::from_toml_str("bank.toml", &text).expect_err("refused");
    assert!(
        error.reason().contains("missing field `products`"),
        "{error}"
    );
    let (head, _) = DEMO.split_once("[[branches]]").expect("branches");
    let (_, tail) = DEMO.split_once("# Loan centres").expect("loan centres");
    let no_branches = format!("{head}# Loan centres{tail}");
    let error = BankProfile::from_toml_str("bank.toml", &no_branches).expect_err("refused");
    assert!(error.reason().contains("no branch"), "{error}");
}

#[test]
fn minimum_ages_must_not_exceed_the_maximum() {
    let text = DEMO
        .replace("savings_min_age = 18", "savings_min_age = 30")
        .replace("max_age = 120", "max_age = 25");
    let error = BankProfile::from_toml_str("bank.toml", &text).expect_err("refused");
    let line = text
        .lines()
        .position(|l| l == "savings_min_age = 30")
        .map(|i| i + 1);
    assert_eq!(Some(error.line()), line, "{error}");
    assert!(
        error
            .reason()
            .contains("must not be above applications.max_age (25)"),
        "{error}"
    );
}

#[test]
fn demo_reservation_rules_and_holidays_load() {
    let profile = demo();
    let window = profile.reservations();
    assert_eq!(window.change_cutoff(), Duration::hours(24));
    assert_eq!(window.max_future_bookings_per_email(), 3);
    assert_eq!(window.retention(), Duration::days(90));
    assert_eq!(window.reminder_hour(), 10);
    assert_eq!(profile.calendar(), &HolidayCalendar::embedded());
}

#[test]
fn reservation_rules_are_checked() {
    refused_at_replacement(
        "change_cutoff_hours = 24",
        "change_cutoff_hours = 721",
        "reservations.change_cutoff_hours is 721 but must be between 0 and 720",
    );
    refused_at_replacement(
        "max_future_bookings_per_email = 3",
        "max_future_bookings_per_email = 0",
        "between 1 and 20",
    );
    refused_at_replacement(
        "retention_days = 90",
        "retention_days = 3651",
        "between 1 and 3650",
    );
    refused_at_replacement(
        "reminder_hour = 10",
        "reminder_hour = 24",
        "between 0 and 23",
    );
    refused_at_replacement("reminder_hour = 10", "reminder_time = 10", "unknown field");
    let text = DEMO
        .replace("change_cutoff_hours = 24", "change_cutoff_hours = 0")
        .replace("reminder_hour = 10", "reminder_hour = 0");
    let profile = BankProfile::from_toml_str("bank.toml", &text).expect("edge values");
    assert_eq!(profile.reservations().change_cutoff(), Duration::ZERO);
    assert_eq!(profile.reservations().reminder_hour(), 0);
}

#[test]
fn holiday_corrections_reach_the_calendar() {
    let text = DEMO.replace(
        "add = []\nremove = []",
        "add = [{ date = 2027-05-06, name = \"臨時休日\" }, { date = 2026-11-03, name = \"創立記念日\" }]\nremove = [2027-11-23]",
    );
    let profile = BankProfile::from_toml_str("bank.toml", &text).expect("corrections");
    let calendar = profile.calendar();
    assert_eq!(
        calendar.holiday_name(date!(2027 - 05 - 06)),
        Some("臨時休日")
    );
    assert_eq!(
        calendar.holiday_name(date!(2026 - 11 - 03)),
        Some("創立記念日")
    );
    assert!(!calendar.is_public_holiday(date!(2027 - 11 - 23)));
    assert!(calendar.is_public_holiday(date!(2026 - 11 - 23)));
}

#[test]
fn holiday_corrections_are_checked() {
    let add = |entries: &str| format!("add = [{entries}]");
    refused_at_replacement(
        "add = []",
        &add("{ date = 2027-05-06T00:00:00, name = \"臨時休日\" }"),
        "holidays.add.date must be a plain date",
    );
    refused_at_replacement(
        "add = []",
        &add("{ date = 2027-05-06, name = \" \" }"),
        "holidays.add.name must not be empty",
    );
    refused_at_replacement(
        "add = []",
        &add(&format!(
            "{{ date = 2027-05-06, name = \"{}\" }}",
            "休".repeat(41)
        )),
        "holidays.add.name must be at most 40 characters",
    );
    refused_at_replacement(
        "add = []",
        &add("{ date = 2027-05-06, name = \"臨時休日\" }, { date = 2027-05-06, name = \"休日\" }"),
        "lists 2027-05-06 twice",
    );
    refused_at_replacement(
        "add = []",
        &add("{ date = 2027-05-06 }"),
        "missing field `name`",
    );
    refused_at_replacement(
        "add = []",
        &add("{ date = 2027-05-06, name = \"臨時休日\", closed = true }"),
        "unknown field",
    );
    refused_at_replacement(
        "remove = []",
        "remove = [2027-11-24]",
        "not a public holiday in the embedded table",
    );
    refused_at_replacement("remove = []", "remove = [\"2027-11-23\"]", "");
    refused_at_replacement(
        "remove = []",
        "remove = [2027-11-23, 2027-11-23]",
        "lists 2027-11-23 twice",
    );
    refused_at_replacement("[holidays]", "[holiday]", "unknown field");
    let both = DEMO.replace(
        "add = []\nremove = []",
        "add = [{ date = 2027-11-23, name = \"勤労感謝の日\" }]\nremove = [2027-11-23]",
    );
    let error = BankProfile::from_toml_str("bank.toml", &both).expect_err("refused");
    assert!(
        error
            .reason()
            .contains("both in holidays.add and holidays.remove"),
        "{error}"
    );
}

#[test]
fn english_names_are_optional_and_checked() {
    let profile = demo();
    let naha = profile.loan_center("naha").expect("naha");
    assert_eq!(naha.name(), "那覇ローンセンター");
    assert_eq!(naha.name_en(), "Naha Loan Center");
    assert!(naha.address_en().starts_with("2F Madoguchi Bank"));
    let branch = &profile.branches()[1];
    assert_eq!(
        (branch.name(), branch.name_en()),
        ("那覇支店", "Naha Branch")
    );

    // Absent: the Japanese is shown instead.
    let text = DEMO
        .replacen("name_en = \"Naha Loan Center\"\n", "", 1)
        .replacen(
            "address_en = \"2F Madoguchi Bank Head Office, 1-1-1 Madoguchi, Naha, Okinawa\"\n",
            "",
            1,
        )
        .replacen("name_en = \"Naha Branch\"\n", "", 1);
    let profile = BankProfile::from_toml_str("bank.toml", &text).expect("without English names");
    let naha = profile.loan_center("naha").expect("naha");
    assert_eq!(naha.name_en(), "那覇ローンセンター");
    assert_eq!(naha.address_en(), naha.address());
    assert_eq!(profile.branches()[1].name_en(), "那覇支店");

    // Present: checked like the Japanese, refused at its line.
    refused_at_replacement(
        r#"name_en = "Naha Loan Center""#,
        r#"name_en = """#,
        "loan_centers.name_en must not be empty",
    );
    refused_at_replacement(
        r#"address_en = "2F"#,
        r#"address_en = "2F\n"#,
        "loan_centers.address_en must not contain line breaks",
    );
    refused_at_replacement(
        r#"name_en = "Naha Branch""#,
        &format!("name_en = \"{}\"", "N".repeat(81)),
        "branches.name_en must be at most 80 characters",
    );
}

#[test]
fn detection_limits_load_with_defaults() {
    let profile = demo();
    let detection = profile.detection();
    assert_eq!(
        detection.security_contact().map(|e| e.as_str().to_owned()),
        Some("csirt@madoguchi-demo.example".to_owned())
    );
    assert_eq!(detection.customers_read_per_hour(), 60);
    assert_eq!(detection.exported_rows_per_day(), 500);
    use super::CommandRead;
    assert!(CommandRead::ALL.iter().all(|c| detection.is_exempt(*c)));
    let start = DEMO.find("[detection]").expect("a detection table");
    let without = &DEMO[..start];
    let profile = BankProfile::from_toml_str("bank.toml", without).expect("defaults");
    assert!(profile.detection().security_contact().is_none());
    assert_eq!(profile.detection().failed_sign_ins_per_hour(), 20);
    // Without the list no command is exempt: each counts like a member of staff.
    assert!(
        CommandRead::ALL
            .iter()
            .all(|c| !profile.detection().is_exempt(*c))
    );
}

#[test]
fn business_hours_skip_weekends_holidays_and_nights() {
    let profile = demo();
    let detection = profile.detection();
    let calendar = profile.calendar();
    let jst = |d, t| time::PrimitiveDateTime::new(d, t).assume_offset(crate::JST);
    // Friday 2026-12-04.
    assert!(detection.is_business_hours(jst(date!(2026 - 12 - 04), time!(10:00)), calendar));
    assert!(detection.is_business_hours(jst(date!(2026 - 12 - 04), time!(08:00)), calendar));
    assert!(!detection.is_business_hours(jst(date!(2026 - 12 - 04), time!(20:00)), calendar));
    assert!(!detection.is_business_hours(jst(date!(2026 - 12 - 04), time!(03:00)), calendar));
    // Saturday, a public holiday (天皇誕生日 2027-02-23, a Tuesday), the year-end closure.
    assert!(!detection.is_business_hours(jst(date!(2026 - 12 - 05), time!(10:00)), calendar));
    assert!(!detection.is_business_hours(jst(date!(2027 - 02 - 23), time!(10:00)), calendar));
    assert!(!detection.is_business_hours(jst(date!(2026 - 12 - 31), time!(10:00)), calendar));
    // 00:30 UTC on Friday is 09:30 JST on Friday.
    let utc = time::PrimitiveDateTime::new(date!(2026 - 12 - 04), time!(00:30)).assume_utc();
    assert!(detection.is_business_hours(utc, calendar));
}

#[test]
fn detection_limits_are_checked() {
    refused_at_replacement(
        "customers_read_per_hour = 60",
        "customers_read_per_hour = 0",
        "detection.customers_read_per_hour is 0 but must be between 1",
    );
    refused_at_replacement(
        "business_hours = \"08:00-20:00\"",
        "business_hours = \"20:00-08:00\"",
        "detection.business_hours must be",
    );
    refused_at_replacement(
        "security_contact = \"csirt@madoguchi-demo.example\"",
        "security_contact = \"csirt\"",
        "detection.security_contact must be an e-mail address",
    );
}

#[test]
fn core_banking_key_is_optional_and_must_be_a_core_banking_public_key_line() {
    assert_eq!(demo().core_banking_key(), None);
    let key =
        "madoguchi-x25519-public v1 core-banking AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let text = DEMO.replacen(
        "[detection]",
        &format!("[core_banking]\npublic_key = \"{key}\"\n\n[detection]"),
        1,
    );
    let profile = BankProfile::from_toml_str("bank.toml", &text).expect("loads");
    assert_eq!(profile.core_banking_key(), Some(key));
    for wrong in [
        "madoguchi-x25519-private v1 core-banking AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "madoguchi-x25519-public v1 office AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "madoguchi-x25519-public v1 core-banking short",
    ] {
        let text = DEMO.replacen(
            "[detection]",
            &format!("[core_banking]\npublic_key = \"{wrong}\"\n\n[detection]"),
            1,
        );
        let e = BankProfile::from_toml_str("bank.toml", &text).expect_err(wrong);
        let key_line = text[..text.find("public_key").expect("inserted")]
            .matches('\n')
            .count()
            + 1;
        assert_eq!(e.line(), key_line, "{e}");
        assert!(e.reason().contains("core_banking.public_key"), "{e}");
    }
}
