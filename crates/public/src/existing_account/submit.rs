//! Confirmation and submission. Submission re-validates every step, encrypts each personal
//! field (the account number and the embossed name included) with a fresh data key wrapped to
//! the back office's key, and stores the application, its sealed secrets and the confirmation
//! e-mail in one transaction that consumes the draft.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::account::AccountNumber;
use madoguchi_domain::debit_card::{CardStep, DebitCardApplication, EmbossedName};
use madoguchi_domain::internet_banking::InternetBankingApplication;
use madoguchi_domain::person::EmailAddress;
use madoguchi_domain::{Product, ReceiptNumber};
use madoguchi_seal::{EncryptedFields, SealedSecret};
use madoguchi_store::{NewApplication, SealedSecretRow, StoreError};
use time::OffsetDateTime;

use super::ensure_open;
use super::pages;
use super::steps::{
    STEPS, Step, first_unfinished, secret_kinds, stored_account, stored_customer, stored_form,
};
use crate::apply::Flow;
use crate::draft::{self, Draft};
use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::mail;
use crate::session::BrowserSession;
use crate::state::{Layout, PublicState};
use crate::view::FormView;

struct ConfirmRow {
    label: String,
    value: String,
}

struct ConfirmSection {
    title: String,
    step: &'static str,
    rows: Vec<ConfirmRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "existing/confirm.html")]
struct ConfirmPage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    form: FormView,
    sections: Vec<ConfirmSection>,
}

#[derive(Template, WebTemplate)]
#[template(path = "existing/complete.html")]
struct CompletePage {
    layout: Arc<Layout>,
    flow: &'static Flow,
    receipt_number: String,
}

/// The draft, or where to send the applicant when it is not ready for confirmation.
async fn ready_draft(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
) -> Result<Result<Draft, Response>, PublicError> {
    let Some(draft) = draft::load(state, session, flow.product.as_str()).await? else {
        return Ok(Err(Redirect::to(&flow.start_path()).into_response()));
    };
    if let Some(step) = first_unfinished(flow, &draft.body) {
        return Ok(Err(Redirect::to(&flow.path(step)).into_response()));
    }
    Ok(Ok(draft))
}

pub async fn confirm(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    let draft = match ready_draft(&state, &session, flow).await? {
        Ok(draft) => draft,
        Err(redirect) => return Ok(redirect),
    };
    let page = ConfirmPage {
        layout: state.layout(),
        flow,
        form: FormView::new(session.csrf_token(&state)),
        sections: sections(&state, flow, &draft),
    };
    Ok(page.into_response())
}

/// A secret's row on the confirmation page: never its value.
fn sealed_row(state: &PublicState, field: &str, dots: &str) -> ConfirmRow {
    ConfirmRow {
        label: state.catalog().label(field).to_owned(),
        value: state
            .catalog()
            .tr("confirm.sealed")
            .arg("dots", dots)
            .to_string(),
    }
}

fn sections(state: &PublicState, flow: &'static Flow, draft: &Draft) -> Vec<ConfirmSection> {
    let mut sections = Vec::with_capacity(STEPS.len());
    for step in STEPS {
        let form = stored_form(flow, &draft.body, step);
        let mut rows: Vec<ConfirmRow> = pages::fields_of(flow, step)
            .iter()
            .filter_map(|field| {
                let value = form.get(field).filter(|v| !v.is_empty())?;
                Some(ConfirmRow {
                    label: state.catalog().label(field).to_owned(),
                    value: display_value(state, field, value),
                })
            })
            .collect();
        let title = match step {
            Step::Customer => {
                rows.insert(
                    0,
                    ConfirmRow {
                        label: state.catalog().label("email").to_owned(),
                        value: draft.body.email.clone(),
                    },
                );
                "existing.step-customer"
            }
            Step::Account => "existing.step-account",
            Step::Last if flow.product == Product::DebitCard => {
                rows.push(sealed_row(state, "debit_card_pin", "●●●●"));
                "existing.step-card"
            }
            Step::Last => {
                rows.push(sealed_row(state, "current_cash_card_pin", "●●●●"));
                rows.push(sealed_row(state, "logon_password", "●●●●●●●●"));
                "existing.step-credentials"
            }
        };
        sections.push(ConfirmSection {
            title: state.catalog().t(title).to_owned(),
            step: step.name(flow),
            rows,
        });
    }
    sections
}

fn display_value(state: &PublicState, field: &str, value: &str) -> String {
    match field {
        "branch_code" => pages::branch_choices(state)
            .into_iter()
            .find(|c| c.value == value)
            .map(|c| c.label)
            .unwrap_or_else(|| value.to_owned()),
        "account_type" => state.catalog().choice(field, value).to_owned(),
        // As it will be used: zero-padded, and as embossed (normalized).
        "account_number" => AccountNumber::parse(value)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| value.to_owned()),
        "embossed_name" => EmbossedName::parse(value)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| value.to_owned()),
        _ => value.to_owned(),
    }
}

/// A complete application of either product, re-parsed from the draft.
pub(crate) enum Application {
    InternetBanking(InternetBankingApplication),
    DebitCard(DebitCardApplication),
}

impl Application {
    fn personal_fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Application::InternetBanking(a) => a.personal_fields(),
            Application::DebitCard(a) => a.personal_fields(),
        }
    }

    pub(crate) fn display_name(&self) -> String {
        match self {
            Application::InternetBanking(a) => a.customer.display_name(),
            Application::DebitCard(a) => a.customer.display_name(),
        }
    }

    fn branch_code(&self) -> String {
        match self {
            Application::InternetBanking(a) => a.account.branch_code().to_string(),
            Application::DebitCard(a) => a.account.branch_code().to_string(),
        }
    }
}

pub(crate) fn reparse(
    state: &PublicState,
    flow: &'static Flow,
    draft: &Draft,
) -> Option<Application> {
    let customer = stored_customer(state, flow, &draft.body).ok()?;
    let account = stored_account(state, flow, &draft.body).ok()?;
    match flow.product {
        Product::DebitCard => {
            let card = CardStep::parse(&stored_form(flow, &draft.body, Step::Last)).ok()?;
            Some(Application::DebitCard(DebitCardApplication {
                customer,
                account,
                card,
            }))
        }
        _ => Some(Application::InternetBanking(InternetBankingApplication {
            customer,
            account,
        })),
    }
}

pub async fn submit(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
    client: SocketAddr,
    form: FormData,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    state.limits.check(Action::Submission, client.ip())?;
    session.check_csrf(&state, &form)?;
    let draft = match ready_draft(&state, &session, flow).await? {
        Ok(draft) => draft,
        Err(_) => return Err(PublicError::SessionExpired),
    };
    let Some(application) = reparse(&state, flow, &draft) else {
        // Valid when each step was accepted; a rule may have changed since (age on a new day).
        return Ok(Redirect::to(&flow.path(Step::Customer.name(flow))).into_response());
    };
    let mut secrets = Vec::new();
    for kind in secret_kinds(flow) {
        let sealed = draft
            .body
            .sealed
            .get(kind.label())
            .ok_or(PublicError::SessionExpired)
            .and_then(|bytes| {
                SealedSecret::from_stored(bytes.clone()).map_err(|_| PublicError::SessionExpired)
            })?;
        if sealed.kind() != *kind {
            return Err(PublicError::SessionExpired);
        }
        secrets.push(SealedSecretRow {
            kind: kind.label().to_owned(),
            key_id: sealed.key_id().to_string(),
            sealed: sealed.into_bytes(),
        });
    }
    let mut record = build_record(&state, flow, &draft, &application, secrets)?;
    let name = application.display_name();
    for _ in 0..3 {
        let confirmation = mail::application_received(
            &state,
            &draft.body.email,
            &name,
            flow.slug,
            &record.receipt_number,
        );
        match state
            .store
            .submit_application(&session.id(), &record, &mail::seal(&state, &confirmation)?)
            .await
        {
            Ok(()) => {
                tracing::info!(product = flow.product.as_str(), "application submitted");
                let page = CompletePage {
                    layout: state.layout(),
                    flow,
                    receipt_number: record.receipt_number,
                };
                return Ok(page.into_response());
            }
            Err(StoreError::DraftGone) => return Err(PublicError::SessionExpired),
            Err(e) if e.is_unique_violation() => {
                record.receipt_number = new_receipt_number()?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PublicError::Internal(
        "no free receipt number after 3 tries".to_owned(),
    ))
}

pub(crate) fn new_receipt_number() -> Result<String, PublicError> {
    ReceiptNumber::generate()
        .map(|r| r.as_str().to_owned())
        .map_err(|e| PublicError::Internal(format!("randomness: {e}")))
}

/// Encrypts every personal field (and the e-mail address) under a fresh data key.
pub(crate) fn build_record(
    state: &PublicState,
    flow: &'static Flow,
    draft: &Draft,
    application: &Application,
    secrets: Vec<SealedSecretRow>,
) -> Result<NewApplication, PublicError> {
    let internal = |e: madoguchi_seal::SealError| PublicError::Internal(format!("encrypt: {e}"));
    let envelope = state
        .crypto
        .envelopes
        .begin(&draft.application_id)
        .map_err(internal)?;
    let mut fields = EncryptedFields::default();
    // The same normalization as the e-mail check's index, so both look-ups agree.
    let email_normalized = EmailAddress::parse(&draft.body.email)
        .map_err(|_| PublicError::SessionExpired)?
        .normalized();
    let email_index = state.crypto.blind_index.email_index(&email_normalized);
    envelope
        .encrypt_into(&mut fields, "email", draft.body.email.as_bytes())
        .map_err(internal)?;
    for (name, value) in application.personal_fields() {
        envelope
            .encrypt_into(&mut fields, name, value.as_bytes())
            .map_err(internal)?;
    }
    Ok(NewApplication {
        id: draft.application_id,
        receipt_number: new_receipt_number()?,
        product: flow.product.as_str().to_owned(),
        branch_code: application.branch_code(),
        email_index: email_index.index.as_bytes().to_vec(),
        email_index_key: email_index.key_id.to_string(),
        personal_fields: fields.to_bytes(),
        data_key_id: envelope.wrapped_key().key_id().to_string(),
        wrapped_data_key: envelope.wrapped_key().as_bytes().to_vec(),
        secrets,
        submitted_at: OffsetDateTime::now_utc(),
    })
}
