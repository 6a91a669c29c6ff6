//! The applications for an account the applicant already holds: internet banking
//! (インターネットバンキング) and the Visa debit card (Visaデビットカード). Both run the same
//! course as the savings account: e-mail check → お客さま情報 → 口座情報 → a last step whose
//! secrets are sealed on arrival (the cash-card PIN and the logon password; the embossed name
//! and the debit-card PIN) → confirmation → submission. One set of handlers serves both,
//! each route told which [`Flow`] it belongs to.

mod pages;
pub(crate) mod steps;
pub(crate) mod submit;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
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

/// インターネットバンキングのお申込み.
pub static INTERNET_BANKING: Flow = Flow {
    product: Product::InternetBanking,
    slug: "internet-banking",
    first_step: "customer",
    total_steps: 6,
};

/// Visaデビットカードのお申込み.
pub static DEBIT_CARD: Flow = Flow {
    product: Product::DebitCard,
    slug: "debit-card",
    first_step: "customer",
    total_steps: 6,
};

/// The rows of one of the two flows, to mount under `/apply/{slug}` (see [`crate::routes`]);
/// each handler is told which [`Flow`] it serves.
pub(crate) fn routes(flow: &'static Flow) -> Vec<Route> {
    vec![
        Route::get(
            "/",
            "existing account: where the applicant resumes",
            move |State(state), Extension(session)| start(flow, state, session),
        ),
        Route::post(
            "/email",
            "existing account: start the e-mail check",
            move |State(state), Extension(session), ConnectInfo(client), form| {
                send_code(flow, state, session, client, form)
            },
        ),
        Route::get(
            "/verify",
            "existing account: e-mail code form",
            move |State(state), Extension(session)| verify_page(flow, state, session),
        ),
        Route::post(
            "/verify",
            "existing account: check the e-mail code",
            move |State(state), Extension(session), ConnectInfo(client), form| {
                check_code(flow, state, session, client, form)
            },
        ),
        Route::post(
            "/restart",
            "existing account: drop the check and start over",
            move |State(state), Extension(session), form| restart(flow, state, session, form),
        ),
        Route::get(
            "/confirm",
            "existing account: confirmation page",
            move |State(state), Extension(session)| submit::confirm(flow, state, session),
        ),
        Route::post(
            "/submit",
            "existing account: submit the application",
            move |State(state), Extension(session), ConnectInfo(client), form| {
                submit::submit(flow, state, session, client, form)
            },
        ),
        Route::get(
            "/{step}",
            "existing account: a form step",
            move |State(state), Extension(session), Path(step)| {
                steps::show(flow, state, session, step)
            },
        ),
        Route::post(
            "/{step}",
            "existing account: save a form step",
            move |State(state), Extension(session), Path(step), form| {
                steps::accept(flow, state, session, step, form)
            },
        ),
    ]
}

/// Refuses every page of a product the profile does not offer.
pub(crate) fn ensure_open(state: &PublicState, flow: &Flow) -> Result<(), PublicError> {
    if state.profile.products().offers(flow.product) {
        Ok(())
    } else {
        Err(PublicError::ProductClosed)
    }
}

/// Where the applicant lands: the next unfinished step of their draft, the code page of a
/// running e-mail check, or the e-mail page.
async fn start(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    if let Some(draft) = draft::load(&state, &session, flow.product.as_str()).await? {
        let next = steps::first_unfinished(flow, &draft.body).unwrap_or("confirm");
        return Ok(Redirect::to(&flow.path(next)).into_response());
    }
    let now = time::OffsetDateTime::now_utc();
    if state.store.email_check(&session.id(), now).await?.is_some() {
        return Ok(Redirect::to(&flow.path("verify")).into_response());
    }
    Ok(email_check::email_page(
        &state,
        &session,
        flow,
        FormView::default(),
    ))
}

async fn send_code(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
    client: SocketAddr,
    form: FormData,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    state.limits.check(Action::EmailCheck, client.ip())?;
    email_check::send_code(&state, &session, flow, form).await
}

async fn verify_page(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
) -> Result<Response, PublicError> {
    email_check::verify_page(&state, &session, flow, FormView::default()).await
}

async fn check_code(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
    client: SocketAddr,
    form: FormData,
) -> Result<Response, PublicError> {
    ensure_open(&state, flow)?;
    state.limits.check(Action::CodeTry, client.ip())?;
    email_check::check_code(&state, &session, flow, form).await
}

async fn restart(
    flow: &'static Flow,
    state: PublicState,
    session: BrowserSession,
    form: FormData,
) -> Result<Response, PublicError> {
    email_check::restart(&state, &session, flow, form).await
}
