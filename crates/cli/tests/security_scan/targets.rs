//! What the scan requests: every route of both listeners, read from the route tables that
//! build the routers (a new route is scanned without editing this file), with its path
//! parameters filled in with real subjects of the seeded data.

use axum::http::Method;
use madoguchi_office::authz::{Access, Subject};
use madoguchi_public::Area;
use sqlx::Connection;

use crate::common::{Db, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Public,
    Office,
}

/// One route to scan.
#[derive(Debug, Clone)]
pub struct Target {
    pub listener: Listener,
    pub method: Method,
    /// The router's pattern (`{name}` for a parameter).
    pub pattern: String,
    /// The pattern with real values.
    pub path: String,
    /// The public site's part (pages, assets, API); `None` for the back office.
    pub area: Option<Area>,
    /// The back office's policy; `None` for the public site.
    pub access: Option<Access>,
    pub subject: Subject,
}

impl Target {
    /// How the findings name the route.
    pub fn name(&self) -> String {
        let listener = match self.listener {
            Listener::Public => "public",
            Listener::Office => "office",
        };
        format!("{listener} {} {}", self.method, self.pattern)
    }

    pub fn changes_state(&self) -> bool {
        self.method != Method::GET
    }

    pub fn url(&self, app: &TestApp) -> String {
        let base = match self.listener {
            Listener::Public => &app.public_url,
            Listener::Office => &app.office_url,
        };
        format!("{base}{}", self.path)
    }

    pub fn has_parameter(&self) -> bool {
        self.pattern.contains('{')
    }
}

/// Real identifiers of the seeded data (in the scope of the in-scope staff).
#[derive(Debug, Clone)]
pub struct Subjects {
    pub application: String,
    pub document: String,
    pub booking: String,
    /// A member of staff other than the ones signed in.
    pub staff: String,
    /// The booking's link token (from its e-mail).
    pub token: String,
}

/// Every route of both listeners, in table order; the sign-out last (it ends a session).
pub fn all(subjects: &Subjects) -> Vec<Target> {
    let mut targets: Vec<Target> = madoguchi_public::route_table()
        .into_iter()
        .map(|r| Target {
            listener: Listener::Public,
            path: public_path(&r.path),
            method: r.method,
            pattern: r.path,
            area: Some(r.area),
            access: None,
            subject: Subject::None,
        })
        .collect();
    targets.extend(madoguchi_office::route_table().into_iter().map(|r| Target {
        listener: Listener::Office,
        path: office_path(r.path, subjects),
        method: r.method,
        pattern: r.path.to_owned(),
        area: None,
        access: Some(r.policy.access),
        subject: r.policy.subject,
    }));
    targets.sort_by_key(|t| t.pattern == "/sign-out");
    targets
}

/// A path parameter of the public site filled in: a form step, a loan centre, a token and a
/// check id nobody holds (the real token is the capability; [`crate::objects`] tries it).
fn public_path(pattern: &str) -> String {
    let step = if pattern.starts_with("/apply/savings-account") {
        "personal"
    } else {
        "customer"
    };
    pattern
        .replace("{step}", step)
        .replace("{center}", "naha")
        .replace("{center_id}", "naha")
        .replace("{token}", &unknown_token())
        .replace("{check_id}", &uuid::Uuid::new_v4().to_string())
}

/// A well-formed booking token that no booking has.
pub fn unknown_token() -> String {
    "Q".repeat(43)
}

fn office_path(pattern: &str, s: &Subjects) -> String {
    pattern
        .replace("{application}", &s.application)
        .replace("{document}", &s.document)
        .replace("{booking}", &s.booking)
        .replace("{staff}", &s.staff)
        .replace("{center}", "naha")
        .replace("{batch}", &uuid::Uuid::new_v4().to_string())
        .replace("{passkey}", &uuid::Uuid::new_v4().to_string())
}

/// `id` with its last hex digit changed: the neighbour a guesser tries first.
pub fn neighbour(id: &str) -> String {
    let mut chars: Vec<char> = id.chars().collect();
    if let Some(last) = chars.last_mut() {
        *last = match *last {
            '0'..='8' | 'a'..='e' | 'A'..='E' => char::from(*last as u8 + 1),
            '9' => 'a',
            _ => '0',
        };
    }
    chars.into_iter().collect()
}

/// The first value of `sql` (a UUID column).
pub async fn one_id(app: &TestApp, sql: &'static str) -> String {
    ids(app, sql)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// Every value of `sql` (a UUID column).
pub async fn ids(app: &TestApp, sql: &'static str) -> Vec<String> {
    match app.db {
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .expect("open SQLite");
            sqlx::query_scalar::<sqlx::Sqlite, uuid::Uuid>(sql)
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .map(uuid::Uuid::to_string)
                .collect()
        }
        Db::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url)
                .await
                .expect("open PostgreSQL");
            sqlx::query_scalar::<sqlx::Postgres, uuid::Uuid>(sql)
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .map(uuid::Uuid::to_string)
                .collect()
        }
    }
}
