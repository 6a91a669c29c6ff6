//! Japanese phone numbers (電話番号).

use std::fmt;

use crate::error::ErrorCode;
use crate::text::{is_forbidden_char, to_ascii_digits};

/// A Japanese phone number in domestic form, kept as digits only.
///
/// Input may use hyphens, spaces and parentheses (`098(123)4567`), full-width digits and
/// dashes. Rules, by prefix:
/// - `070`, `080`, `090` (mobile), `050` (IP phone) and `0800` (toll-free): 11 digits;
/// - `0120` (toll-free): 10 digits;
/// - `00…` (international and carrier prefixes), `020` (machine-to-machine) and `060`
///   (unassigned): refused, no person has such a number to give;
/// - any other `0…` (fixed lines such as 098, 0980, and 0570/0990 service numbers): 10
///   digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a phone number; `invalid-phone` for anything outside the rules above.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        if input.chars().count() > 24 {
            return Err(ErrorCode::InvalidPhone);
        }
        if input.chars().any(is_forbidden_char) {
            return Err(ErrorCode::ControlCharacter);
        }
        let text = to_ascii_digits(input);
        let text = text.trim();
        if text.is_empty() {
            return Err(ErrorCode::Required);
        }
        let mut digits = String::with_capacity(11);
        for c in text.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '-' | ' ' | '(' | ')' | '（' | '）' => {}
                _ => return Err(ErrorCode::InvalidPhone),
            }
        }
        match expected_length(&digits) {
            Some(len) if digits.len() == len => Ok(Self(digits)),
            _ => Err(ErrorCode::InvalidPhone),
        }
    }

    /// The digits, e.g. `09012345678`.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// True for mobile numbers (070, 080, 090).
    pub fn is_mobile(&self) -> bool {
        ["070", "080", "090"].iter().any(|p| self.0.starts_with(p))
    }

    /// The last four digits (used to refuse a PIN equal to them).
    pub fn last_four(&self) -> &str {
        self.0
            .get(self.0.len().saturating_sub(4)..)
            .unwrap_or_default()
    }
}

/// The number of digits a number with these leading digits must have, or `None` when the
/// prefix is never a person's number.
fn expected_length(digits: &str) -> Option<usize> {
    const ELEVEN: [&str; 5] = ["070", "080", "090", "050", "0800"];
    const REFUSED: [&str; 3] = ["00", "020", "060"];
    if !digits.starts_with('0') || REFUSED.iter().any(|p| digits.starts_with(p)) {
        None
    } else if ELEVEN.iter().any(|p| digits.starts_with(p)) {
        Some(11)
    } else {
        // 0120 and every fixed line.
        Some(10)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneNumber {
    /// The digits only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(input: &str) -> Result<String, ErrorCode> {
        PhoneNumber::parse(input).map(|p| p.digits().to_owned())
    }

    #[test]
    fn mobile_and_ip_numbers_have_eleven_digits() {
        assert_eq!(digits("090-1234-5678"), Ok("09012345678".into()));
        assert_eq!(
            digits("０８０－１２３４－５６７８"),
            Ok("08012345678".into())
        );
        assert_eq!(digits("070 1234 5678"), Ok("07012345678".into()));
        assert_eq!(digits("050-1234-5678"), Ok("05012345678".into()));
        assert_eq!(digits("090-1234-567"), Err(ErrorCode::InvalidPhone));
        assert_eq!(digits("090-1234-56789"), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn toll_free_0120_has_ten_digits_and_0800_eleven() {
        assert_eq!(digits("0120-123-456"), Ok("0120123456".into()));
        assert_eq!(digits("0120-123-4567"), Err(ErrorCode::InvalidPhone));
        assert_eq!(digits("0800-123-4567"), Ok("08001234567".into()));
        assert_eq!(digits("0800-123-456"), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn fixed_lines_have_ten_digits() {
        assert_eq!(digits("098-123-4567"), Ok("0981234567".into()));
        assert_eq!(digits("0980(12)3456"), Ok("0980123456".into()));
        assert_eq!(digits("０９８（１２３）４５６７"), Ok("0981234567".into()));
        assert_eq!(digits("098-123-456"), Err(ErrorCode::InvalidPhone));
        assert_eq!(digits("098-123-45678"), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "98-123-4567",
            "+81-90-1234-5678",
            "001-81-1234567",
            "020-1234-5678",
            "090.1234.5678",
            "090-1234-567８x",
        ] {
            assert_eq!(digits(bad), Err(ErrorCode::InvalidPhone), "{bad}");
        }
        assert_eq!(digits(""), Err(ErrorCode::Required));
        assert_eq!(digits("090-1234-5678\n"), Err(ErrorCode::ControlCharacter));
        assert_eq!(digits(&"0".repeat(100)), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn mobile_and_last_four() {
        let mobile = PhoneNumber::parse("090-1234-5678").expect("valid");
        assert!(mobile.is_mobile());
        assert_eq!(mobile.last_four(), "5678");
        let home = PhoneNumber::parse("098-123-4567").expect("valid");
        assert!(!home.is_mobile());
        assert_eq!(home.last_four(), "4567");
        assert!(
            !PhoneNumber::parse("050-1234-5678")
                .expect("valid")
                .is_mobile()
        );
    }
}
