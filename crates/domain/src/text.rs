//! Input hygiene shared by every text field: trimming, refusing invisible control
//! characters, Unicode normalization and length limits counted in characters.
//!
//! Two normalizations are used, chosen per field:
//! - NFKC for kana, digits and e-mail addresses, where half-width ｶﾀｶﾅ and full-width
//!   ０１２ must become the one canonical form;
//! - NFC for names, addresses and other free text, **keeping CJK compatibility ideographs
//!   as typed**. NFKC would fold characters that matter in a registered name, and even NFC
//!   replaces most compatibility ideographs by their unified form (U+FA19 神 becomes
//!   U+795E 神), which changes the name as it is written in the family register.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::error::ErrorCode;

/// How a text field is normalized; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    /// NFC, except that CJK compatibility ideographs are kept as typed. For names,
    /// addresses and other free text.
    NfcKeepingIdeographs,
    /// NFKC. For kana, digits and e-mail addresses.
    Nfkc,
}

/// True for characters no form field may contain: every Unicode control character (C0
/// including TAB, CR, LF and NUL, DEL U+007F, C1 U+0080–U+009F), the line and paragraph
/// separators U+2028/U+2029, and the bidirectional controls (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069) that can make a name or address display as something it
/// is not ("Trojan Source").
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// True for CJK compatibility ideographs (U+F900–U+FAFF, U+2F800–U+2FA1F).
fn is_compatibility_ideograph(c: char) -> bool {
    matches!(c, '\u{F900}'..='\u{FAFF}' | '\u{2F800}'..='\u{2FA1F}')
}

/// NFC, leaving CJK compatibility ideographs untouched. Those ideographs are starters that
/// nothing composes with, so normalizing the stretches between them separately gives
/// exactly NFC everywhere else.
fn nfc_keeping_ideographs(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find(is_compatibility_ideograph) {
        let (before, from) = rest.split_at(pos);
        out.extend(before.nfc());
        let mut chars = from.chars();
        if let Some(ideograph) = chars.next() {
            out.push(ideograph);
        }
        rest = chars.as_str();
    }
    out.extend(rest.nfc());
    out
}

/// Cleans one required text field: refuses control characters anywhere (even at the ends,
/// since a single-line form field never legitimately holds one), normalizes, trims white
/// space (including the full-width space U+3000) and checks `1..=max_chars` characters.
pub fn clean(
    input: &str,
    max_chars: usize,
    normalization: Normalization,
) -> Result<String, ErrorCode> {
    // Cheap bound before normalizing, so a megabyte of text is not normalized for nothing.
    // Normalization can shorten text (ｶﾞ becomes ガ), hence the margin.
    if input.chars().count() > max_chars.saturating_mul(4).saturating_add(16) {
        return Err(ErrorCode::TooLong);
    }
    if input.chars().any(is_forbidden_char) {
        return Err(ErrorCode::ControlCharacter);
    }
    let normalized = match normalization {
        Normalization::NfcKeepingIdeographs => nfc_keeping_ideographs(input),
        Normalization::Nfkc => input.nfkc().collect(),
    };
    let trimmed = normalized.trim();
    if trimmed.chars().any(is_forbidden_char) {
        return Err(ErrorCode::ControlCharacter);
    }
    if trimmed.is_empty() {
        return Err(ErrorCode::Required);
    }
    if trimmed.chars().count() > max_chars {
        return Err(ErrorCode::TooLong);
    }
    Ok(trimmed.to_owned())
}

/// Like [`clean`] for an optional field: absent or blank gives `Ok(None)`.
pub fn clean_optional(
    input: Option<&str>,
    max_chars: usize,
    normalization: Normalization,
) -> Result<Option<String>, ErrorCode> {
    match clean(input.unwrap_or(""), max_chars, normalization) {
        Ok(text) => Ok(Some(text)),
        Err(ErrorCode::Required) => Ok(None),
        Err(code) => Err(code),
    }
}

/// Converts the full-width digits and the dash look-alikes people type in phone numbers
/// and postal codes to ASCII: ０-９ → 0-9; －, ー, ｰ, ‐, ‑, ‒, –, —, ―, − → `-`; the
/// full-width space → ` `. Everything else is kept.
pub fn to_ascii_digits(input: &str) -> String {
    input.chars().map(ascii_digit_or_hyphen).collect()
}

/// One character of [`to_ascii_digits`].
pub(crate) fn ascii_digit_or_hyphen(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (u32::from(c) - u32::from('０')) as u8),
        '－' | 'ー' | 'ｰ' | '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{3000}' => ' ',
        other => other,
    }
}

/// A required free-text value of at most `MAX` characters, cleaned by [`clean`] with
/// [`Normalization::NfcKeepingIdeographs`]. Used for employer names, "other" purposes,
/// country names and similar declarations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BoundedText<const MAX: usize>(String);

impl<const MAX: usize> BoundedText<MAX> {
    /// Cleans and checks `input`.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        clean(input, MAX, Normalization::NfcKeepingIdeographs).map(Self)
    }

    /// Like [`BoundedText::parse`], blank or absent being `None`.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, ErrorCode> {
        clean_optional(input, MAX, Normalization::NfcKeepingIdeographs).map(|t| t.map(Self))
    }

    /// The cleaned text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for BoundedText<MAX> {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl<const MAX: usize> From<BoundedText<MAX>> for String {
    fn from(value: BoundedText<MAX>) -> Self {
        value.0
    }
}

impl<const MAX: usize> fmt::Display for BoundedText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFC: Normalization = Normalization::NfcKeepingIdeographs;

    #[test]
    fn trims_ascii_and_full_width_spaces() {
        assert_eq!(
            clean("\u{3000} 山田 \u{3000}", 20, NFC),
            Ok("山田".to_owned())
        );
    }

    #[test]
    fn refuses_every_control_and_bidi_character() {
        for c in [
            '\r', '\n', '\t', '\0', '\u{1B}', '\u{7F}', '\u{80}', '\u{85}', '\u{9F}', '\u{202A}',
            '\u{202E}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{2028}',
        ] {
            let input = format!("山{c}田");
            assert_eq!(
                clean(&input, 20, NFC),
                Err(ErrorCode::ControlCharacter),
                "{c:?}"
            );
            assert_eq!(
                clean(&input, 20, Normalization::Nfkc),
                Err(ErrorCode::ControlCharacter)
            );
            // At the ends too: trimming must not hide them.
            let input = format!("山田{c}");
            assert_eq!(
                clean(&input, 20, NFC),
                Err(ErrorCode::ControlCharacter),
                "{c:?}"
            );
        }
    }

    #[test]
    fn ordinary_characters_are_not_forbidden() {
        for c in ['a', 'ア', '山', ' ', '\u{3000}', '\u{E0100}', '\u{200D}'] {
            assert!(!is_forbidden_char(c), "{c:?}");
        }
    }

    #[test]
    fn blank_is_required_and_length_is_counted_in_characters() {
        assert_eq!(clean("  ", 5, NFC), Err(ErrorCode::Required));
        assert_eq!(clean("", 5, NFC), Err(ErrorCode::Required));
        assert_eq!(clean("山田山田山", 5, NFC), Ok("山田山田山".to_owned()));
        assert_eq!(clean("山田山田山田", 5, NFC), Err(ErrorCode::TooLong));
        assert_eq!(clean(&"x".repeat(100_000), 5, NFC), Err(ErrorCode::TooLong));
    }

    #[test]
    fn nfkc_folds_half_width_kana_and_counts_after_folding() {
        // ｶﾞ is two characters before NFKC and one (ガ) after.
        assert_eq!(clean("ｶﾞｶﾞ", 2, Normalization::Nfkc), Ok("ガガ".to_owned()));
    }

    #[test]
    fn compatibility_ideographs_survive_while_the_rest_is_nfc() {
        // U+FA19 神 would become U+795E under plain NFC.
        assert_ne!("\u{FA19}".nfc().collect::<String>(), "\u{FA19}");
        assert_eq!(clean("\u{FA19}田", 20, NFC), Ok("\u{FA19}田".to_owned()));
        // U+FA11 﨑 and U+2F800 are kept as well.
        assert_eq!(clean("山\u{FA11}", 20, NFC), Ok("山\u{FA11}".to_owned()));
        assert_eq!(clean("\u{2F800}", 20, NFC), Ok("\u{2F800}".to_owned()));
        // Decomposed が (か + U+3099) around an ideograph is still composed.
        assert_eq!(
            clean("か\u{3099}\u{FA19}か\u{3099}", 20, NFC),
            Ok("が\u{FA19}が".to_owned())
        );
        // Ideographic variation sequences are kept.
        assert_eq!(clean("葛\u{E0100}", 20, NFC), Ok("葛\u{E0100}".to_owned()));
    }

    #[test]
    fn optional_blank_is_none_but_errors_stay_errors() {
        assert_eq!(clean_optional(None, 5, NFC), Ok(None));
        assert_eq!(clean_optional(Some(" "), 5, NFC), Ok(None));
        assert_eq!(
            clean_optional(Some("a\nb"), 5, NFC),
            Err(ErrorCode::ControlCharacter)
        );
        assert_eq!(
            clean_optional(Some("abc"), 5, NFC),
            Ok(Some("abc".to_owned()))
        );
    }

    #[test]
    fn full_width_digits_and_dashes_become_ascii() {
        assert_eq!(
            to_ascii_digits("０９０－１２３４ー５６７８"),
            "090-1234-5678"
        );
        assert_eq!(to_ascii_digits("９００‐０００１"), "900-0001");
        assert_eq!(to_ascii_digits("1―2−3ｰ4\u{3000}5"), "1-2-3-4 5");
        assert_eq!(to_ascii_digits("山田"), "山田");
    }

    #[test]
    fn bounded_text_round_trips_through_serde_and_revalidates() {
        let text = BoundedText::<3>::parse(" ab ").expect("valid");
        assert_eq!(text.as_str(), "ab");
        assert_eq!(
            BoundedText::<3>::try_from("abcd".to_owned()),
            Err(ErrorCode::TooLong)
        );
        assert_eq!(BoundedText::<3>::parse_optional(Some("")), Ok(None));
    }
}
