//! Step 2: occupation, purpose and the declarations the law requires (取引時確認 under the
//! Act on Prevention of Transfer of Criminal Proceeds, FATCA, CRS, foreign PEPs, and the
//! anti-social forces declaration).

use super::field::*;
use super::{FormInput, optional, required};
use crate::error::{ErrorCode, FieldErrors};
use crate::macros::choice_enum;
use crate::person::PhoneNumber;
use crate::text::BoundedText;

choice_enum! {
    /// 職業.
    pub enum Occupation {
        /// 会社員
        CompanyEmployee => "company-employee",
        /// 公務員
        PublicServant => "public-servant",
        /// 会社役員
        Executive => "executive",
        /// 自営業
        SelfEmployed => "self-employed",
        /// パート・アルバイト
        PartTime => "part-time",
        /// 学生
        Student => "student",
        /// 主婦・主夫
        Homemaker => "homemaker",
        /// 年金受給者
        Pensioner => "pensioner",
        /// 無職
        Unemployed => "unemployed",
        /// その他
        Other => "other",
    }
}

impl Occupation {
    /// Whether the employer's name and phone are required (employed occupations).
    pub const fn requires_employer(self) -> bool {
        matches!(
            self,
            Self::CompanyEmployee | Self::PublicServant | Self::Executive | Self::PartTime
        )
    }
}

choice_enum! {
    /// 取引を行う目的 (purpose of the account).
    pub enum Purpose {
        /// 生計費決済
        LivingExpenses => "living-expenses",
        /// 給与・年金受取
        SalaryPension => "salary-pension",
        /// 貯蓄
        Savings => "savings",
        /// 資産運用
        AssetManagement => "asset-management",
        /// 事業費決済
        BusinessPayments => "business-payments",
        /// ローン返済
        LoanRepayment => "loan-repayment",
        /// その他 (described in `purpose_other`)
        Other => "other",
    }
}

/// 国籍.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Nationality {
    /// 日本 (form value "JP").
    Japan,
    /// Another country, as the applicant wrote it (form value "other").
    Other {
        /// The country, at most 40 characters.
        country: BoundedText<40>,
    },
}

/// 税務上の居住地 (CRS self-certification).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TaxResidence {
    /// Resident for tax purposes in Japan only (form value "japan-only").
    JapanOnly,
    /// Also or only elsewhere (form value "other").
    Other {
        /// The countries of residence, at most 100 characters.
        countries: BoundedText<100>,
        /// The foreign taxpayer identification number, if the applicant has one.
        foreign_tin: Option<BoundedText<30>>,
    },
}

/// Occupation, employer, purposes and declarations. The three acceptances (not an
/// anti-social force, terms, privacy) have no field: a `ProfileStep` exists only if all
/// three were accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileStep {
    occupation: Occupation,
    employer_name: Option<BoundedText<60>>,
    employer_phone: Option<PhoneNumber>,
    purposes: Vec<Purpose>,
    purpose_other: Option<BoundedText<100>>,
    nationality: Nationality,
    tax_residence: TaxResidence,
    us_person: bool,
    foreign_pep: bool,
}

/// "yes" or "no"; blank is `required`.
fn yes_no(input: &str) -> Result<bool, ErrorCode> {
    match input.trim() {
        "" => Err(ErrorCode::Required),
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(ErrorCode::InvalidChoice),
    }
}

/// A declaration or consent: anything but "yes" (an unticked box sends nothing) is
/// `must-accept`.
fn accepted(input: &str) -> Result<(), ErrorCode> {
    if input.trim() == "yes" {
        Ok(())
    } else {
        Err(ErrorCode::MustAccept)
    }
}

/// The purposes chosen, each once, in list order; none is `required`.
fn purposes(values: &[&str]) -> Result<Vec<Purpose>, ErrorCode> {
    let mut chosen = values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Purpose::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    chosen.sort();
    chosen.dedup();
    if chosen.is_empty() {
        Err(ErrorCode::Required)
    } else {
        Ok(chosen)
    }
}

impl ProfileStep {
    /// Parses the step's form. Dependent fields: employer name and phone are required for
    /// [`Occupation::requires_employer`] (optional otherwise); `purpose_other` is required
    /// when "other" is among the purposes (and ignored otherwise); `nationality_country`
    /// when nationality is "other"; `tax_countries` when tax residence is "other".
    pub fn parse(form: &dyn FormInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let occupation = errors.take(OCCUPATION, Occupation::parse(required(form, OCCUPATION)));
        let employed = occupation.is_some_and(Occupation::requires_employer);
        let employer_name = if employed {
            errors.take(
                EMPLOYER_NAME,
                BoundedText::parse(required(form, EMPLOYER_NAME)).map(Some),
            )
        } else {
            errors.take(
                EMPLOYER_NAME,
                BoundedText::parse_optional(form.get(EMPLOYER_NAME)),
            )
        };
        let employer_phone = if employed {
            errors.take(
                EMPLOYER_PHONE,
                PhoneNumber::parse(required(form, EMPLOYER_PHONE)).map(Some),
            )
        } else {
            errors.take(
                EMPLOYER_PHONE,
                optional(form, EMPLOYER_PHONE, PhoneNumber::parse),
            )
        };
        let purposes = errors.take(PURPOSES, purposes(&form.get_all(PURPOSES)));
        let purpose_other = if purposes
            .as_ref()
            .is_some_and(|p| p.contains(&Purpose::Other))
        {
            errors.take(
                PURPOSE_OTHER,
                BoundedText::parse(required(form, PURPOSE_OTHER)).map(Some),
            )
        } else {
            Some(None)
        };
        let nationality = match required(form, NATIONALITY).trim() {
            "JP" => Some(Nationality::Japan),
            "other" => errors
                .take(
                    NATIONALITY_COUNTRY,
                    BoundedText::parse(required(form, NATIONALITY_COUNTRY)),
                )
                .map(|country| Nationality::Other { country }),
            "" => errors.take(NATIONALITY, Err(ErrorCode::Required)),
            _ => errors.take(NATIONALITY, Err(ErrorCode::InvalidChoice)),
        };
        let tax_residence = match required(form, TAX_RESIDENCE).trim() {
            "japan-only" => Some(TaxResidence::JapanOnly),
            "other" => {
                let countries = errors.take(
                    TAX_COUNTRIES,
                    BoundedText::parse(required(form, TAX_COUNTRIES)),
                );
                let foreign_tin = errors.take(
                    FOREIGN_TIN,
                    BoundedText::parse_optional(form.get(FOREIGN_TIN)),
                );
                countries
                    .zip(foreign_tin)
                    .map(|(countries, foreign_tin)| TaxResidence::Other {
                        countries,
                        foreign_tin,
                    })
            }
            "" => errors.take(TAX_RESIDENCE, Err(ErrorCode::Required)),
            _ => errors.take(TAX_RESIDENCE, Err(ErrorCode::InvalidChoice)),
        };
        let us_person = errors.take(US_PERSON, yes_no(required(form, US_PERSON)));
        let foreign_pep = errors.take(FOREIGN_PEP, yes_no(required(form, FOREIGN_PEP)));
        for name in [ANTI_SOCIAL_DECLARATION, CONSENT_TERMS, CONSENT_PRIVACY] {
            errors.take(name, accepted(required(form, name)));
        }
        let (
            Some(occupation),
            Some(employer_name),
            Some(employer_phone),
            Some(purposes),
            Some(purpose_other),
            Some(nationality),
            Some(tax_residence),
            Some(us_person),
            Some(foreign_pep),
        ) = (
            occupation,
            employer_name,
            employer_phone,
            purposes,
            purpose_other,
            nationality,
            tax_residence,
            us_person,
            foreign_pep,
        )
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            occupation,
            employer_name,
            employer_phone,
            purposes,
            purpose_other,
            nationality,
            tax_residence,
            us_person,
            foreign_pep,
        })
    }

    /// 職業.
    pub fn occupation(&self) -> Occupation {
        self.occupation
    }

    /// 勤務先名, if given.
    pub fn employer_name(&self) -> Option<&BoundedText<60>> {
        self.employer_name.as_ref()
    }

    /// 勤務先電話番号, if given.
    pub fn employer_phone(&self) -> Option<&PhoneNumber> {
        self.employer_phone.as_ref()
    }

    /// 取引目的, at least one, each once.
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }

    /// The description of the "other" purpose, present exactly when "other" was chosen.
    pub fn purpose_other(&self) -> Option<&BoundedText<100>> {
        self.purpose_other.as_ref()
    }

    /// 国籍.
    pub fn nationality(&self) -> &Nationality {
        &self.nationality
    }

    /// 税務上の居住地.
    pub fn tax_residence(&self) -> &TaxResidence {
        &self.tax_residence
    }

    /// FATCA: whether the applicant declared to be a US person.
    pub fn us_person(&self) -> bool {
        self.us_person
    }

    /// Whether the applicant declared to be a foreign PEP (triggers enhanced checks).
    pub fn foreign_pep(&self) -> bool {
        self.foreign_pep
    }

    /// Every field as (form field name, plaintext), in form order, absent optional fields
    /// left out, each purpose as its own pair; the accepted declarations appear as "yes".
    /// The pairs parse back into the same step.
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
        let mut fields = vec![(OCCUPATION, self.occupation.as_str().to_owned())];
        if let Some(name) = &self.employer_name {
            fields.push((EMPLOYER_NAME, name.to_string()));
        }
        if let Some(phone) = &self.employer_phone {
            fields.push((EMPLOYER_PHONE, phone.to_string()));
        }
        fields.extend(
            self.purposes
                .iter()
                .map(|p| (PURPOSES, p.as_str().to_owned())),
        );
        if let Some(other) = &self.purpose_other {
            fields.push((PURPOSE_OTHER, other.to_string()));
        }
        match &self.nationality {
            Nationality::Japan => fields.push((NATIONALITY, "JP".to_owned())),
            Nationality::Other { country } => {
                fields.push((NATIONALITY, "other".to_owned()));
                fields.push((NATIONALITY_COUNTRY, country.to_string()));
            }
        }
        match &self.tax_residence {
            TaxResidence::JapanOnly => fields.push((TAX_RESIDENCE, "japan-only".to_owned())),
            TaxResidence::Other {
                countries,
                foreign_tin,
            } => {
                fields.push((TAX_RESIDENCE, "other".to_owned()));
                fields.push((TAX_COUNTRIES, countries.to_string()));
                if let Some(tin) = foreign_tin {
                    fields.push((FOREIGN_TIN, tin.to_string()));
                }
            }
        }
        fields.push((US_PERSON, yes_no(self.us_person)));
        fields.push((FOREIGN_PEP, yes_no(self.foreign_pep)));
        for name in [ANTI_SOCIAL_DECLARATION, CONSENT_TERMS, CONSENT_PRIVACY] {
            fields.push((name, "yes".to_owned()));
        }
        fields
    }
}
