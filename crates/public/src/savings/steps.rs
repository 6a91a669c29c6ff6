//! The three form steps. Each is validated on the server by `madoguchi-domain`; a refusal
//! shows every problem next to its field and keeps what was typed (never a PIN).

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_documents::DocumentKind;
use madoguchi_domain::savings::{BranchStep, PersonalStep, ProfileStep};
use madoguchi_domain::{FieldErrors, Pin, PinContext};
use madoguchi_seal::SecretKind;

use super::FLOW;
use super::pages;
use crate::draft::{self, Draft, DraftBody};
use crate::error::{PublicError, not_found};
use crate::form::FormData;
use crate::session::BrowserSession;
use crate::state::PublicState;
use crate::view::FormView;

/// The form steps in order.
///
/// `Identity` (本人確認: photos of an identity document, front and back, and a selfie) is a
/// multipart upload with its own handlers (`identity.rs`): each file is checked, cleaned and
/// encrypted with its own data key before it touches the disk, and the draft keeps only its
/// reference. The step exists while the profile offers the image method (it ends on
/// 2027-04-01 by law); after that it is skipped and the branch page says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Personal,
    Profile,
    Identity,
    Branch,
}

pub const STEPS: [Step; 4] = [Step::Personal, Step::Profile, Step::Identity, Step::Branch];

/// The fields of the PIN, never stored and never shown again.
pub const PIN_FIELDS: [&str; 2] = ["cash_card_pin", "cash_card_pin_confirm"];
pub const CASH_CARD_PIN: &str = "cash-card-pin";

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Personal => "personal",
            Step::Profile => "profile",
            Step::Identity => "identity",
            Step::Branch => "branch",
        }
    }

    fn parse(name: &str) -> Option<Step> {
        STEPS.into_iter().find(|s| s.name() == name)
    }

    /// The step after this one; `identity_offered` says whether the upload step is there.
    pub fn next(self, identity_offered: bool) -> &'static str {
        match self {
            Step::Personal => Step::Profile.name(),
            Step::Profile if identity_offered => Step::Identity.name(),
            Step::Profile | Step::Identity => Step::Branch.name(),
            Step::Branch => "confirm",
        }
    }

    /// Whether the draft has finished this step.
    pub fn is_finished(self, body: &DraftBody, identity_offered: bool) -> bool {
        match self {
            Step::Identity => {
                !identity_offered
                    || DocumentKind::ALL
                        .iter()
                        .all(|kind| body.documents.contains_key(kind.as_str()))
            }
            Step::Branch => {
                body.steps.contains_key(self.name()) && body.sealed.contains_key(CASH_CARD_PIN)
            }
            _ => body.steps.contains_key(self.name()),
        }
    }
}

/// Whether the image method of identity verification is offered today (profile setting; by
/// law it ends on 2027-04-01).
pub fn identity_offered(state: &PublicState) -> bool {
    state
        .profile
        .applications()
        .identity_image_method_offered(crate::clock::today_in_japan())
}

/// The first step the draft has not finished, if any.
pub fn first_unfinished(body: &DraftBody, identity_offered: bool) -> Option<&'static str> {
    STEPS
        .into_iter()
        .find(|step| !step.is_finished(body, identity_offered))
        .map(Step::name)
}

/// The stored values of a step as a form.
pub fn stored_form(body: &DraftBody, step: Step) -> FormData {
    let mut form = FormData::default();
    for (name, value) in body.steps.get(step.name()).into_iter().flatten() {
        form.insert(name, value.clone());
    }
    form
}

pub async fn show(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    Path(step): Path<String>,
) -> Result<Response, PublicError> {
    // The upload step has its own handlers (a multipart form).
    let Some(step) = Step::parse(&step).filter(|s| *s != Step::Identity) else {
        return Ok(not_found().await);
    };
    let Some(draft) = draft::load(&state, &session, FLOW.product.as_str()).await? else {
        return Ok(Redirect::to(&FLOW.start_path()).into_response());
    };
    let offered = identity_offered(&state);
    if let Some(earlier) = unfinished_before(&draft.body, step, offered) {
        return Ok(Redirect::to(&FLOW.path(earlier)).into_response());
    }
    let view =
        FormView::new(session.csrf_token(&state)).with_values(stored_form(&draft.body, step));
    Ok(pages::step(&state, step, view, StatusCode::OK))
}

pub async fn accept(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    Path(step): Path<String>,
    form: FormData,
) -> Result<Response, PublicError> {
    let Some(step) = Step::parse(&step).filter(|s| *s != Step::Identity) else {
        return Ok(not_found().await);
    };
    session.check_csrf(&state, &form)?;
    let Some(mut draft) = draft::load(&state, &session, FLOW.product.as_str()).await? else {
        return Err(PublicError::SessionExpired);
    };
    let offered = identity_offered(&state);
    if let Some(earlier) = unfinished_before(&draft.body, step, offered) {
        return Ok(Redirect::to(&FLOW.path(earlier)).into_response());
    }
    if let Err(refusal) = validate(&state, &mut draft, step, &form) {
        let errors = match refusal {
            Refusal::Fields(errors) => errors,
            Refusal::Internal(e) => return Err(e),
        };
        let view = FormView::new(session.csrf_token(&state))
            .with_values(form.without(&PIN_FIELDS))
            .with_errors(
                state.catalog(),
                errors
                    .iter()
                    .map(|e| (e.field.to_owned(), e.code.as_str().to_owned())),
            );
        return Ok(pages::step(
            &state,
            step,
            view,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let values = accepted_values(step, &form);
    if step == Step::Personal && draft.body.steps.get(step.name()) != Some(&values) {
        // The PIN was checked against the birth date and phones: new ones need a new PIN.
        draft.body.sealed.remove(CASH_CARD_PIN);
    }
    draft.body.steps.insert(step.name().to_owned(), values);
    draft::save(&state, &session, &draft).await?;
    Ok(Redirect::to(&FLOW.path(step.next(offered))).into_response())
}

/// The earliest step before `step` that is not finished.
pub fn unfinished_before(
    body: &DraftBody,
    step: Step,
    identity_offered: bool,
) -> Option<&'static str> {
    STEPS
        .into_iter()
        .take_while(|s| *s != step)
        .find(|s| !s.is_finished(body, identity_offered))
        .map(Step::name)
}

/// The submitted values worth keeping: the step's own fields, no PIN, no CSRF token.
pub(crate) fn accepted_values(step: Step, form: &FormData) -> Vec<(String, String)> {
    pages::fields_of(step)
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
    draft: &mut Draft,
    step: Step,
    form: &FormData,
) -> Result<(), Refusal> {
    let settings = state.profile.applications();
    let today = crate::clock::today_in_japan();
    match step {
        Step::Personal => {
            PersonalStep::parse(form, today, settings.savings_min_age(), settings.max_age())?;
        }
        Step::Profile => {
            ProfileStep::parse(form)?;
        }
        // Accepted by `identity::accept`, never here.
        Step::Identity => {}
        Step::Branch => {
            let personal_form = stored_form(&draft.body, Step::Personal);
            let personal = PersonalStep::parse(
                &personal_form,
                today,
                settings.savings_min_age(),
                settings.max_age(),
            )?;
            let mut errors = FieldErrors::default();
            let branch = errors.take_result(BranchStep::parse(form, &state.profile));
            let pin = errors.take_result(Pin::parse(
                form.get("cash_card_pin").unwrap_or_default(),
                form.get("cash_card_pin_confirm").unwrap_or_default(),
                &PinContext::for_applicant(&personal),
            ));
            let (Some(_), Some(pin)) = (branch, pin) else {
                return Err(Refusal::Fields(errors));
            };
            // Sealed here, at once: from now on only the core banking system can read it.
            let sealed = state
                .crypto
                .secrets
                .seal(SecretKind::CashCardPin, &draft.application_id, &pin)
                .map_err(|e| Refusal::Internal(PublicError::Internal(format!("seal: {e}"))))?;
            draft
                .body
                .sealed
                .insert(CASH_CARD_PIN.to_owned(), sealed.into_bytes());
        }
    }
    Ok(())
}
