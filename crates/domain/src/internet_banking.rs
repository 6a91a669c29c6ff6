//! The internet-banking application (インターネットバンキング) for an existing account: the
//! account holder ([`CustomerStep`]), the account ([`AccountStep`]), and two secrets parsed
//! at the moment they are sealed, never kept in a draft: the **cash-card PIN**, which proves
//! the account to core banking, and the desired **logon password** ([`LogonPassword`]).

use crate::account::AccountStep;
use crate::customer::CustomerStep;
use crate::error::{FieldError, FieldErrors};
use crate::password::{LogonPassword, PasswordContext, PasswordFields};
use crate::pin::{Pin, PinFields};
use crate::savings::FormInput;

/// The form field names of the last step (the secrets).
pub mod field {
    /// キャッシュカード暗証番号 (the one in use; asked once, as at an ATM).
    pub const CURRENT_CASH_CARD_PIN: &str = "current_cash_card_pin";
    /// ログオンパスワード.
    pub const LOGON_PASSWORD: &str = "logon_password";
    /// ログオンパスワード（確認）.
    pub const LOGON_PASSWORD_CONFIRM: &str = "logon_password_confirm";
}

use field::*;

/// The fields of the cash-card PIN: the PIN in use is typed once, so its confirmation is the
/// same field.
pub const CURRENT_PIN_FIELDS: PinFields = PinFields {
    pin: CURRENT_CASH_CARD_PIN,
    confirmation: CURRENT_CASH_CARD_PIN,
};

/// A complete internet-banking application (without its secrets, which are sealed
/// separately, and the e-mail address, which the e-mail check holds).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InternetBankingApplication {
    /// お客さま情報.
    pub customer: CustomerStep,
    /// 口座情報.
    pub account: AccountStep,
}

impl InternetBankingApplication {
    /// Every field as (form field name, plaintext), for envelope encryption field by field.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = self.customer.personal_fields();
        fields.extend(self.account.personal_fields());
        fields
    }
}

/// The two secrets of the application, each ready to be sealed.
#[derive(Debug)]
pub struct Credentials {
    /// The cash-card PIN in use.
    pub cash_card_pin: Pin,
    /// The desired logon password.
    pub logon_password: LogonPassword,
}

/// What the logon password must not be made of: the applicant's birth date, phone, name and
/// account number; `other_inputs` (the e-mail address, the bank's name) go to the estimator.
pub fn password_context<'a>(
    customer: &'a CustomerStep,
    account: &'a AccountStep,
    other_inputs: &[&'a str],
) -> PasswordContext<'a> {
    PasswordContext {
        birth_date: Some(customer.birth_date()),
        phones: vec![customer.phone()],
        account_number: Some(account.account_number()),
        name_readings: vec![customer.family_name_kana(), customer.given_name_kana()],
        names: vec![customer.family_name(), customer.given_name()],
        other_inputs: other_inputs.to_vec(),
    }
}

/// Reads the cash-card PIN and the logon password (with its confirmation) from `form` and
/// checks them against the applicant's data; reports both refusals at once. The PIN follows
/// the weak-PIN rules of [`Pin::parse_fields`] (against the birth date and phone): a card
/// whose PIN breaks them must have it changed at an ATM or branch first. Call it only where
/// the secrets are sealed, and drop the form right after.
pub fn parse_credentials(
    form: &dyn FormInput,
    customer: &CustomerStep,
    account: &AccountStep,
    other_inputs: &[&str],
) -> Result<Credentials, FieldErrors> {
    let mut errors = FieldErrors::new();
    let pin = form.get(CURRENT_CASH_CARD_PIN).unwrap_or("");
    let cash_card_pin = errors.take_result(Pin::parse_fields(
        CURRENT_PIN_FIELDS,
        pin,
        pin,
        &customer.pin_context(),
    ));
    let logon_password =
        errors.take_result(parse_logon_password(form, customer, account, other_inputs));
    match (cash_card_pin, logon_password) {
        (Some(cash_card_pin), Some(logon_password)) => Ok(Credentials {
            cash_card_pin,
            logon_password,
        }),
        _ => Err(errors),
    }
}

/// Reads and checks the logon password alone. See [`LogonPassword::parse_fields`].
pub fn parse_logon_password(
    form: &dyn FormInput,
    customer: &CustomerStep,
    account: &AccountStep,
    other_inputs: &[&str],
) -> Result<LogonPassword, FieldError> {
    LogonPassword::parse_fields(
        PasswordFields::LOGON,
        form.get(LOGON_PASSWORD).unwrap_or(""),
        form.get(LOGON_PASSWORD_CONFIRM).unwrap_or(""),
        &password_context(customer, account, other_inputs),
    )
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::account::field::{ACCOUNT_NUMBER, ACCOUNT_TYPE, BRANCH_CODE};
    use crate::customer::AgeRule;
    use crate::customer::field::*;
    use crate::error::ErrorCode;
    use crate::profile::BankProfile;

    fn steps() -> (CustomerStep, AccountStep) {
        let profile =
            BankProfile::from_toml_str("demo", include_str!("../../../config/demo-bank.toml"))
                .expect("demo profile");
        let customer = CustomerStep::parse(
            &[
                (FAMILY_NAME, "知念"),
                (GIVEN_NAME, "周"),
                (FAMILY_NAME_KANA, "チネン"),
                (GIVEN_NAME_KANA, "シュウ"),
                (BIRTH_DATE, "1975-11-30"),
                (PHONE, "098-867-5309"),
            ],
            date!(2026 - 11 - 25),
            AgeRule::internet_banking(profile.applications()),
        )
        .expect("valid");
        let account = AccountStep::parse(
            &[
                (BRANCH_CODE, "101"),
                (ACCOUNT_TYPE, "ordinary"),
                (ACCOUNT_NUMBER, "7654321"),
            ],
            &profile,
        )
        .expect("valid");
        (customer, account)
    }

    fn form<'a>(pin: &'a str, password: &'a str, again: &'a str) -> [(&'a str, &'a str); 3] {
        [
            (CURRENT_CASH_CARD_PIN, pin),
            (LOGON_PASSWORD, password),
            (LOGON_PASSWORD_CONFIRM, again),
        ]
    }

    #[test]
    fn both_secrets_parse_and_both_refusals_are_reported_at_once() {
        let (customer, account) = steps();
        let ok = parse_credentials(
            &form("4071", "kT9#vQ2m", "kT9#vQ2m"),
            &customer,
            &account,
            &[],
        )
        .expect("accepted");
        assert_eq!(ok.cash_card_pin.expose_for_sealing(), b"4071");
        assert_eq!(ok.logon_password.expose_for_sealing(), b"kT9#vQ2m");
        let dbg = format!("{ok:?}");
        assert!(!dbg.contains("4071") && !dbg.contains("kT9#vQ2m"), "{dbg}");

        let errors = parse_credentials(
            &form("5309", "chinen#7Zq", "chinen#7Zq"),
            &customer,
            &account,
            &[],
        )
        .expect_err("refused");
        assert_eq!(
            errors.get(CURRENT_CASH_CARD_PIN),
            Some(ErrorCode::PinPhoneDigits)
        );
        assert_eq!(
            errors.get(LOGON_PASSWORD),
            Some(ErrorCode::PasswordContainsName)
        );
    }

    #[test]
    fn the_password_is_checked_against_this_applicant() {
        let (customer, account) = steps();
        let code = |password: &str| {
            parse_logon_password(&form("", password, password), &customer, &account, &[])
                .err()
                .map(|e| e.code)
        };
        // 昭和50年11月30日, 098-867-5309, account 7654321, チネン シュウ.
        assert_eq!(
            code("Zk#s50qwx7"),
            Some(ErrorCode::PasswordContainsBirthDate)
        );
        assert_eq!(
            code("Zk#19751130q"),
            Some(ErrorCode::PasswordContainsBirthDate)
        );
        assert_eq!(code("Zk#5309qwx7"), Some(ErrorCode::PasswordContainsPhone));
        assert_eq!(
            code("Zk#7654321q"),
            Some(ErrorCode::PasswordContainsAccountNumber)
        );
        assert_eq!(code("Shuu#7Zkqx"), Some(ErrorCode::PasswordContainsName));
        assert_eq!(code("shu#7Zkqxw"), Some(ErrorCode::PasswordContainsName));
        assert_eq!(code("syuu#7Zkqx"), Some(ErrorCode::PasswordContainsName));
        assert_eq!(code("kT9#vQ2m"), None);
        assert_eq!(
            parse_logon_password(&form("", "kT9#vQ2m", ""), &customer, &account, &[])
                .err()
                .map(|e| (e.field, e.code)),
            Some((LOGON_PASSWORD_CONFIRM, ErrorCode::PasswordMismatch))
        );
    }

    #[test]
    fn the_cash_card_pin_is_asked_once_and_follows_the_weak_pin_rules() {
        let (customer, _) = steps();
        let code = |pin: &str| {
            Pin::parse_fields(CURRENT_PIN_FIELDS, pin, pin, &customer.pin_context())
                .err()
                .map(|e| (e.field, e.code))
        };
        assert_eq!(
            code("1130"),
            Some((CURRENT_CASH_CARD_PIN, ErrorCode::PinBirthDate))
        );
        assert_eq!(
            code("1975"),
            Some((CURRENT_CASH_CARD_PIN, ErrorCode::PinBirthDate))
        );
        assert_eq!(
            code("5011"),
            Some((CURRENT_CASH_CARD_PIN, ErrorCode::PinBirthDate))
        );
        assert_eq!(
            code("1234"),
            Some((CURRENT_CASH_CARD_PIN, ErrorCode::PinSequence))
        );
        assert_eq!(
            code("12"),
            Some((CURRENT_CASH_CARD_PIN, ErrorCode::PinNotFourDigits))
        );
        assert_eq!(code("４０７１"), None);
    }

    #[test]
    fn the_application_lists_its_personal_fields_without_secrets() {
        let (customer, account) = steps();
        let application = InternetBankingApplication { customer, account };
        let fields = application.personal_fields();
        assert_eq!(fields.len(), 9);
        assert!(fields.contains(&(ACCOUNT_NUMBER, "7654321".to_owned())));
        assert!(
            fields
                .iter()
                .all(|(k, _)| !k.contains("pin") && !k.contains("password"))
        );
    }
}
