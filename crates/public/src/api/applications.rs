//! Applications through the JSON API: the e-mail check (start, confirm) and the three
//! submissions, with the same validation, sealing and storage as the HTML forms.
//!
//! An app has no browser session, so the API gives it the same thing as two bearer secrets:
//! - `check_id` (from starting a check) is the secret of a [`BrowserSession`]: the check is
//!   stored under its SHA-256 lookup id, the address encrypted with a key derived from it.
//! - `verification_token` (from the right code) is the secret of a *new* session, under which
//!   the draft is stored; the check ends in the same transaction, so a code yields one token.
//!
//! A submission presents the token (`Authorization: Bearer …`) with every field of the
//! product's form steps at once. Each step is validated as the form's (the same field names,
//! codes and messages), secrets are sealed the moment they parse, and the submission consumes
//! the draft: a token submits once. The server stores neither secret in clear.
//!
//! Savings accounts: identity documents are uploaded by the HTML flow only. An API submission
//! takes the course the HTML flow takes when the profile does not offer the image method
//! (after 2027-04-01 by law): it carries no documents, and the bank verifies the applicant's
//! identity by another method (at the branch, or by its provider) before opening the account.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use madoguchi_domain::{EmailAddress, FieldErrors};
use madoguchi_seal::{DraftSecret, SealedSecret};
use madoguchi_store::{SealedSecretRow, StoreError};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::body::JsonFields;
use super::error::{ApiError, Problem};
use crate::apply::Flow;
use crate::apply::email_check::{self, CodeOutcome};
use crate::draft::{self, Draft};
use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::session::BrowserSession;
use crate::state::PublicState;
use crate::{existing_account, mail, savings};

/// Starting an e-mail check.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct EmailCheckRequest {
    /// The applicant's e-mail address; the 6-digit code is sent there.
    pub email: String,
    /// `savings-account`, `internet-banking` or `debit-card`.
    pub product: String,
}

/// A started check. The same answer whatever the address.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckStarted {
    /// The check's secret id: keep it private, present it with the code.
    pub check_id: String,
    /// When the code expires (RFC 3339).
    pub expires_at: String,
}

/// The code from the e-mail.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct CodeRequest {
    /// 6 digits (full-width digits are accepted).
    pub code: String,
}

/// A verified address, ready for one submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Present as `Authorization: Bearer <verification_token>` with the submission. Valid once.
    pub verification_token: String,
    /// When the token expires (RFC 3339).
    pub expires_at: String,
    /// The product it may submit.
    pub product: String,
}

/// A received application.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// The receipt number (受付番号), also sent by e-mail.
    pub receipt_number: String,
}

/// 普通預金口座開設: the fields of the form steps お客さま情報, ご職業・お取引目的 and お取引店.
/// Validated as the forms. Identity documents are not taken by the API (see the endpoint).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct SavingsAccountRequest {
    pub family_name: String,
    pub given_name: String,
    /// Full-width katakana.
    pub family_name_kana: String,
    pub given_name_kana: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub sex: String,
    /// 7 digits, with or without the hyphen.
    pub postal_code: String,
    pub prefecture: String,
    pub address_line: String,
    pub address_building: Option<String>,
    /// At least one of `phone_home` and `phone_mobile`.
    pub phone_home: Option<String>,
    pub phone_mobile: Option<String>,
    pub occupation: String,
    pub employer_name: Option<String>,
    pub employer_phone: Option<String>,
    /// One or more purposes, as the form's checkboxes.
    pub purposes: Vec<String>,
    pub purpose_other: Option<String>,
    pub nationality: String,
    pub nationality_country: Option<String>,
    pub tax_residence: String,
    pub tax_countries: Option<Vec<String>>,
    pub foreign_tin: Option<String>,
    pub us_person: bool,
    pub foreign_pep: bool,
    /// Must be true.
    pub anti_social_declaration: bool,
    /// Must be true.
    pub consent_terms: bool,
    /// Must be true.
    pub consent_privacy: bool,
    /// お取引店: a branch code of the bank.
    pub branch_code: String,
    /// 4 digits; sealed to the core banking system on arrival.
    pub cash_card_pin: String,
    pub cash_card_pin_confirm: String,
}

/// インターネットバンキング: お客さま情報, 口座情報 and the credentials.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct InternetBankingRequest {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub phone: String,
    pub branch_code: String,
    /// `ordinary`, `current`, … (預金種目).
    pub account_type: String,
    /// Up to 7 digits.
    pub account_number: String,
    /// The cash card's PIN in use; sealed on arrival.
    pub current_cash_card_pin: String,
    /// 8–32 half-width letters and digits; sealed on arrival.
    pub logon_password: String,
    pub logon_password_confirm: String,
}

/// Visaデビットカード: お客さま情報, 口座情報, the embossed name and the card's PIN.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct DebitCardRequest {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub phone: String,
    pub branch_code: String,
    pub account_type: String,
    pub account_number: String,
    /// Capital roman letters, space and `.-'`, up to 26 characters.
    pub embossed_name: String,
    /// 4 digits; sealed on arrival.
    pub debit_card_pin: String,
    pub debit_card_pin_confirm: String,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    PublicError::Internal(format!("randomness: {e}")).into()
}

fn flow_of(slug: &str) -> Option<&'static Flow> {
    [
        &savings::FLOW,
        &existing_account::INTERNET_BANKING,
        &existing_account::DEBIT_CARD,
    ]
    .into_iter()
    .find(|flow| flow.product.as_str() == slug)
}

fn ensure_offered(state: &PublicState, flow: &Flow) -> Result<(), ApiError> {
    if state.profile.products().offers(flow.product) {
        Ok(())
    } else {
        Err(PublicError::ProductClosed.into())
    }
}

/// Starts the e-mail check of an application: a 6-digit code is e-mailed to the address.
#[utoipa::path(post, path = "/api/v1/email-checks", tag = "applications",
    request_body = EmailCheckRequest,
    responses(
        (status = 202, description = "Check started; the code e-mail is queued", body = CheckStarted),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 409, description = "The product is not offered now (`product-closed`)", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Fields to correct", body = Problem),
        (status = 429, description = "Too many checks from this client (`rate-limited`) or codes to this e-mail address within the hour (`recipient-limited`); see Retry-After", body = Problem),
    ))]
pub async fn start_email_check(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: JsonFields,
) -> Result<(StatusCode, Json<CheckStarted>), ApiError> {
    state.limits.check(Action::EmailCheck, client.ip())?;
    let form = body.into_form(&[], state.catalog())?;
    let mut refused = Vec::new();
    let email = EmailAddress::parse(form.get("email").unwrap_or_default())
        .map_err(|code| refused.push(("email".to_owned(), code.as_str().to_owned())))
        .ok();
    let flow = match form.get("product").map(str::trim) {
        None | Some("") => {
            refused.push(("product".to_owned(), "required".to_owned()));
            None
        }
        Some(slug) => flow_of(slug).or_else(|| {
            refused.push(("product".to_owned(), "invalid-choice".to_owned()));
            None
        }),
    };
    let (Some(email), Some(flow)) = (email, flow) else {
        return Err(ApiError::fields(state.catalog(), refused));
    };
    ensure_offered(&state, flow)?;
    let secret = DraftSecret::generate().map_err(internal)?;
    let check_id = secret.to_cookie_value();
    let session = BrowserSession::from_secret(secret);
    let expires_at = email_check::store_check(&state, &session, flow, &email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CheckStarted {
            check_id: check_id.to_string(),
            expires_at: rfc3339(expires_at),
        }),
    ))
}

/// The typed code, or 422 `required` without spending a try.
pub(super) fn typed_code(state: &PublicState, form: &FormData) -> Result<String, ApiError> {
    match form.get("code").map(str::trim) {
        Some(code) if !code.is_empty() => Ok(code.to_owned()),
        _ => Err(ApiError::fields(
            state.catalog(),
            [("code".to_owned(), "required".to_owned())],
        )),
    }
}

/// Confirms the address with the code. A wrong code spends one of the check's few tries.
#[utoipa::path(post, path = "/api/v1/email-checks/{check_id}/confirm", tag = "applications",
    params(("check_id" = String, Path, description = "The `check_id` from starting the check")),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Verified: the token for one submission", body = Verification),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 404, description = "No such check id", body = Problem),
        (status = 410, description = "The check expired, its tries are spent, or it was used (`code-expired`): start again", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Wrong code (`code-wrong`) or none given", body = Problem),
        (status = 429, description = "Too many tries from this address; see Retry-After", body = Problem),
    ))]
pub async fn confirm_email_check(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(check_id): Path<String>,
    body: JsonFields,
) -> Result<Json<Verification>, ApiError> {
    state.limits.check(Action::CodeTry, client.ip())?;
    let form = body.into_form(&[], state.catalog())?;
    let secret = DraftSecret::from_cookie_value(&check_id)
        .ok_or_else(|| ApiError::not_found("email-check"))?;
    let typed = typed_code(&state, &form)?;
    let check = BrowserSession::from_secret(secret);
    let expired = || ApiError::field(state.catalog(), StatusCode::GONE, "code", "code-expired");
    let Some(row) = state
        .store
        .email_check(&check.id(), OffsetDateTime::now_utc())
        .await
        .map_err(PublicError::from)?
    else {
        return Err(expired());
    };
    let Some(flow) = flow_of(&row.product) else {
        return Err(expired());
    };
    let email = match email_check::verify_code(&state, &check, flow, &typed).await? {
        CodeOutcome::Right(email) => email,
        CodeOutcome::Wrong => {
            return Err(ApiError::fields(
                state.catalog(),
                [("code".to_owned(), "code-wrong".to_owned())],
            ));
        }
        CodeOutcome::Expired => return Err(expired()),
    };
    let token_secret = DraftSecret::generate().map_err(internal)?;
    let token = token_secret.to_cookie_value();
    let session = BrowserSession::from_secret(token_secret);
    let draft = draft::start(&state, &session, flow.product.as_str(), email)?;
    match state
        .store
        .start_draft_from_check(&check.id(), &draft)
        .await
    {
        Ok(()) => Ok(Json(Verification {
            verification_token: token.to_string(),
            expires_at: rfc3339(draft.expires_at),
            product: flow.product.as_str().to_owned(),
        })),
        Err(StoreError::DraftGone) => Err(expired()),
        Err(e) => Err(PublicError::from(e).into()),
    }
}

fn token_invalid() -> ApiError {
    ApiError::unauthorized("token-invalid")
}

/// The session of the bearer token, and its live draft of `flow`'s product.
async fn verified_draft(
    state: &PublicState,
    headers: &HeaderMap,
    flow: &'static Flow,
) -> Result<(BrowserSession, Draft), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized("token-required"));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .and_then(DraftSecret::from_cookie_value)
        .ok_or_else(token_invalid)?;
    let session = BrowserSession::from_secret(token);
    match draft::load(state, &session, flow.product.as_str()).await {
        Ok(Some(draft)) => Ok((session, draft)),
        Ok(None) | Err(PublicError::SessionExpired) => Err(token_invalid()),
        Err(e) => Err(e.into()),
    }
}

/// Adds a step's refusal to `errors`; an internal failure ends the request.
fn collect<R>(errors: &mut FieldErrors, outcome: Result<(), R>) -> Result<(), ApiError>
where
    R: Into<StepRefusal>,
{
    match outcome.map_err(Into::into) {
        Ok(()) => Ok(()),
        Err(StepRefusal::Fields(e)) => {
            errors.extend(e);
            Ok(())
        }
        Err(StepRefusal::Internal(e)) => Err(e.into()),
    }
}

/// Either flow's step refusal.
enum StepRefusal {
    Fields(FieldErrors),
    Internal(PublicError),
}

impl From<existing_account::steps::Refusal> for StepRefusal {
    fn from(r: existing_account::steps::Refusal) -> Self {
        match r {
            existing_account::steps::Refusal::Fields(e) => StepRefusal::Fields(e),
            existing_account::steps::Refusal::Internal(e) => StepRefusal::Internal(e),
        }
    }
}

impl From<savings::steps::Refusal> for StepRefusal {
    fn from(r: savings::steps::Refusal) -> Self {
        match r {
            savings::steps::Refusal::Fields(e) => StepRefusal::Fields(e),
            savings::steps::Refusal::Internal(e) => StepRefusal::Internal(e),
        }
    }
}

/// Stores the application and its confirmation e-mail, consuming the token's draft; retries
/// a taken receipt number.
async fn store(
    state: &PublicState,
    session: &BrowserSession,
    flow: &'static Flow,
    email: &str,
    name: &str,
    mut record: madoguchi_store::NewApplication,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    for _ in 0..3 {
        let confirmation =
            mail::application_received(state, email, name, flow.slug, &record.receipt_number);
        match state
            .store
            .submit_application(&session.id(), &record, &mail::seal(state, &confirmation)?)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    product = flow.product.as_str(),
                    "application submitted through the API"
                );
                return Ok((
                    StatusCode::CREATED,
                    Json(Receipt {
                        receipt_number: record.receipt_number,
                    }),
                ));
            }
            Err(StoreError::DraftGone) => return Err(token_invalid()),
            Err(e) if e.is_unique_violation() => {
                record.receipt_number = existing_account::submit::new_receipt_number()?;
            }
            Err(e) => return Err(PublicError::from(e).into()),
        }
    }
    Err(PublicError::Internal("no free receipt number after 3 tries".to_owned()).into())
}

const SAVINGS_BOOLEANS: [&str; 5] = [
    "us_person",
    "foreign_pep",
    "anti_social_declaration",
    "consent_terms",
    "consent_privacy",
];
const SAVINGS_LISTS: [&str; 2] = ["purposes", "tax_countries"];

/// Submits an ordinary savings account application.
#[utoipa::path(post, path = "/api/v1/applications/savings-account", tag = "applications",
    description = "普通預金口座開設. Identity documents are not taken by the API: the bank verifies the applicant's identity by another method (at the branch or through its provider) before opening the account.",
    request_body = SavingsAccountRequest,
    security(("verification_token" = [])),
    responses(
        (status = 201, description = "Received; the confirmation e-mail is queued", body = Receipt),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 401, description = "No token (`token-required`), or expired, used or for another product (`token-invalid`)", body = Problem),
        (status = 409, description = "The product is not offered now (`product-closed`)", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Fields to correct: the same fields, codes and messages as the forms", body = Problem),
        (status = 429, description = "Too many submissions from this address; see Retry-After", body = Problem),
    ))]
pub async fn submit_savings_account(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonFields,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    use savings::steps::{CASH_CARD_PIN, STEPS, Step, accepted_values, validate};
    let flow = &savings::FLOW;
    state.limits.check(Action::Submission, client.ip())?;
    ensure_offered(&state, flow)?;
    let (session, mut draft) = verified_draft(&state, &headers, flow).await?;
    let form = body.into_form_with_lists(&SAVINGS_BOOLEANS, &SAVINGS_LISTS, state.catalog())?;
    let mut errors = FieldErrors::new();
    for step in [Step::Personal, Step::Profile] {
        collect(&mut errors, validate(&state, &mut draft, step, &form))?;
        draft
            .body
            .steps
            .insert(step.name().to_owned(), accepted_values(step, &form));
    }
    // The PIN is judged against the birth date and phones: only once they are valid.
    if errors.is_empty() {
        collect(
            &mut errors,
            validate(&state, &mut draft, Step::Branch, &form),
        )?;
    }
    if !errors.is_empty() {
        return Err(ApiError::field_errors(state.catalog(), &errors));
    }
    debug_assert_eq!(STEPS.len(), 4);
    draft.body.steps.insert(
        Step::Branch.name().to_owned(),
        accepted_values(Step::Branch, &form),
    );
    drop(form);
    let application = savings::submit::reparse(&state, &draft)
        .ok_or_else(|| PublicError::Internal("accepted steps do not parse again".to_owned()))?;
    let sealed_pin = draft
        .body
        .sealed
        .get(CASH_CARD_PIN)
        .and_then(|bytes| SealedSecret::from_stored(bytes.clone()).ok())
        .ok_or_else(|| PublicError::Internal("PIN not sealed".to_owned()))?;
    let record = savings::submit::build_record(&state, &draft, &application, &sealed_pin)?;
    let name = application.personal.display_name();
    store(&state, &session, flow, &draft.body.email, &name, record).await
}

async fn submit_existing(
    flow: &'static Flow,
    state: PublicState,
    client: SocketAddr,
    headers: HeaderMap,
    body: JsonFields,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    use existing_account::steps::{Step, accepted_values, secret_kinds, validate};
    state.limits.check(Action::Submission, client.ip())?;
    ensure_offered(&state, flow)?;
    let (session, mut draft) = verified_draft(&state, &headers, flow).await?;
    let form = body.into_form(&[], state.catalog())?;
    let mut errors = FieldErrors::new();
    for step in [Step::Customer, Step::Account] {
        collect(&mut errors, validate(&state, flow, &mut draft, step, &form))?;
        draft.body.steps.insert(
            step.name(flow).to_owned(),
            accepted_values(step, flow, &form),
        );
    }
    // The secrets are judged against the birth date, phone, name and account number: only
    // once those are valid.
    if errors.is_empty() {
        collect(
            &mut errors,
            validate(&state, flow, &mut draft, Step::Last, &form),
        )?;
    }
    if !errors.is_empty() {
        return Err(ApiError::field_errors(state.catalog(), &errors));
    }
    draft.body.steps.insert(
        Step::Last.name(flow).to_owned(),
        accepted_values(Step::Last, flow, &form),
    );
    drop(form);
    let application = existing_account::submit::reparse(&state, flow, &draft)
        .ok_or_else(|| PublicError::Internal("accepted steps do not parse again".to_owned()))?;
    let mut secrets = Vec::new();
    for kind in secret_kinds(flow) {
        let sealed = draft
            .body
            .sealed
            .get(kind.label())
            .and_then(|bytes| SealedSecret::from_stored(bytes.clone()).ok())
            .ok_or_else(|| PublicError::Internal("secret not sealed".to_owned()))?;
        secrets.push(SealedSecretRow {
            kind: kind.label().to_owned(),
            key_id: sealed.key_id().to_string(),
            sealed: sealed.into_bytes(),
        });
    }
    let record =
        existing_account::submit::build_record(&state, flow, &draft, &application, secrets)?;
    let name = application.display_name();
    store(&state, &session, flow, &draft.body.email, &name, record).await
}

/// Submits an internet-banking application.
#[utoipa::path(post, path = "/api/v1/applications/internet-banking", tag = "applications",
    description = "インターネットバンキングのお申込み. Both secrets are sealed to the core banking system on arrival.",
    request_body = InternetBankingRequest,
    security(("verification_token" = [])),
    responses(
        (status = 201, description = "Received; the confirmation e-mail is queued", body = Receipt),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 401, description = "No token (`token-required`), or expired, used or for another product (`token-invalid`)", body = Problem),
        (status = 409, description = "The product is not offered now (`product-closed`)", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Fields to correct: the same fields, codes and messages as the forms", body = Problem),
        (status = 429, description = "Too many submissions from this address; see Retry-After", body = Problem),
    ))]
pub async fn submit_internet_banking(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonFields,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    submit_existing(
        &existing_account::INTERNET_BANKING,
        state,
        client,
        headers,
        body,
    )
    .await
}

/// Submits a Visa debit-card application.
#[utoipa::path(post, path = "/api/v1/applications/debit-card", tag = "applications",
    description = "Visaデビットカードのお申込み. The PIN is sealed to the core banking system on arrival.",
    request_body = DebitCardRequest,
    security(("verification_token" = [])),
    responses(
        (status = 201, description = "Received; the confirmation e-mail is queued", body = Receipt),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 401, description = "No token (`token-required`), or expired, used or for another product (`token-invalid`)", body = Problem),
        (status = 409, description = "The product is not offered now (`product-closed`)", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Fields to correct: the same fields, codes and messages as the forms", body = Problem),
        (status = 429, description = "Too many submissions from this address; see Retry-After", body = Problem),
    ))]
pub async fn submit_debit_card(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonFields,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    submit_existing(&existing_account::DEBIT_CARD, state, client, headers, body).await
}
