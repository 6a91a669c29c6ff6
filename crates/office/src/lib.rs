//! The back office (SPEC §5): served on its own listener, loopback by default, never by the
//! public one.
//!
//! Its job: let bank staff sign in with a second factor, review applications with masked
//! fields and audited reveals, approve them under four eyes, hand them off to core banking,
//! work the loan centres' reservation calendars, and manage staff — each request allowed or
//! refused by one table ([`routes`]) and one middleware ([`authz`]).
//!
//! Invariants:
//! - it shares no handler and no route with the public site (`madoguchi-public`);
//! - deny by default: the router is built from the table, and a route without a row cannot
//!   exist; no handler compares roles or scopes;
//! - it answers only clients from loopback addresses and the configured allowlist;
//! - every value a customer typed is rendered by askama's HTML escaping (never `|safe`), and
//!   every CSV cell passes `csv::cell` (formula injection);
//! - personal data is decrypted only through [`audit::record`] first: no event, no data.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! **One table, one middleware.** `routes.rs` lists every route as a row: method, path, who may use
//! it (`Access::Anyone`: the sign-in form and the stylesheet; `SigningIn`: a session at any stage of
//! sign-in; `Roles(&[…])`: a fully signed-in member of staff of those roles), whose data it touches
//! (`Subject`: the `{application}`, `{document}`, `{booking}` or `{center}` of the path, or none) and
//! whether it asks for a fresh sign-in. The router is built from the table, and `authz::enforce` (a
//! `route_layer`) applies the row before any handler runs: no row, 404; a state-changing request
//! from another site (`Sec-Fetch-Site`, else `Origin` against `Host`), 403; no session, the sign-in
//! page; a session still signing in, its stage's page; a role not in the row, 403; a subject outside
//! the scope, 404 (it does not say the record exists); a reauth row more than 5 minutes after the
//! last password and code (`REAUTH_WINDOW`), `/reauth` and back; and every POST of a session must
//! carry the form field `csrf`, the session's token (HMAC of the session id under the CSRF key,
//! compared in constant time), or it is 403. Handlers take the member of staff from the `Actor`
//! extractor, which fails closed.
//!
//! Roles and scopes (`madoguchi_domain::staff`): *operator* (受付担当) reviews the applications of
//! its branches; *supervisor* (承認者) reviews too, decides and hands off; *consultant* (相談員) works
//! its loan centres' reservations; *auditor* (監査担当) reads the audit log; *administrator*
//! (システム管理者) manages staff accounts. Operators and supervisors take `branches:…` or `bank`,
//! consultants `centers:…` or `bank`, auditors and administrators `bank` only. Routes with no subject
//! are lists (the queue, the hand-off page, the centres), which narrow themselves by the scope in
//! their query. Rows that ask for a fresh sign-in: adding, disabling and resetting staff, showing an
//! application's fields, opening an identity document, the CSV export, writing a hand-off batch and
//! showing a booking's fields.
//!
//! Sign-in (`sign_in/`): username and password → the second factor (enrolled first, at the first
//! sign-in) → after a one-time password, a password of one's own → signed in; the session's stage
//! (`SecondFactor`, `EnrollTotp`, `ChangePassword`, `Active`) is stored with it, and each stage has
//! one page. Passwords are Argon2id PHC strings, m = 19,456 KiB, t = 2, p = 1 (OWASP's baseline),
//! hashed on blocking threads; a hash made with other parameters is replaced at its holder's next
//! successful sign-in, and an unknown or disabled username is checked against a dummy hash, so the
//! timing tells nothing. The second factor is TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one
//! step of skew): whoever has none enrols at the first sign-in (a QR code drawn as inline SVG, or the
//! key in base32) and confirms with a first code; the seed is encrypted like a personal field (field
//! `totp_secret` of the record *staff id*, its data key wrapped to the back-office key), and a code's
//! time step must be later than the last one used, so a code works once. Five failures in a row
//! (passwords, codes, re-authentications, the current password when changing it; not a mistyped first
//! code at enrolment) lock the account for 15 minutes and end its sessions; meanwhile even the right
//! password is refused. Each of them is audited, never with what was typed. The session cookie
//! (`mdg_staff`, `__Host-mdg_staff` when Secure; HttpOnly, SameSite=Strict) holds 256 random bits,
//! the database their SHA-256; a new token is issued when the password is accepted and again when the
//! session becomes active. A session ends after 15 idle minutes or 8 hours (`sign_in/token.rs`), at
//! sign-out (on the server), and when its account is locked, disabled or reset.
//!
//! Passkeys (`passkeys/`, `sign_in/passkey.rs`): WebAuthn through `webauthn-rs` (MPL-2.0,
//! unmodified), the alternative second factor; TOTP stays required (enrolled at the first sign-in,
//! asked when signing in again). The relying party is the back office's own origin (`--office-url`;
//! on loopback `http://localhost:PORT`; none off loopback without it, and then passkeys are off):
//! an IP address cannot be one, and `serve` refuses an `--office-url` that cannot. Under 「パスキーの
//! 管理」 (`/passkeys`, a recent sign-in asked) a member of staff registers and removes their own;
//! the second-factor page then offers 「パスキーでサインイン」. Each page starts a ceremony whose
//! state (the challenge) is kept in the session's row and *taken* — read and cleared in one
//! transaction — by the answer, so a challenge is answered once. `static/passkey.js` (the office's
//! only script: its CSP is the shared one plus `script-src 'self'`, no inline script) runs the
//! browser's ceremony from the options in the form's `data-options` and posts the answer as a form
//! field; the server checks everything. A wrong answer is a failed second factor (audited, counted
//! towards the lock-out); the stored passkey (public key and signature counter, plain: public
//! material) gets its new counter at each use. A reset removes every passkey with the TOTP seed.
//!
//! Staff administration (`staff_admin/`): `accounts.rs` is the one implementation behind the
//! administrator's pages and `madoguchi staff`: add (a one-time password of 16 characters from 31
//! that cannot be confused, shown once, stored only hashed, to be changed at the first sign-in),
//! disable, reset (a new one-time password, the TOTP enrolment and passkeys cleared, the lock
//! lifted, every session ended) and list. Administrators cannot disable or reset themselves. Every change is
//! audited (`staff.add`, …; field names only).
//!
//! Review (`review/`): the queue (newest first, 50 a page, filtered by product, status, branch and
//! age; operational columns only). An application's page shows every personal field as `＊＊＊＊`
//! (`mask::PLACEHOLDER`), drawn from the field names stored in clear beside the ciphertexts: nothing
//! is decrypted to draw it. The partial masks of `mask.rs` are computed from the plaintext, so
//! showing one would be a read; no page uses them yet. To show values, the member of staff ticks the
//! fields (staff notes count as one) and picks a purpose from a fixed list (本人確認, 申込内容の審査,
//! お客様からの問い合わせ対応, 不備の確認); the event `application.reveal` naming exactly those fields
//! and the purpose is written, then only those fields are decrypted, for that one answer. An identity
//! document is opened the same way (`document.open`) and sent with `nosniff`,
//! `Content-Security-Policy: sandbox` and `no-store`: images inline, PDFs only as downloads. Notes
//! are personal data: each is encrypted under its own data key. Status moves (`status.rs`): reviewers
//! start or resume a review, ask for more information (an e-mail naming only the product and the
//! bank's contact, in the move's transaction; reading the address is audited), withdraw, expire, and
//! mark an application reviewed; supervisors approve or reject (`/decision`) only what someone else
//! marked reviewed (four eyes, checked again by the store), and coming back from
//! more-information-needed clears the mark.
//!
//! CSV export (`review/export.rs`, `csv.rs`): the queue's filters, the chosen fields and a purpose,
//! at most 1,000 applications; one `application.export` event per application, all written before
//! anything is decrypted. Every cell passes `csv::cell`, which puts `'` before a value starting with
//! `=`, `+`, `-`, `@`, a tab or a carriage return (a spreadsheet would run it as a formula); the
//! `csv` crate quotes; UTF-8 with a byte-order mark, for Excel.
//!
//! Hand-off (`handoff.rs`, shared by `POST /handoff` — the supervisor's scope — and `madoguchi
//! handoff export|import` — every branch): each approved application is audited
//! (`application.handoff`, every field name, purpose `handoff`), then decrypted into the batch, its
//! sealed secrets copied unopened; the batch is sealed and its manifest signed (`madoguchi-handoff`),
//! both written as hidden temporary files (mode 0600, synced) in `<data-dir>/handoff/`; the
//! applications move to handed-off with the batch's row in one transaction (none if one of them is
//! no longer approved), and only then are the files renamed into place, the manifest last. No
//! plaintext is written to disk. Core banking's answer, imported: `opened` completes the application
//! (its record re-encrypted under a fresh data key with `account_number` and `account_branch_code`
//! added; the sealed secrets and the identity documents' keys and rows deleted in the same
//! transaction, then the files); `refused` rejects it (secrets deleted, the rest left to retention).
//! Importing an answer again changes nothing.
//!
//! Reservations calendar (`calendar/`, consultants): the loan centres in scope; a centre's week,
//! Monday to Sunday in Japan time, with each slot's capacity, places taken, whether it is blocked,
//! and its bookings with 氏名, 電話番号 and メールアドレス masked. A booking's fields are shown for a
//! purpose (来店対応, 予約内容の確認, お客様への連絡), audited (`booking.reveal`) first; after
//! retention deleted them the answer is 410. A visit's outcome (visited, no-show) is recorded only
//! for a booking still booked whose time has come; only a slot of the centre's hours that has not
//! started can be blocked or freed. Each change is audited before it is made (and again, `failed`,
//! when it did not happen). A blocked slot takes no new booking and keeps those it has.
//!
//! The audit function (`audit.rs`): `audit::record` writes one event — when, who (`staff:<id>`, or
//! `anonymous` before sign-in), from where (address; the session's short audit id, never its
//! token), action, subject, the exact field names, purpose, detail (counts or codes, never content),
//! outcome; commands write the same row as `cli:staff`, `cli:handoff-export`, `system:purge`, …
//! (the calendar's events do not carry the address yet). The row joins the hash chain as the store
//! appends it (`madoguchi-audit`; see `madoguchi-store`). Review's decrypting functions
//! (`open_fields`, `open_notes`, the document's) take a `Recorded` that only `review::record`
//! returns, after the event is written; when it cannot be written, the request fails and nothing is
//! shown. Auditors read the log at `/audit`, 100 events a page: names and purposes, never values.
//!
//! Detection (`detection/`): as `audit::record` (or `record_all`, an export's rows as one) writes a
//! member of staff's events, it screens them against the profile's `[detection]` limits, counted
//! from the audit log itself **under the log's append lock, in the transaction that appends**
//! (`Store::append_audit_screened`): distinct customers read in the last hour (a document counts as
//! its application), reveals outside business hours (JST, bank business days), CSV rows exported in
//! 24 hours (the whole export's rows at once), and the subject against the canary records
//! (`canaries` table; an application's or booking's page trips it too). So parallel requests of one
//! member of staff on any number of instances are counted one after another. A breach writes the
//! events as `denied`, holds the member of staff (`staff.held_at`: every session ended, sign-in
//! refused until `staff reset`), and the request that placed the hold raises the alert: a
//! `detection.alert` event by `system:detection` (rule, severity, count, limit), an e-mail to
//! `[detection] security_contact` through the outbox (who, what, and the `incident scope` commands;
//! no customer data), the counter `madoguchi_detection_alerts_total{rule,severity}` and a log line.
//! Commands that read in bulk on the server (`handoff export`, `incident scope --format csv`)
//! count the same way under their `cli:` actor unless the profile lists them in `[detection]
//! exempt_commands`; an exempt read is marked `exempt=profile` in its event
//! (`detection/command.rs`).
//!
//! Sign-in (`sign_in/attempt.rs`): every password or code is **claimed before it is checked** — per
//! client address in `limit_counters` (the store's shared limits: one atomic upsert per claim), per
//! account in `staff` (failures in a row plus attempts in flight may not exceed five). The fifth
//! failure locks the account, 15 minutes doubled for each lock-out in a row (at most a day); a right
//! answer that comes back after a lock is refused. At most four Argon2 computations run at once per
//! process; the rest wait, then get 503 with Retry-After.
//!
//! **Key rotation jobs.** `key_rotation.rs` moves data keys wrapped to an earlier back-office key
//! to the current one (only the 32-byte keys; compare-and-set per row); `reindex.rs` recomputes
//! e-mail blind indexes an earlier blind-index key computed (opening each such record's `email`
//! field and nothing else; the row, its live status checks and its booking holder move together,
//! compare-and-set). The server runs both in the background (`run_rewrap` every minute;
//! `run_reindex` every minute while `blind-index.previous.key` exists, from 20 s after the rotation:
//! a process still on the old key alone would miss rows re-indexed before it moved); `keys rewrap` and
//! `keys reindex` run them now; a pass that moved anything is audited with counts only.

pub mod audit;
mod audit_log;
pub mod authz;
mod calendar;
pub mod csv;
pub mod detection;
mod error;
pub mod handoff;
mod home;
pub mod key_rotation;
mod mail;
mod outbox;
pub mod passkeys;
pub mod reindex;
mod review;
pub mod routes;
pub mod session;
pub mod sign_in;
pub mod staff_admin;
mod state;
mod view;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use madoguchi_http::{MAX_FORM_BODY_BYTES, body_limit, security_headers};

pub use error::OfficeError;
pub use routes::{RouteInfo, route_table};
pub use state::{OfficeDeps, OfficeState};

/// The back office's router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that the client address is known.
/// The routes that answer without a session (method, path), for `madoguchi doctor` to hold
/// against its allowlist.
pub fn unauthenticated_routes() -> Vec<(axum::http::Method, &'static str)> {
    routes::table()
        .into_iter()
        .filter(|r| matches!(r.policy.access, authz::Access::Anyone))
        .map(|r| (r.method, r.path))
        .collect()
}

pub fn router(state: OfficeState) -> Router {
    let table = routes::table();
    let policies: authz::Policies = Arc::new(
        table
            .iter()
            .map(|r| ((r.method.clone(), r.path.to_owned()), r.policy))
            .collect(),
    );
    let allowed: Arc<[IpAddr]> = state.inner.allowed_clients.clone().into();
    let mut router = Router::new();
    for route in table {
        router = router.route(route.path, route.handler);
    }
    router
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), policies),
            authz::enforce,
        ))
        .fallback(|| async { error::status_page(StatusCode::NOT_FOUND) })
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            allowed,
            allowed_clients_only,
        ))
        .layer(middleware::from_fn(scripts_from_here))
        .layer(middleware::from_fn(security_headers))
        .layer(body_limit(MAX_FORM_BODY_BYTES))
}

/// A personal field's name as staff read it (e.g. `family_name` → 「氏名（姓）」).
pub fn field_label(name: &str) -> &str {
    review::field_label(name)
}

/// The stylesheet of every page.
pub(crate) async fn stylesheet() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        include_str!("../static/office.css"),
    )
        .into_response()
}

/// The shared policy, plus this site's own script files (the passkey ceremony needs the
/// browser's WebAuthn API): still no inline script, nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn scripts_from_here(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    // A handler's own policy stands (an identity document is served with `sandbox`).
    response
        .headers_mut()
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

/// Refuses every client that is neither on this machine nor on the allowlist.
async fn allowed_clients_only(
    State(allowed): State<Arc<[IpAddr]>>,
    request: Request,
    next: Next,
) -> Response {
    // The connection's peer: behind a declared proxy, the proxy (which keeps its own list of
    // staff networks); otherwise the client.
    let peer = request
        .extensions()
        .get::<madoguchi_http::ConnectionPeer>()
        .map(|p| p.0.ip())
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
    match peer {
        Some(ip) if ip.is_loopback() || allowed.contains(&ip) => next.run(request).await,
        _ => {
            tracing::warn!(peer = ?peer, "back office refused a client not on its allowlist");
            (StatusCode::FORBIDDEN, "forbidden").into_response()
        }
    }
}
