//! Postal code (郵便番号), prefecture (都道府県) and address (住所).

use std::fmt;

use crate::error::ErrorCode;
use crate::text::{BoundedText, ascii_digit_or_hyphen, is_forbidden_char, to_ascii_digits};

/// A Japanese postal code: seven digits, entered as `NNN-NNNN` or `NNNNNNN` (full-width
/// digits and dashes and a leading 〒 accepted), shown as `NNN-NNNN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode([u8; 7]);

impl PostalCode {
    /// Parses a postal code.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        if input.chars().count() > 16 {
            return Err(ErrorCode::InvalidPostalCode);
        }
        if input.chars().any(is_forbidden_char) {
            return Err(ErrorCode::ControlCharacter);
        }
        let text = to_ascii_digits(input);
        let text = text.trim();
        let text = text.strip_prefix('〒').unwrap_or(text).trim_start();
        if text.is_empty() {
            return Err(ErrorCode::Required);
        }
        let digits: String = match text.split_once('-') {
            Some((head, tail)) if head.len() == 3 && tail.len() == 4 => [head, tail].concat(),
            Some(_) => return Err(ErrorCode::InvalidPostalCode),
            None => text.to_owned(),
        };
        let bytes: [u8; 7] = digits
            .as_bytes()
            .try_into()
            .map_err(|_| ErrorCode::InvalidPostalCode)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(ErrorCode::InvalidPostalCode);
        }
        Ok(Self(bytes))
    }

    /// The seven digits without a hyphen.
    pub fn digits(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl TryFrom<String> for PostalCode {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<PostalCode> for String {
    fn from(value: PostalCode) -> Self {
        value.to_string()
    }
}

impl fmt::Display for PostalCode {
    /// `NNN-NNNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        write!(
            f,
            "{}-{}",
            digits.get(..3).unwrap_or_default(),
            digits.get(3..).unwrap_or_default()
        )
    }
}

/// The 47 prefectures with their JIS X 0401 codes (01 Hokkaido … 47 Okinawa).
const PREFECTURES: [(&str, &str, &str); 47] = [
    ("01", "北海道", "Hokkaido"),
    ("02", "青森県", "Aomori"),
    ("03", "岩手県", "Iwate"),
    ("04", "宮城県", "Miyagi"),
    ("05", "秋田県", "Akita"),
    ("06", "山形県", "Yamagata"),
    ("07", "福島県", "Fukushima"),
    ("08", "茨城県", "Ibaraki"),
    ("09", "栃木県", "Tochigi"),
    ("10", "群馬県", "Gunma"),
    ("11", "埼玉県", "Saitama"),
    ("12", "千葉県", "Chiba"),
    ("13", "東京都", "Tokyo"),
    ("14", "神奈川県", "Kanagawa"),
    ("15", "新潟県", "Niigata"),
    ("16", "富山県", "Toyama"),
    ("17", "石川県", "Ishikawa"),
    ("18", "福井県", "Fukui"),
    ("19", "山梨県", "Yamanashi"),
    ("20", "長野県", "Nagano"),
    ("21", "岐阜県", "Gifu"),
    ("22", "静岡県", "Shizuoka"),
    ("23", "愛知県", "Aichi"),
    ("24", "三重県", "Mie"),
    ("25", "滋賀県", "Shiga"),
    ("26", "京都府", "Kyoto"),
    ("27", "大阪府", "Osaka"),
    ("28", "兵庫県", "Hyogo"),
    ("29", "奈良県", "Nara"),
    ("30", "和歌山県", "Wakayama"),
    ("31", "鳥取県", "Tottori"),
    ("32", "島根県", "Shimane"),
    ("33", "岡山県", "Okayama"),
    ("34", "広島県", "Hiroshima"),
    ("35", "山口県", "Yamaguchi"),
    ("36", "徳島県", "Tokushima"),
    ("37", "香川県", "Kagawa"),
    ("38", "愛媛県", "Ehime"),
    ("39", "高知県", "Kochi"),
    ("40", "福岡県", "Fukuoka"),
    ("41", "佐賀県", "Saga"),
    ("42", "長崎県", "Nagasaki"),
    ("43", "熊本県", "Kumamoto"),
    ("44", "大分県", "Oita"),
    ("45", "宮崎県", "Miyazaki"),
    ("46", "鹿児島県", "Kagoshima"),
    ("47", "沖縄県", "Okinawa"),
];

/// Every prefecture, in code order.
const ALL_PREFECTURES: [Prefecture; 47] = {
    let mut all = [Prefecture(1); 47];
    let mut i = 0;
    while i < 47 {
        all[i] = Prefecture(i as u8 + 1);
        i += 1;
    }
    all
};

/// One of the 47 prefectures, identified by its two-digit JIS code ("01" … "47"), which is
/// what the prefecture select list sends.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Prefecture(u8);

impl Prefecture {
    /// Parses a two-digit code "01" … "47"; blank is `required`, anything else
    /// `invalid-choice`.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let text = to_ascii_digits(input.trim());
        if text.is_empty() {
            return Err(ErrorCode::Required);
        }
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ErrorCode::InvalidChoice);
        }
        let code: u8 = text.parse().map_err(|_| ErrorCode::InvalidChoice)?;
        Self::from_code(code).ok_or(ErrorCode::InvalidChoice)
    }

    /// The prefecture with JIS code `code` (1 ..= 47).
    pub fn from_code(code: u8) -> Option<Self> {
        (1..=47).contains(&code).then_some(Self(code))
    }

    /// All prefectures in code order, north to south, for a select list.
    pub fn all() -> &'static [Prefecture] {
        &ALL_PREFECTURES
    }

    /// The JIS code, 1 ..= 47.
    pub const fn code(self) -> u8 {
        self.0
    }

    /// The JIS code as two digits, e.g. "47"; the value of the select option.
    pub fn code_str(self) -> &'static str {
        self.entry().0
    }

    /// The name in Japanese, e.g. 沖縄県.
    pub fn name_ja(self) -> &'static str {
        self.entry().1
    }

    /// The name in English, e.g. Okinawa.
    pub fn name_en(self) -> &'static str {
        self.entry().2
    }

    fn entry(self) -> (&'static str, &'static str, &'static str) {
        PREFECTURES
            .get(usize::from(self.0).wrapping_sub(1))
            .copied()
            .unwrap_or(("", "", ""))
    }
}

impl TryFrom<String> for Prefecture {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<Prefecture> for String {
    fn from(value: Prefecture) -> Self {
        value.code_str().to_owned()
    }
}

impl fmt::Display for Prefecture {
    /// The Japanese name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_ja())
    }
}

/// The address line after the prefecture (市区町村・番地): required, at most 80 characters.
pub type AddressLine = BoundedText<80>;
/// The building name and room (建物名・部屋番号): optional, at most 60 characters.
pub type AddressBuilding = BoundedText<60>;

/// A residential address (住所): prefecture, line and optional building.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Address {
    prefecture: Prefecture,
    line: AddressLine,
    building: Option<AddressBuilding>,
}

impl Address {
    /// Assembles an address from its parsed parts.
    pub fn new(
        prefecture: Prefecture,
        line: AddressLine,
        building: Option<AddressBuilding>,
    ) -> Self {
        Self {
            prefecture,
            line,
            building,
        }
    }

    /// The prefecture.
    pub fn prefecture(&self) -> Prefecture {
        self.prefecture
    }

    /// 市区町村・番地.
    pub fn line(&self) -> &AddressLine {
        &self.line
    }

    /// 建物名・部屋番号, if given.
    pub fn building(&self) -> Option<&AddressBuilding> {
        self.building.as_ref()
    }

    /// The runs of digits in the line and building, in order, full-width digits made
    /// ASCII ("字安里１２３番地 ハイツ405" gives ["123", "405"]). Used to refuse a PIN made
    /// of the street or room number. Kanji numerals (一丁目) are not read.
    pub fn digit_runs(&self) -> Vec<String> {
        let mut runs = Vec::new();
        let texts =
            std::iter::once(self.line.as_str()).chain(self.building.as_ref().map(|b| b.as_str()));
        for text in texts {
            let mut run = String::new();
            for c in text.chars().map(ascii_digit_or_hyphen) {
                if c.is_ascii_digit() {
                    run.push(c);
                } else if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
        }
        runs
    }
}

impl fmt::Display for Address {
    /// Prefecture, line and building separated by spaces, as on an envelope.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.prefecture, self.line)?;
        if let Some(building) = &self.building {
            write!(f, " {building}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_code_forms() {
        for input in [
            "900-0015",
            "9000015",
            "９００－００１５",
            "〒900-0015",
            "〒 ９００００１５ ",
        ] {
            let code = PostalCode::parse(input).expect(input);
            assert_eq!(code.to_string(), "900-0015");
            assert_eq!(code.digits(), "9000015");
        }
        for input in [
            "900-015",
            "90-00015",
            "900-00155",
            "90000150",
            "900 0015",
            "900-001a",
            "900--0015",
            "９００",
        ] {
            assert_eq!(
                PostalCode::parse(input),
                Err(ErrorCode::InvalidPostalCode),
                "{input}"
            );
        }
        assert_eq!(PostalCode::parse(" "), Err(ErrorCode::Required));
        assert_eq!(
            PostalCode::parse("900-0015\n"),
            Err(ErrorCode::ControlCharacter)
        );
    }

    #[test]
    fn prefecture_codes_and_names() {
        assert_eq!(Prefecture::all().len(), 47);
        let okinawa = Prefecture::parse("47").expect("valid");
        assert_eq!(
            (okinawa.name_ja(), okinawa.name_en(), okinawa.code_str()),
            ("沖縄県", "Okinawa", "47")
        );
        assert_eq!(Prefecture::parse("01").map(|p| p.name_ja()), Ok("北海道"));
        assert_eq!(Prefecture::parse("13").map(|p| p.name_en()), Ok("Tokyo"));
        for bad in ["00", "48", "1", "001", "4７x", "aa"] {
            assert_eq!(
                Prefecture::parse(bad),
                Err(ErrorCode::InvalidChoice),
                "{bad}"
            );
        }
        assert_eq!(Prefecture::parse(""), Err(ErrorCode::Required));
        for (i, p) in Prefecture::all().iter().enumerate() {
            assert_eq!(usize::from(p.code()), i + 1);
            assert_eq!(Prefecture::parse(p.code_str()), Ok(*p));
            assert!(!p.name_ja().is_empty() && !p.name_en().is_empty());
        }
    }

    #[test]
    fn address_digit_runs_read_full_width_digits() {
        let address = Address::new(
            Prefecture::parse("47").expect("valid"),
            AddressLine::parse("那覇市字安里１２３番地4").expect("valid"),
            AddressBuilding::parse_optional(Some("ハイツ安里 1203号室")).expect("valid"),
        );
        assert_eq!(address.digit_runs(), vec!["123", "4", "1203"]);
        assert_eq!(
            address.to_string(),
            "沖縄県那覇市字安里１２３番地4 ハイツ安里 1203号室"
        );
    }

    #[test]
    fn address_parts_limits() {
        assert!(AddressLine::parse(&"あ".repeat(80)).is_ok());
        assert_eq!(
            AddressLine::parse(&"あ".repeat(81)),
            Err(ErrorCode::TooLong)
        );
        assert_eq!(
            AddressBuilding::parse(&"あ".repeat(61)),
            Err(ErrorCode::TooLong)
        );
        assert_eq!(
            AddressLine::parse("那覇市\r\n安里"),
            Err(ErrorCode::ControlCharacter)
        );
    }
}
