//! Field errors: which form field was refused and why, as a stable code.
//!
//! The domain never writes a human sentence. The web layer maps each [`ErrorCode`] to a
//! message in the page's language that says how to fix the input, and shows it next to the
//! field named by [`FieldError::field`].

use std::fmt;

/// Why a value was refused. Each code has a stable kebab-case name ([`ErrorCode::as_str`])
/// that the web layer and the JSON API use; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `required`: the field is empty (or only spaces) but must be filled in; for a
    /// multi-select, nothing was chosen. Fix: enter a value / choose at least one.
    Required,
    /// `too-long`: more characters than the field allows. Fix: shorten it (the web layer
    /// knows each field's limit from its own form definition).
    TooLong,
    /// `control-character`: the text holds an invisible control character (line break, tab,
    /// NUL, DEL, C1 control, or a bidirectional override). Fix: retype the text instead of
    /// pasting it.
    ControlCharacter,
    /// `not-full-width-katakana`: a furigana field holds something other than katakana, the
    /// long-vowel mark ー and spaces (hiragana, kanji, latin letters, ・). Fix: write the
    /// reading in katakana, e.g. ヤマダ.
    NotFullWidthKatakana,
    /// `not-a-name`: a name holds what no name holds — digits, or the marks of addresses and
    /// links (`/ : @ < > = ? & % # \\` and a dot inside a word, as in `example.jp`). Fix:
    /// write the name only, e.g. 山田 or O'Brien.
    NotAName,
    /// `invalid-date`: not a date in the form YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD, or a day
    /// that does not exist (2023-02-29). Fix: enter the date as 1990-04-01.
    InvalidDate,
    /// `in-future`: the date lies after today. Fix: check the year.
    InFuture,
    /// `under-age`: the applicant is younger than the bank's minimum age for this product.
    /// Fix: none online; the page should point to a branch.
    UnderAge,
    /// `over-age`: the birth date gives an age above the bank's maximum (usually a typo in
    /// the year). Fix: check the year.
    OverAge,
    /// `invalid-postal-code`: not seven digits as NNN-NNNN or NNNNNNN. Fix: e.g. 900-0015.
    InvalidPostalCode,
    /// `invalid-phone`: not a Japanese phone number: must start with 0; mobile (070/080/090),
    /// IP (050) and 0800 numbers have 11 digits, 0120 and fixed lines 10. Fix: enter it with
    /// the area code, e.g. 098-123-4567 or 090-1234-5678.
    InvalidPhone,
    /// `phone-required`: neither a home nor a mobile phone was given. Fix: enter at least one.
    PhoneRequired,
    /// `invalid-email`: not an e-mail address this service can send to (one @, a domain with
    /// a dot, no spaces, quotes or `<>()[]\,;:`, no leading, trailing or double dots before
    /// the @). Fix: check the address, e.g. taro@example.jp.
    InvalidEmail,
    /// `pin-not-four-digits`: a PIN must be exactly four digits 0-9. Fix: enter four digits.
    PinNotFourDigits,
    /// `pin-mismatch`: the PIN and its confirmation differ. Fix: enter the same PIN twice.
    PinMismatch,
    /// `pin-same-digits`: four equal digits such as 1111. Fix: choose a less guessable PIN.
    PinSameDigits,
    /// `pin-sequence`: a run of consecutive digits up or down, wrapping past 9/0 (1234,
    /// 9876, 7890, 9012, 0987). Fix: choose a less guessable PIN.
    PinSequence,
    /// `pin-birth-date`: the PIN is part of the applicant's birth date (year, month-day,
    /// day-month, two-digit year with month or day, or the Japanese era year 和暦 with
    /// month or day). Fix: choose a number unrelated to the birth date.
    PinBirthDate,
    /// `pin-phone-digits`: the PIN equals the last four digits of a phone number given in the
    /// form. Fix: choose a number unrelated to the phone numbers.
    PinPhoneDigits,
    /// `pin-address-digits`: the PIN is a four-digit number from the address (street,
    /// building or room number). Fix: choose a number unrelated to the address.
    PinAddressDigits,
    /// `unknown-branch`: the branch code is not one of the bank's branches. Fix: choose a
    /// branch from the list.
    UnknownBranch,
    /// `must-accept`: a declaration or consent that must be accepted was not. Fix: read and
    /// tick it; without it the application cannot proceed.
    MustAccept,
    /// `invalid-choice`: the value is not one of the offered choices (a tampered or outdated
    /// form). Fix: choose again from the list.
    InvalidChoice,
    /// `invalid-receipt-number`: not twelve characters from the receipt alphabet (digits 2-9
    /// and letters without I and O). Fix: copy it from the confirmation e-mail, e.g.
    /// 7KQ2-M9XA-4HTD.
    InvalidReceiptNumber,
    /// `slot-not-offered`: the chosen time is not the start of one of this loan centre's
    /// slots that day (a tampered or outdated form, or the centre's hours changed). Fix:
    /// choose again from the list of free slots.
    SlotNotOffered,
    /// `slot-closed`: the loan centre is closed that day (public holiday, 12/31–1/3, one of
    /// its own closed days, or a weekday without hours). Fix: choose another day.
    SlotClosed,
    /// `slot-outside-window`: the slot has passed or lies outside the booking window (before
    /// the first or after the last bookable day). Fix: choose a slot from the list shown.
    SlotOutsideWindow,
    /// `slot-unchanged`: a change asked for the slot the booking already has. Fix: choose
    /// another time, or keep the booking as it is.
    SlotUnchanged,
    /// `slot-full`: every place of the slot was taken meanwhile. Fix: choose another time.
    SlotFull,
    /// `invalid-account-number`: not an account number of one to seven digits (a shorter one
    /// is padded with zeros), or 0000000. Fix: enter the 7-digit number from the passbook or
    /// cash card, digits only.
    InvalidAccountNumber,
    /// `junior-high-student`: the debit card is not issued to junior high school pupils
    /// (中学生を除く), judged by the birth date's school year. Fix: none online.
    JuniorHighStudent,
    /// `embossed-name-invalid-character`: the name for the card holds something other than
    /// the roman letters A–Z, spaces and `. - '`. Fix: write it in roman letters, e.g.
    /// HANAKO HIGA.
    EmbossedNameInvalidCharacter,
    /// `embossed-name-too-long`: more than 26 characters, spaces included. Fix: shorten it,
    /// e.g. with an initial for a middle name.
    EmbossedNameTooLong,
    /// `embossed-name-incomplete`: one word only; the card needs given and family name. Fix:
    /// enter both, separated by a space.
    EmbossedNameIncomplete,
    /// `password-too-short`: fewer than 8 characters. Fix: make it longer.
    PasswordTooShort,
    /// `password-too-long`: more than 32 characters. Fix: shorten it.
    PasswordTooLong,
    /// `password-invalid-character`: a character other than half-width letters, digits and
    /// symbols (a space, a full-width letter). Fix: type it in half-width characters.
    PasswordInvalidCharacter,
    /// `password-letters-and-digits`: no letter, or no digit. Fix: use both.
    PasswordLettersAndDigits,
    /// `password-weak`: easy to guess (a common word or pattern, by the zxcvbn estimate).
    /// Fix: a longer password, unrelated words, digits and symbols in unusual places.
    PasswordWeak,
    /// `password-contains-birth-date`: contains the birth date in a usual form. Fix: leave
    /// it out.
    PasswordContainsBirthDate,
    /// `password-contains-phone`: contains the phone number or its last four digits. Fix:
    /// leave it out.
    PasswordContainsPhone,
    /// `password-contains-account-number`: contains the account number. Fix: leave it out.
    PasswordContainsAccountNumber,
    /// `password-contains-name`: contains the name in roman letters. Fix: leave it out.
    PasswordContainsName,
    /// `password-mismatch`: the password and its confirmation differ. Fix: type the same
    /// password twice.
    PasswordMismatch,
}

impl ErrorCode {
    /// Every code, so the web layer can test that it has a message for each.
    pub const ALL: &'static [ErrorCode] = &[
        Self::Required,
        Self::TooLong,
        Self::ControlCharacter,
        Self::NotFullWidthKatakana,
        Self::NotAName,
        Self::InvalidDate,
        Self::InFuture,
        Self::UnderAge,
        Self::OverAge,
        Self::InvalidPostalCode,
        Self::InvalidPhone,
        Self::PhoneRequired,
        Self::InvalidEmail,
        Self::PinNotFourDigits,
        Self::PinMismatch,
        Self::PinSameDigits,
        Self::PinSequence,
        Self::PinBirthDate,
        Self::PinPhoneDigits,
        Self::PinAddressDigits,
        Self::UnknownBranch,
        Self::MustAccept,
        Self::InvalidChoice,
        Self::InvalidReceiptNumber,
        Self::SlotNotOffered,
        Self::SlotClosed,
        Self::SlotOutsideWindow,
        Self::SlotUnchanged,
        Self::SlotFull,
        Self::InvalidAccountNumber,
        Self::JuniorHighStudent,
        Self::EmbossedNameInvalidCharacter,
        Self::EmbossedNameTooLong,
        Self::EmbossedNameIncomplete,
        Self::PasswordTooShort,
        Self::PasswordTooLong,
        Self::PasswordInvalidCharacter,
        Self::PasswordLettersAndDigits,
        Self::PasswordWeak,
        Self::PasswordContainsBirthDate,
        Self::PasswordContainsPhone,
        Self::PasswordContainsAccountNumber,
        Self::PasswordContainsName,
        Self::PasswordMismatch,
    ];

    /// The stable kebab-case name of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong => "too-long",
            Self::ControlCharacter => "control-character",
            Self::NotFullWidthKatakana => "not-full-width-katakana",
            Self::NotAName => "not-a-name",
            Self::InvalidDate => "invalid-date",
            Self::InFuture => "in-future",
            Self::UnderAge => "under-age",
            Self::OverAge => "over-age",
            Self::InvalidPostalCode => "invalid-postal-code",
            Self::InvalidPhone => "invalid-phone",
            Self::PhoneRequired => "phone-required",
            Self::InvalidEmail => "invalid-email",
            Self::PinNotFourDigits => "pin-not-four-digits",
            Self::PinMismatch => "pin-mismatch",
            Self::PinSameDigits => "pin-same-digits",
            Self::PinSequence => "pin-sequence",
            Self::PinBirthDate => "pin-birth-date",
            Self::PinPhoneDigits => "pin-phone-digits",
            Self::PinAddressDigits => "pin-address-digits",
            Self::UnknownBranch => "unknown-branch",
            Self::MustAccept => "must-accept",
            Self::InvalidChoice => "invalid-choice",
            Self::InvalidReceiptNumber => "invalid-receipt-number",
            Self::SlotNotOffered => "slot-not-offered",
            Self::SlotClosed => "slot-closed",
            Self::SlotOutsideWindow => "slot-outside-window",
            Self::SlotUnchanged => "slot-unchanged",
            Self::SlotFull => "slot-full",
            Self::InvalidAccountNumber => "invalid-account-number",
            Self::JuniorHighStudent => "junior-high-student",
            Self::EmbossedNameInvalidCharacter => "embossed-name-invalid-character",
            Self::EmbossedNameTooLong => "embossed-name-too-long",
            Self::EmbossedNameIncomplete => "embossed-name-incomplete",
            Self::PasswordTooShort => "password-too-short",
            Self::PasswordTooLong => "password-too-long",
            Self::PasswordInvalidCharacter => "password-invalid-character",
            Self::PasswordLettersAndDigits => "password-letters-and-digits",
            Self::PasswordWeak => "password-weak",
            Self::PasswordContainsBirthDate => "password-contains-birth-date",
            Self::PasswordContainsPhone => "password-contains-phone",
            Self::PasswordContainsAccountNumber => "password-contains-account-number",
            Self::PasswordContainsName => "password-contains-name",
            Self::PasswordMismatch => "password-mismatch",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One refused field: the form field's name (snake_case, as in the HTML form) and the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct FieldError {
    /// The form field's name, e.g. `family_name_kana`.
    pub field: &'static str,
    /// Why it was refused.
    pub code: ErrorCode,
}

impl FieldError {
    /// A refusal of `field` with `code`.
    pub const fn new(field: &'static str, code: ErrorCode) -> Self {
        Self { field, code }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)
    }
}

impl std::error::Error for FieldError {}

/// Attaches a field name to a value parser's [`ErrorCode`].
pub trait ForField<T> {
    /// `Err(code)` becomes `Err(FieldError { field, code })`.
    fn for_field(self, field: &'static str) -> Result<T, FieldError>;
}

impl<T> ForField<T> for Result<T, ErrorCode> {
    fn for_field(self, field: &'static str) -> Result<T, FieldError> {
        self.map_err(|code| FieldError::new(field, code))
    }
}

/// All refusals of one form step, in form order, at most one per field.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Records a refusal; a second refusal of the same field is dropped, because the
    /// applicant fixes one problem at a time and the page shows one message per field.
    pub fn push(&mut self, error: FieldError) {
        if self.get(error.field).is_none() {
            self.0.push(error);
        }
    }

    /// Keeps the value of `result`, or records its error and gives `None`.
    pub fn take<T>(&mut self, field: &'static str, result: Result<T, ErrorCode>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(code) => {
                self.push(FieldError::new(field, code));
                None
            }
        }
    }

    /// Keeps the value of `result`, or records its error(s) (a [`FieldError`] or the
    /// [`FieldErrors`] of another step) and gives `None`.
    pub fn take_result<T, E: Into<FieldErrors>>(&mut self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(errors) => {
                self.extend(errors.into());
                None
            }
        }
    }

    /// Adds every error of `other` (at most one per field, as [`FieldErrors::push`]).
    pub fn extend(&mut self, other: FieldErrors) {
        for error in other {
            self.push(error);
        }
    }

    /// The code recorded for `field`, if any.
    pub fn get(&self, field: &str) -> Option<ErrorCode> {
        self.0.iter().find(|e| e.field == field).map(|e| e.code)
    }

    /// True when nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of refused fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The refusals in form order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The refusals as a vector.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl IntoIterator for FieldErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case() {
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
            assert!(!name.starts_with('-') && !name.ends_with('-'));
        }
    }

    #[test]
    fn field_errors_keep_first_error_per_field_in_order() {
        let mut errors = FieldErrors::new();
        errors.push(FieldError::new("b", ErrorCode::TooLong));
        errors.push(FieldError::new("a", ErrorCode::Required));
        errors.push(FieldError::new("b", ErrorCode::Required));
        assert_eq!(errors.len(), 2);
        assert_eq!(errors.get("b"), Some(ErrorCode::TooLong));
        assert_eq!(errors.to_string(), "b: too-long, a: required");
    }

    #[test]
    fn take_records_error_and_keeps_value() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.take("x", Ok::<_, ErrorCode>(3)), Some(3));
        assert_eq!(errors.take::<u8>("y", Err(ErrorCode::InvalidChoice)), None);
        assert_eq!(
            errors.into_vec(),
            vec![FieldError::new("y", ErrorCode::InvalidChoice)]
        );
    }
}
