//! The pages of the internet-banking and debit-card applications.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_domain::Product;
use madoguchi_domain::account::AccountType;

use super::steps::Step;
use crate::apply::Flow;
use crate::state::{Layout, PublicState};
use crate::view::{Choice, FormView};

/// The form fields of each step, in page order (secrets excepted: they are never kept).
pub fn fields_of(flow: &Flow, step: Step) -> &'static [&'static str] {
    match (step, flow.product) {
        (Step::Customer, _) => &[
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "birth_date",
            "phone",
        ],
        (Step::Account, _) => &["branch_code", "account_type", "account_number"],
        (Step::Last, Product::DebitCard) => &["embossed_name"],
        (Step::Last, _) => &[],
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "existing/customer.html")]
struct CustomerPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
    age_hint: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "existing/account.html")]
struct AccountPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
    branches: Vec<Choice>,
    account_types: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "existing/credentials.html")]
struct CredentialsPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
}

#[derive(Template, WebTemplate)]
#[template(path = "existing/card.html")]
struct CardPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
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

pub fn account_type_choices(state: &PublicState) -> Vec<Choice> {
    AccountType::ALL
        .iter()
        .map(|t| Choice {
            value: t.as_str().to_owned(),
            label: state
                .catalog()
                .choice("account_type", t.as_str())
                .to_owned(),
        })
        .collect()
}

/// Who may apply, as the customer page says it.
fn age_hint(state: &PublicState, flow: &Flow) -> String {
    let rules = state.profile.applications();
    match flow.product {
        Product::DebitCard => state
            .catalog()
            .tr("existing.age-hint-debit-card")
            .arg("age", rules.debit_card_min_age())
            .to_string(),
        _ => state
            .catalog()
            .tr("existing.age-hint")
            .arg("age", rules.savings_min_age())
            .to_string(),
    }
}

/// Renders a step's page.
pub fn step(
    state: &PublicState,
    flow: &'static Flow,
    step: Step,
    form: FormView,
    status: StatusCode,
) -> Response {
    let layout = state.layout();
    match (step, flow.product) {
        (Step::Customer, _) => {
            let page = CustomerPage {
                layout,
                flow,
                form,
                age_hint: age_hint(state, flow),
            };
            (status, page).into_response()
        }
        (Step::Account, _) => {
            let page = AccountPage {
                layout,
                flow,
                form,
                branches: branch_choices(state),
                account_types: account_type_choices(state),
            };
            (status, page).into_response()
        }
        (Step::Last, Product::DebitCard) => {
            (status, CardPage { layout, flow, form }).into_response()
        }
        (Step::Last, _) => (status, CredentialsPage { layout, flow, form }).into_response(),
    }
}
