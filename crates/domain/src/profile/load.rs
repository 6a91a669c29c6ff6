//! From the raw file to a checked [`BankProfile`]. Every refusal names the key, says what
//! is expected and points at the value's line.

use std::collections::HashSet;

use time::Time;
use time::macros::date;
use toml::Spanned;

use super::raw::{
    RawApplications, RawBank, RawBranch, RawHolidays, RawHours, RawLoanCenter, RawProfile,
    RawReservations, RawSupport,
};
use super::source::Source;
use super::{
    ApplicationRules, Bank, BankProfile, Branch, BranchCode, LoanCenter, OpeningHours, Products,
    ProfileError, ReservationWindow, Retention, Support, WeeklyHours,
};
use crate::calendar::HolidayCalendar;
use crate::person::{EmailAddress, PhoneNumber};

pub(super) fn load(name: &str, text: &str) -> Result<BankProfile, ProfileError> {
    let source = Source { name, text };
    let raw: RawProfile = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().to_owned();
        let reason = if message.starts_with("unknown field") {
            format!("{message}; fix the key's spelling or remove it")
        } else if message.starts_with("missing field") {
            format!("{message}; add it to the table")
        } else if message.starts_with("invalid type") {
            format!("{message}; text goes in quotes, numbers, true/false and dates do not")
        } else {
            message
        };
        source.error(e.span().unwrap_or(0..0), reason)
    })?;
    let applications = applications(&source, &raw.applications)?;
    let reservations = reservations(&source, &raw.reservations)?;
    let retention = &raw.retention;
    let completed_days = source.number(
        retention.completed_days.as_ref(),
        "retention.completed_days",
        2557,
        1..=36_500,
    )?;
    let rejected_days = source.number(
        retention.rejected_days.as_ref(),
        "retention.rejected_days",
        180,
        1..=36_500,
    )?;
    let documents_days = source.number(
        retention.documents_days_after_decision.as_ref(),
        "retention.documents_days_after_decision",
        7,
        0..=365,
    )?;
    Ok(BankProfile {
        bank: bank(&source, &raw.bank)?,
        branches: branches(&source, &raw.branches)?,
        loan_centers: loan_centers(&source, &raw.loan_centers)?,
        support: support(&source, &raw.support)?,
        products: Products {
            savings_account: raw.products.savings_account,
            internet_banking: raw.products.internet_banking,
            debit_card: raw.products.debit_card,
        },
        applications,
        reservations,
        retention: Retention {
            completed_days: medium(completed_days),
            rejected_days: medium(rejected_days),
            documents_days_after_decision: medium(documents_days),
        },
        calendar: holidays(&source, &raw.holidays)?,
        detection: super::detection::load(&source, &raw.detection)?,
        core_banking_key: core_banking_key(&source, &raw.core_banking)?,
    })
}

/// Narrows a number already checked to lie in a small range.
fn small(n: i64) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn medium(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn bank(source: &Source<'_>, raw: &RawBank) -> Result<Bank, ProfileError> {
    let finance_code = raw.finance_code.get_ref();
    if finance_code.len() != 4 || !finance_code.bytes().all(|b| b.is_ascii_digit()) {
        let reason = "bank.finance_code must be the 4-digit financial institution code (金融機関コード) as a string, e.g. \"0187\"";
        return Err(source.error(raw.finance_code.span(), reason));
    }
    let swift_code = raw.swift_code.get_ref();
    if !valid_swift(swift_code) {
        let reason = "bank.swift_code must be a SWIFT/BIC of 8 or 11 upper-case characters: 4 letters (bank), 2 letters (country), 2 letters or digits (location), optionally 3 letters or digits (branch), e.g. \"MDGCJPJT\"";
        return Err(source.error(raw.swift_code.span(), reason));
    }
    Ok(Bank {
        name_ja: source.text(&raw.name_ja, "bank.name_ja", 60)?,
        name_en: source.text(&raw.name_en, "bank.name_en", 100)?,
        name_kana: source.kana(&raw.name_kana, "bank.name_kana")?,
        finance_code: finance_code.clone(),
        swift_code: swift_code.clone(),
    })
}

fn valid_swift(code: &str) -> bool {
    let b = code.as_bytes();
    let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    matches!(b.len(), 8 | 11)
        && b.iter().take(6).all(u8::is_ascii_uppercase)
        && b.iter().skip(6).all(upper_alnum)
}

fn branches(source: &Source<'_>, raw: &[RawBranch]) -> Result<Vec<Branch>, ProfileError> {
    if raw.is_empty() {
        return Err(source.error(0..0, "the profile has no branch; add at least one [[branches]] table with code, name and kana"));
    }
    let mut seen = HashSet::new();
    raw.iter()
        .map(|branch| {
            let code = BranchCode::parse(branch.code.get_ref())
                .ok()
                .filter(|_| branch.code.get_ref().len() == 3)
                .ok_or_else(|| source.error(branch.code.span(), "branches.code must be the 3-digit branch number (店番) as a string, e.g. \"101\""))?;
            if !seen.insert(code) {
                let reason = format!("branch code {code} appears twice; each [[branches]] needs its own code");
                return Err(source.error(branch.code.span(), reason));
            }
            Ok(Branch {
                code,
                name: source.text(&branch.name, "branches.name", 40)?,
                name_en: optional_text(source, branch.name_en.as_ref(), "branches.name_en", 80)?,
                kana: source.kana(&branch.kana, "branches.kana")?,
            })
        })
        .collect()
}

/// An optional text (an English name or address): absent is `None`, present is checked like
/// any other text.
fn optional_text(
    source: &Source<'_>,
    value: Option<&toml::Spanned<String>>,
    key: &str,
    max: usize,
) -> Result<Option<String>, ProfileError> {
    value.map(|v| source.text(v, key, max)).transpose()
}

fn loan_centers(
    source: &Source<'_>,
    raw: &[RawLoanCenter],
) -> Result<Vec<LoanCenter>, ProfileError> {
    let mut seen = HashSet::new();
    raw.iter()
        .map(|center| {
            let id = center.id.get_ref();
            let slug = (1..=40).contains(&id.len())
                && id.starts_with(|c: char| c.is_ascii_lowercase())
                && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !slug {
                let reason = "loan_centers.id must be 1 to 40 lower-case letters, digits or '-', starting with a letter, e.g. \"naha\"";
                return Err(source.error(center.id.span(), reason));
            }
            if !seen.insert(id.as_str()) {
                let reason = format!("loan centre id \"{id}\" appears twice; each [[loan_centers]] needs its own id");
                return Err(source.error(center.id.span(), reason));
            }
            let slot_minutes = small(source.number(Some(&center.slot_minutes), "loan_centers.slot_minutes", 60, 15..=180)?);
            let consultants = source.number(Some(&center.consultants_per_slot), "loan_centers.consultants_per_slot", 1, 1..=50)?;
            let closed_days = center
                .closed_days
                .iter()
                .map(|day| source.date(day, "loan_centers.closed_days"))
                .collect::<Result<_, _>>()?;
            Ok(LoanCenter {
                id: id.clone(),
                name: source.text(&center.name, "loan_centers.name", 60)?,
                name_en: optional_text(source, center.name_en.as_ref(), "loan_centers.name_en", 100)?,
                address: source.text(&center.address, "loan_centers.address", 120)?,
                address_en: optional_text(source, center.address_en.as_ref(), "loan_centers.address_en", 200)?,
                slot_minutes,
                consultants_per_slot: small(consultants),
                closed_days,
                hours: weekly_hours(source, &center.hours, slot_minutes)?,
            })
        })
        .collect()
}

fn weekly_hours(
    source: &Source<'_>,
    raw: &Spanned<RawHours>,
    slot_minutes: u16,
) -> Result<WeeklyHours, ProfileError> {
    let h = raw.get_ref();
    let days = [
        ("mon", &h.mon),
        ("tue", &h.tue),
        ("wed", &h.wed),
        ("thu", &h.thu),
        ("fri", &h.fri),
        ("sat", &h.sat),
        ("sun", &h.sun),
    ];
    let mut week = [None; 7];
    for (slot, (day, value)) in week.iter_mut().zip(days) {
        if let Some(value) = value {
            *slot = day_hours(source, value, day, slot_minutes)?;
        }
    }
    if week.iter().all(Option::is_none) {
        let reason = "loan_centers.hours has no open day; give at least one day as \"09:00-17:00\"";
        return Err(source.error(raw.span(), reason));
    }
    Ok(WeeklyHours(week))
}

/// `"HH:MM-HH:MM"` (24-hour clock, two digits each) as opening and closing times; not
/// checked for order.
pub(super) fn hours_span(text: &str) -> Option<OpeningHours> {
    let time = |s: &str| -> Option<Time> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
    };
    let (opens, closes) = text.trim().split_once('-')?;
    Some(OpeningHours {
        opens: time(opens)?,
        closes: time(closes)?,
    })
}

/// `"closed"` or `"HH:MM-HH:MM"` with the centre open at least one slot long.
fn day_hours(
    source: &Source<'_>,
    value: &Spanned<String>,
    day: &str,
    slot_minutes: u16,
) -> Result<Option<OpeningHours>, ProfileError> {
    let text = value.get_ref().trim();
    if text == "closed" {
        return Ok(None);
    }
    let hours = hours_span(text);
    let Some(hours) = hours else {
        let reason = format!(
            "loan_centers.hours.{day} must be \"HH:MM-HH:MM\" (24-hour clock, e.g. \"09:00-17:00\") or \"closed\""
        );
        return Err(source.error(value.span(), reason));
    };
    if hours.closes - hours.opens < time::Duration::minutes(i64::from(slot_minutes)) {
        let reason = format!(
            "loan_centers.hours.{day} must close after it opens, at least one slot ({slot_minutes} minutes) later"
        );
        return Err(source.error(value.span(), reason));
    }
    Ok(Some(hours))
}

fn support(source: &Source<'_>, raw: &RawSupport) -> Result<Support, ProfileError> {
    let phone = PhoneNumber::parse(raw.phone.get_ref()).map_err(|_| {
        source.error(raw.phone.span(), "support.phone must be a Japanese phone number such as \"0120-123-456\" or \"098-123-4567\"")
    })?;
    let email = match &raw.email {
        None => None,
        Some(value) => Some(EmailAddress::parse(value.get_ref()).map_err(|_| {
            source.error(value.span(), "support.email must be an e-mail address such as \"support@example.jp\", or be removed")
        })?),
    };
    Ok(Support {
        phone,
        hours_ja: source.text(&raw.hours_ja, "support.hours_ja", 200)?,
        hours_en: source.text(&raw.hours_en, "support.hours_en", 200)?,
        email,
    })
}

fn applications(
    source: &Source<'_>,
    raw: &RawApplications,
) -> Result<ApplicationRules, ProfileError> {
    let savings_min_age = source.number(
        raw.savings_min_age.as_ref(),
        "applications.savings_min_age",
        18,
        15..=120,
    )?;
    let debit_card_min_age = source.number(
        raw.debit_card_min_age.as_ref(),
        "applications.debit_card_min_age",
        15,
        15..=120,
    )?;
    let max_age = source.number(raw.max_age.as_ref(), "applications.max_age", 120, 18..=150)?;
    for (key, min, value) in [
        ("savings_min_age", savings_min_age, &raw.savings_min_age),
        (
            "debit_card_min_age",
            debit_card_min_age,
            &raw.debit_card_min_age,
        ),
    ] {
        if min > max_age {
            let span = value
                .as_ref()
                .or(raw.max_age.as_ref())
                .map(Spanned::span)
                .unwrap_or(0..0);
            let reason = format!(
                "applications.{key} ({min}) must not be above applications.max_age ({max_age})"
            );
            return Err(source.error(span, reason));
        }
    }
    let until = match &raw.identity_image_method_until {
        Some(value) => source.date(value, "applications.identity_image_method_until")?,
        None => date!(2027 - 04 - 01),
    };
    Ok(ApplicationRules {
        savings_min_age: small(savings_min_age),
        max_age: small(max_age),
        debit_card_min_age: small(debit_card_min_age),
        email_code_ttl_minutes: small(source.number(
            raw.email_code_ttl_minutes.as_ref(),
            "applications.email_code_ttl_minutes",
            10,
            1..=30,
        )?),
        email_code_max_tries: small(source.number(
            raw.email_code_max_tries.as_ref(),
            "applications.email_code_max_tries",
            5,
            1..=10,
        )?),
        email_codes_per_address_per_hour: small(source.number(
            raw.email_codes_per_address_per_hour.as_ref(),
            "applications.email_codes_per_address_per_hour",
            10,
            1..=60,
        )?),
        draft_ttl_hours: small(source.number(
            raw.draft_ttl_hours.as_ref(),
            "applications.draft_ttl_hours",
            24,
            1..=168,
        )?),
        identity_image_method_until: until,
    })
}

fn reservations(
    source: &Source<'_>,
    raw: &RawReservations,
) -> Result<ReservationWindow, ProfileError> {
    let earliest = source.number(
        raw.earliest_days_ahead.as_ref(),
        "reservations.earliest_days_ahead",
        2,
        0..=30,
    )?;
    let latest = source.number(
        raw.latest_days_ahead.as_ref(),
        "reservations.latest_days_ahead",
        60,
        1..=366,
    )?;
    if latest < earliest {
        let span = raw
            .latest_days_ahead
            .as_ref()
            .or(raw.earliest_days_ahead.as_ref())
            .map(Spanned::span);
        let reason = format!(
            "reservations.latest_days_ahead ({latest}) must not be before earliest_days_ahead ({earliest})"
        );
        return Err(source.error(span.unwrap_or(0..0), reason));
    }
    let number = |value: &Option<Spanned<i64>>, key: &str, default, range| {
        source
            .number(value.as_ref(), key, default, range)
            .map(small)
    };
    let reminder_hour = number(&raw.reminder_hour, "reservations.reminder_hour", 10, 0..=23)?;
    Ok(ReservationWindow {
        earliest_days_ahead: small(earliest),
        latest_days_ahead: small(latest),
        change_cutoff_hours: number(
            &raw.change_cutoff_hours,
            "reservations.change_cutoff_hours",
            24,
            0..=720,
        )?,
        max_future_bookings_per_email: number(
            &raw.max_future_bookings_per_email,
            "reservations.max_future_bookings_per_email",
            3,
            1..=20,
        )?,
        retention_days: number(
            &raw.retention_days,
            "reservations.retention_days",
            90,
            1..=3650,
        )?,
        reminder_hour: u8::try_from(reminder_hour).unwrap_or(u8::MAX),
    })
}

/// `[holidays]`: the bank's corrections of the embedded holiday table. A removed day must
/// be in the table (a typo would otherwise silently change nothing) and no day may be
/// listed twice or be both added and removed.
fn holidays(source: &Source<'_>, raw: &RawHolidays) -> Result<HolidayCalendar, ProfileError> {
    let embedded = HolidayCalendar::embedded();
    let mut added = Vec::with_capacity(raw.add.len());
    for entry in &raw.add {
        let date = source.date(&entry.date, "holidays.add.date")?;
        if added.iter().any(|(d, _)| *d == date) {
            let reason = format!("holidays.add lists {date} twice; keep one entry");
            return Err(source.error(entry.date.span(), reason));
        }
        added.push((date, source.text(&entry.name, "holidays.add.name", 40)?));
    }
    let mut removed = Vec::with_capacity(raw.remove.len());
    for value in &raw.remove {
        let date = source.date(value, "holidays.remove")?;
        let reason = if removed.contains(&date) {
            format!("holidays.remove lists {date} twice; keep one entry")
        } else if added.iter().any(|(d, _)| *d == date) {
            format!("{date} is both in holidays.add and holidays.remove; keep only one")
        } else if !embedded.is_public_holiday(date) {
            format!(
                "holidays.remove lists {date}, which is not a public holiday in the embedded table; check the date or remove the entry"
            )
        } else {
            removed.push(date);
            continue;
        };
        return Err(source.error(value.span(), reason));
    }
    Ok(HolidayCalendar::with_overrides(&added, &removed))
}

/// `[core_banking] public_key`: one `madoguchi-x25519-public v1 core-banking <base64>` line.
fn core_banking_key(
    source: &Source<'_>,
    raw: &super::raw::RawCoreBanking,
) -> Result<Option<String>, ProfileError> {
    let Some(value) = &raw.public_key else {
        return Ok(None);
    };
    let words: Vec<&str> = value.get_ref().split_ascii_whitespace().collect();
    let base64 = |w: &str| {
        w.len() == 44
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    match words.as_slice() {
        ["madoguchi-x25519-public", "v1", "core-banking", key] if base64(key) => {
            Ok(Some(words.join(" ")))
        }
        _ => Err(source.error(
            value.span(),
            "core_banking.public_key must be the one line of the core banking system's \
             core-banking.pub (madoguchi-x25519-public v1 core-banking <base64>)",
        )),
    }
}
