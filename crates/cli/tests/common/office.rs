// READY
//! Signing in to the back office in tests: a member of staff is created with the library
//! function `madoguchi staff add` uses, then signs in over HTTP as a browser would — the
//! one-time password, TOTP enrolment (the seed read from the page, codes computed with
//! totp-rs), a password of their own — and ends with an active session.
//!
//! ```ignore
//! let admin = office::staff_client(&app, "administrator", "bank").await;
//! let page = admin.get("/staff").await;
//! let done = admin.post_form("/staff/…/disable", &[]).await; // the CSRF field is added
//! admin.reauth().await; // before a route that asks to sign in again
//! ```
//!
//! Clients do NOT follow redirects, so tests see the 303s and their `Location`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore as _, Jar};
use totp_rs::{Builder, Secret};

use super::{TestApp, csrf_of};

/// A signed-in member of staff.
#[derive(Clone)]
pub struct StaffClient {
    /// Keeps the session cookie; does not follow redirects.
    pub client: reqwest::Client,
    /// The CSRF token of the active session (added by [`StaffClient::post_form`]).
    pub csrf: String,
    pub username: String,
    /// The password chosen at first sign-in.
    pub password: String,
    /// The TOTP seed in base32 (no spaces).
    pub totp_secret: String,
    pub office_url: String,
    /// The client's cookies (to replay a session's cookie from another client).
    pub jar: Arc<Jar>,
}

/// A cookie-keeping client that does not follow redirects.
pub fn office_client() -> reqwest::Client {
    office_client_with_jar().0
}

/// [`office_client`] with its cookie jar.
pub fn office_client_with_jar() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    (client, jar)
}

/// Creates a member of staff with `role` and `scope` (e.g. `"operator"`, `"branches:001"`;
/// `"administrator"`, `"bank"`; `"consultant"`, `"centers:shinjuku"`) and signs them in.
pub async fn staff_client(app: &TestApp, role: &str, scope: &str) -> StaffClient {
    let username = format!("{role}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let issued = madoguchi_office::staff_admin::accounts::add(app.store(), &username, role, scope)
        .await
        .unwrap_or_else(|e| panic!("staff add {username} {role} {scope}: {e}"));
    first_sign_in(app, &username, issued.one_time_password.as_str()).await
}

/// The first sign-in of `username` with a one-time password: enrols TOTP, chooses a password.
pub async fn first_sign_in(app: &TestApp, username: &str, one_time_password: &str) -> StaffClient {
    let office_url = app.office_url.clone();
    let (client, jar) = office_client_with_jar();
    let url = |path: &str| format!("{office_url}{path}");

    let answer = super::post_form(
        &client,
        &url("/sign-in"),
        &[("username", username), ("password", one_time_password)],
    )
    .await;
    assert_redirect(&answer, "/totp/enroll", "password accepted");

    let page = client
        .get(url("/totp/enroll"))
        .send()
        .await
        .expect("enrol page");
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("body");
    let totp_secret = totp_secret_of(&page);
    let code = totp_now(&totp_secret);
    let answer = super::post_form(
        &client,
        &url("/totp/enroll"),
        &[("csrf", &csrf_of(&page)), ("code", &code)],
    )
    .await;
    assert_redirect(&answer, "/password", "TOTP enrolled");

    let page = client
        .get(url("/password"))
        .send()
        .await
        .expect("password page");
    let page = page.text().await.expect("body");
    let password = format!("kestrel meadow {} lantern", uuid::Uuid::new_v4().simple());
    let answer = super::post_form(
        &client,
        &url("/password"),
        &[
            ("csrf", &csrf_of(&page)),
            ("new_password", &password),
            ("confirmation", &password),
        ],
    )
    .await;
    assert_redirect(&answer, "/", "password changed");

    let csrf = active_csrf(&client, &office_url).await;
    StaffClient {
        client,
        csrf,
        username: username.to_owned(),
        password,
        totp_secret,
        office_url,
        jar,
    }
}

/// Signs in a member of staff who has a password and TOTP already, with a new client.
pub async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
    totp_secret: &str,
) -> StaffClient {
    sign_in_with(
        app,
        office_client_with_jar(),
        username,
        password,
        totp_secret,
    )
    .await
}

/// Like [`sign_in`], from another address of this machine (e.g. 127.0.0.2: loopback, so the
/// office answers it, but not the address the member of staff usually comes from).
pub async fn sign_in_from(
    app: &TestApp,
    staff: &StaffClient,
    local: std::net::IpAddr,
) -> StaffClient {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .local_address(local)
        .build()
        .expect("client");
    sign_in_with(
        app,
        (client, jar),
        &staff.username,
        &staff.password,
        &staff.totp_secret,
    )
    .await
}

async fn sign_in_with(
    app: &TestApp,
    (client, jar): (reqwest::Client, Arc<Jar>),
    username: &str,
    password: &str,
    totp_secret: &str,
) -> StaffClient {
    let office_url = app.office_url.clone();
    let answer = super::post_form(
        &client,
        &format!("{office_url}/sign-in"),
        &[("username", username), ("password", password)],
    )
    .await;
    assert_redirect(&answer, "/sign-in/second-factor", "password accepted");
    let page = client
        .get(format!("{office_url}/sign-in/second-factor"))
        .send()
        .await
        .expect("second factor page")
        .text()
        .await
        .expect("body");
    let answer = super::post_form(
        &client,
        &format!("{office_url}/sign-in/second-factor"),
        &[("csrf", &csrf_of(&page)), ("code", &totp_now(totp_secret))],
    )
    .await;
    assert_redirect(&answer, "/", "second factor accepted");
    let csrf = active_csrf(&client, &office_url).await;
    StaffClient {
        client,
        csrf,
        username: username.to_owned(),
        password: password.to_owned(),
        totp_secret: totp_secret.to_owned(),
        office_url,
        jar,
    }
}

async fn active_csrf(client: &reqwest::Client, office_url: &str) -> String {
    let home = client
        .get(format!("{office_url}/"))
        .send()
        .await
        .expect("start page");
    assert_eq!(
        home.status(),
        StatusCode::OK,
        "signed in: the start page opens"
    );
    csrf_of(&home.text().await.expect("body"))
}

impl StaffClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.office_url, path)
    }

    /// The `Cookie` header this client sends to the back office (its session cookie).
    pub fn session_cookie(&self) -> String {
        let url = self.url("/").parse().expect("office URL");
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .expect("a session cookie")
    }

    /// GET `path` (not following redirects).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// POSTs a form to `path` with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        super::post_form(&self.client, &self.url(path), &all).await
    }

    /// Signs in again (password and a fresh TOTP code), for routes that ask for a recent
    /// sign-in.
    pub async fn reauth(&self) {
        let form = self.get("/reauth?next=/").await;
        assert_eq!(
            form.status(),
            StatusCode::OK,
            "the re-authentication page opens"
        );
        let code = totp_now(&self.totp_secret);
        let answer = self
            .post_form(
                "/reauth",
                &[("password", &self.password), ("code", &code), ("next", "/")],
            )
            .await;
        assert_redirect(&answer, "/", "signed in again");
    }

    /// Ends the session (POST /sign-out).
    pub async fn sign_out(&self) -> reqwest::Response {
        self.post_form("/sign-out", &[]).await
    }
}

/// Asserts a 303 to `location`.
pub fn assert_redirect(answer: &reqwest::Response, location: &str, what: &str) {
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "{what}: expected a redirect to {location}"
    );
    assert_eq!(
        answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some(location),
        "{what}"
    );
}

/// The TOTP seed shown on the enrolment page (base32, spaces removed).
pub fn totp_secret_of(page: &str) -> String {
    let re = regex_lite::Regex::new(r#"id="totp-secret">([A-Z2-7 ]+)<"#).expect("regex");
    re.captures(page)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().replace(' ', ""))
        .unwrap_or_else(|| panic!("no TOTP seed in page:\n{page}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The TOTP code of `secret` at time step `step`.
pub fn totp_at_step(secret: &str, step: u64) -> String {
    let secret = Secret::try_from_base32(secret).expect("base32 seed");
    let totp = Builder::new()
        .with_secret(secret)
        .build()
        .expect("TOTP settings");
    totp.generate(step * 30).to_string()
}

/// A code of `secret` that the server has not seen yet. The server accepts one step either
/// way and each step once, so: the current step; if this process used it already, the next
/// one (accepted early); if that too, it waits until the step changes — computed, not a
/// blind sleep (at most 30 s, only on a third code within one step).
pub fn totp_now(secret: &str) -> String {
    totp_fresh(secret).1
}

/// Like [`totp_now`], with the code's time step.
pub fn totp_fresh(secret: &str) -> (u64, String) {
    static USED: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let used = USED.get_or_init(Mutex::default);
    loop {
        let now = unix_now();
        let current = now / 30;
        let mut used = used.lock().unwrap_or_else(|e| e.into_inner());
        let wanted = used
            .get(secret)
            .map_or(current, |last| (last + 1).max(current));
        if wanted <= current + 1 {
            used.insert(secret.to_owned(), wanted);
            return (wanted, totp_at_step(secret, wanted));
        }
        drop(used);
        // `wanted` = current + 2: usable once the clock reaches step current + 1.
        let wait = (current + 1) * 30 - now;
        std::thread::sleep(Duration::from_secs(wait) + Duration::from_millis(200));
    }
}
