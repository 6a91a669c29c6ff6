//! Confirmation and submission. Submission re-validates every step, encrypts each personal
//! field with a fresh data key wrapped to the back office's key, and stores the application,
//! its sealed PIN and the confirmation e-mail in one transaction that consumes the draft.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Extension, State};
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::ReceiptNumber;
use madoguchi_domain::person::EmailAddress;
use madoguchi_domain::savings::{BranchStep, PersonalStep, ProfileStep, SavingsApplication};
use madoguchi_seal::{EncryptedFields, SealedSecret};
use madoguchi_store::{NewApplication, SealedSecretRow, StoreError};
use time::OffsetDateTime;

use super::FLOW;
use super::identity;
use super::pages::{self, CHOICE_FIELDS};
use super::steps::{CASH_CARD_PIN, STEPS, Step, first_unfinished, identity_offered, stored_form};
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
#[template(path = "savings/confirm.html")]
struct ConfirmPage {
    layout: Arc<Layout>,
    form: FormView,
    sections: Vec<ConfirmSection>,
}

#[derive(Template, WebTemplate)]
#[template(path = "savings/complete.html")]
struct CompletePage {
    layout: Arc<Layout>,
    receipt_number: String,
}

/// The draft, or where to send the applicant when it is not ready for confirmation.
async fn ready_draft(
    state: &PublicState,
    session: &BrowserSession,
) -> Result<Result<Draft, Response>, PublicError> {
    let Some(draft) = draft::load(state, session, FLOW.product.as_str()).await? else {
        return Ok(Err(Redirect::to(&FLOW.start_path()).into_response()));
    };
    if let Some(step) = first_unfinished(&draft.body, identity_offered(state)) {
        return Ok(Err(Redirect::to(&FLOW.path(step)).into_response()));
    }
    Ok(Ok(draft))
}

pub async fn confirm(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
) -> Result<Response, PublicError> {
    let draft = match ready_draft(&state, &session).await? {
        Ok(draft) => draft,
        Err(redirect) => return Ok(redirect),
    };
    let page = ConfirmPage {
        layout: state.layout(),
        form: FormView::new(session.csrf_token(&state)),
        sections: sections(&state, &draft),
    };
    Ok(page.into_response())
}

fn sections(state: &PublicState, draft: &Draft) -> Vec<ConfirmSection> {
    let mut sections = Vec::with_capacity(STEPS.len());
    for step in STEPS {
        let form = stored_form(&draft.body, step);
        let mut rows: Vec<ConfirmRow> = pages::fields_of(step)
            .iter()
            .filter_map(|field| {
                let values = form.get_all(field);
                let shown: Vec<String> = values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| display_value(state, field, v))
                    .collect();
                (!shown.is_empty()).then(|| ConfirmRow {
                    label: state.catalog().label(field).to_owned(),
                    value: shown.join(state.catalog().t("list.separator")),
                })
            })
            .collect();
        let title = match step {
            Step::Personal => {
                rows.insert(
                    0,
                    ConfirmRow {
                        label: state.catalog().label("email").to_owned(),
                        value: draft.body.email.clone(),
                    },
                );
                "savings.step-personal"
            }
            Step::Profile => "savings.step-profile",
            Step::Identity => {
                rows.extend(
                    identity::confirmation_rows(state, draft)
                        .into_iter()
                        .map(|(label, value)| ConfirmRow { label, value }),
                );
                "savings.step-identity"
            }
            Step::Branch => {
                rows.push(ConfirmRow {
                    label: state.catalog().label("cash_card_pin").to_owned(),
                    value: state
                        .catalog()
                        .tr("confirm.sealed")
                        .arg("dots", "●●●●")
                        .to_string(),
                });
                "savings.step-branch"
            }
        };
        sections.push(ConfirmSection {
            title: state.catalog().t(title).to_owned(),
            step: step.name(),
            rows,
        });
    }
    sections
}

fn display_value(state: &PublicState, field: &str, value: &str) -> String {
    if field == "prefecture" {
        return pages::prefecture_choices(state)
            .into_iter()
            .find(|c| c.value == value)
            .map(|c| c.label)
            .unwrap_or_else(|| value.to_owned());
    }
    if field == "branch_code" {
        return pages::branch_choices(state)
            .into_iter()
            .find(|c| c.value == value)
            .map(|c| c.label)
            .unwrap_or_else(|| value.to_owned());
    }
    if CHOICE_FIELDS.contains(&field) {
        return state.catalog().choice(field, value).to_owned();
    }
    value.to_owned()
}

pub async fn submit(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: FormData,
) -> Result<Response, PublicError> {
    state.limits.check(Action::Submission, client.ip())?;
    session.check_csrf(&state, &form)?;
    let draft = match ready_draft(&state, &session).await? {
        Ok(draft) => draft,
        Err(_) => return Err(PublicError::SessionExpired),
    };
    if !identity::ready_for_submission(&state, &draft).await? {
        // A document of the draft was replaced or lost meanwhile (another tab): upload again.
        return Ok(Redirect::to(&FLOW.path(Step::Identity.name())).into_response());
    }
    let Some(application) = reparse(&state, &draft) else {
        // Valid when each step was accepted; a rule may have changed since (age on a new day).
        return Ok(Redirect::to(&FLOW.path(Step::Personal.name())).into_response());
    };
    let sealed_pin = draft
        .body
        .sealed
        .get(CASH_CARD_PIN)
        .ok_or(PublicError::SessionExpired)
        .and_then(|bytes| {
            SealedSecret::from_stored(bytes.clone()).map_err(|_| PublicError::SessionExpired)
        })?;
    let mut record = build_record(&state, &draft, &application, &sealed_pin)?;
    let name = application.personal.display_name();
    for _ in 0..3 {
        let confirmation = mail::application_received(
            &state,
            &draft.body.email,
            &name,
            FLOW.slug,
            &record.receipt_number,
        );
        match state
            .store
            .submit_application(&session.id(), &record, &mail::seal(&state, &confirmation)?)
            .await
        {
            Ok(()) => {
                tracing::info!(product = FLOW.product.as_str(), "application submitted");
                let page = CompletePage {
                    layout: state.layout(),
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

pub(crate) fn reparse(state: &PublicState, draft: &Draft) -> Option<SavingsApplication> {
    let settings = state.profile.applications();
    let today = crate::clock::today_in_japan();
    let personal = PersonalStep::parse(
        &stored_form(&draft.body, Step::Personal),
        today,
        settings.savings_min_age(),
        settings.max_age(),
    )
    .ok()?;
    let profile = ProfileStep::parse(&stored_form(&draft.body, Step::Profile)).ok()?;
    let branch = BranchStep::parse(&stored_form(&draft.body, Step::Branch), &state.profile).ok()?;
    Some(SavingsApplication {
        personal,
        profile,
        branch,
    })
}

pub(crate) fn new_receipt_number() -> Result<String, PublicError> {
    ReceiptNumber::generate()
        .map(|r| r.as_str().to_owned())
        .map_err(|e| PublicError::Internal(format!("randomness: {e}")))
}

/// Encrypts every personal field (and the e-mail address) under a fresh data key.
pub(crate) fn build_record(
    state: &PublicState,
    draft: &Draft,
    application: &SavingsApplication,
    sealed_pin: &SealedSecret,
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
    for (name, value) in join_repeated(application.personal_fields()) {
        envelope
            .encrypt_into(&mut fields, name, value.as_bytes())
            .map_err(internal)?;
    }
    Ok(NewApplication {
        id: draft.application_id,
        receipt_number: new_receipt_number()?,
        product: FLOW.product.as_str().to_owned(),
        branch_code: application.branch.branch_code().to_string(),
        email_index: email_index.index.as_bytes().to_vec(),
        email_index_key: email_index.key_id.to_string(),
        personal_fields: fields.to_bytes(),
        data_key_id: envelope.wrapped_key().key_id().to_string(),
        wrapped_data_key: envelope.wrapped_key().as_bytes().to_vec(),
        secrets: vec![SealedSecretRow {
            kind: CASH_CARD_PIN.to_owned(),
            key_id: sealed_pin.key_id().to_string(),
            sealed: sealed_pin.as_bytes().to_vec(),
        }],
        submitted_at: OffsetDateTime::now_utc(),
    })
}

/// One value per field name: a field the form repeats (取引目的, several ticked) is stored as
/// its values joined by commas (choice names hold none), since a record keeps one ciphertext
/// per name.
fn join_repeated(fields: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    let mut joined: Vec<(&'static str, String)> = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        match joined.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => joined.push((name, value)),
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::join_repeated;

    #[test]
    fn every_ticked_purpose_is_kept() {
        let fields = vec![
            ("occupation", "employee".to_owned()),
            ("purposes", "salary".to_owned()),
            ("purposes", "savings".to_owned()),
            ("nationality", "JP".to_owned()),
        ];
        assert_eq!(
            join_repeated(fields),
            vec![
                ("occupation", "employee".to_owned()),
                ("purposes", "salary,savings".to_owned()),
                ("nationality", "JP".to_owned()),
            ]
        );
    }
}
