//! The signed-in member of staff, as the authorization layer hands it to handlers.
//!
//! `crate::authz::enforce` loads the session for every request (through [`load`]), checks
//! the route's row of the table, and inserts the [`StaffSession`] into the request; a handler
//! takes it with the [`Actor`] extractor and never checks a role itself.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use madoguchi_domain::staff::{Role, Scope};
use time::OffsetDateTime;
use uuid::Uuid;

/// How far a session has come through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; the second factor is still to come.
    SecondFactor,
    /// Signed in with a one-time password (first sign-in, or reset): it must be changed.
    ChangePassword,
    /// No TOTP enrolled yet: enrolment comes before anything else.
    EnrollTotp,
    /// Fully signed in.
    Active,
}

/// A member of staff's session, as loaded for one request.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub staff_id: Uuid,
    pub username: String,
    pub role: Role,
    pub scope: Scope,
    pub stage: Stage,
    /// A short, non-secret id for the audit log (never the cookie value).
    pub audit_id: String,
    /// When the member of staff last typed their password and second factor.
    pub authenticated_at: OffsetDateTime,
    /// The CSRF token that this session's forms must carry.
    pub csrf_token: String,
}

/// Loads the session that the request's cookie names, extending its idle expiry; `None`
/// when there is none, or it expired, or it was signed out.
pub(crate) async fn load(
    state: &crate::OfficeState,
    parts: &Parts,
) -> Result<Option<StaffSession>, crate::error::OfficeError> {
    crate::sign_in::load_session(state, parts).await
}

/// The signed-in member of staff (present on every route whose table row requires one).
pub struct Actor(pub StaffSession);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Absent only if a route requiring a session lacks its table row: fail closed.
        parts
            .extensions
            .get::<StaffSession>()
            .cloned()
            .map(Actor)
            .ok_or(StatusCode::FORBIDDEN)
    }
}
