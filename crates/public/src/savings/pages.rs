//! The pages of the savings account application.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_domain::person::Prefecture;

use super::steps::Step;
use crate::state::{Layout, PublicState};
use crate::view::{Choice, FormView, choices};

/// The form fields of each step, in page order (the PIN excepted: it is never kept).
pub fn fields_of(step: Step) -> &'static [&'static str] {
    match step {
        Step::Personal => &[
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "birth_date",
            "sex",
            "postal_code",
            "prefecture",
            "address_line",
            "address_building",
            "phone_home",
            "phone_mobile",
        ],
        Step::Profile => &[
            "occupation",
            "employer_name",
            "employer_phone",
            "purposes",
            "purpose_other",
            "nationality",
            "nationality_country",
            "tax_residence",
            "tax_countries",
            "foreign_tin",
            "us_person",
            "foreign_pep",
            "anti_social_declaration",
            "consent_terms",
            "consent_privacy",
        ],
        // Files, not form fields: see `identity.rs`.
        Step::Identity => &[],
        Step::Branch => &["branch_code"],
    }
}

/// The fields whose values are choices, labelled from the catalogue on the confirmation page.
pub const CHOICE_FIELDS: [&str; 11] = [
    "sex",
    "occupation",
    "purposes",
    "nationality",
    "tax_residence",
    "us_person",
    "foreign_pep",
    "anti_social_declaration",
    "consent_terms",
    "consent_privacy",
    "prefecture",
];

#[derive(Template, WebTemplate)]
#[template(path = "savings/personal.html")]
struct PersonalPage {
    layout: Arc<Layout>,
    form: FormView,
    sexes: Vec<Choice>,
    prefectures: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "savings/profile.html")]
struct ProfilePage {
    layout: Arc<Layout>,
    form: FormView,
    occupations: Vec<Choice>,
    purposes: Vec<Choice>,
    nationalities: Vec<Choice>,
    tax_residences: Vec<Choice>,
    us_person: Vec<Choice>,
    foreign_pep: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "savings/branch.html")]
struct BranchPage {
    layout: Arc<Layout>,
    form: FormView,
    branches: Vec<Choice>,
    /// When the image method of identity verification has ended: its last day's successor,
    /// as the applicant reads it (the upload step was skipped, and the page says why).
    identity_ended: Option<String>,
}

/// `2027年4月1日` · `1 Apr 2027`, in the request's language.
pub fn date_in(state: &PublicState, date: time::Date) -> String {
    crate::reservation::format::date_label(date, state.lang())
}

pub fn prefecture_choices(state: &PublicState) -> Vec<Choice> {
    let english = state.lang() == crate::messages::Lang::En;
    Prefecture::all()
        .iter()
        .map(|p| Choice {
            value: p.code_str().to_owned(),
            label: if english { p.name_en() } else { p.name_ja() }.to_owned(),
        })
        .collect()
}

pub fn branch_choices(state: &PublicState) -> Vec<Choice> {
    state
        .profile
        .branches()
        .iter()
        .map(|b| Choice {
            value: b.code().to_string(),
            label: state
                .catalog()
                .tr("branch.choice")
                .arg("name", state.branch_name(b))
                .arg("code", b.code())
                .to_string(),
        })
        .collect()
}

/// Renders a step's page.
pub fn step(state: &PublicState, step: Step, form: FormView, status: StatusCode) -> Response {
    let layout = state.layout();
    let c = state.catalog();
    match step {
        Step::Personal => {
            let page = PersonalPage {
                layout,
                form,
                sexes: choices(c, "sex", &["female", "male", "not-stated"]),
                prefectures: prefecture_choices(state),
            };
            (status, page).into_response()
        }
        Step::Profile => {
            let page = ProfilePage {
                layout,
                form,
                occupations: choices(
                    c,
                    "occupation",
                    &[
                        "company-employee",
                        "public-servant",
                        "executive",
                        "self-employed",
                        "part-time",
                        "student",
                        "homemaker",
                        "pensioner",
                        "unemployed",
                        "other",
                    ],
                ),
                purposes: choices(
                    c,
                    "purposes",
                    &[
                        "living-expenses",
                        "salary-pension",
                        "savings",
                        "asset-management",
                        "business-payments",
                        "loan-repayment",
                        "other",
                    ],
                ),
                nationalities: choices(c, "nationality", &["JP", "other"]),
                tax_residences: choices(c, "tax_residence", &["japan-only", "other"]),
                us_person: choices(c, "us_person", &["no", "yes"]),
                foreign_pep: choices(c, "foreign_pep", &["no", "yes"]),
            };
            (status, page).into_response()
        }
        Step::Identity => crate::error::PublicError::NotFound.into_response(),
        Step::Branch => {
            let until = state.profile.applications().identity_image_method_until();
            let page = BranchPage {
                layout,
                form,
                branches: branch_choices(state),
                identity_ended: (!super::steps::identity_offered(state))
                    .then(|| date_in(state, until)),
            };
            (status, page).into_response()
        }
    }
}
