//! Names: 氏名 in kanji as registered, and フリガナ in full-width katakana.

use unicode_normalization::UnicodeNormalization;

use crate::error::ErrorCode;
use crate::macros::string_newtype_impls;
use crate::text::{Normalization, clean};

/// One part (family or given) of a name as written in kanji (漢字氏名): 1–20 characters,
/// NFC with compatibility ideographs kept (so 﨑 or 神 stay as the applicant typed them),
/// no control characters. Letters of any script (kanji, kana, latin letters for foreign
/// residents), spaces, and the marks names carry (ー 々 ・ ' ’ - and a dot after an initial,
/// `J. Smith`) — nothing else: no digits, and none of the marks of addresses or links, so
/// that a name copied into the bank's e-mails cannot carry a link or a number to call
/// (issue 16). Escaping for HTML is the template's job.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KanjiName(String);

impl KanjiName {
    /// Maximum characters per part.
    pub const MAX_CHARS: usize = 20;

    /// Parses one name part.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let name = clean(input, Self::MAX_CHARS, Normalization::NfcKeepingIdeographs)?;
        if reads_as_a_name(&name) {
            Ok(Self(name))
        } else {
            Err(ErrorCode::NotAName)
        }
    }

    /// The name part as it will be shown and stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Letters, spaces and the marks of names only; a dot only where it ends a word (an initial).
fn reads_as_a_name(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    chars.iter().enumerate().all(|(i, c)| match c {
        '.' | '．' => chars.get(i + 1).is_none_or(|next| next.is_whitespace()),
        c if c.is_alphabetic() => !c.is_numeric(),
        c => c.is_whitespace() || "ー々〆ヶ・･'’-‐－".contains(*c),
    })
}

/// One part of a name's reading (フリガナ) in full-width katakana: 1–30 characters from
/// ァ–ヶ (U+30A1–U+30F6), the long-vowel mark ー and single spaces between words.
///
/// Input is NFKC-normalized first, so half-width ｶﾀｶﾅ (including ｶﾞ and ﾊﾟ pairs) is
/// accepted and stored full-width. Any run of spaces (ASCII or full-width) becomes one
/// full-width space U+3000. Hiragana, kanji, latin letters and ・ are refused rather than
/// converted, because a wrong reading is worse than asking again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KanaName(String);

impl KanaName {
    /// Maximum characters per part.
    pub const MAX_CHARS: usize = 30;

    /// Parses one reading part.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let cleaned = clean(input, Self::MAX_CHARS, Normalization::Nfkc)?;
        let mut out = String::with_capacity(cleaned.len());
        for word in cleaned.split_whitespace() {
            if !out.is_empty() {
                out.push('\u{3000}');
            }
            if !word.chars().all(is_name_katakana) {
                return Err(ErrorCode::NotFullWidthKatakana);
            }
            out.push_str(word);
        }
        Ok(Self(out))
    }

    /// The reading in full-width katakana.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The reading in Zengin kana (全銀協カナ) for core banking: half-width katakana with
    /// ﾞ and ﾟ as separate characters, small kana made large (ｷｭ → ｷﾕ, ｯ → ﾂ), ヰ/ヱ as
    /// ｲ/ｴ, ヴ as ｳﾞ, the long-vowel mark ー as `-` (Zengin has no ー) and spaces as ASCII
    /// spaces.
    pub fn to_zengin(&self) -> String {
        // NFD splits ガ into カ + U+3099, so only the unvoiced kana need a table.
        self.0.nfd().map(zengin_char).collect()
    }
}

/// Katakana accepted in a reading, after NFKC.
fn is_name_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30F6}' | 'ー')
}

/// Full-width unvoiced katakana, and their Zengin half-width forms at the same positions.
const FULL_WIDTH: &str = "ァアィイゥウェエォオカキクケコサシスセソタチッツテトナニヌネノハヒフヘホマミムメモャヤュユョヨラリルレロヮワヰヱヲンヵヶ";
const ZENGIN: &str = "ｱｱｲｲｳｳｴｴｵｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾔﾕﾕﾖﾖﾗﾘﾙﾚﾛﾜﾜｲｴｦﾝｶｹ";

/// One character of [`KanaName::to_zengin`], applied to the NFD form of a valid reading.
fn zengin_char(c: char) -> char {
    match c {
        '\u{3099}' => 'ﾞ',
        '\u{309A}' => 'ﾟ',
        'ー' => '-',
        '\u{3000}' => ' ',
        _ => FULL_WIDTH
            .chars()
            .zip(ZENGIN.chars())
            .find_map(|(full, half)| (full == c).then_some(half))
            // Unreachable for a parsed KanaName; a space keeps the record's length honest.
            .unwrap_or(' '),
    }
}

string_newtype_impls!(KanjiName, KanaName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanji_name_keeps_variant_ideographs_and_limits_length() {
        assert_eq!(
            KanjiName::parse(" 山\u{FA11} ").map(|n| n.to_string()),
            Ok("山\u{FA11}".into())
        );
        assert_eq!(
            KanjiName::parse("\u{FA19}田").map(|n| n.to_string()),
            Ok("\u{FA19}田".into())
        );
        assert!(KanjiName::parse(&"山".repeat(20)).is_ok());
        assert_eq!(KanjiName::parse(&"山".repeat(21)), Err(ErrorCode::TooLong));
        assert_eq!(KanjiName::parse(""), Err(ErrorCode::Required));
        assert_eq!(
            KanjiName::parse("山田\r\n太郎"),
            Err(ErrorCode::ControlCharacter)
        );
        assert_eq!(KanjiName::parse("山田\n"), Err(ErrorCode::ControlCharacter));
        assert_eq!(
            KanjiName::parse("\u{202E}田山"),
            Err(ErrorCode::ControlCharacter)
        );
        // HTML characters are the template's business, not a reason to refuse a name.
        for name in [
            "O'Brien",
            "Jean-Pierre",
            "J. Smith",
            "佐々木",
            "ジョン・スミス",
            "Müller",
            "髙橋",
        ] {
            assert!(KanjiName::parse(name).is_ok(), "{name}");
        }
        // Issue 16: what a name copied into an e-mail could smuggle.
        for smuggled in [
            "至急 evil.example/a",
            "evil.example",
            "O'Brien <x>",
            "太郎2",
            "０１２０",
            "https://x",
            "a@b",
            "100%",
            "再確認=",
            "名?",
        ] {
            assert_eq!(
                KanjiName::parse(smuggled),
                Err(ErrorCode::NotAName),
                "{smuggled}"
            );
        }
    }

    #[test]
    fn kana_name_accepts_half_width_and_stores_full_width() {
        let kana = KanaName::parse("ﾔﾏﾀﾞ").expect("half-width kana");
        assert_eq!(kana.as_str(), "ヤマダ");
        assert_eq!(
            KanaName::parse("ｷｮｳｺ").map(|k| k.to_string()),
            Ok("キョウコ".into())
        );
        assert_eq!(
            KanaName::parse("ﾊﾟｰｸ").map(|k| k.to_string()),
            Ok("パーク".into())
        );
        assert_eq!(
            KanaName::parse("ヴァン").map(|k| k.to_string()),
            Ok("ヴァン".into())
        );
    }

    #[test]
    fn kana_name_collapses_spaces_to_one_full_width_space() {
        let kana = KanaName::parse("ジョン  \u{3000}スミス").expect("two words");
        assert_eq!(kana.as_str(), "ジョン\u{3000}スミス");
    }

    #[test]
    fn kana_name_refuses_everything_but_katakana() {
        for bad in [
            "やまだ",
            "山田",
            "YAMADA",
            "ヤマ・ダ",
            "ヤマダ1",
            "ヤマ-ダ",
            "ヽ",
            "ﾞ",
        ] {
            assert_eq!(
                KanaName::parse(bad),
                Err(ErrorCode::NotFullWidthKatakana),
                "{bad}"
            );
        }
        assert_eq!(
            KanaName::parse("ヤマダ\t"),
            Err(ErrorCode::ControlCharacter)
        );
        assert_eq!(KanaName::parse(&"ア".repeat(31)), Err(ErrorCode::TooLong));
        assert!(KanaName::parse(&"ア".repeat(30)).is_ok());
        assert_eq!(KanaName::parse("\u{3000}"), Err(ErrorCode::Required));
    }

    #[test]
    fn zengin_kana_is_half_width_with_large_kana() {
        let zengin = |s: &str| KanaName::parse(s).map(|k| k.to_zengin());
        assert_eq!(zengin("キョウコ"), Ok("ｷﾖｳｺ".into()));
        assert_eq!(zengin("ハットリ"), Ok("ﾊﾂﾄﾘ".into()));
        assert_eq!(zengin("ヤマダ\u{3000}パーク"), Ok("ﾔﾏﾀﾞ ﾊﾟ-ｸ".into()));
        assert_eq!(zengin("ヴィヰヱヲヵヶヮ"), Ok("ｳﾞｲｲｴｦｶｹﾜ".into()));
    }

    #[test]
    fn zengin_table_covers_every_accepted_katakana() {
        assert_eq!(FULL_WIDTH.chars().count(), ZENGIN.chars().count());
        let allowed = |c: char| matches!(c, 'ｦ' | 'ｱ'..='ﾝ' | 'ﾞ' | 'ﾟ' | '-' | ' ');
        for c in ('\u{30A1}'..='\u{30F6}').chain(['ー']) {
            let kana = KanaName::parse(&c.to_string()).expect("accepted katakana");
            let zengin = kana.to_zengin();
            assert!(zengin.chars().all(allowed), "{c} -> {zengin}");
            assert!(!zengin.contains(' '), "{c} is missing from the table");
        }
    }

    #[test]
    fn names_revalidate_when_deserialized() {
        assert!(KanaName::try_from("やまだ".to_owned()).is_err());
        assert!(KanjiName::try_from("山田".to_owned()).is_ok());
    }
}
