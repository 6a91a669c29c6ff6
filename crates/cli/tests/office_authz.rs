//! The authorization matrix: every back-office route, with its method, requested as no one,
//! with a session from before sign-out, and as each role in and out of its scope; and every
//! other method on each of those paths, which no identity may get served. Each answer
//! must be the one this file's table says — a table written here independently of the
//! office's own, so that a route added, removed or loosened without updating it fails.

mod common;

use std::collections::BTreeSet;

use common::applicant::{Applicant, apply};
use common::office::{StaffClient, office_client, staff_client};
use common::reservation::{Visitor, api_post, slots};
use common::{Db, TestApp};
use madoguchi_office::authz::{Access, Subject};
use madoguchi_office::routes::RouteInfo;
use sqlx::Connection;

/// Who may use a route, as the bank decided (SPEC §2, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// No session needed.
    Anyone,
    /// Any session, even one still signing in.
    SigningIn,
    /// A fully signed-in member of staff of one of these roles.
    Roles(&'static [&'static str]),
}

const REVIEWERS: Who = Who::Roles(&["operator", "supervisor"]);
const SUPERVISORS: Who = Who::Roles(&["supervisor"]);
const CONSULTANTS: Who = Who::Roles(&["consultant"]);
const ADMINISTRATORS: Who = Who::Roles(&["administrator"]);
const AUDITORS: Who = Who::Roles(&["auditor"]);
const EVERY_ROLE: Who = Who::Roles(&[
    "operator",
    "supervisor",
    "consultant",
    "auditor",
    "administrator",
]);

/// (method, path, who, whose data, asks to sign in again)
const EXPECTED: &[(&str, &str, Who, Subject, bool)] = &[
    ("GET", "/", EVERY_ROLE, Subject::None, false),
    (
        "GET",
        "/static/office.css",
        Who::Anyone,
        Subject::None,
        false,
    ),
    (
        "GET",
        "/static/passkey.js",
        Who::Anyone,
        Subject::None,
        false,
    ),
    ("GET", "/sign-in", Who::Anyone, Subject::None, false),
    ("POST", "/sign-in", Who::Anyone, Subject::None, false),
    (
        "GET",
        "/sign-in/second-factor",
        Who::SigningIn,
        Subject::None,
        false,
    ),
    (
        "POST",
        "/sign-in/second-factor",
        Who::SigningIn,
        Subject::None,
        false,
    ),
    ("GET", "/totp/enroll", Who::SigningIn, Subject::None, false),
    ("POST", "/totp/enroll", Who::SigningIn, Subject::None, false),
    ("GET", "/password", Who::SigningIn, Subject::None, false),
    ("POST", "/password", Who::SigningIn, Subject::None, false),
    ("GET", "/reauth", Who::SigningIn, Subject::None, false),
    ("POST", "/reauth", Who::SigningIn, Subject::None, false),
    (
        "POST",
        "/sign-in/passkey",
        Who::SigningIn,
        Subject::None,
        false,
    ),
    ("POST", "/sign-out", Who::SigningIn, Subject::None, false),
    ("GET", "/passkeys", EVERY_ROLE, Subject::None, true),
    ("POST", "/passkeys", EVERY_ROLE, Subject::None, true),
    (
        "POST",
        "/passkeys/{passkey}/delete",
        EVERY_ROLE,
        Subject::None,
        true,
    ),
    ("GET", "/staff", ADMINISTRATORS, Subject::None, false),
    ("GET", "/staff/new", ADMINISTRATORS, Subject::None, false),
    ("POST", "/staff", ADMINISTRATORS, Subject::None, true),
    (
        "POST",
        "/staff/{staff}/disable",
        ADMINISTRATORS,
        Subject::None,
        true,
    ),
    (
        "POST",
        "/staff/{staff}/reset",
        ADMINISTRATORS,
        Subject::None,
        true,
    ),
    ("GET", "/applications", REVIEWERS, Subject::None, false),
    (
        "POST",
        "/applications/export",
        REVIEWERS,
        Subject::None,
        true,
    ),
    (
        "GET",
        "/applications/{application}",
        REVIEWERS,
        Subject::Application,
        false,
    ),
    (
        "POST",
        "/applications/{application}/reveal",
        REVIEWERS,
        Subject::Application,
        true,
    ),
    (
        "POST",
        "/applications/{application}/notes",
        REVIEWERS,
        Subject::Application,
        false,
    ),
    (
        "POST",
        "/applications/{application}/status",
        REVIEWERS,
        Subject::Application,
        false,
    ),
    (
        "POST",
        "/applications/{application}/decision",
        SUPERVISORS,
        Subject::Application,
        false,
    ),
    (
        "POST",
        "/documents/{document}",
        REVIEWERS,
        Subject::Document,
        true,
    ),
    ("GET", "/handoff", SUPERVISORS, Subject::None, false),
    ("POST", "/handoff", SUPERVISORS, Subject::None, true),
    (
        "GET",
        "/handoff/batches/{batch}",
        SUPERVISORS,
        Subject::None,
        false,
    ),
    ("GET", "/reservations", CONSULTANTS, Subject::None, false),
    (
        "GET",
        "/reservations/{center}",
        CONSULTANTS,
        Subject::Center,
        false,
    ),
    (
        "POST",
        "/reservations/{center}/block",
        CONSULTANTS,
        Subject::Center,
        false,
    ),
    (
        "POST",
        "/reservations/{center}/free",
        CONSULTANTS,
        Subject::Center,
        false,
    ),
    (
        "GET",
        "/bookings/{booking}",
        CONSULTANTS,
        Subject::Booking,
        false,
    ),
    (
        "POST",
        "/bookings/{booking}/reveal",
        CONSULTANTS,
        Subject::Booking,
        true,
    ),
    (
        "POST",
        "/bookings/{booking}/outcome",
        CONSULTANTS,
        Subject::Booking,
        false,
    ),
    ("GET", "/audit", AUDITORS, Subject::None, false),
    ("GET", "/outbox", ADMINISTRATORS, Subject::None, false),
];

/// Methods besides each row's own that the matrix also sends to every path.
const OTHER_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

fn who_of(access: Access) -> Who {
    match access {
        Access::Anyone => Who::Anyone,
        Access::SigningIn => Who::SigningIn,
        Access::Roles(roles) => {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let mut found = None;
            for candidate in [
                REVIEWERS,
                SUPERVISORS,
                CONSULTANTS,
                ADMINISTRATORS,
                AUDITORS,
                EVERY_ROLE,
            ] {
                if let Who::Roles(expected) = candidate {
                    let a: BTreeSet<&str> = expected.iter().copied().collect();
                    let b: BTreeSet<&str> = names.iter().copied().collect();
                    if a == b {
                        found = Some(candidate);
                    }
                }
            }
            found.unwrap_or_else(|| panic!("a role set this test does not know: {names:?}"))
        }
    }
}

#[test]
fn the_office_table_is_exactly_the_expected_one() {
    let live: Vec<RouteInfo> = madoguchi_office::route_table();
    let live_keys: BTreeSet<(String, &str)> = live
        .iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let expected_keys: BTreeSet<(String, &str)> = EXPECTED
        .iter()
        .map(|(m, p, ..)| ((*m).to_owned(), *p))
        .collect();
    let added: Vec<_> = live_keys.difference(&expected_keys).collect();
    let removed: Vec<_> = expected_keys.difference(&live_keys).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "routes without a row in this test's table: {added:?}; rows without a route: {removed:?}"
    );
    for route in &live {
        let (_, _, who, subject, reauth) = EXPECTED
            .iter()
            .find(|(m, p, ..)| *m == route.method.as_str() && *p == route.path)
            .expect("row");
        assert_eq!(
            who_of(route.policy.access),
            *who,
            "{} {}",
            route.method,
            route.path
        );
        assert_eq!(
            route.policy.subject, *subject,
            "{} {}",
            route.method, route.path
        );
        assert_eq!(
            route.policy.reauth, *reauth,
            "{} {}",
            route.method, route.path
        );
    }
}

/// The records the routes name: one of each, in branch 101 and centre naha.
struct Subjects {
    application: String,
    document: String,
    booking: String,
    victim_staff: String,
}

macro_rules! on_db {
    ($app:expr, $db:ident, $conn:ident => $body:expr) => {
        match $app.db {
            Db::Sqlite => {
                type $db = sqlx::Sqlite;
                let mut $conn = sqlx::SqliteConnection::connect(&$app.database_url)
                    .await
                    .expect("open SQLite");
                $body
            }
            Db::Postgres => {
                type $db = sqlx::Postgres;
                let mut $conn = sqlx::PgConnection::connect(&$app.database_url)
                    .await
                    .expect("open PostgreSQL");
                $body
            }
        }
    };
}

async fn one_id(app: &TestApp, sql: &'static str) -> String {
    on_db!(app, Db, conn => {
        sqlx::query_scalar::<Db, uuid::Uuid>(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .to_string()
    })
}

async fn subjects(app: &TestApp) -> Subjects {
    apply(app, &TestApp::client(), &Applicant::new()).await;
    let free = slots(app, "naha").await;
    let booked = api_post(
        app,
        "/api/v1/bookings",
        &Visitor::new().json("naha", &free[0].starts_at),
    )
    .await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let victim = staff_client(app, "operator", "branches:103").await;
    let _ = victim;
    Subjects {
        application: one_id(app, "SELECT id FROM applications").await,
        document: one_id(
            app,
            "SELECT id FROM documents WHERE application_id IS NOT NULL LIMIT 1",
        )
        .await,
        booking: one_id(app, "SELECT id FROM bookings").await,
        victim_staff: one_id(
            app,
            "SELECT id FROM staff WHERE username LIKE 'operator-%' AND scope = 'branches:103'",
        )
        .await,
    }
}

fn concrete(path: &str, s: &Subjects) -> String {
    path.replace("{application}", &s.application)
        .replace("{document}", &s.document)
        .replace("{booking}", &s.booking)
        .replace("{staff}", &s.victim_staff)
        .replace("{center}", "naha")
        .replace("{batch}", "0190a0b0-0000-7000-8000-000000000000")
        .replace("{passkey}", "0190a0b0-0000-7000-8000-000000000001")
}

/// One identity of the matrix.
struct Identity {
    name: &'static str,
    role: Option<&'static str>,
    in_scope: bool,
    client: reqwest::Client,
    csrf: String,
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Sent to sign in (a page) or 401 (a form).
    SignIn,
    Forbidden,
    NotFound,
    /// The handler ran.
    Served,
}

fn expected(who: Who, subject: Subject, identity: &Identity) -> Outcome {
    match (who, identity.role) {
        (Who::Anyone, _) => Outcome::Served,
        (_, None) => Outcome::SignIn,
        (Who::SigningIn, Some(_)) => Outcome::Served,
        (Who::Roles(roles), Some(role)) if !roles.contains(&role) => Outcome::Forbidden,
        (Who::Roles(_), Some(_)) if subject != Subject::None && !identity.in_scope => {
            Outcome::NotFound
        }
        (Who::Roles(_), Some(_)) => Outcome::Served,
    }
}

async fn observe(response: reqwest::Response, has_subject: bool) -> Outcome {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Sign-out, when it ran, also sends to the sign-in page, but removes the cookie.
    let cookie_removed = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().is_ok_and(|c| c.contains("Max-Age=0")));
    match status {
        401 => Outcome::SignIn,
        303 if location == "/sign-in" && cookie_removed => Outcome::Served,
        303 | 302 | 307 if location.starts_with("/sign-in") => Outcome::SignIn,
        403 => Outcome::Forbidden,
        404 if has_subject => Outcome::NotFound,
        _ => Outcome::Served,
    }
}

async fn request(
    app: &TestApp,
    identity: &Identity,
    method: &str,
    path: &str,
) -> reqwest::Response {
    let url = format!("{}{}", app.office_url, path);
    if method == "GET" {
        identity.client.get(url).send().await.expect("GET")
    } else {
        common::post_form(&identity.client, &url, &[("csrf", identity.csrf.as_str())]).await
    }
}

fn identity_of(
    name: &'static str,
    role: &'static str,
    in_scope: bool,
    staff: StaffClient,
) -> Identity {
    Identity {
        name,
        role: Some(role),
        in_scope,
        client: staff.client,
        csrf: staff.csrf,
    }
}

async fn matrix(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let s = subjects(&app).await;
    let staff = [
        ("operator in scope", "operator", "branches:101", true),
        ("operator out of scope", "operator", "branches:102", false),
        ("supervisor in scope", "supervisor", "branches:101", true),
        (
            "supervisor out of scope",
            "supervisor",
            "branches:102",
            false,
        ),
        ("consultant in scope", "consultant", "centers:naha", true),
        (
            "consultant out of scope",
            "consultant",
            "centers:chatan-weekend",
            false,
        ),
        ("auditor", "auditor", "bank", true),
        ("administrator", "administrator", "bank", true),
    ];
    let mut identities = vec![Identity {
        name: "no session",
        role: None,
        in_scope: false,
        client: office_client(),
        csrf: String::new(),
    }];
    // A session from before its sign-out: the old cookie, replayed.
    let leaver = staff_client(&app, "supervisor", "branches:101").await;
    let old_cookie = leaver.session_cookie();
    let out = leaver.post_form("/sign-out", &[]).await;
    assert_eq!(out.status().as_u16(), 303, "signed out");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        old_cookie.parse().expect("cookie header"),
    );
    identities.push(Identity {
        name: "session from before sign-out",
        role: None,
        in_scope: false,
        client: reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        csrf: leaver.csrf.clone(),
    });
    for (name, role, scope, in_scope) in staff {
        identities.push(identity_of(
            name,
            role,
            in_scope,
            staff_client(&app, role, scope).await,
        ));
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    // First, every method a route does not serve: never served, whoever asks (before the
    // table's own rows, whose sign-out ends the sessions).
    let paths: BTreeSet<&str> = EXPECTED.iter().map(|(_, path, ..)| *path).collect();
    for identity in &identities {
        for path in &paths {
            let concrete = concrete(path, &s);
            for method in OTHER_METHODS {
                let served_by_table = EXPECTED.iter().any(|(m, p, ..)| {
                    p == path && (*m == *method || (*method == "HEAD" && *m == "GET"))
                });
                if served_by_table {
                    continue;
                }
                let url = format!("{}{}", app.office_url, concrete);
                let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let response = identity
                    .client
                    .request(method_value, url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("csrf={}", identity.csrf))
                    .send()
                    .await
                    .expect("request");
                let status = response.status().as_u16();
                checked += 1;
                if !matches!(status, 404 | 405) {
                    failures.push(format!(
                        "{method} {path} as {}: a method without a row answered {status}",
                        identity.name
                    ));
                }
            }
        }
    }
    // Sign-out last: it ends the session the other requests use.
    let mut rows: Vec<_> = EXPECTED.iter().collect();
    rows.sort_by_key(|(_, path, ..)| *path == "/sign-out");
    for identity in &identities {
        for (method, path, who, subject, _) in &rows {
            let concrete = concrete(path, &s);
            let response = request(&app, identity, method, &concrete).await;
            let status = response.status();
            let seen = observe(response, *subject != Subject::None).await;
            let want = expected(*who, *subject, identity);
            checked += 1;
            if seen != want {
                failures.push(format!(
                    "{method} {path} as {}: expected {want:?}, got {seen:?} ({status})",
                    identity.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} answers differ from the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}

#[tokio::test]
async fn every_route_answers_every_identity_as_the_table_says_on_sqlite() {
    matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn every_route_answers_every_identity_as_the_table_says_on_postgres() {
    matrix(Db::Postgres).await;
}
