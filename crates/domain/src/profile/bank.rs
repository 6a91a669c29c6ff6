//! `[bank]` and `[[branches]]`: who the bank is and where accounts are kept.

use std::fmt;

use crate::error::ErrorCode;
use crate::person::KanaName;
use crate::text::to_ascii_digits;

/// `[bank]`: the bank's names and codes.
#[derive(Debug, Clone)]
pub struct Bank {
    /// Name in Japanese, e.g. まどぐち銀行.
    pub(super) name_ja: String,
    /// Name in English.
    pub(super) name_en: String,
    /// Name in full-width katakana.
    pub(super) name_kana: KanaName,
    /// 金融機関コード: four ASCII digits (`{{financeCode}}` in the bank's templates).
    pub(super) finance_code: String,
    /// SWIFT/BIC: 8 or 11 upper-case characters (`{{swiftCode}}`).
    pub(super) swift_code: String,
}

impl Bank {
    /// Name in Japanese, e.g. まどぐち銀行.
    pub fn name_ja(&self) -> &str {
        &self.name_ja
    }

    /// Name in English.
    pub fn name_en(&self) -> &str {
        &self.name_en
    }

    /// Name in full-width katakana.
    pub fn name_kana(&self) -> &KanaName {
        &self.name_kana
    }

    /// 金融機関コード: four ASCII digits (`{{financeCode}}` in the bank's templates).
    pub fn finance_code(&self) -> &str {
        &self.finance_code
    }

    /// SWIFT/BIC: 8 or 11 upper-case characters (`{{swiftCode}}`).
    pub fn swift_code(&self) -> &str {
        &self.swift_code
    }
}

/// A branch number (店番): three digits.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct BranchCode([u8; 3]);

impl BranchCode {
    /// Parses three digits (full-width accepted); blank is `required`, anything else
    /// `unknown-branch`.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let text = to_ascii_digits(input.trim());
        if text.is_empty() {
            return Err(ErrorCode::Required);
        }
        let bytes: [u8; 3] = text
            .as_bytes()
            .try_into()
            .map_err(|_| ErrorCode::UnknownBranch)?;
        if bytes.iter().all(u8::is_ascii_digit) {
            Ok(Self(bytes))
        } else {
            Err(ErrorCode::UnknownBranch)
        }
    }

    /// The three digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl TryFrom<String> for BranchCode {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<BranchCode> for String {
    fn from(value: BranchCode) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for BranchCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[[branches]]`: a branch.
#[derive(Debug, Clone)]
pub struct Branch {
    /// 店番, unique in the profile.
    pub(super) code: BranchCode,
    /// Name, e.g. 那覇支店.
    pub(super) name: String,
    /// Name in English, e.g. Naha Branch, if the profile gives one.
    pub(super) name_en: Option<String>,
    /// Name in full-width katakana.
    pub(super) kana: KanaName,
}

impl Branch {
    /// 店番, unique in the profile.
    pub fn code(&self) -> BranchCode {
        self.code
    }

    /// Name, e.g. 那覇支店.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Name in English: `name_en`, or the Japanese name when the profile gives none.
    pub fn name_en(&self) -> &str {
        self.name_en.as_deref().unwrap_or(&self.name)
    }

    /// Name in full-width katakana.
    pub fn kana(&self) -> &KanaName {
        &self.kana
    }
}
