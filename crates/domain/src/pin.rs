//! Four-digit card PINs (暗証番号) chosen in the application form.
//!
//! A PIN is a secret from the moment it is parsed: [`Pin`] has no `Display`, `Serialize`,
//! `Clone` or comparison, prints as `Pin(****)` in debug output, is wiped from memory when
//! dropped, and gives its digits only to the sealing code. It is never stored in a draft:
//! the web layer parses it at the moment it seals it.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{ErrorCode, FieldError};
use crate::person::{BirthDate, PhoneNumber};

/// The form field names of a PIN and its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinFields {
    /// The PIN field.
    pub pin: &'static str,
    /// The confirmation field; `pin-mismatch` is reported on it.
    pub confirmation: &'static str,
}

impl PinFields {
    /// The cash-card PIN of the savings account application.
    pub const CASH_CARD: PinFields = PinFields {
        pin: "cash_card_pin",
        confirmation: "cash_card_pin_confirm",
    };
    /// The debit-card PIN of the Visa debit application.
    pub const DEBIT_CARD: PinFields = PinFields {
        pin: "debit_card_pin",
        confirmation: "debit_card_pin_confirm",
    };
}

/// What the applicant told us about themselves, to refuse a PIN that someone holding their
/// documents or the form could guess.
#[derive(Debug, Clone, Default)]
pub struct PinContext<'a> {
    /// The birth date, if the form has one.
    pub birth_date: Option<&'a BirthDate>,
    /// Every phone number given in the form.
    pub phones: Vec<&'a PhoneNumber>,
    /// The runs of digits of the address, from [`crate::person::Address::digit_runs`].
    pub address_digit_runs: Vec<String>,
}

/// A four-digit PIN that passed every rule. See the module documentation.
pub struct Pin(Zeroizing<[u8; 4]>);

impl Pin {
    /// Parses the cash-card PIN and its confirmation, reporting on the fields of
    /// [`PinFields::CASH_CARD`]; see [`Pin::parse_fields`] for the rules.
    pub fn parse(input: &str, confirmation: &str, ctx: &PinContext<'_>) -> Result<Pin, FieldError> {
        Self::parse_fields(PinFields::CASH_CARD, input, confirmation, ctx)
    }

    /// Parses a PIN and its confirmation, reporting on `fields`. Full-width digits are accepted and surrounding
    /// white space ignored. Refusals, in this order, on the PIN field unless noted:
    ///
    /// 1. `pin-not-four-digits`: not exactly four digits;
    /// 2. `pin-same-digits`: four equal digits (0000, 1111, …);
    /// 3. `pin-sequence`: each digit one more (or one less) than the previous, counting
    ///    round from 9 to 0, so 1234, 6789, 7890, 8901, 9012 and 9876, 3210, 0987, 1098,
    ///    2109 are all refused: 7890 is the end of the top keyboard row and the wrapped
    ///    forms are as easy to guess;
    /// 4. `pin-birth-date`: the birth year (YYYY), or any two of the two-digit year (YY),
    ///    month (MM), day (DD) and Japanese era year (和暦, e.g. 05 for 平成5年) side by side
    ///    in either order (MMDD, DDMM, YYMM, MMYY, YYDD, DDYY, era year with month or day,
    ///    …); and when month and day both have one digit, the two-digit year or era year
    ///    with M and D (born 1993-05-01: 9351, 5193, 0551, 5105);
    /// 5. `pin-phone-digits`: the last four digits of a phone number in the form;
    /// 6. `pin-address-digits`: a four-digit number in the address, or two neighbouring
    ///    digit runs that make four digits together (12-34 → 1234);
    /// 7. `pin-mismatch`, on the confirmation field: the confirmation differs.
    pub fn parse_fields(
        fields: PinFields,
        input: &str,
        confirmation: &str,
        ctx: &PinContext<'_>,
    ) -> Result<Pin, FieldError> {
        let refuse = |code| FieldError::new(fields.pin, code);
        let pin = read_four_digits(input).ok_or(refuse(ErrorCode::PinNotFourDigits))?;
        let digits: &[u8; 4] = &pin;
        if digits.iter().all(|&d| d == digits[0]) {
            return Err(refuse(ErrorCode::PinSameDigits));
        }
        if is_sequence(digits) {
            return Err(refuse(ErrorCode::PinSequence));
        }
        if let Some(birth) = ctx.birth_date
            && birth_date_forms(birth).iter().any(|form| form == digits)
        {
            return Err(refuse(ErrorCode::PinBirthDate));
        }
        if ctx
            .phones
            .iter()
            .any(|phone| phone.last_four().as_bytes() == digits)
        {
            return Err(refuse(ErrorCode::PinPhoneDigits));
        }
        if address_forms(&ctx.address_digit_runs)
            .iter()
            .any(|form| form.as_bytes() == digits)
        {
            return Err(refuse(ErrorCode::PinAddressDigits));
        }
        match read_four_digits(confirmation) {
            Some(again) if *again == *pin => Ok(Pin(pin)),
            _ => Err(FieldError::new(fields.confirmation, ErrorCode::PinMismatch)),
        }
    }

    /// The four ASCII digits. **Only the sealing code may call this**, to encrypt the PIN
    /// for core banking; nothing else has a reason to see it.
    pub fn expose_for_sealing(&self) -> &[u8] {
        &self.0[..]
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// Exactly four ASCII or full-width digits, surrounding white space ignored, read straight
/// into a buffer that is wiped on drop (no intermediate `String`).
fn read_four_digits(input: &str) -> Option<Zeroizing<[u8; 4]>> {
    let mut out = Zeroizing::new([0u8; 4]);
    let mut count = 0;
    for c in input.trim().chars() {
        let digit = match c {
            '0'..='9' => c as u8,
            '０'..='９' => b'0' + (u32::from(c) - u32::from('０')) as u8,
            _ => return None,
        };
        *out.get_mut(count)? = digit;
        count += 1;
    }
    (count == 4).then_some(out)
}

/// Each digit one up (or one down) from the previous, modulo 10.
fn is_sequence(digits: &[u8; 4]) -> bool {
    let steps = |step: u8| {
        digits
            .windows(2)
            .all(|w| (w[0] - b'0' + step) % 10 == w[1] - b'0')
    };
    steps(1) || steps(9)
}

/// Every four-digit form of the birth date refused as a PIN.
fn birth_date_forms(birth: &BirthDate) -> Vec<[u8; 4]> {
    let date = birth.date();
    let two = |n: u32| -> [u8; 2] { [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8] };
    let year = date.year().unsigned_abs();
    let (month, day) = (u32::from(u8::from(date.month())), u32::from(date.day()));
    let mut parts = vec![two(year), two(month), two(day)];
    if let Some(era) = birth.era_year() {
        parts.push(two(u32::from(era.year)));
    }
    let mut forms = vec![[
        b'0' + (year / 1000 % 10) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
    ]];
    for (i, a) in parts.iter().enumerate() {
        for (j, b) in parts.iter().enumerate() {
            if i != j {
                forms.push([a[0], a[1], b[0], b[1]]);
            }
        }
    }
    if month < 10 && day < 10 {
        let md = [b'0' + month as u8, b'0' + day as u8];
        let years =
            std::iter::once(two(year)).chain(birth.era_year().map(|e| two(u32::from(e.year))));
        for y in years {
            forms.push([y[0], y[1], md[0], md[1]]);
            forms.push([md[0], md[1], y[0], y[1]]);
        }
    }
    forms
}

/// Four-digit runs of the address, and pairs of neighbouring runs making four digits.
fn address_forms(runs: &[String]) -> Vec<String> {
    let mut forms: Vec<String> = runs.iter().filter(|r| r.len() == 4).cloned().collect();
    forms.extend(
        runs.windows(2)
            .map(|w| [w[0].as_str(), w[1].as_str()].concat())
            .filter(|f| f.len() == 4),
    );
    forms
}

#[cfg(test)]
mod tests;
