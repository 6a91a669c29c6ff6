//! The security scan (issue 8), in the spirit of a scanner's baseline against the running
//! server, on SQLite and on PostgreSQL:
//!
//! - every route of both listeners, enumerated from the route tables that build the routers
//!   (`madoguchi_public::route_table`, `madoguchi_office::route_table`), requested without a
//!   session and with one, and every answer held to the passive checks of a scanner
//!   ([`passive`]): framing, nosniff, HSTS, CSP, `no-store`, no version banner, no stack trace
//!   or SQL, cookie flags (`Secure` and `__Host-` on a second server with production cookies);
//! - the unauthenticated surface is the allowlist of `madoguchi doctor` (MDG-WEB-02), and no
//!   answer without a session holds a seeded personal value;
//! - every state-changing route refuses a cross-site request carrying the victim's cookies
//!   (CSRF), and every form refuses a POST without its token;
//! - object-level access ([`objects`]) and injection ([`injection`]).
//!
//! The results form one table, route × check, printed as counts; the test fails listing every
//! failing finding. Request smuggling and slow clients are in [`transport`].

#[path = "../common/mod.rs"]
mod common;
mod findings;
mod injection;
mod objects;
mod passive;
mod targets;
mod transport;

use std::sync::Arc;

use axum::http::Method;
use common::applicant::{Applicant, apply, post_step, verify_email};
use common::office::{StaffClient, staff_client};
use common::reservation::{BOOKED_MAIL, Visitor, book_by_api, manage_token, slots};
use common::{Db, Options, TestApp};
use findings::Findings;
use madoguchi::commands::doctor::{PUBLIC_ALLOWED, UNAUTHENTICATED_ALLOWED};
use madoguchi_office::authz::Access;
use madoguchi_public::Area;
use passive::Seen;
use reqwest::cookie::Jar;
use targets::{Listener, Subjects, Target};

pub const UNAUTHENTICATED: &str = "unauthenticated surface = allowlist";
pub const CSRF: &str = "cross-site request refused (CSRF)";

/// Another site, as a forged request's browser names it.
const EVIL_ORIGIN: &str = "https://evil.example";

#[tokio::test]
async fn every_route_of_both_listeners_passes_the_scan_on_sqlite() {
    scan(Db::Sqlite).await;
}

#[tokio::test]
async fn every_route_of_both_listeners_passes_the_scan_on_postgres() {
    scan(Db::Postgres).await;
}

/// What the scan seeded, to look for where it must not be.
pub struct Seeded {
    pub subjects: Subjects,
    pub applicant: Applicant,
    pub receipt: String,
    pub visitor: Visitor,
    /// Every seeded personal value.
    pub personal: Vec<String>,
}

impl Seeded {
    /// The first seeded personal value found in `body`.
    pub fn leaked_in(&self, body: &str) -> Option<&str> {
        self.personal
            .iter()
            .find(|v| body.contains(v.as_str()))
            .map(String::as_str)
    }
}

/// The members of staff of the scan: one of each role in the seeded data's scope, and some of
/// the same roles outside it.
pub struct Staff {
    in_scope: Vec<(&'static str, StaffClient)>,
    out_of_scope: Vec<(&'static str, StaffClient)>,
}

impl Staff {
    async fn sign_in(app: &TestApp) -> Staff {
        let mut in_scope = Vec::new();
        for (role, scope) in [
            ("operator", "branches:101"),
            ("supervisor", "branches:101"),
            ("consultant", "centers:naha"),
            ("auditor", "bank"),
            ("administrator", "bank"),
        ] {
            in_scope.push((role, staff_client(app, role, scope).await));
        }
        let mut out_of_scope = Vec::new();
        for (role, scope) in [
            ("operator", "branches:103"),
            ("supervisor", "branches:103"),
            ("consultant", "centers:chatan-weekend"),
        ] {
            out_of_scope.push((role, staff_client(app, role, scope).await));
        }
        Staff {
            in_scope,
            out_of_scope,
        }
    }

    fn role_of(access: Option<Access>) -> &'static str {
        match access {
            Some(Access::Roles(roles)) => roles.first().map_or("operator", |r| r.as_str()),
            _ => "operator",
        }
    }

    /// A member of staff the route serves, in the seeded data's scope.
    pub fn for_route(&self, access: Option<Access>) -> &StaffClient {
        let role = Self::role_of(access);
        self.in_scope
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c)
            .expect("a member of staff of each role")
    }

    /// The same role outside the seeded data's scope (when the scan has one).
    pub fn outside(&self, access: Option<Access>) -> Option<&StaffClient> {
        let role = Self::role_of(access);
        self.out_of_scope
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c)
    }
}

/// A client without cookies that does not follow redirects.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn seed(app: &TestApp) -> (Seeded, Staff) {
    let applicant = Applicant::new();
    let receipt = apply(app, &TestApp::client(), &applicant).await;
    let visitor = Visitor::new();
    let free = slots(app, "naha").await;
    book_by_api(app, "naha", &free[0], &visitor).await;
    let token = manage_token(&app.wait_for_mail(&visitor.email, BOOKED_MAIL).await);
    let staff = Staff::sign_in(app).await;
    let subjects = Subjects {
        application: targets::one_id(app, "SELECT id FROM applications").await,
        document: targets::one_id(
            app,
            "SELECT id FROM documents WHERE application_id IS NOT NULL LIMIT 1",
        )
        .await,
        booking: targets::one_id(app, "SELECT id FROM bookings").await,
        staff: targets::one_id(
            app,
            "SELECT id FROM staff WHERE username LIKE 'operator-%' AND scope = 'branches:103'",
        )
        .await,
        token,
    };
    let mut personal = applicant.personal_values();
    personal.extend(visitor.personal_values());
    let seeded = Seeded {
        subjects,
        applicant,
        receipt,
        visitor,
        personal,
    };
    (seeded, staff)
}

/// A public-site client in the middle of an application (a draft with personal values):
/// the browser a scanner would have after filling in the first form.
async fn applicant_midway(app: &TestApp) -> reqwest::Client {
    let jar = Arc::new(Jar::default());
    let following = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .expect("client");
    let midway = Applicant::new();
    verify_email(app, &following, &midway.email).await;
    let saved = post_step(app, &following, "personal", &midway.personal_step()).await;
    assert!(
        saved.url().path().ends_with("/profile"),
        "personal step saved"
    );
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn scan(db: Db) {
    let Some(app) = TestApp::spawn_with(db, Options::unlimited()).await else {
        return;
    };
    let (seeded, staff) = seed(&app).await;
    let midway = applicant_midway(&app).await;
    let targets = targets::all(&seeded.subjects);
    let mut findings = Findings::default();
    let bare = bare_client();
    for target in &targets {
        let route = target.name();
        let anonymous = request(&bare_client(), &app, target, Sent::Plain).await;
        passive::check(&mut findings, &route, &target.path, &anonymous, false);
        findings.record(
            &route,
            UNAUTHENTICATED,
            unauthenticated(target, &anonymous, &seeded),
        );
        let client = match target.listener {
            Listener::Public => &midway,
            Listener::Office => &staff.for_route(target.access).client,
        };
        if target.changes_state() {
            // The sign-in form is forged at a browser without a session (login CSRF).
            let victim = match target.access {
                Some(Access::Anyone) => &bare,
                _ => client,
            };
            let forged = request(victim, &app, target, Sent::CrossSite).await;
            passive::check(&mut findings, &route, &target.path, &forged, false);
            findings.record(&route, CSRF, refused_as_forged(target, &forged));
            if target.access != Some(Access::Anyone) {
                let tokenless = request(client, &app, target, Sent::Tokenless).await;
                passive::check(&mut findings, &route, &target.path, &tokenless, false);
                findings.record(&route, CSRF, refused_as_forged(target, &tokenless));
            }
        } else {
            let seen = request(client, &app, target, Sent::Plain).await;
            passive::check(&mut findings, &route, &target.path, &seen, false);
        }
    }
    objects::check(&mut findings, &app, &targets, &seeded, &staff).await;
    injection::check(&mut findings, &app, &staff).await;
    secure_cookies(&mut findings, db, &targets).await;
    let counted = targets
        .iter()
        .filter(|t| findings.has(&t.name(), passive::NOSNIFF));
    assert_eq!(counted.count(), targets.len(), "every route was scanned");
    findings.assert_clean(&format!("{db:?}"));
    app.stop().await;
}

/// The anonymous pass again on a server with production cookies: every cookie `Secure` and
/// `__Host-`.
async fn secure_cookies(findings: &mut Findings, db: Db, targets: &[Target]) {
    let options = Options {
        secure_cookies: true,
        ..Options::unlimited()
    };
    let Some(app) = TestApp::spawn_with(db, options).await else {
        return;
    };
    for target in targets {
        let seen = request(&bare_client(), &app, target, Sent::Plain).await;
        passive::check(findings, &target.name(), &target.path, &seen, true);
    }
    app.stop().await;
}

/// How a request is sent. None carries a CSRF token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// As a client would: a GET, or a POST of a form (an empty JSON object to the API).
    Plain,
    /// As another site's page makes the victim's browser send it: `Origin` and
    /// `Sec-Fetch-Site: cross-site`, and a body a form can send (URL-encoded, or multipart
    /// where the route takes files).
    CrossSite,
    /// From the site itself but without the token; to the API, JSON sent as `text/plain`
    /// (the one JSON-looking body a cross-site form can send).
    Tokenless,
}

/// Requests `target` with `client`, sent as `sent` says.
pub async fn request(client: &reqwest::Client, app: &TestApp, target: &Target, sent: Sent) -> Seen {
    let url = target.url(app);
    if target.method == Method::GET {
        return Seen::of(client.get(url).send().await.expect("request")).await;
    }
    let mut builder = client.post(url);
    if sent == Sent::CrossSite {
        builder = builder
            .header("origin", EVIL_ORIGIN)
            .header("sec-fetch-site", "cross-site");
    }
    let api = target.area == Some(Area::Api);
    let (content_type, body) = match sent {
        Sent::Plain if api => ("application/json".to_owned(), "{}".to_owned()),
        Sent::Tokenless if api => (
            "text/plain".to_owned(),
            r#"{"email":"scan@example.jp"}"#.to_owned(),
        ),
        _ if target.pattern.ends_with("/identity") => {
            let boundary = "scanboundary";
            (
                format!("multipart/form-data; boundary={boundary}"),
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nscan\r\n--{boundary}--\r\n"
                ),
            )
        }
        _ => (
            "application/x-www-form-urlencoded".to_owned(),
            "email=scan%40example.jp&code=000000&note=scan&username=scan&password=scan".to_owned(),
        ),
    };
    let response = builder
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    Seen::of(response).await
}

/// A forged or tokenless request was refused before anything was done: 403 for a form, 415
/// for the API (a cross-site form cannot send JSON).
fn refused_as_forged(target: &Target, seen: &Seen) -> Result<(), String> {
    let refused = match target.area {
        Some(Area::Api) => seen.status == 415,
        _ => seen.status == 403,
    };
    if refused {
        Ok(())
    } else {
        Err(format!("answered {} {}", seen.status, seen.location()))
    }
}

/// Without a session: the route is on doctor's allowlist or refuses (to the sign-in page,
/// 401, 403), and the answer holds no seeded personal value.
fn unauthenticated(target: &Target, seen: &Seen, seeded: &Seeded) -> Result<(), String> {
    if let Some(value) = seeded.leaked_in(&seen.body) {
        return Err(format!("{} shows {value:?} without a session", seen.status));
    }
    let method = target.method.as_str();
    let listed = |list: &[(&str, &str)]| list.contains(&(method, target.pattern.as_str()));
    match target.listener {
        Listener::Public if listed(PUBLIC_ALLOWED) => Ok(()),
        Listener::Public => Err("not on doctor's public allowlist".to_owned()),
        Listener::Office if listed(UNAUTHENTICATED_ALLOWED) => Ok(()),
        Listener::Office => {
            let refused = matches!(seen.status, 401 | 403)
                || (seen.status == 303 && seen.location().starts_with("/sign-in"));
            if refused {
                Ok(())
            } else {
                Err(format!(
                    "answered {} {} without a session",
                    seen.status,
                    seen.location()
                ))
            }
        }
    }
}
