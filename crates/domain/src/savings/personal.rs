//! Step 1: the applicant (お客さま情報).

use time::Date;

use super::field::*;
use super::{FormInput, optional, required};
use crate::error::{ErrorCode, FieldError, FieldErrors};
use crate::person::{
    Address, AddressBuilding, AddressLine, BirthDate, KanaName, KanjiName, PhoneNumber, PostalCode,
    Prefecture, Sex,
};
use crate::pin::PinContext;

/// The applicant's name, birth date, sex, address and phones.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonalStep {
    family_name: KanjiName,
    given_name: KanjiName,
    family_name_kana: KanaName,
    given_name_kana: KanaName,
    birth_date: BirthDate,
    sex: Sex,
    postal_code: PostalCode,
    address: Address,
    phone_home: Option<PhoneNumber>,
    phone_mobile: Option<PhoneNumber>,
}

impl PersonalStep {
    /// Parses the step's form. The age on `today` must lie in `min_age ..= max_age` (the
    /// profile's `savings_min_age` and `max_age`). At least one phone is required;
    /// otherwise `phone-required` is reported on `phone_mobile`.
    pub fn parse(
        form: &dyn FormInput,
        today: Date,
        min_age: u16,
        max_age: u16,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let family_name = errors.take(FAMILY_NAME, KanjiName::parse(required(form, FAMILY_NAME)));
        let given_name = errors.take(GIVEN_NAME, KanjiName::parse(required(form, GIVEN_NAME)));
        let family_name_kana = errors.take(
            FAMILY_NAME_KANA,
            KanaName::parse(required(form, FAMILY_NAME_KANA)),
        );
        let given_name_kana = errors.take(
            GIVEN_NAME_KANA,
            KanaName::parse(required(form, GIVEN_NAME_KANA)),
        );
        let birth_date = errors.take(
            BIRTH_DATE,
            BirthDate::parse_with_age(required(form, BIRTH_DATE), today, min_age, max_age),
        );
        let sex = errors.take(SEX, Sex::parse(required(form, SEX)));
        let postal_code = errors.take(POSTAL_CODE, PostalCode::parse(required(form, POSTAL_CODE)));
        let prefecture = errors.take(PREFECTURE, Prefecture::parse(required(form, PREFECTURE)));
        let address_line = errors.take(
            ADDRESS_LINE,
            AddressLine::parse(required(form, ADDRESS_LINE)),
        );
        let address_building = errors.take(
            ADDRESS_BUILDING,
            AddressBuilding::parse_optional(form.get(ADDRESS_BUILDING)),
        );
        let phone_home = errors.take(PHONE_HOME, optional(form, PHONE_HOME, PhoneNumber::parse));
        let phone_mobile = errors.take(
            PHONE_MOBILE,
            optional(form, PHONE_MOBILE, PhoneNumber::parse),
        );
        if let (Some(None), Some(None)) = (&phone_home, &phone_mobile) {
            errors.push(FieldError::new(PHONE_MOBILE, ErrorCode::PhoneRequired));
        }
        let (
            Some(family_name),
            Some(given_name),
            Some(family_name_kana),
            Some(given_name_kana),
            Some(birth_date),
            Some(sex),
            Some(postal_code),
            Some(prefecture),
            Some(address_line),
            Some(address_building),
            Some(phone_home),
            Some(phone_mobile),
        ) = (
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            birth_date,
            sex,
            postal_code,
            prefecture,
            address_line,
            address_building,
            phone_home,
            phone_mobile,
        )
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            birth_date,
            sex,
            postal_code,
            address: Address::new(prefecture, address_line, address_building),
            phone_home,
            phone_mobile,
        })
    }

    /// The full name for greetings and e-mails: family name, a space, given name
    /// ("比嘉 花子").
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name, self.given_name)
    }

    /// 氏名（姓）.
    pub fn family_name(&self) -> &KanjiName {
        &self.family_name
    }

    /// 氏名（名）.
    pub fn given_name(&self) -> &KanjiName {
        &self.given_name
    }

    /// フリガナ（セイ）.
    pub fn family_name_kana(&self) -> &KanaName {
        &self.family_name_kana
    }

    /// フリガナ（メイ）.
    pub fn given_name_kana(&self) -> &KanaName {
        &self.given_name_kana
    }

    /// 生年月日.
    pub fn birth_date(&self) -> &BirthDate {
        &self.birth_date
    }

    /// 性別.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// 郵便番号.
    pub fn postal_code(&self) -> &PostalCode {
        &self.postal_code
    }

    /// 住所.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// 自宅電話番号, if given.
    pub fn phone_home(&self) -> Option<&PhoneNumber> {
        self.phone_home.as_ref()
    }

    /// 携帯電話番号, if given.
    pub fn phone_mobile(&self) -> Option<&PhoneNumber> {
        self.phone_mobile.as_ref()
    }

    /// What a PIN must not be made of: birth date, phones and address digits.
    pub fn pin_context(&self) -> PinContext<'_> {
        PinContext {
            birth_date: Some(&self.birth_date),
            phones: self
                .phone_home
                .iter()
                .chain(self.phone_mobile.iter())
                .collect(),
            address_digit_runs: self.address.digit_runs(),
        }
    }

    /// Every field as (form field name, plaintext), in form order, absent optional fields
    /// left out. The values are in the forms the parsers accept, so the pairs parse back
    /// into the same step.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            (FAMILY_NAME, self.family_name.to_string()),
            (GIVEN_NAME, self.given_name.to_string()),
            (FAMILY_NAME_KANA, self.family_name_kana.to_string()),
            (GIVEN_NAME_KANA, self.given_name_kana.to_string()),
            (BIRTH_DATE, self.birth_date.to_string()),
            (SEX, self.sex.as_str().to_owned()),
            (POSTAL_CODE, self.postal_code.to_string()),
            (PREFECTURE, self.address.prefecture().code_str().to_owned()),
            (ADDRESS_LINE, self.address.line().to_string()),
        ];
        if let Some(building) = self.address.building() {
            fields.push((ADDRESS_BUILDING, building.to_string()));
        }
        if let Some(phone) = &self.phone_home {
            fields.push((PHONE_HOME, phone.to_string()));
        }
        if let Some(phone) = &self.phone_mobile {
            fields.push((PHONE_MOBILE, phone.to_string()));
        }
        fields
    }
}

impl<'a> PinContext<'a> {
    /// What a PIN chosen by this applicant must not be made of; same as
    /// [`PersonalStep::pin_context`].
    pub fn for_applicant(personal: &'a PersonalStep) -> Self {
        personal.pin_context()
    }
}
