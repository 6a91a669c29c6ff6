//! The ordinary savings account application (普通預金口座開設): e-mail check, three form
//! steps, confirmation, submission.

mod identity;
mod pages;
pub(crate) mod steps;
pub(crate) mod submit;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use madoguchi_domain::Product;

use crate::apply::{Flow, email_check};
use crate::draft;
use crate::error::PublicError;
use crate::form::FormData;
use crate::limits::Action;
use crate::routes::Route;
use crate::session::BrowserSession;
use crate::state::PublicState;
use crate::view::FormView;

pub static FLOW: Flow = Flow {
    product: Product::SavingsAccount,
    slug: "savings-account",
    first_step: "personal",
    total_steps: 7,
};

/// The rows of the flow, to mount under `/apply/savings-account` (see [`crate::routes`]).
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/", "savings account: where the applicant resumes", start),
        Route::post(
            "/email",
            "savings account: start the e-mail check",
            send_code,
        ),
        Route::get("/verify", "savings account: e-mail code form", verify_page),
        Route::post(
            "/verify",
            "savings account: check the e-mail code",
            check_code,
        ),
        Route::post(
            "/restart",
            "savings account: drop the check and start over",
            restart,
        ),
        Route::get(
            "/identity",
            "savings account: identity document upload",
            identity::show,
        ),
        // The only route that takes files: its own, larger body limit (the site's is 64 KiB).
        Route::with(
            Method::POST,
            "/identity",
            "savings account: upload identity documents",
            post(identity::accept)
                .layer(DefaultBodyLimit::max(crate::uploads::MAX_UPLOAD_BODY_BYTES)),
        ),
        Route::get("/{step}", "savings account: a form step", steps::show),
        Route::post(
            "/{step}",
            "savings account: save a form step",
            steps::accept,
        ),
        Route::get(
            "/confirm",
            "savings account: confirmation page",
            submit::confirm,
        ),
        Route::post(
            "/submit",
            "savings account: submit the application",
            submit::submit,
        ),
    ]
}

/// Where the applicant lands: the next unfinished step of their draft, the code page of a
/// running e-mail check, or the e-mail page.
async fn start(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
) -> Result<Response, PublicError> {
    if !state.profile.products().savings_account() {
        return Err(PublicError::ProductClosed);
    }
    if let Some(draft) = draft::load(&state, &session, FLOW.product.as_str()).await? {
        let next = steps::first_unfinished(&draft.body, steps::identity_offered(&state))
            .unwrap_or("confirm");
        return Ok(Redirect::to(&FLOW.path(next)).into_response());
    }
    let now = time::OffsetDateTime::now_utc();
    if state.store.email_check(&session.id(), now).await?.is_some() {
        return Ok(Redirect::to(&FLOW.path("verify")).into_response());
    }
    Ok(email_check::email_page(
        &state,
        &session,
        &FLOW,
        FormView::default(),
    ))
}

async fn send_code(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: FormData,
) -> Result<Response, PublicError> {
    state.limits.check(Action::EmailCheck, client.ip())?;
    email_check::send_code(&state, &session, &FLOW, form).await
}

async fn verify_page(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
) -> Result<Response, PublicError> {
    email_check::verify_page(&state, &session, &FLOW, FormView::default()).await
}

async fn check_code(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: FormData,
) -> Result<Response, PublicError> {
    state.limits.check(Action::CodeTry, client.ip())?;
    email_check::check_code(&state, &session, &FLOW, form).await
}

async fn restart(
    State(state): State<PublicState>,
    Extension(session): Extension<BrowserSession>,
    form: FormData,
) -> Result<Response, PublicError> {
    email_check::restart(&state, &session, &FLOW, form).await
}
