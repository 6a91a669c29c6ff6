//! Service suspension (SPEC §7, `madoguchi incident suspend`): while the bank has stopped a
//! service, its pages and its API answer 503 with `Retry-After` and the notice — forms that
//! were already open included, so nothing new is taken in — and the rest of the site (the home
//! page, the other service) goes on. Drafts and bookings already stored are untouched: after
//! `resume`, an open form is sent again as it was.
//!
//! The state is in the database; [`watch`] reads it every half second, so every instance
//! stops within a second of the command.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use madoguchi_store::Store;
use tokio::sync::watch;

use crate::state::PublicState;

/// How often the state is read from the database.
pub const POLL: Duration = Duration::from_millis(500);
/// What `Retry-After` says (seconds): the bank decides when to resume.
const RETRY_AFTER: u64 = 3600;

/// The public site's two services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    WebApplication,
    VisitReservation,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::WebApplication => "web-application",
            Service::VisitReservation => "visit-reservation",
        }
    }

    /// The service a path belongs to (`None`: the home page, assets, the health check…).
    pub fn of_path(path: &str) -> Option<Service> {
        const WEB: [&str; 5] = [
            "/apply/",
            "/status",
            "/api/v1/email-checks",
            "/api/v1/applications",
            "/api/v1/status-checks",
        ];
        const VISIT: [&str; 3] = ["/reservations", "/api/v1/loan-centers", "/api/v1/bookings"];
        if WEB.iter().any(|p| path.starts_with(p)) {
            Some(Service::WebApplication)
        } else if VISIT.iter().any(|p| path.starts_with(p)) {
            Some(Service::VisitReservation)
        } else {
            None
        }
    }
}

/// A stopped service's name and its notice.
type Stopped = (String, Option<String>);

/// The stopped services and their notices, as this instance last read them.
#[derive(Debug, Clone, Default)]
pub struct Suspensions {
    stopped: Arc<RwLock<Vec<Stopped>>>,
}

impl Suspensions {
    /// The notice of `service` when it is stopped (`Some(None)`: stopped, no notice text).
    fn of(&self, service: Service) -> Option<Option<String>> {
        let stopped = self.stopped.read().unwrap_or_else(|e| e.into_inner());
        stopped
            .iter()
            .find(|(s, _)| s == service.as_str())
            .map(|(_, notice)| notice.clone())
    }

    fn replace(&self, now: Vec<Stopped>) {
        *self.stopped.write().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

/// Reads the state every [`POLL`] until `stop` turns true. A failed read keeps the last state
/// (and is logged): a database hiccup neither stops nor resumes a service.
pub async fn watch(store: Store, suspensions: Suspensions, mut stop: watch::Receiver<bool>) {
    loop {
        match store.suspended_services().await {
            Ok(rows) => {
                suspensions.replace(rows.into_iter().map(|r| (r.service, r.notice)).collect())
            }
            Err(e) => tracing::error!(error = %e, "cannot read the service suspensions"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// The notice a stopped service's page shows (plain text; rendered escaped).
#[derive(Debug, Clone)]
pub(crate) struct SuspensionNotice(pub String);

/// Answers the requests of a stopped service with 503 (a page, or JSON for the API).
pub async fn refuse_when_suspended(
    State(state): State<PublicState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(service) = Service::of_path(request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(notice) = state.suspensions.of(service) else {
        return next.run(request).await;
    };
    let mut response = if request.uri().path().starts_with("/api/") {
        crate::api::service_suspended(RETRY_AFTER)
    } else {
        let mut response = crate::error::PublicError::Suspended.into_response();
        if let Some(text) = notice {
            response.extensions_mut().insert(SuspensionNotice(text));
        }
        response
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_belongs_to_its_service() {
        use Service::*;
        for (path, service) in [
            ("/apply/savings-account/start", Some(WebApplication)),
            ("/apply/debit-card/confirm", Some(WebApplication)),
            ("/status", Some(WebApplication)),
            ("/api/v1/applications/savings-account", Some(WebApplication)),
            ("/api/v1/email-checks", Some(WebApplication)),
            ("/reservations/naha", Some(VisitReservation)),
            ("/api/v1/bookings", Some(VisitReservation)),
            ("/api/v1/loan-centers/naha/slots", Some(VisitReservation)),
            ("/", None),
            ("/static/style.css", None),
            ("/healthz", None),
            ("/api/v1/openapi.json", None),
        ] {
            assert_eq!(Service::of_path(path), service, "{path}");
        }
    }
}
