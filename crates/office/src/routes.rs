//! The back office's one authorization table: every route, who may use it, whose data it
//! touches, and whether it asks for a fresh sign-in.
//!
//! The router is built from this table (`crate::router`), so a route without a row cannot
//! exist; `crate::authz::enforce` applies the row before the handler runs. Keep rows grouped
//! by area; `crates/cli/tests/office_authz.rs` holds its own copy of the expected answers and
//! fails when a row is added, removed or changed without it.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use madoguchi_domain::staff::Role::{self, *};

use crate::OfficeState;
use crate::authz::{Access, Policy, Subject};

/// Every role (pages every member of staff sees, such as the start page).
pub(crate) const EVERYONE: &[Role] = &[Operator, Supervisor, Consultant, Auditor, Administrator];
/// Those who review applications of their branches.
pub(crate) const REVIEWERS: &[Role] = &[Operator, Supervisor];
/// Those who decide: approve, reject, hand off.
pub(crate) const DECIDERS: &[Role] = &[Supervisor];
/// Those who see the reservations of their loan centres.
pub(crate) const CONSULTANTS: &[Role] = &[Consultant];
/// Those who manage staff accounts and settings (and see no personal data).
pub(crate) const ADMINISTRATORS: &[Role] = &[Administrator];
/// Those who read the audit log.
pub(crate) const AUDITORS: &[Role] = &[Auditor];

/// One row: a method and path, its policy, and its handler.
pub(crate) struct Route {
    pub method: Method,
    pub path: &'static str,
    pub policy: Policy,
    pub handler: MethodRouter<OfficeState>,
}

/// GET or POST: the only methods the back office serves.
#[derive(Clone, Copy)]
pub(crate) enum Verb {
    Get,
    Post,
}

pub(crate) use Verb::{Get as GET, Post as POST};

fn row<H, T>(
    verb: Verb,
    path: &'static str,
    access: Access,
    subject: Subject,
    reauth: bool,
    handler: H,
) -> Route
where
    H: Handler<T, OfficeState>,
    T: 'static,
{
    let (method, handler) = match verb {
        Verb::Get => (Method::GET, get(handler)),
        Verb::Post => (Method::POST, post(handler)),
    };
    Route {
        method,
        path,
        policy: Policy {
            access,
            subject,
            reauth,
        },
        handler,
    }
}

/// The table, one row a line.
#[rustfmt::skip]
pub(crate) fn table() -> Vec<Route> {
    use Access::{Anyone, Roles, SigningIn};
    use Subject::None as Nobody;
    let _ = (
        REVIEWERS,
        DECIDERS,
        CONSULTANTS,
        ADMINISTRATORS,
        AUDITORS,
        SigningIn,
        Anyone,
        POST,
    );
    vec![
        // --- start page ---
        row(GET, "/", Roles(EVERYONE), Nobody, false, crate::home::page),
        row(GET, "/static/office.css", Anyone, Nobody, false, crate::stylesheet),
        row(GET, "/static/passkey.js", Anyone, Nobody, false, crate::passkeys::script),
        // --- sign-in, second factor, password, sign-out ---
        row(GET, "/sign-in", Anyone, Nobody, false, crate::sign_in::form),
        row(POST, "/sign-in", Anyone, Nobody, false, crate::sign_in::submit),
        row(GET, "/sign-in/second-factor", SigningIn, Nobody, false, crate::sign_in::second_factor_form),
        row(POST, "/sign-in/second-factor", SigningIn, Nobody, false, crate::sign_in::second_factor),
        row(GET, "/totp/enroll", SigningIn, Nobody, false, crate::sign_in::enroll_form),
        row(POST, "/totp/enroll", SigningIn, Nobody, false, crate::sign_in::enroll),
        row(GET, "/password", SigningIn, Nobody, false, crate::sign_in::password_form),
        row(POST, "/password", SigningIn, Nobody, false, crate::sign_in::password),
        row(GET, "/reauth", SigningIn, Nobody, false, crate::sign_in::reauth_form),
        row(POST, "/reauth", SigningIn, Nobody, false, crate::sign_in::reauth),
        row(POST, "/sign-in/passkey", SigningIn, Nobody, false, crate::sign_in::passkey_sign_in),
        row(POST, "/sign-out", SigningIn, Nobody, false, crate::sign_in::sign_out),
        // --- one's own passkeys (a second factor: a recent sign-in is asked) ---
        row(GET, "/passkeys", Roles(EVERYONE), Nobody, true, crate::passkeys::manage::page),
        row(POST, "/passkeys", Roles(EVERYONE), Nobody, true, crate::passkeys::manage::register),
        row(POST, "/passkeys/{passkey}/delete", Roles(EVERYONE), Nobody, true, crate::passkeys::manage::delete),
        // --- staff administration ---
        row(GET, "/staff", Roles(ADMINISTRATORS), Nobody, false, crate::staff_admin::list),
        row(GET, "/staff/new", Roles(ADMINISTRATORS), Nobody, false, crate::staff_admin::new_form),
        row(POST, "/staff", Roles(ADMINISTRATORS), Nobody, true, crate::staff_admin::create),
        row(POST, "/staff/{staff}/disable", Roles(ADMINISTRATORS), Nobody, true, crate::staff_admin::disable),
        row(POST, "/staff/{staff}/reset", Roles(ADMINISTRATORS), Nobody, true, crate::staff_admin::reset),
        // --- queue and review ---
        row(GET, "/applications", Roles(REVIEWERS), Nobody, false, crate::review::queue::page),
        row(POST, "/applications/export", Roles(REVIEWERS), Nobody, true, crate::review::export::export),
        row(GET, "/applications/{application}", Roles(REVIEWERS), Subject::Application, false, crate::review::detail::page),
        row(POST, "/applications/{application}/reveal", Roles(REVIEWERS), Subject::Application, true, crate::review::reveal::reveal),
        row(POST, "/applications/{application}/notes", Roles(REVIEWERS), Subject::Application, false, crate::review::notes::add),
        row(POST, "/applications/{application}/status", Roles(REVIEWERS), Subject::Application, false, crate::review::status::change),
        row(POST, "/applications/{application}/decision", Roles(DECIDERS), Subject::Application, false, crate::review::status::decide),
        row(POST, "/documents/{document}", Roles(REVIEWERS), Subject::Document, true, crate::review::documents::open),
        // --- hand-off ---
        row(GET, "/handoff", Roles(DECIDERS), Nobody, false, crate::handoff::page),
        row(POST, "/handoff", Roles(DECIDERS), Nobody, true, crate::handoff::export_now),
        row(GET, "/handoff/batches/{batch}", Roles(DECIDERS), Nobody, false, crate::handoff::download),
        // --- reservations calendar ---
        row(GET, "/reservations", Roles(CONSULTANTS), Nobody, false, crate::calendar::week::centers),
        row(GET, "/reservations/{center}", Roles(CONSULTANTS), Subject::Center, false, crate::calendar::week::week),
        row(POST, "/reservations/{center}/block", Roles(CONSULTANTS), Subject::Center, false, crate::calendar::block::block),
        row(POST, "/reservations/{center}/free", Roles(CONSULTANTS), Subject::Center, false, crate::calendar::block::free),
        row(GET, "/bookings/{booking}", Roles(CONSULTANTS), Subject::Booking, false, crate::calendar::booking::show),
        row(POST, "/bookings/{booking}/reveal", Roles(CONSULTANTS), Subject::Booking, true, crate::calendar::booking::reveal),
        row(POST, "/bookings/{booking}/outcome", Roles(CONSULTANTS), Subject::Booking, false, crate::calendar::booking::outcome),
        // --- audit log ---
        row(GET, "/audit", Roles(AUDITORS), Nobody, false, crate::audit_log::page),
        row(GET, "/outbox", Roles(ADMINISTRATORS), Nobody, false, crate::outbox::page),
    ]
}

/// A row as tests (and later `madoguchi doctor`) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub policy: Policy,
}

/// Every route of the back office with its policy.
pub fn route_table() -> Vec<RouteInfo> {
    table()
        .into_iter()
        .map(|r| RouteInfo {
            method: r.method,
            path: r.path,
            policy: r.policy,
        })
        .collect()
}
