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
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! Identity documents (`savings/identity.rs`, `uploads.rs`): the step 本人確認書類 between profile
//! and branch is the site's only `multipart/form-data` route, with its own body limit (40 MB: the
//! site's stays 64 KiB). The CSRF token is the form's first field and is checked before any file is
//! read; each file is read up to 10 MB (the rest is dropped, so its refusal can still name it),
//! then cleaned, encrypted and stored at once, and its row (`documents`: kind, type, size — nothing
//! personal) and data key written in one transaction that also replaces the draft's earlier file of
//! that kind; the draft keeps only `{id, type, size}`. Decodes share a 768 MiB budget (each waits
//! for its estimate from the header's dimensions), so concurrent uploads cannot exhaust memory. A
//! refused file is named, with the reason, next to its input. Submission links the draft's
//! documents to the application in its transaction; starting over deletes them (rows and keys in the
//! draft's transaction, then files). While `identity_image_method_offered(today)` is false (the
//! image method ends on 2027-04-01 by law) the step is skipped and the branch page says why.
//!
//! Internet banking and the Visa debit card (`existing_account/`, under `/apply/internet-banking`
//! and `/apply/debit-card`): one set of handlers, each route told its `Flow`. E-mail check →
//! お客さま情報 → 口座情報 → a last step whose secrets are sealed on arrival (the cash-card PIN
//! in use and the logon password; or the embossed name and the debit-card PIN, the embossed name
//! kept in the draft and offered in passport Hepburn from the reading) → confirmation →
//! submission with one `SealedSecretRow` per secret. Changing the customer or account step drops
//! the sealed secrets (they were checked against that data) and asks for them again. A field may
//! have its own message for a code (`"field.code"` in the catalogue): a weak cash-card PIN *in use*
//! is told to be changed at an ATM first.
//!
//! Visit reservations (`reservation/`): centres → a week of free and full slots → the booking form
//! → a booking stored with its personal fields encrypted to the back office, the confirmation and
//! the reminder sealed to the mail key. The e-mail's link carries a 256-bit token; the database
//! keeps its SHA-256 and, encrypted under a key derived from it, the name and address later e-mails
//! need. `GET /reservations/manage/{token}` moves the token into a 30-minute cookie and redirects,
//! so it leaves the address bar at once; change and cancel read the cookie. `reservation/service.rs`
//! is shared by the pages and by the JSON API (`api/`), which validates JSON through the same
//! parsers and answers errors as `{code, message, fields[{field, code, message}]}`.
//!
//! Suspension (`suspension.rs`): `madoguchi incident suspend` writes the stopped services to
//! `service_suspensions`; every instance reads that table every half second (`suspension::watch`,
//! started by `serve`) and `refuse_when_suspended`, a layer inside the error pages, answers every
//! path of a stopped service (`Service::of_path`: `/apply/…`, `/status`, the application and
//! status-check API for `web-application`; `/reservations`, the loan-centre and booking API for
//! `visit-reservation`) with 503, `Retry-After` and the bank's notice (plain text, escaped), or
//! `service-suspended` as JSON, before any handler runs: nothing is taken in, nothing stored is
//! touched, and a form left open is sent again after `resume`. A failed read keeps the last state.
//!
//! Status check (`status/`, under `/status`): the receipt number and the e-mail address → the same
//! answer whether or not they match an application (`Store::application_status` looks up both
//! together, the address by its blind index), and a code e-mail only on a match → the code → one
//! page with the product, the status in the applicant's words and the date of the last change,
//! never a personal value. The check is an `email_checks` row (product `status`) under the session
//! id followed by `/status`, so it neither replaces nor answers the session's application check;
//! it holds the receipt number encrypted with the session's key, and after a miss a random MAC that
//! no code verifies. The right code ends the check and the status is read then and shown once; the
//! same tries, expiry and per-client limits as an application's e-mail check apply.
//!
//! The JSON API's applications (`api/applications.rs`, `api/status.rs`): an app has no browser
//! session, so the API hands it the session's secret instead, twice. `POST /api/v1/email-checks`
//! {email, product} creates a fresh `DraftSecret` and stores the check under its lookup id, exactly
//! as the browser's (`email_check::store_check`); the secret is returned as `check_id` (202, the
//! same answer for any address). `POST /api/v1/email-checks/{check_id}/confirm` {code} spends a try
//! and compares as the form does (`email_check::verify_code`); the right code ends the check and
//! starts a draft under the lookup id of a *second* fresh secret in one transaction
//! (`Store::start_draft_from_check`, `store/src/api_check.rs`) and returns that secret as the
//! `verification_token` (a code yields one token; the server keeps only SHA-256 lookup ids).
//! `POST /api/v1/applications/{savings-account|internet-banking|debit-card}` with
//! `Authorization: Bearer <token>` and every field of the product's form steps runs each step's
//! own `validate` (the same field names, codes and catalogue messages; the secret step only once
//! the steps it is judged against are valid; secrets sealed the moment they parse, the body wiped
//! by `JsonFields`/`FormData`), builds the record with the flow's own `build_record` and consumes
//! the draft in `submit_application`: the token submits once (401 `token-invalid` after). Savings
//! applications through the API carry no identity documents (uploads are the HTML flow's): they
//! take the course the site takes when the image method is not offered, and the bank verifies the
//! applicant's identity another way before opening the account. `POST /api/v1/status-checks` and
//! `…/{check_id}/confirm` are the status check's two steps (`status::start_check`,
//! `status::confirm_check`). Limits per client address: `EmailCheck` on both starts, `CodeTry` on
//! both confirms, `Submission` on the submissions, answered 429 with Retry-After. The OpenAPI
//! document adds the refusals every JSON body can meet (400, 413, 415, 422, 429 with its
//! Retry-After header) to each POST operation (`CommonErrors`), and the bearer scheme
//! `verification_token`; `scripts/api-fuzz` runs schemathesis (pinned, in a venv under
//! `target/test-tools/`) against it with `--checks all` from `scripts/test`. Every answer's `message` (and each
//! field's) comes from the catalogues, in the language of `Accept-Language` (English for `en`/`en-*`,
//! else Japanese; see the `messages` section above), as the OpenAPI `info.description` says.
//!
//! Routes (`routes.rs`): like the back office, the public site has one route table — method, path
//! pattern, what it is, and its part of the site (`Area::Page`: browser session and CSRF token;
//! `Asset`: no cookie; `Api`: JSON, no cookie) — and `router()` is built by iterating it: each
//! module gives its rows (`savings::routes()`, `existing_account::routes(flow)`, …) and the table
//! mounts them under their prefix, so what is served and what `route_table()` lists cannot drift.
//! `madoguchi doctor` (MDG-WEB-02) holds it against an explicit allowlist of public routes, and the
//! security scan requests every row.

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
