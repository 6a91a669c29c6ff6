//! The public site's one route table: every method and path it serves, what each is, and which
//! part of the site it belongs to.
//!
//! The router is built by iterating this table (`crate::router`), so a route without a row
//! cannot exist and the table cannot drift from what is served. `madoguchi doctor` holds the
//! table against its allowlist of public routes (MDG-WEB-02), and the security scan
//! (`crates/cli/tests/security_scan.rs`) requests every row.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use crate::apply::Flow;
use crate::state::PublicState;

/// Where the JSON API is mounted.
pub const API_PREFIX: &str = "/api/v1";

/// The part of the site a route belongs to; it decides the middleware around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// An HTML page or form: gets the applicant's browser session (`mdg_session` cookie);
    /// every POST checks the form's CSRF token first.
    Page,
    /// The stylesheet and the health check: no session, no cookie.
    Asset,
    /// The JSON API under [`API_PREFIX`]: no cookie at all; a body must be
    /// `application/json`, which a cross-site form cannot send.
    Api,
}

/// A row as tests and `madoguchi doctor` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// The path pattern as the router has it (`{name}` for a parameter).
    pub path: String,
    /// What it is, in a few words.
    pub what: &'static str,
    pub area: Area,
}

impl RouteInfo {
    /// POST: may change what is stored (a form with its CSRF token, or an API call).
    pub fn changes_state(&self) -> bool {
        self.method != Method::GET
    }

    /// Whether the route is served with the applicant's browser session cookie (a draft, a
    /// running e-mail check, a booking being changed are read only through it).
    pub fn uses_session(&self) -> bool {
        self.area == Area::Page
    }
}

/// One row: its description and its handler.
pub(crate) struct Route {
    pub info: RouteInfo,
    pub handler: MethodRouter<PublicState>,
}

impl Route {
    /// A GET page (under a module's prefix until [`nest`] gives the full path).
    pub fn get<H, T>(path: &str, what: &'static str, handler: H) -> Route
    where
        H: Handler<T, PublicState>,
        T: 'static,
    {
        Route::with(Method::GET, path, what, routing::get(handler))
    }

    /// A POST form or API call.
    pub fn post<H, T>(path: &str, what: &'static str, handler: H) -> Route
    where
        H: Handler<T, PublicState>,
        T: 'static,
    {
        Route::with(Method::POST, path, what, routing::post(handler))
    }

    /// A row whose method router carries its own layer (the upload's body limit).
    pub fn with(
        method: Method,
        path: &str,
        what: &'static str,
        handler: MethodRouter<PublicState>,
    ) -> Route {
        Route {
            info: RouteInfo {
                method,
                path: path.to_owned(),
                what,
                area: Area::Page,
            },
            handler,
        }
    }

    fn in_area(mut self, area: Area) -> Route {
        self.info.area = area;
        self
    }
}

/// A module's rows under `prefix`, as `Router::nest` would mount them (`/` is the prefix itself).
fn nest(prefix: &str, routes: Vec<Route>) -> impl Iterator<Item = Route> + use<> {
    let prefix = prefix.to_owned();
    routes.into_iter().map(move |mut route| {
        route.info.path = match route.info.path.as_str() {
            "/" => prefix.clone(),
            path => format!("{prefix}{path}"),
        };
        route
    })
}

/// The table: pages, then assets, then the API.
pub(crate) fn table() -> Vec<Route> {
    use crate::existing_account::{self, DEBIT_CARD, INTERNET_BANKING};
    let apply = |flow: &Flow| format!("/apply/{}", flow.slug);
    let mut table = vec![
        Route::get("/", "start page: the products offered", crate::index),
        Route::get(
            "/language",
            "language switch (cookie mdg_lang)",
            crate::language::switch,
        ),
    ];
    let savings = &crate::savings::FLOW;
    table.extend(nest(&apply(savings), crate::savings::routes()));
    for flow in [&INTERNET_BANKING, &DEBIT_CARD] {
        table.extend(nest(&apply(flow), existing_account::routes(flow)));
    }
    table.extend(nest("/reservations", crate::reservation::routes()));
    table.extend(nest("/status", crate::status::routes()));
    table.extend(
        [
            Route::get("/static/style.css", "stylesheet", crate::stylesheet),
            Route::get("/healthz", "health check", crate::healthz),
        ]
        .map(|r| r.in_area(Area::Asset)),
    );
    table.extend(nest(API_PREFIX, crate::api::routes()).map(|r| r.in_area(Area::Api)));
    table
}

/// Every route of the public site.
pub fn route_table() -> Vec<RouteInfo> {
    table().into_iter().map(|r| r.info).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_one_method_and_path_and_every_api_row_is_under_the_prefix() {
        let table = route_table();
        let mut seen = std::collections::HashSet::new();
        for row in &table {
            assert!(
                seen.insert((row.method.clone(), row.path.clone())),
                "{} {} twice",
                row.method,
                row.path
            );
            assert_eq!(
                row.area == Area::Api,
                row.path.starts_with(API_PREFIX),
                "{}",
                row.path
            );
            assert!(!row.what.is_empty(), "{} has no description", row.path);
        }
        // Every flow is mounted under its own slug.
        for path in [
            "/apply/savings-account/submit",
            "/apply/internet-banking/submit",
            "/apply/debit-card/submit",
        ] {
            assert!(table.iter().any(|r| r.path == path), "{path}");
        }
    }
}
