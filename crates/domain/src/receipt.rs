//! Receipt numbers (受付番号) given to the applicant when an application is submitted.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::error::ErrorCode;
use crate::text::{ascii_digit_or_hyphen, is_forbidden_char};

/// The 32 symbols of a receipt number: digits and upper-case letters without 0/O and 1/I,
/// which people confuse when reading one aloud or copying it from an e-mail.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Symbols per receipt number.
const SYMBOLS: usize = 12;

/// A receipt number: 12 symbols from [`ALPHABET`], shown as `XXXX-XXXX-XXXX`.
///
/// It carries 60 random bits. That is enough because a receipt number grants nothing on its
/// own: looking up an application's status also needs a fresh code sent to the applicant's
/// e-mail address, and lookups are rate-limited, so guessing one of even millions of live
/// numbers (2^60 ≈ 10^18) is hopeless. Its job is to be unique and unguessable enough not to
/// reveal how many applications the bank receives, while staying short enough to read out
/// on the phone.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptNumber(String);

/// The operating system's random number generator failed; no receipt number was made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomnessUnavailable(getrandom::Error);

impl From<getrandom::Error> for RandomnessUnavailable {
    fn from(error: getrandom::Error) -> Self {
        Self(error)
    }
}

impl ReceiptNumber {
    /// A new random receipt number from the operating system's generator. Each symbol takes
    /// exactly 5 bits of a random 64-bit word, so every symbol is uniform (no modulo bias).
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(RandomnessUnavailable)?;
        Ok(Self::from_random_bits(u64::from_le_bytes(bytes)))
    }

    /// The receipt number made of the low 60 bits of `bits`, 5 bits per symbol.
    fn from_random_bits(bits: u64) -> Self {
        let symbols = (0..SYMBOLS).map(|i| {
            let index = (bits >> (5 * i)) & 0x1F;
            char::from(ALPHABET[index as usize])
        });
        Self::from_symbols(symbols)
    }

    /// Canonical form of 12 symbols already known to be in the alphabet.
    fn from_symbols(symbols: impl Iterator<Item = char>) -> Self {
        let mut text = String::with_capacity(SYMBOLS + 2);
        for (i, symbol) in symbols.enumerate() {
            if i > 0 && i % 4 == 0 {
                text.push('-');
            }
            text.push(symbol);
        }
        Self(text)
    }

    /// Parses a receipt number as a person types or pastes it: lower case, full-width
    /// characters, hyphens (or dash look-alikes) and spaces anywhere are accepted.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        if input.chars().count() > 64 {
            return Err(ErrorCode::InvalidReceiptNumber);
        }
        if input.chars().any(is_forbidden_char) {
            return Err(ErrorCode::ControlCharacter);
        }
        let mut symbols = Vec::with_capacity(SYMBOLS);
        for c in input.nfkc().map(ascii_digit_or_hyphen) {
            let c = c.to_ascii_uppercase();
            if c == '-' || c.is_whitespace() {
                continue;
            }
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(ErrorCode::InvalidReceiptNumber);
            }
            symbols.push(c);
        }
        match symbols.len() {
            0 => Err(ErrorCode::Required),
            SYMBOLS => Ok(Self::from_symbols(symbols.into_iter())),
            _ => Err(ErrorCode::InvalidReceiptNumber),
        }
    }

    /// The canonical form, `XXXX-XXXX-XXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ReceiptNumber {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<ReceiptNumber> for String {
    fn from(value: ReceiptNumber) -> Self {
        value.0
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn alphabet_has_32_distinct_unambiguous_symbols() {
        let set: HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(set.len(), 32);
        for confusable in *b"01OI" {
            assert!(!set.contains(&confusable));
        }
    }

    #[test]
    fn generated_numbers_have_the_canonical_shape_and_differ() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let number = ReceiptNumber::generate().expect("OS randomness");
            let text = number.as_str();
            assert_eq!(text.len(), 14);
            assert_eq!((text.as_bytes()[4], text.as_bytes()[9]), (b'-', b'-'));
            assert!(
                text.bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| ALPHABET.contains(&b))
            );
            assert_eq!(ReceiptNumber::parse(text), Ok(number.clone()));
            seen.insert(number);
        }
        assert_eq!(seen.len(), 200);
    }

    #[test]
    fn every_5_bit_chunk_maps_to_its_symbol() {
        assert_eq!(
            ReceiptNumber::from_random_bits(0).as_str(),
            "2222-2222-2222"
        );
        assert_eq!(
            ReceiptNumber::from_random_bits(u64::MAX).as_str(),
            "ZZZZ-ZZZZ-ZZZZ"
        );
        // Symbol i uses bits 5i..5i+5: 1 in the first chunk, 31 in the last.
        let bits = 1 | (31u64 << 55);
        assert_eq!(
            ReceiptNumber::from_random_bits(bits).as_str(),
            "3222-2222-222Z"
        );
        // Bits above 60 are unused.
        assert_eq!(
            ReceiptNumber::from_random_bits(0xF << 60).as_str(),
            "2222-2222-2222"
        );
    }

    #[test]
    fn parse_accepts_how_people_type_it() {
        let expected = Ok(ReceiptNumber("7KQ2-M9XA-4HTD".to_owned()));
        for input in [
            "7KQ2-M9XA-4HTD",
            "7kq2m9xa4htd",
            " 7KQ2 M9XA 4HTD ",
            "７ＫＱ２－Ｍ９ＸＡ－４ＨＴＤ",
            "7kq2ーm9xa—4htd",
            "7KQ2M9-XA4HTD",
        ] {
            assert_eq!(ReceiptNumber::parse(input), expected, "{input}");
        }
    }

    #[test]
    fn parse_refuses_confusables_and_wrong_lengths() {
        for bad in [
            "7KQ2-M9XA-4HT",
            "7KQ2-M9XA-4HTDA",
            "0KQ2-M9XA-4HTD",
            "OKQ2-M9XA-4HTD",
            "1KQ2-M9XA-4HTD",
            "IKQ2-M9XA-4HTD",
            "7KQ2_M9XA_4HTD",
            "ＡＢＣ",
        ] {
            assert_eq!(
                ReceiptNumber::parse(bad),
                Err(ErrorCode::InvalidReceiptNumber),
                "{bad}"
            );
        }
        assert_eq!(ReceiptNumber::parse(" - "), Err(ErrorCode::Required));
        assert_eq!(
            ReceiptNumber::parse("7KQ2\nM9XA4HTD"),
            Err(ErrorCode::ControlCharacter)
        );
    }
}
