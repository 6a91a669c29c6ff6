//! An existing account (口座情報): branch, account type (預金種目) and account number, as the
//! internet-banking and debit-card applications ask for them.

use std::fmt;

use crate::error::{ErrorCode, FieldErrors};
use crate::macros::choice_enum;
use crate::profile::{BankProfile, Branch, BranchCode};
use crate::savings::{FormInput, field::BRANCH_CODE};
use crate::text::is_forbidden_char;

/// The form field names of the account step.
pub mod field {
    pub use crate::savings::field::BRANCH_CODE;
    /// 預金種目.
    pub const ACCOUNT_TYPE: &str = "account_type";
    /// 口座番号.
    pub const ACCOUNT_NUMBER: &str = "account_number";
}

choice_enum! {
    /// The account type (預金種目), with its Zengin code ([`AccountType::zengin_code`]).
    pub enum AccountType {
        /// 普通預金 (Zengin 1).
        Ordinary => "ordinary",
        /// 当座預金 (Zengin 2).
        Current => "current",
        /// 貯蓄預金 (Zengin 4).
        Savings => "savings",
    }
}

impl AccountType {
    /// The Zengin code of the type (預金種目コード): 1 普通, 2 当座, 4 貯蓄.
    pub const fn zengin_code(self) -> u8 {
        match self {
            Self::Ordinary => 1,
            Self::Current => 2,
            Self::Savings => 4,
        }
    }

    /// The type's name in Japanese.
    pub const fn name_ja(self) -> &'static str {
        match self {
            Self::Ordinary => "普通",
            Self::Current => "当座",
            Self::Savings => "貯蓄",
        }
    }
}

/// An account number (口座番号): seven digits, zero-padded.
///
/// Input: one to seven digits, ASCII or full-width, surrounding white space ignored; fewer
/// than seven are padded with leading zeros (a passbook may print 12345 for 0012345). Hyphens,
/// spaces inside, letters or eight digits and more are `invalid-account-number`; so is
/// 0000000, which no bank assigns. A typo that still makes seven digits cannot be caught
/// here: the cash-card PIN (internet banking) or the review (debit card) proves the account.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountNumber([u8; 7]);

impl AccountNumber {
    /// Parses an account number.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        if input.chars().count() > 32 {
            return Err(ErrorCode::InvalidAccountNumber);
        }
        if input.chars().any(is_forbidden_char) {
            return Err(ErrorCode::ControlCharacter);
        }
        let text = input.trim_matches(|c: char| c.is_whitespace());
        if text.is_empty() {
            return Err(ErrorCode::Required);
        }
        let mut digits = Vec::with_capacity(7);
        for c in text.chars() {
            let digit = match c {
                '0'..='9' => c as u8,
                '０'..='９' => b'0' + (u32::from(c) - u32::from('０')) as u8,
                _ => return Err(ErrorCode::InvalidAccountNumber),
            };
            digits.push(digit);
        }
        if digits.len() > 7 || digits.iter().all(|&d| d == b'0') {
            return Err(ErrorCode::InvalidAccountNumber);
        }
        let mut out = [b'0'; 7];
        out[7 - digits.len()..].copy_from_slice(&digits);
        Ok(Self(out))
    }

    /// The seven digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The digits without the leading zeros of the padding (0012345 → 12345).
    pub fn unpadded(&self) -> &str {
        self.as_str().trim_start_matches('0')
    }
}

/// Personal data: shown only as `AccountNumber(*******)` in debug output.
impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountNumber(*******)")
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for AccountNumber {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<AccountNumber> for String {
    fn from(value: AccountNumber) -> Self {
        value.to_string()
    }
}

/// The step 口座情報: which of the bank's accounts the application is for. Holds no secret, so
/// it may be kept in a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountStep {
    branch_code: BranchCode,
    account_type: AccountType,
    account_number: AccountNumber,
}

impl AccountStep {
    /// Parses the step; the branch must be one of `profile`'s (`unknown-branch`).
    pub fn parse(form: &dyn FormInput, profile: &BankProfile) -> Result<Self, FieldErrors> {
        use field::*;
        let mut errors = FieldErrors::new();
        let branch_code = errors.take(
            BRANCH_CODE,
            BranchCode::parse(form.get(BRANCH_CODE).unwrap_or("")).and_then(|code| {
                profile
                    .branch(&code)
                    .map(|_| code)
                    .ok_or(ErrorCode::UnknownBranch)
            }),
        );
        let account_type = errors.take(
            ACCOUNT_TYPE,
            AccountType::parse(form.get(ACCOUNT_TYPE).unwrap_or("")),
        );
        let account_number = errors.take(
            ACCOUNT_NUMBER,
            AccountNumber::parse(form.get(ACCOUNT_NUMBER).unwrap_or("")),
        );
        match (branch_code, account_type, account_number) {
            (Some(branch_code), Some(account_type), Some(account_number)) => Ok(Self {
                branch_code,
                account_type,
                account_number,
            }),
            _ => Err(errors),
        }
    }

    /// 店番.
    pub fn branch_code(&self) -> BranchCode {
        self.branch_code
    }

    /// The branch in `profile` (`None` only if the profile changed since the draft).
    pub fn branch<'p>(&self, profile: &'p BankProfile) -> Option<&'p Branch> {
        profile.branch(&self.branch_code)
    }

    /// 預金種目.
    pub fn account_type(&self) -> AccountType {
        self.account_type
    }

    /// 口座番号.
    pub fn account_number(&self) -> &AccountNumber {
        &self.account_number
    }

    /// Every field as (form field name, plaintext), in form order; they parse back.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            (BRANCH_CODE, self.branch_code.to_string()),
            (field::ACCOUNT_TYPE, self.account_type.as_str().to_owned()),
            (field::ACCOUNT_NUMBER, self.account_number.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::field::*;
    use super::*;

    fn demo_profile() -> BankProfile {
        BankProfile::from_toml_str("demo", include_str!("../../../config/demo-bank.toml"))
            .expect("demo profile")
    }

    #[test]
    fn account_numbers_are_seven_digits_zero_padded() {
        let parse = |s: &str| AccountNumber::parse(s).map(|n| n.to_string());
        assert_eq!(parse("1234567"), Ok("1234567".to_owned()));
        assert_eq!(parse(" １２３４５６７ "), Ok("1234567".to_owned()));
        assert_eq!(parse("12345"), Ok("0012345".to_owned()));
        assert_eq!(parse("0012345"), Ok("0012345".to_owned()));
        assert_eq!(parse("7"), Ok("0000007".to_owned()));
        for bad in [
            "12345678",
            "123-4567",
            "123 4567",
            "12a4567",
            "0000000",
            "000",
            "１２３４５６７８",
            "+123456",
            "١٢٣",
        ] {
            assert_eq!(
                AccountNumber::parse(bad),
                Err(ErrorCode::InvalidAccountNumber),
                "{bad}"
            );
        }
        assert_eq!(AccountNumber::parse(" "), Err(ErrorCode::Required));
        assert_eq!(
            AccountNumber::parse("1234\n567"),
            Err(ErrorCode::ControlCharacter)
        );
        assert_eq!(
            AccountNumber::parse(&"1".repeat(10_000)),
            Err(ErrorCode::InvalidAccountNumber)
        );
        let n = AccountNumber::parse("12345").expect("valid");
        assert_eq!(n.unpadded(), "12345");
        assert_eq!(format!("{n:?}"), "AccountNumber(*******)");
    }

    #[test]
    fn account_types_carry_their_zengin_codes() {
        let codes: Vec<u8> = AccountType::ALL.iter().map(|t| t.zengin_code()).collect();
        assert_eq!(codes, [1, 2, 4]);
        assert_eq!(AccountType::parse("current"), Ok(AccountType::Current));
        assert_eq!(AccountType::parse("1"), Err(ErrorCode::InvalidChoice));
        assert_eq!(AccountType::Savings.name_ja(), "貯蓄");
    }

    #[test]
    fn the_step_parses_reports_every_field_and_round_trips() {
        let profile = demo_profile();
        let form = [
            (BRANCH_CODE, "１０２"),
            (ACCOUNT_TYPE, "ordinary"),
            (ACCOUNT_NUMBER, "３４５６"),
        ];
        let step = AccountStep::parse(&form, &profile).expect("valid");
        assert_eq!(step.branch_code().to_string(), "102");
        assert_eq!(step.account_number().as_str(), "0003456");
        assert_eq!(step.branch(&profile).map(|b| b.name()), Some("那覇支店"));
        let fields = step.personal_fields();
        assert_eq!(AccountStep::parse(&fields, &profile), Ok(step));
        let draft = toml::to_string(&step).expect("serializable");
        assert_eq!(toml::from_str::<AccountStep>(&draft).ok(), Some(step));

        let bad = [
            (BRANCH_CODE, "999"),
            (ACCOUNT_TYPE, "fixed"),
            (ACCOUNT_NUMBER, "12-34"),
        ];
        let errors = AccountStep::parse(&bad, &profile).expect_err("refused");
        assert_eq!(errors.get(BRANCH_CODE), Some(ErrorCode::UnknownBranch));
        assert_eq!(errors.get(ACCOUNT_TYPE), Some(ErrorCode::InvalidChoice));
        assert_eq!(
            errors.get(ACCOUNT_NUMBER),
            Some(ErrorCode::InvalidAccountNumber)
        );
        let empty: [(&str, &str); 0] = [];
        let errors = AccountStep::parse(&empty, &profile).expect_err("refused");
        assert_eq!(errors.len(), 3);
        assert!(errors.iter().all(|e| e.code == ErrorCode::Required));
    }
}
