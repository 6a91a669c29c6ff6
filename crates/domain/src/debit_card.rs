//! The Visa debit-card application (Visaデビットカード) for an existing account: the account
//! holder ([`CustomerStep`], with the debit card's age rule), the account ([`AccountStep`]),
//! the name embossed on the card ([`CardStep`]), and the **debit-card PIN**, parsed at the
//! moment it is sealed and never kept in a draft.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::account::AccountStep;
use crate::customer::CustomerStep;
use crate::error::{ErrorCode, FieldError, FieldErrors};
use crate::pin::{Pin, PinFields};
use crate::romaji::passport_hepburn;
use crate::savings::FormInput;
use crate::text::is_forbidden_char;

/// The form field names of the card step.
pub mod field {
    /// カード表面のお名前.
    pub const EMBOSSED_NAME: &str = "embossed_name";
    /// デビットカード暗証番号.
    pub const DEBIT_CARD_PIN: &str = "debit_card_pin";
    /// デビットカード暗証番号（確認）.
    pub const DEBIT_CARD_PIN_CONFIRM: &str = "debit_card_pin_confirm";
}

use field::*;

/// The name embossed on the card (カード表面のお名前): given name then family name in capital
/// roman letters, as on a passport (HANAKO HIGA).
///
/// Card rules (ISO/IEC 7813 track 1 holds the name; card makers emboss A–Z, space and a few
/// marks): at most 26 characters, spaces included; only `A`–`Z`, space, `.`, `-` and `'`;
/// at least two words; each word starts with a letter.
///
/// Normalized where the intent is unambiguous: full-width letters and spaces become
/// half-width (NFKC), lower case becomes upper case, runs of spaces become one, a
/// typographic apostrophe ’ becomes `'`, and a long-vowel macron or circumflex is dropped
/// (Ō → O, â → A), as passports do. Anything else (kana, digits, other accented letters such
/// as Ü, whose card spelling the applicant must choose: U or UE) is refused.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmbossedName(String);

impl EmbossedName {
    /// Most characters, spaces included.
    pub const MAX_CHARS: usize = 26;

    /// Parses and normalizes a name for the card.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        if input.chars().count() > Self::MAX_CHARS * 4 + 16 {
            return Err(ErrorCode::EmbossedNameTooLong);
        }
        if input.chars().any(is_forbidden_char) {
            return Err(ErrorCode::ControlCharacter);
        }
        let mut words: Vec<String> = Vec::new();
        let normalized: String = input.nfkc().map(unaccent).collect();
        for word in normalized.split_whitespace() {
            let word = word.to_ascii_uppercase();
            let valid = word
                .chars()
                .all(|c| c.is_ascii_uppercase() || matches!(c, '.' | '-' | '\''));
            if !valid || !word.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Err(ErrorCode::EmbossedNameInvalidCharacter);
            }
            words.push(word);
        }
        if words.is_empty() {
            return Err(ErrorCode::Required);
        }
        let name = words.join(" ");
        if name.len() > Self::MAX_CHARS {
            return Err(ErrorCode::EmbossedNameTooLong);
        }
        if words.len() < 2 {
            return Err(ErrorCode::EmbossedNameIncomplete);
        }
        Ok(Self(name))
    }

    /// The passport spelling of the applicant's reading, given name first (ヒガ ハナコ →
    /// HANAKO HIGA), offered as the default; `None` when it does not fit the card.
    pub fn suggest(customer: &CustomerStep) -> Option<EmbossedName> {
        let given = passport_hepburn(customer.given_name_kana().as_str())?;
        let family = passport_hepburn(customer.family_name_kana().as_str())?;
        Self::parse(&format!("{given} {family}")).ok()
    }

    /// The name as it will be embossed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Long-vowel marks dropped, the typographic apostrophe made plain.
fn unaccent(c: char) -> char {
    match c {
        'Ā' | 'Â' => 'A',
        'ā' | 'â' => 'a',
        'Ē' | 'Ê' => 'E',
        'ē' | 'ê' => 'e',
        'Ī' | 'Î' => 'I',
        'ī' | 'î' => 'i',
        'Ō' | 'Ô' => 'O',
        'ō' | 'ô' => 'o',
        'Ū' | 'Û' => 'U',
        'ū' | 'û' => 'u',
        '\u{2019}' | '\u{2018}' | '\u{FF07}' => '\'',
        other => other,
    }
}

/// Personal data: debug output shows only the length.
impl fmt::Debug for EmbossedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmbossedName({} characters)", self.0.len())
    }
}

impl fmt::Display for EmbossedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmbossedName {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<EmbossedName> for String {
    fn from(value: EmbossedName) -> Self {
        value.0
    }
}

/// The step カード: the embossed name. The PIN on the same page is parsed separately
/// ([`parse_debit_card_pin`]), so this step may be kept in a draft.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CardStep {
    embossed_name: EmbossedName,
}

impl CardStep {
    /// Parses the step's form (the embossed name).
    pub fn parse(form: &dyn FormInput) -> Result<Self, FieldErrors> {
        let embossed_name = EmbossedName::parse(form.get(EMBOSSED_NAME).unwrap_or(""))
            .map_err(|code| FieldError::new(EMBOSSED_NAME, code))?;
        Ok(Self { embossed_name })
    }

    /// カード表面のお名前.
    pub fn embossed_name(&self) -> &EmbossedName {
        &self.embossed_name
    }

    /// Every field as (form field name, plaintext); they parse back.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        vec![(EMBOSSED_NAME, self.embossed_name.to_string())]
    }
}

/// A complete debit-card application (without the PIN, which is sealed separately, and the
/// e-mail address, which the e-mail check holds).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DebitCardApplication {
    /// お客さま情報.
    pub customer: CustomerStep,
    /// 口座情報.
    pub account: AccountStep,
    /// カード.
    pub card: CardStep,
}

impl DebitCardApplication {
    /// Every field as (form field name, plaintext), for envelope encryption field by field.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = self.customer.personal_fields();
        fields.extend(self.account.personal_fields());
        fields.extend(self.card.personal_fields());
        fields
    }
}

/// Reads `debit_card_pin` and its confirmation from `form` and parses them with the weak-PIN
/// rules against the applicant's birth date and phone. Call it only where the PIN is sealed.
pub fn parse_debit_card_pin(
    form: &dyn FormInput,
    customer: &CustomerStep,
) -> Result<Pin, FieldError> {
    Pin::parse_fields(
        PinFields::DEBIT_CARD,
        form.get(DEBIT_CARD_PIN).unwrap_or(""),
        form.get(DEBIT_CARD_PIN_CONFIRM).unwrap_or(""),
        &customer.pin_context(),
    )
}

#[cfg(test)]
mod tests;
