//! The three form steps. Each is validated on the server by `madoguchi-domain`; a refusal
//! shows every problem next to its field and keeps what was typed, never a PIN or password.
//! The last step's secrets are sealed to the core-banking key the moment they are parsed;
//! only the sealed bytes go into the draft.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::account::AccountStep;
use madoguchi_domain::customer::{AgeRule, CustomerStep};
use madoguchi_domain::debit_card::{self, CardStep};
use madoguchi_domain::{FieldErrors, Product, internet_banking};
use madoguchi_seal::{Sealable, SecretKind};

use super::{ensure_open, pages};
use crate::apply::Flow;
use crate::draft::{self, Draft, DraftBody};
use crate::error::{PublicError, not_found};
use crate::form::FormData;
use crate::session::BrowserSession;
use crate::state::PublicState;
use crate::view::FormView;

/// The form steps in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// お客さま情報.
    Customer,
    /// 口座情報.
    Account,
    /// The last step: ログオンパスワード (internet banking) or カード (debit card).
    Last,
}

pub const STEPS: [Step; 3] = [Step::Customer, Step::Account, Step::Last];

/// Every secret field of both flows: never kept, never shown again.
pub const SECRET_FIELDS: [&str; 5] = [
    internet_banking::field::CURRENT_CASH_CARD_PIN,
    internet_banking::field::LOGON_PASSWORD,
    internet_banking::field::LOGON_PASSWORD_CONFIRM,
    debit_card::field::DEBIT_CARD_PIN,
    debit_card::field::DEBIT_CARD_PIN_CONFIRM,
];

impl Step {
    pub fn name(self, flow: &Flow) -> &'static str {
        match (self, flow.product) {
            (Step::Customer, _) => "customer",
            (Step::Account, _) => "account",
            (Step::Last, Product::DebitCard) => "card",
            (Step::Last, _) => "credentials",
        }
    }

    fn parse(flow: &Flow, name: &str) -> Option<Step> {
        STEPS.into_iter().find(|s| s.name(flow) == name)
    }

    fn next(self, flow: &Flow) -> &'static str {
        match self {
            Step::Customer => Step::Account.name(flow),
            Step::Account => Step::Last.name(flow),
            Step::Last => "confirm",
        }
    }
}

/// The secrets each flow seals on its last step.
pub fn secret_kinds(flow: &Flow) -> &'static [SecretKind] {
    match flow.product {
        Product::DebitCard => &[SecretKind::DebitCardPin],
        _ => &[SecretKind::CashCardPin, SecretKind::LogonPassword],
    }
}

/// The age rule of the flow's product.
pub fn age_rule(state: &PublicState, flow: &Flow) -> AgeRule {
    let rules = state.profile.applications();
    match flow.product {
        Product::DebitCard => AgeRule::debit_card(rules),
        _ => AgeRule::internet_banking(rules),
    }
}

/// The first step the draft has not finished, if any.
pub fn first_unfinished(flow: &Flow, body: &DraftBody) -> Option<&'static str> {
    STEPS
        .into_iter()
        .find(|step| {
            !body.steps.contains_key(step.name(flow))
                || (*step == Step::Last
                    && secret_kinds(flow)
                        .iter()
                        .any(|kind| !body.sealed.contains_key(kind.label())))
        })
        .map(|step| step.name(flow))
}

/// The stored values of a step as a form.
pub fn stored_form(flow: &Flow, body: &DraftBody, step: Step) -> FormData {
    let mut form = FormData::default();
    for (name, value) in body.steps.get(step.name(flow)).into_iter().flatten() {
        form.insert(name, value.clone());
    }
    form
}

/// The customer step of the draft, parsed again (rules may have changed: a birthday, the
/// profile).
pub fn stored_customer(
    state: &PublicState,
    flow: &Flow,
    body: &DraftBody,
) -> Result<CustomerStep, FieldErrors> {
    CustomerStep::parse(
        &stored_form(flow, body, Step::Customer),
        crate::clock::today_in_japan(),
        age_rule(state, flow),
    )
}

/// The account step of the draft, parsed again.
pub fn stored_account(
    state: &PublicState,
    flow: &Flow,
    body: &DraftBody,
) -> Result<AccountStep, FieldErrors> {
    AccountStep::parse(&stored_form(flow, body, Step::Account), &state.profile)
}

pub async fn show(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
    step: String,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    let Some(step) = Step::parse(flow, &step) else {
        return Ok(not_found().await);
    };
    let Some(draft) = draft::load(&state, &session, flow.product.as_str()).await? else {
        return Ok(Redirect::to(&flow.start_path()).into_response());
    };
    if let Some(earlier) = unfinished_before(flow, &draft.body, step) {
        return Ok(Redirect::to(&flow.path(earlier)).into_response());
    }
    let mut values = stored_form(flow, &draft.body, step);
    if step == Step::Last
        && flow.product == Product::DebitCard
        && values.get(EMBOSSED_NAME).is_none()
    {
        // Offer the passport spelling of the reading; the applicant may change it.
        if let Some(name) = stored_customer(&state, flow, &draft.body)
            .ok()
            .and_then(|customer| debit_card::EmbossedName::suggest(&customer))
        {
            values.insert(EMBOSSED_NAME, name.to_string());
        }
    }
    let view = FormView::new(session.csrf_token(&state)).with_values(values);
    Ok(pages::step(&state, flow, step, view, StatusCode::OK))
}

const EMBOSSED_NAME: &str = debit_card::field::EMBOSSED_NAME;

pub async fn accept(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
    step: String,
    form: FormData,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    let Some(step) = Step::parse(flow, &step) else {
        return Ok(not_found().await);
    };
    session.check_csrf(&state, &form)?;
    let Some(mut draft) = draft::load(&state, &session, flow.product.as_str()).await? else {
        return Err(PublicError::SessionExpired);
    };
    if let Some(earlier) = unfinished_before(flow, &draft.body, step) {
        return Ok(Redirect::to(&flow.path(earlier)).into_response());
    }
    if let Err(refusal) = validate(&state, flow, &mut draft, step, &form) {
        let errors = match refusal {
            Refusal::Fields(errors) => errors,
            Refusal::Internal(e) => return Err(e),
        };
        let view = FormView::new(session.csrf_token(&state))
            .with_values(form.without(&SECRET_FIELDS))
            .with_errors(
                state.catalog(),
                errors
                    .iter()
                    .map(|e| (e.field.to_owned(), e.code.as_str().to_owned())),
            );
        return Ok(pages::step(
            &state,
            flow,
            step,
            view,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let values = accepted_values(step, flow, &form);
    if step != Step::Last && draft.body.steps.get(step.name(flow)) != Some(&values) {
        // The secrets were checked against the birth date, phone, name and account number:
        // new ones need the secrets again.
        for kind in secret_kinds(flow) {
            draft.body.sealed.remove(kind.label());
        }
    }
    draft.body.steps.insert(step.name(flow).to_owned(), values);
    draft::save(&state, &session, &draft).await?;
    Ok(Redirect::to(&flow.path(step.next(flow))).into_response())
}

/// The earliest step before `step` that is not finished.
fn unfinished_before(flow: &Flow, body: &DraftBody, step: Step) -> Option<&'static str> {
    STEPS
        .into_iter()
        .take_while(|s| *s != step)
        .find(|s| !body.steps.contains_key(s.name(flow)))
        .map(|s| s.name(flow))
}

/// The submitted values worth keeping: the step's own fields, no secret, no CSRF token.
pub(crate) fn accepted_values(step: Step, flow: &Flow, form: &FormData) -> Vec<(String, String)> {
    pages::fields_of(flow, step)
        .iter()
        .flat_map(|name| {
            form.get_all(name)
                .into_iter()
                .map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect()
}

/// Why a step was not accepted.
pub(crate) enum Refusal {
    /// The applicant can fix these.
    Fields(FieldErrors),
    /// They cannot.
    Internal(PublicError),
}

impl From<FieldErrors> for Refusal {
    fn from(errors: FieldErrors) -> Self {
        Refusal::Fields(errors)
    }
}

pub(crate) fn validate(
    state: &PublicState,
    flow: &Flow,
    draft: &mut Draft,
    step: Step,
    form: &FormData,
) -> Result<(), Refusal> {
    match step {
        Step::Customer => {
            CustomerStep::parse(form, crate::clock::today_in_japan(), age_rule(state, flow))?;
        }
        Step::Account => {
            AccountStep::parse(form, &state.profile)?;
        }
        Step::Last => {
            let customer = stored_customer(state, flow, &draft.body)?;
            match flow.product {
                Product::DebitCard => {
                    let mut errors = FieldErrors::new();
                    let card = errors.take_result(CardStep::parse(form));
                    let pin = errors.take_result(debit_card::parse_debit_card_pin(form, &customer));
                    let (Some(_), Some(pin)) = (card, pin) else {
                        return Err(Refusal::Fields(errors));
                    };
                    seal(state, draft, SecretKind::DebitCardPin, &pin)?;
                }
                _ => {
                    let account = stored_account(state, flow, &draft.body)?;
                    let bank = state.profile.bank();
                    let known_words = [draft.body.email.as_str(), bank.name_en(), bank.name_ja()];
                    let credentials = internet_banking::parse_credentials(
                        form,
                        &customer,
                        &account,
                        &known_words,
                    )?;
                    seal(
                        state,
                        draft,
                        SecretKind::CashCardPin,
                        &credentials.cash_card_pin,
                    )?;
                    seal(
                        state,
                        draft,
                        SecretKind::LogonPassword,
                        &credentials.logon_password,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Seals a secret at once (from now on only the core banking system can read it) and keeps
/// the sealed bytes in the draft.
fn seal(
    state: &PublicState,
    draft: &mut Draft,
    kind: SecretKind,
    secret: &dyn Sealable,
) -> Result<(), Refusal> {
    let sealed = state
        .crypto
        .secrets
        .seal(kind, &draft.application_id, secret)
        .map_err(|e| Refusal::Internal(PublicError::Internal(format!("seal: {e}"))))?;
    draft
        .body
        .sealed
        .insert(kind.label().to_owned(), sealed.into_bytes());
    Ok(())
}
