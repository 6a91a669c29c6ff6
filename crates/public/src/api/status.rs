//! The status check as JSON: the same two steps as the `/status` pages. Starting answers the
//! same whether or not the receipt number and the address match an application (only a match
//! e-mails a code); the right code shows the status once and ends the check.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use madoguchi_domain::reservation::JST;
use madoguchi_domain::{ApplicationStatus, EmailAddress, ReceiptNumber};
use madoguchi_seal::DraftSecret;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::applications::{CheckStarted, CodeRequest, typed_code};
use super::body::JsonFields;
use super::error::{ApiError, Problem};
use crate::error::PublicError;
use crate::limits::Action;
use crate::session::BrowserSession;
use crate::state::PublicState;
use crate::status::{KEY_SUFFIX, StatusOutcome, confirm_check, start_check};

/// Asking for an application's status.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; it is read through `JsonFields`.
pub struct StatusCheckRequest {
    /// The receipt number (受付番号) from the confirmation e-mail.
    pub receipt_number: String,
    /// The e-mail address the application was made with.
    pub email: String,
}

/// Where an application stands: nothing personal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationStatusJson {
    /// `savings-account`, `internet-banking` or `debit-card`.
    pub product: String,
    /// `submitted`, `in-review`, `more-information-needed`, `approved`, `completed`, `rejected`, …
    pub status: String,
    /// The status in Japanese, as the status page shows it.
    pub status_text: String,
    /// What it means for the applicant.
    pub note: String,
    /// When it last changed (RFC 3339, Japan time).
    pub updated_at: String,
}

fn key(session: &BrowserSession) -> Vec<u8> {
    [&session.id()[..], KEY_SUFFIX].concat()
}

/// Starts a status check. A code is e-mailed only when the receipt number and the address
/// match an application; the answer is the same either way.
#[utoipa::path(post, path = "/api/v1/status-checks", tag = "status",
    request_body = StatusCheckRequest,
    responses(
        (status = 202, description = "Check started (a code is e-mailed if they match)", body = CheckStarted),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Fields to correct", body = Problem),
        (status = 429, description = "Too many checks from this client (`rate-limited`) or codes to this e-mail address within the hour (`recipient-limited`); see Retry-After", body = Problem),
    ))]
pub async fn start(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: JsonFields,
) -> Result<(StatusCode, Json<CheckStarted>), ApiError> {
    state.limits.check(Action::EmailCheck, client.ip())?;
    let form = body.into_form(&[], state.catalog())?;
    let receipt = ReceiptNumber::parse(form.get("receipt_number").unwrap_or_default());
    let email = EmailAddress::parse(form.get("email").unwrap_or_default());
    let (receipt, email) = match (receipt, email) {
        (Ok(receipt), Ok(email)) => (receipt, email),
        (receipt, email) => {
            let errors = [("receipt_number", receipt.err()), ("email", email.err())]
                .into_iter()
                .filter_map(|(field, code)| {
                    code.map(|code| (field.to_owned(), code.as_str().to_owned()))
                });
            return Err(ApiError::fields(state.catalog(), errors));
        }
    };
    let secret = DraftSecret::generate()
        .map_err(|e| ApiError::from(PublicError::Internal(format!("randomness: {e}"))))?;
    let check_id = secret.to_cookie_value();
    let session = BrowserSession::from_secret(secret);
    let expires_at =
        start_check(&state, &key(&session), &session.cipher(), &receipt, &email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CheckStarted {
            check_id: check_id.to_string(),
            expires_at: expires_at.format(&Rfc3339).unwrap_or_default(),
        }),
    ))
}

/// The status, for the right code. Shown once: seeing it again needs a new check.
#[utoipa::path(post, path = "/api/v1/status-checks/{check_id}/confirm", tag = "status",
    params(("check_id" = String, Path, description = "The `check_id` from starting the check")),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The application's status", body = ApplicationStatusJson),
        (status = 400, description = "Not a JSON object", body = Problem),
        (status = 404, description = "No such check id", body = Problem),
        (status = 410, description = "The check expired, its tries are spent, or it was used (`status-code-expired`)", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Wrong code (`code-wrong`) or none given", body = Problem),
        (status = 429, description = "Too many tries from this address; see Retry-After", body = Problem),
    ))]
pub async fn confirm(
    State(state): State<PublicState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(check_id): Path<String>,
    body: JsonFields,
) -> Result<Json<ApplicationStatusJson>, ApiError> {
    state.limits.check(Action::CodeTry, client.ip())?;
    let form = body.into_form(&[], state.catalog())?;
    let secret = DraftSecret::from_cookie_value(&check_id)
        .ok_or_else(|| ApiError::not_found("email-check"))?;
    let typed = typed_code(&state, &form)?;
    let session = BrowserSession::from_secret(secret);
    let row = match confirm_check(&state, &key(&session), &session.cipher(), &typed).await? {
        StatusOutcome::Shown(row) => row,
        StatusOutcome::Wrong => {
            return Err(ApiError::fields(
                state.catalog(),
                [("code".to_owned(), "code-wrong".to_owned())],
            ));
        }
        StatusOutcome::Expired => {
            return Err(ApiError::field(
                state.catalog(),
                StatusCode::GONE,
                "receipt_number",
                "status-code-expired",
            ));
        }
    };
    tracing::info!(
        product = row.product.as_str(),
        "application status shown through the API"
    );
    let status = ApplicationStatus::parse(&row.status)
        .map_err(|_| PublicError::Internal(format!("unknown status {:?}", row.status)))?;
    let catalog = state.catalog();
    Ok(Json(ApplicationStatusJson {
        status_text: catalog
            .choice("application_status", status.as_str())
            .to_owned(),
        note: catalog
            .choice("application_status_note", status.as_str())
            .to_owned(),
        updated_at: row
            .updated_at
            .to_offset(JST)
            .format(&Rfc3339)
            .unwrap_or_default(),
        product: row.product,
        status: status.as_str().to_owned(),
    }))
}
