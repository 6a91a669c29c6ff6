//! The public site (SPEC §4): what applicants reach from the internet.
//!
//! Invariants:
//! - this crate cannot read back what it stores. It depends on `madoguchi-seal` (seal and
//!   encrypt only) and never on `madoguchi-keyring`, so no key that opens a PIN, a personal
//!   field or an outbox message is reachable from here — the compiler enforces it;
//! - no handler selects a stored application's personal fields; a draft is readable only with
//!   the key in the applicant's own cookie;
//! - it shares no handler and no route with the back office (`madoguchi-office`);
//! - every form is checked for its CSRF token before anything else; every page carries the
//!   strict security headers of `madoguchi-http`.

mod api;
mod apply;
mod clock;
mod draft;
mod error;
mod existing_account;
mod form;
mod language;
mod limits;
mod mail;
mod messages;
mod reservation;
pub mod routes;
mod savings;
mod session;
mod state;
mod status;
pub mod suspension;
mod uploads;
mod view;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use madoguchi_http::{MAX_FORM_BODY_BYTES, security_headers};

pub use api::openapi_json;
pub use error::PublicError;
pub use limits::RateLimitSettings;
pub use messages::{Catalog, Lang};
pub use routes::{API_PREFIX, Area, RouteInfo, route_table};
pub use state::{Layout, PublicState};

const STYLESHEET: &str = include_str!("../static/style.css");

/// The public site's router, built from the route table ([`route_table`]).
pub fn router(state: PublicState) -> Router {
    let (mut pages, mut assets, mut api) = (Router::new(), Router::new(), Router::new());
    for route in routes::table() {
        let path = route.info.path.as_str();
        match route.info.area {
            Area::Page => pages = pages.route(path, route.handler),
            Area::Asset => assets = assets.route(path, route.handler),
            Area::Api => {
                let path = match path.strip_prefix(API_PREFIX) {
                    Some("") | None => "/",
                    Some(path) => path,
                };
                api = api.route(path, route.handler);
            }
        }
    }
    pages
        // Pages get a browser session; the static assets and health check do not.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::ensure_session,
        ))
        .merge(assets)
        .nest(API_PREFIX, api.fallback(api::not_found))
        .fallback(error::not_found)
        // A stopped service answers 503 before any of its handlers runs (forms already open
        // included); its page is rendered like the other errors, in the applicant's language.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            suspension::refuse_when_suspended,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        // Outside the error pages, so that they too are in the applicant's language.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            language::remember,
        ))
        .layer(middleware::from_fn(security_headers))
        // Enforced by the body extractors (forms, JSON), so that a refused body is answered
        // like every other error: a page for forms, `{code, message}` for the API.
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY_BYTES))
        .with_state(state)
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    layout: Arc<Layout>,
    savings_open: bool,
    internet_banking_open: bool,
    debit_card_open: bool,
    reservations_open: bool,
}

async fn index(State(state): State<PublicState>) -> impl IntoResponse {
    IndexPage {
        layout: state.layout(),
        savings_open: state.profile.products().savings_account(),
        internet_banking_open: state.profile.products().internet_banking(),
        debit_card_open: state.profile.products().debit_card(),
        reservations_open: !state.profile.loan_centers().is_empty(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}
