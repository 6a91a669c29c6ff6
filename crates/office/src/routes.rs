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

/// The table.
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
        // --- sign-in, second factor, password, sign-out ---
        row(GET, "/sign-in", Anyone, Nobody, false, crate::sign_in::form),
        // --- staff administration ---
        // --- queue and review ---
        // --- hand-off ---
        // --- reservations calendar ---
        // --- audit log ---
    ]
}

/// A row as tests and `madoguchi doctor` see it.
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
