//! Authorization: deny by default, one table, one middleware.
//!
//! Every back-office route is a row of [`crate::routes::table`]: method, path, who may use
//! it ([`Access`]), whose data it touches ([`Subject`], checked against the member of staff's
//! scope) and whether it asks for a fresh sign-in ([`Policy::reauth`]). The router is built
//! from that table, so a route cannot exist without its row, and [`enforce`] — the only
//! place where roles and scopes are compared — runs before every handler. Handlers receive
//! the member of staff through [`crate::session::Actor`] and check nothing themselves.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts as _, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::staff::Role;
use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::OfficeError;
use crate::session::{StaffSession, Stage};
use crate::{OfficeState, session};

/// How recent the last password + second factor must be for a route that asks again.
pub const REAUTH_WINDOW: Duration = Duration::minutes(5);

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Without a session: the sign-in form only.
    Anyone,
    /// A session at any stage of sign-in (second factor, password change, enrolment,
    /// sign-out).
    SigningIn,
    /// A fully signed-in session of one of these roles.
    Roles(&'static [Role]),
}

/// Whose data a route touches: the path parameter that names it, checked against the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Nothing of one customer (lists filter by scope in their query).
    None,
    /// `{application}`: an application id; in scope when its branch is.
    Application,
    /// `{booking}`: a booking id; in scope when its loan centre is.
    Booking,
    /// `{document}`: an identity document's id; in scope when its application is.
    Document,
    /// `{center}`: a loan centre id.
    Center,
}

/// The row of the table for one (method, path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub access: Access,
    pub subject: Subject,
    /// Asks for the password and second factor again when the last sign-in is older than
    /// [`REAUTH_WINDOW`] (reveals, documents, hand-off).
    pub reauth: bool,
}

/// The policies by (method, path pattern), built once from the route table.
pub(crate) type Policies = Arc<HashMap<(Method, String), Policy>>;

/// The authorization middleware (a `route_layer`, so the matched path is known).
pub(crate) async fn enforce(
    State((state, policies)): State<(OfficeState, Policies)>,
    request: Request,
    next: Next,
) -> Response {
    match decide(&state, &policies, request).await {
        Ok(Decision::Allow(request)) => next.run(*request).await,
        Ok(Decision::Deny(response)) => response,
        Err(error) => error.into_response(),
    }
}

enum Decision {
    Allow(Box<Request>),
    Deny(Response),
}

async fn decide(
    state: &OfficeState,
    policies: &Policies,
    request: Request,
) -> Result<Decision, OfficeError> {
    let Some(policy) = policy_of(policies, &request) else {
        return Ok(deny(StatusCode::NOT_FOUND));
    };
    if is_cross_site(request.method(), request.headers()) {
        return Ok(deny(StatusCode::FORBIDDEN));
    }
    if policy.access == Access::Anyone {
        return Ok(Decision::Allow(Box::new(request)));
    }
    let (mut parts, body) = request.into_parts();
    let Some(staff) = session::load(state, &parts).await? else {
        return Ok(Decision::Deny(to_sign_in(&parts.method)));
    };
    if let Access::Roles(roles) = policy.access {
        if staff.stage != Stage::Active {
            return Ok(Decision::Deny(
                Redirect::to(stage_page(staff.stage)).into_response(),
            ));
        }
        if !roles.contains(&staff.role) {
            return Ok(deny(StatusCode::FORBIDDEN));
        }
        let params = RawPathParams::from_request_parts(&mut parts, &())
            .await
            .map_err(|_| OfficeError::BadPath)?;
        if !in_scope(state, policy.subject, &staff, &params).await? {
            return Ok(deny(StatusCode::NOT_FOUND));
        }
        if policy.reauth && !recently_authenticated(&staff) {
            let back = back_to(&parts.method, parts.uri.path(), &parts.headers);
            let target = format!("/reauth?next={}", urlencode(&back));
            return Ok(Decision::Deny(Redirect::to(&target).into_response()));
        }
    }
    let body = if parts.method == Method::GET || parts.method == Method::HEAD {
        body
    } else {
        match checked_form_body(body, &staff).await {
            Some(body) => body,
            None => return Ok(deny(StatusCode::FORBIDDEN)),
        }
    };
    parts.extensions.insert(staff);
    Ok(Decision::Allow(Box::new(Request::from_parts(parts, body))))
}

fn policy_of(policies: &Policies, request: &Request) -> Option<Policy> {
    let path = request.extensions().get::<MatchedPath>()?.as_str();
    let method = if request.method() == Method::HEAD {
        Method::GET
    } else {
        request.method().clone()
    };
    policies.get(&(method, path.to_owned())).copied()
}

fn deny(status: StatusCode) -> Decision {
    Decision::Deny(crate::error::status_page(status))
}

fn to_sign_in(method: &Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
        Redirect::to("/sign-in").into_response()
    } else {
        crate::error::status_page(StatusCode::UNAUTHORIZED)
    }
}

/// The page where a session at `stage` continues its sign-in.
pub(crate) fn stage_page(stage: Stage) -> &'static str {
    match stage {
        Stage::SecondFactor => "/sign-in/second-factor",
        Stage::ChangePassword => "/password",
        Stage::EnrollTotp => "/totp/enroll",
        Stage::Active => "/",
    }
}

/// A state-changing request sent from another site (the session cookie is SameSite=Strict
/// already; this also stops a sign-in forged from elsewhere).
fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            origin_host != host
        }
        (Some(_), None) => true,
        (None, _) => false,
    }
}

async fn in_scope(
    state: &OfficeState,
    subject: Subject,
    staff: &StaffSession,
    params: &RawPathParams,
) -> Result<bool, OfficeError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    };
    let id = |name: &str| param(name).and_then(|v| Uuid::parse_str(&v).ok());
    let store = state.store();
    Ok(match subject {
        Subject::None => true,
        Subject::Center => param("center").is_some_and(|c| staff.scope.covers_center(&c)),
        Subject::Application => match id("application") {
            Some(id) => branch_in_scope(store.application_branch(id).await?, staff),
            None => false,
        },
        Subject::Document => match id("document") {
            Some(id) => match store.document_application(id).await? {
                Some(app) => branch_in_scope(store.application_branch(app).await?, staff),
                None => false,
            },
            None => false,
        },
        Subject::Booking => match id("booking") {
            Some(id) => store
                .booking_center(id)
                .await?
                .is_some_and(|c| staff.scope.covers_center(&c)),
            None => false,
        },
    })
}

fn branch_in_scope(branch: Option<String>, staff: &StaffSession) -> bool {
    branch.is_some_and(|b| staff.scope.covers_branch(&b))
}

fn recently_authenticated(staff: &StaffSession) -> bool {
    OffsetDateTime::now_utc() - staff.authenticated_at <= REAUTH_WINDOW
}

/// Where to come back after re-authenticating: the page itself for a GET, else the page the
/// form was on (same origin only), else the queue.
fn back_to(method: &Method, path: &str, headers: &HeaderMap) -> String {
    if method == Method::GET {
        return path.to_owned();
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned())
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Reads a form body and checks its `csrf` field against the session's token; gives the
/// body back for the handler, or `None` when the token is missing or wrong.
async fn checked_form_body(body: Body, staff: &StaffSession) -> Option<Body> {
    let bytes = axum::body::to_bytes(body, madoguchi_http::MAX_FORM_BODY_BYTES)
        .await
        .ok()?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == "csrf")
        .map(|(_, value)| value.into_owned())?;
    let matches: bool = token.as_bytes().ct_eq(staff.csrf_token.as_bytes()).into();
    matches.then(|| Body::from(bytes))
}
