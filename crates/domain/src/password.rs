//! The internet-banking logon password (ログオンパスワード) chosen in the application.
//!
//! Like a [`crate::pin::Pin`], a [`LogonPassword`] is a secret from the moment it is parsed:
//! no `Display`, `Serialize`, `Clone` or comparison, `LogonPassword(****)` in debug output,
//! wiped from memory on drop, its bytes given only to the sealing code. It is never kept in a
//! draft: the web layer parses it where it seals it.
//!
//! # Policy
//!
//! - **8 to 32 characters**, half-width letters, digits and symbols (`!` to `~`, no spaces),
//!   **at least one letter and one digit**. Eight is the floor of every Japanese bank's
//!   internet banking (most ask 8–16 or 8–32, with letters and digits mixed), and the
//!   password must be accepted as typed by the core banking system's logon screen, which
//!   takes half-width characters only; 32 leaves room for a passphrase without spaces. A
//!   full-width letter is refused rather than converted, so that the password sealed is
//!   exactly the one the applicant will type at logon.
//! - **Not made of the applicant's own data**, whatever the estimator says (letters compared
//!   case-insensitively, and again with the separators `- / . _ :` removed, so 1987/06/14
//!   counts as 19870614):
//!   - the birth date: the year (YYYY), month and day (MMDD, DDMM, so also YYYYMMDD and
//!     YYMMDD), year with unpadded month and day (1993-5-1 → 199351, 9351), the Japanese era
//!     year with the month and day (平成5年5月1日 → 050501, 50501) and with the era's initial
//!     (h05);
//!   - a phone number: its last four digits, and so the whole number;
//!   - the account number: all seven digits, or the number without its padding zeros when
//!     four digits or more remain;
//!   - the name in roman letters: each part of the reading (フリガナ) in every common spelling
//!     ([`crate::romaji::spellings`]: Hepburn and Kunrei, long vowels as typed, dropped or
//!     oh, n or m before b/m/p), and family + given name together either way round, when at
//!     least three letters long (so 伊藤 イトウ refuses ito, itou and itoh; a one-letter
//!     reading such as イ is not checked alone); a name written in latin letters is checked
//!     as written.
//! - **Strong enough** by [zxcvbn](https://github.com/dropbox/zxcvbn)'s estimate: at least
//!   10⁸ guesses, with the applicant's data above, the e-mail address and the bank's name
//!   given to it as user inputs, so "Hanako1993" or "Madoguchi2026" count as a few guesses.
//!   10⁸ is zxcvbn's boundary between "protected from unthrottled online guessing" (score 2)
//!   and "safely unguessable" (score 3), and exactly where it puts a random 8-character
//!   password (its brute-force estimate is 10 per character), so the shortest password the
//!   length rule allows passes when random and fails when it is a word, a date or a keyboard
//!   pattern ("Abcd1234!", "Iloveyou2", "okinawa2024"). A higher bar (score 3 proper) would
//!   silently make the minimum length 9. The logon itself is throttled by core banking's
//!   lockout, and madoguchi never stores the password but sealed.
//!
//! The checks run in that order, so a refusal names the most specific reason: it is more
//! useful to hear "contains your birth date" than "too weak".
//!
//! zxcvbn copies the password into its own strings while estimating and does not wipe them;
//! they live for the few milliseconds of the estimate. It also reads the clock to time itself
//! (`calculation_time`), which nothing here uses: the result depends on the input only.

use std::fmt;

use zeroize::Zeroizing;

use crate::account::AccountNumber;
use crate::era::Era;
use crate::error::{ErrorCode, FieldError};
use crate::person::{BirthDate, KanaName, KanjiName, PhoneNumber};
use crate::romaji;
use crate::text::is_forbidden_char;

/// The form field names of a password and its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordFields {
    /// The password field.
    pub password: &'static str,
    /// The confirmation field; `password-mismatch` is reported on it.
    pub confirmation: &'static str,
}

impl PasswordFields {
    /// The logon password of the internet-banking application.
    pub const LOGON: PasswordFields = PasswordFields {
        password: "logon_password",
        confirmation: "logon_password_confirm",
    };
}

/// What the applicant told us, to refuse a password made of it.
#[derive(Debug, Clone, Default)]
pub struct PasswordContext<'a> {
    /// The birth date.
    pub birth_date: Option<&'a BirthDate>,
    /// Every phone number given.
    pub phones: Vec<&'a PhoneNumber>,
    /// The account number.
    pub account_number: Option<&'a AccountNumber>,
    /// The readings of the name (family, given), checked in roman letters.
    pub name_readings: Vec<&'a KanaName>,
    /// The name as written (family, given); checked when written in latin letters.
    pub names: Vec<&'a KanjiName>,
    /// Other words the applicant or the site is known by (the e-mail address, the bank's
    /// name): given to the estimator only.
    pub other_inputs: Vec<&'a str>,
}

/// A logon password that passed every rule. See the module documentation.
pub struct LogonPassword(Zeroizing<Vec<u8>>);

impl LogonPassword {
    /// Fewest characters.
    pub const MIN_CHARS: usize = 8;
    /// Most characters.
    pub const MAX_CHARS: usize = 32;
    /// The fewest guesses zxcvbn must estimate (see the module documentation).
    pub const MIN_GUESSES: u64 = 100_000_000;

    /// Parses the password and its confirmation, reporting on `fields`. Refusals, in this
    /// order, on the password field unless noted:
    ///
    /// 1. `required`: empty;
    /// 2. `password-too-long`: more than 32 characters;
    /// 3. `control-character` or `password-invalid-character`: anything but `!`–`~`
    ///    (spaces, full-width or other non-ASCII characters);
    /// 4. `password-too-short`: fewer than 8 characters;
    /// 5. `password-letters-and-digits`: no letter or no digit;
    /// 6. `password-contains-birth-date`, 7. `password-contains-phone`,
    ///    8. `password-contains-account-number`, 9. `password-contains-name`: see the
    ///    module documentation;
    /// 10. `password-weak`: zxcvbn estimates fewer than 10⁸ guesses;
    /// 11. `password-mismatch`, on the confirmation field: the confirmation differs.
    pub fn parse_fields(
        fields: PasswordFields,
        input: &str,
        confirmation: &str,
        ctx: &PasswordContext<'_>,
    ) -> Result<LogonPassword, FieldError> {
        let refuse = |code| FieldError::new(fields.password, code);
        if input.is_empty() {
            return Err(refuse(ErrorCode::Required));
        }
        if input.chars().nth(Self::MAX_CHARS).is_some() {
            return Err(refuse(ErrorCode::PasswordTooLong));
        }
        if let Some(bad) = input.chars().find(|c| !matches!(c, '!'..='~')) {
            return Err(refuse(if is_forbidden_char(bad) {
                ErrorCode::ControlCharacter
            } else {
                ErrorCode::PasswordInvalidCharacter
            }));
        }
        // Only ASCII from here: one byte per character.
        if input.len() < Self::MIN_CHARS {
            return Err(refuse(ErrorCode::PasswordTooShort));
        }
        let has_letter = input.bytes().any(|b| b.is_ascii_alphabetic());
        let has_digit = input.bytes().any(|b| b.is_ascii_digit());
        if !(has_letter && has_digit) {
            return Err(refuse(ErrorCode::PasswordLettersAndDigits));
        }
        let lower = Zeroizing::new(input.to_ascii_lowercase());
        let compact: Zeroizing<String> = Zeroizing::new(
            lower
                .chars()
                .filter(|c| !matches!(c, '-' | '/' | '.' | '_' | ':'))
                .collect(),
        );
        let contains_any = |forms: &[String]| {
            forms
                .iter()
                .any(|form| lower.contains(form.as_str()) || compact.contains(form.as_str()))
        };
        let birth = ctx.birth_date.map(birth_date_forms).unwrap_or_default();
        if contains_any(&birth) {
            return Err(refuse(ErrorCode::PasswordContainsBirthDate));
        }
        let phones: Vec<String> = ctx
            .phones
            .iter()
            .map(|p| p.last_four().to_owned())
            .collect();
        if contains_any(&phones) {
            return Err(refuse(ErrorCode::PasswordContainsPhone));
        }
        let account = ctx.account_number.map(account_forms).unwrap_or_default();
        if contains_any(&account) {
            return Err(refuse(ErrorCode::PasswordContainsAccountNumber));
        }
        let names = name_forms(&ctx.name_readings, &ctx.names);
        if contains_any(&names) {
            return Err(refuse(ErrorCode::PasswordContainsName));
        }
        let mut user_inputs: Vec<&str> = Vec::new();
        user_inputs.extend(names.iter().map(String::as_str));
        user_inputs.extend(birth.iter().map(String::as_str));
        user_inputs.extend(ctx.phones.iter().map(|p| p.digits()));
        user_inputs.extend(account.iter().map(String::as_str));
        let other_words: Vec<&str> = ctx
            .other_inputs
            .iter()
            .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
            .filter(|word| word.len() >= 3)
            .collect();
        user_inputs.extend(other_words);
        if zxcvbn::zxcvbn(input, &user_inputs).guesses() < Self::MIN_GUESSES {
            return Err(refuse(ErrorCode::PasswordWeak));
        }
        if confirmation != input {
            return Err(FieldError::new(
                fields.confirmation,
                ErrorCode::PasswordMismatch,
            ));
        }
        Ok(LogonPassword(Zeroizing::new(input.as_bytes().to_vec())))
    }

    /// Parses the logon password on the fields of [`PasswordFields::LOGON`].
    pub fn parse(
        input: &str,
        confirmation: &str,
        ctx: &PasswordContext<'_>,
    ) -> Result<LogonPassword, FieldError> {
        Self::parse_fields(PasswordFields::LOGON, input, confirmation, ctx)
    }

    /// The password's ASCII bytes. **Only the sealing code may call this**, to encrypt it for
    /// core banking; nothing else has a reason to see it.
    pub fn expose_for_sealing(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for LogonPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogonPassword(****)")
    }
}

/// The initial of an era as written in roman letters (S62 for 昭和62年).
fn era_initial(era: Era) -> char {
    match era {
        Era::Meiji => 'm',
        Era::Taisho => 't',
        Era::Showa => 's',
        Era::Heisei => 'h',
        Era::Reiwa => 'r',
    }
}

/// The forms of the birth date a password must not contain (lower-case).
fn birth_date_forms(birth: &BirthDate) -> Vec<String> {
    let date = birth.date();
    let year = format!("{:04}", date.year());
    let yy = format!("{:02}", date.year().rem_euclid(100));
    let (month, day) = (u8::from(date.month()), date.day());
    let (mm, dd) = (format!("{month:02}"), format!("{day:02}"));
    let (m, d) = (month.to_string(), day.to_string());
    let mut forms = vec![
        format!("{mm}{dd}"),
        format!("{dd}{mm}"),
        year.clone(),
        format!("{year}{m}{d}"),
        format!("{yy}{m}{d}"),
    ];
    if let Some(era) = birth.era_year() {
        let ey = format!("{:02}", era.year);
        let initial = era_initial(era.era);
        forms.push(format!("{ey}{mm}{dd}"));
        forms.push(format!("{}{mm}{dd}", era.year));
        forms.push(format!("{initial}{ey}"));
        forms.push(format!("{initial}{}{mm}{dd}", era.year));
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The forms of the account number a password must not contain.
fn account_forms(number: &AccountNumber) -> Vec<String> {
    let mut forms = vec![number.as_str().to_owned()];
    let unpadded = number.unpadded();
    if unpadded.len() >= 4 && unpadded.len() < 7 {
        forms.push(unpadded.to_owned());
    }
    forms
}

/// The spellings of the name a password must not contain (lower-case, three letters or
/// more). `readings` are family then given name.
fn name_forms(readings: &[&KanaName], names: &[&KanjiName]) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    let mut add = |form: String| {
        if form.len() >= 3 && !forms.contains(&form) {
            forms.push(form);
        }
    };
    for style in std::iter::once(romaji::Style::HEPBURN).chain(romaji::Style::all()) {
        let spelled: Vec<String> = readings
            .iter()
            .filter_map(|r| romaji::romanize(r.as_str(), style))
            .collect();
        for part in &spelled {
            for word in part.split(' ') {
                add(word.to_owned());
            }
            add(part.replace(' ', ""));
        }
        if let [family, given] = spelled.as_slice() {
            add(format!("{family}{given}").replace(' ', ""));
            add(format!("{given}{family}").replace(' ', ""));
        }
    }
    for name in names {
        let text = name.as_str().to_ascii_lowercase();
        if text.chars().all(|c| c.is_ascii_alphabetic() || c == ' ') {
            for word in text.split(' ') {
                add(word.to_owned());
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests;
