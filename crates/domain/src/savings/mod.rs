//! The ordinary savings account application (普通預金口座開設), in the three steps of its
//! form: the applicant (`PersonalStep`), the declarations required by law
//! (`ProfileStep`: 職業・取引目的・国籍・税務上の居住地・外国PEPs・反社会的勢力でないことの表明)
//! and the branch (`BranchStep`), plus the cash-card PIN, which is parsed separately at the
//! moment it is sealed because it must never sit in a draft.
//!
//! Each step parses every field of its form and reports all refusals at once. The steps are
//! `Serialize + Deserialize` so the web layer can keep them in an encrypted draft between
//! pages; deserializing re-parses every value, so a draft cannot hold an invalid one.
//!
//! The e-mail address is not part of these steps: it is verified (and kept) by the e-mail
//! check that starts every application.

mod branch;
mod personal;
mod profile_step;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use branch::{BranchStep, parse_cash_card_pin};
pub use personal::PersonalStep;
pub use profile_step::{Nationality, Occupation, ProfileStep, Purpose, TaxResidence};

use crate::error::ErrorCode;

/// The names of the form fields, identical to the keys of `personal_fields()`.
pub mod field {
    /// 氏名（姓）.
    pub const FAMILY_NAME: &str = "family_name";
    /// 氏名（名）.
    pub const GIVEN_NAME: &str = "given_name";
    /// フリガナ（セイ）.
    pub const FAMILY_NAME_KANA: &str = "family_name_kana";
    /// フリガナ（メイ）.
    pub const GIVEN_NAME_KANA: &str = "given_name_kana";
    /// 生年月日.
    pub const BIRTH_DATE: &str = "birth_date";
    /// 性別.
    pub const SEX: &str = "sex";
    /// 郵便番号.
    pub const POSTAL_CODE: &str = "postal_code";
    /// 都道府県 (two-digit code).
    pub const PREFECTURE: &str = "prefecture";
    /// 市区町村・番地.
    pub const ADDRESS_LINE: &str = "address_line";
    /// 建物名・部屋番号.
    pub const ADDRESS_BUILDING: &str = "address_building";
    /// 自宅電話番号.
    pub const PHONE_HOME: &str = "phone_home";
    /// 携帯電話番号; `phone-required` is reported here when neither phone is given.
    pub const PHONE_MOBILE: &str = "phone_mobile";
    /// 職業.
    pub const OCCUPATION: &str = "occupation";
    /// 勤務先名.
    pub const EMPLOYER_NAME: &str = "employer_name";
    /// 勤務先電話番号.
    pub const EMPLOYER_PHONE: &str = "employer_phone";
    /// 取引目的 (multi-select).
    pub const PURPOSES: &str = "purposes";
    /// 取引目的「その他」の内容.
    pub const PURPOSE_OTHER: &str = "purpose_other";
    /// 国籍: "JP" or "other".
    pub const NATIONALITY: &str = "nationality";
    /// 国籍（日本以外の場合）.
    pub const NATIONALITY_COUNTRY: &str = "nationality_country";
    /// 税務上の居住地: "japan-only" or "other".
    pub const TAX_RESIDENCE: &str = "tax_residence";
    /// 居住地国（日本以外）.
    pub const TAX_COUNTRIES: &str = "tax_countries";
    /// 外国の納税者番号 (TIN).
    pub const FOREIGN_TIN: &str = "foreign_tin";
    /// 米国人（FATCA）: "yes" or "no".
    pub const US_PERSON: &str = "us_person";
    /// 外国PEPs: "yes" or "no".
    pub const FOREIGN_PEP: &str = "foreign_pep";
    /// 反社会的勢力でないことの表明: must be "yes".
    pub const ANTI_SOCIAL_DECLARATION: &str = "anti_social_declaration";
    /// 規定への同意: must be "yes".
    pub const CONSENT_TERMS: &str = "consent_terms";
    /// 個人情報の取扱いへの同意: must be "yes".
    pub const CONSENT_PRIVACY: &str = "consent_privacy";
    /// 取引店 (3-digit branch code).
    pub const BRANCH_CODE: &str = "branch_code";
    /// キャッシュカード暗証番号.
    pub const CASH_CARD_PIN: &str = "cash_card_pin";
    /// キャッシュカード暗証番号（確認）.
    pub const CASH_CARD_PIN_CONFIRM: &str = "cash_card_pin_confirm";
}

/// A submitted form, as the web layer decoded it. Multi-select fields repeat their name.
pub trait FormInput {
    /// The first value of `name`, if present.
    fn get(&self, name: &str) -> Option<&str>;
    /// Every value of `name`, in order.
    fn get_all(&self, name: &str) -> Vec<&str>;
}

impl FormInput for HashMap<String, Vec<String>> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        HashMap::get(self, name)
            .map(|values| values.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

fn pairs_get<'a, K: AsRef<str>, V: AsRef<str>>(pairs: &'a [(K, V)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.as_ref() == name)
        .map(|(_, v)| v.as_ref())
}

fn pairs_get_all<'a, K: AsRef<str>, V: AsRef<str>>(
    pairs: &'a [(K, V)],
    name: &str,
) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k.as_ref() == name)
        .map(|(_, v)| v.as_ref())
        .collect()
}

/// Name/value pairs in form order, as an URL-encoded body decodes, or as
/// `personal_fields()` returns them.
impl<K: AsRef<str>, V: AsRef<str>> FormInput for Vec<(K, V)> {
    fn get(&self, name: &str) -> Option<&str> {
        pairs_get(self, name)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        pairs_get_all(self, name)
    }
}

/// A fixed list of pairs, handy for small forms: `&[("branch_code", "101")]`.
impl<K: AsRef<str>, V: AsRef<str>, const N: usize> FormInput for [(K, V); N] {
    fn get(&self, name: &str) -> Option<&str> {
        pairs_get(self, name)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        pairs_get_all(self, name)
    }
}

/// A required field's text; absent reads as blank, which the parsers call `required`.
pub(crate) fn required<'a>(form: &'a dyn FormInput, name: &str) -> &'a str {
    form.get(name).unwrap_or("")
}

/// Parses an optional field: absent or blank is `None`.
pub(crate) fn optional<T>(
    form: &dyn FormInput,
    name: &str,
    parse: impl Fn(&str) -> Result<T, ErrorCode>,
) -> Result<Option<T>, ErrorCode> {
    match form.get(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse(text).map(Some),
    }
}

/// A complete, valid savings account application (without the PIN, which is sealed
/// separately, and the e-mail address, which the e-mail check holds).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavingsApplication {
    /// Step 1: the applicant.
    pub personal: PersonalStep,
    /// Step 2: declarations.
    pub profile: ProfileStep,
    /// Step 3: the branch.
    pub branch: BranchStep,
}

impl SavingsApplication {
    /// Every field of the three steps as (form field name, plaintext) pairs, for envelope
    /// encryption field by field. Multi-select fields appear once per value; absent
    /// optional fields are left out. Fed back to the steps' `parse` as a [`FormInput`], the
    /// pairs give the same application.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = self.personal.personal_fields();
        fields.extend(self.profile.personal_fields());
        fields.extend(self.branch.personal_fields());
        fields
    }
}
