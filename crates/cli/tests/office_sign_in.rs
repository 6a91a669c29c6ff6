//! Staff accounts and sign-in of the back office: first sign-in, lock-out, TOTP reuse,
//! session rotation, sign-out, expiry, re-authentication, disabling, cookie flags, the
//! administrator's pages and the `staff` command. SQLite always; PostgreSQL too for the
//! lock-out and the session tests (skipped outside CI when it is not running).

mod common;

use common::office::{
    self, StaffClient, assert_redirect, first_sign_in, office_client, staff_client, totp_fresh,
    totp_now,
};
use common::{Db, TestApp, contains, csrf_of, post_form};
use madoguchi_office::staff_admin::accounts;
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

const WRONG_CREDENTIALS: &str = "ユーザー名またはパスワードが正しくありません。";
const LOCKED: &str = "パスワードを5回続けて間違えたため、15分間サインインできません。";

/// The value of the `mdg_staff` cookie a response sets (`Some("")` when it removes it).
fn session_cookie(answer: &reqwest::Response) -> Option<String> {
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("mdg_staff="))
        .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
}

fn set_cookie_header(answer: &reqwest::Response) -> String {
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mdg_staff="))
        .expect("a mdg_staff cookie")
        .to_owned()
}

/// GET `path` with only this cookie (a replayed or stolen value).
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    office_client()
        .get(format!("{}{path}", app.office_url))
        .header("cookie", format!("mdg_staff={cookie}"))
        .send()
        .await
        .expect("request")
}

fn location(answer: &reqwest::Response) -> &str {
    answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn text(answer: reqwest::Response) -> String {
    answer.text().await.expect("body")
}

/// Which timestamp of a member of staff's open sessions to move.
#[derive(Clone, Copy)]
enum SessionTime {
    LastSeen,
    Created,
    Authenticated,
}

/// Sets a timestamp of every open session of `username`, as time passing would.
async fn set_session_time(app: &TestApp, username: &str, column: SessionTime, at: OffsetDateTime) {
    let sql = match column {
        SessionTime::LastSeen => {
            "UPDATE staff_sessions SET last_seen_at = $1 WHERE ended_at IS NULL \
             AND staff_id = (SELECT id FROM staff WHERE username = $2)"
        }
        SessionTime::Created => {
            "UPDATE staff_sessions SET created_at = $1 WHERE ended_at IS NULL \
             AND staff_id = (SELECT id FROM staff WHERE username = $2)"
        }
        SessionTime::Authenticated => {
            "UPDATE staff_sessions SET authenticated_at = $1 WHERE ended_at IS NULL \
             AND staff_id = (SELECT id FROM staff WHERE username = $2)"
        }
    };
    let at = madoguchi_store::db_time(at);
    let changed = match app.db {
        Db::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url)
                .await
                .expect("sqlite");
            let done = sqlx::query(sql)
                .bind(at)
                .bind(username)
                .execute(&pool)
                .await;
            pool.close().await;
            done.expect("update").rows_affected()
        }
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url)
                .await
                .expect("postgres");
            let done = sqlx::query(sql)
                .bind(at)
                .bind(username)
                .execute(&pool)
                .await;
            pool.close().await;
            done.expect("update").rows_affected()
        }
    };
    assert!(changed >= 1, "{username} has an open session");
}

async fn staff_id(app: &TestApp, username: &str) -> uuid::Uuid {
    app.store()
        .staff_by_username(username)
        .await
        .expect("store")
        .expect("staff")
        .id
}

// -------------------------------------------------------------------------------------------

#[tokio::test]
async fn first_sign_in_forces_totp_enrolment_and_a_password_change() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let issued = accounts::add(app.store(), "tanaka.k", "operator", "branches:001")
        .await
        .expect("add");
    let client = office_client();
    let url = |path: &str| format!("{}{path}", app.office_url);

    assert_redirect(
        &client.get(url("/")).send().await.expect("get"),
        "/sign-in",
        "no session",
    );

    let answer = post_form(
        &client,
        &url("/sign-in"),
        &[
            ("username", "Tanaka.K"),
            ("password", issued.one_time_password.as_str()),
        ],
    )
    .await;
    assert_redirect(&answer, "/totp/enroll", "no TOTP yet: enrolment first");
    let cookie = set_cookie_header(&answer);
    let first = session_cookie(&answer).expect("session cookie");
    // The cookie: HttpOnly, SameSite=Strict, path /, no Secure on loopback, a session cookie.
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure") && !cookie.contains("Max-Age"),
        "{cookie}"
    );

    // Nothing else opens before enrolment.
    for path in ["/", "/password", "/sign-in/second-factor", "/reauth"] {
        let answer = client.get(url(path)).send().await.expect("get");
        assert_redirect(&answer, "/totp/enroll", path);
    }
    let page = text(client.get(url("/totp/enroll")).send().await.expect("get")).await;
    assert!(
        page.contains("<svg") && page.contains("<rect"),
        "an inline SVG QR code"
    );
    let secret = office::totp_secret_of(&page);
    assert_eq!(secret.len(), 32, "160-bit seed in base32");
    let csrf = csrf_of(&page);
    let wrong = post_form(
        &client,
        &url("/totp/enroll"),
        &[("csrf", &csrf), ("code", "000000")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::OK);
    assert!(text(wrong).await.contains("確認コードが正しくありません"));
    // Without the CSRF field the form is refused.
    let forged = post_form(
        &client,
        &url("/totp/enroll"),
        &[("code", &totp_now(&secret))],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let page = text(client.get(url("/totp/enroll")).send().await.expect("get")).await;
    assert_eq!(
        office::totp_secret_of(&page),
        secret,
        "the same pending seed until confirmed"
    );
    let answer = post_form(
        &client,
        &url("/totp/enroll"),
        &[("csrf", &csrf), ("code", &totp_now(&secret))],
    )
    .await;
    assert_redirect(
        &answer,
        "/password",
        "enrolled: the one-time password must be changed",
    );
    assert_redirect(
        &client.get(url("/")).send().await.expect("get"),
        "/password",
        "stage",
    );

    let page = text(client.get(url("/password")).send().await.expect("get")).await;
    let csrf = csrf_of(&page);
    let change = |new: String, confirmation: String| {
        let client = client.clone();
        let csrf = csrf.clone();
        let target = url("/password");
        async move {
            post_form(
                &client,
                &target,
                &[
                    ("csrf", &csrf),
                    ("new_password", &new),
                    ("confirmation", &confirmation),
                ],
            )
            .await
        }
    };
    let refusals = [
        ("short-pass", "12文字以上"),
        ("password1234", "よく使われている"),
        ("tanaka.k-is-my-name-2026", "ユーザー名を含めない"),
    ];
    for (weak, why) in refusals {
        let answer = change(weak.to_owned(), weak.to_owned()).await;
        assert_eq!(answer.status(), StatusCode::OK, "{weak}");
        assert!(
            text(answer).await.contains(why),
            "{weak} refused because {why}"
        );
    }
    let mismatch = change(
        "violet harbor quantum 77".into(),
        "violet harbor quantum 78".into(),
    )
    .await;
    assert!(text(mismatch).await.contains("一致しません"));
    let same = issued.one_time_password.to_string();
    let answer = change(same.clone(), same).await;
    assert!(
        text(answer).await.contains("違うパスワード"),
        "the one-time password again"
    );

    let answer = change(
        "violet harbor quantum 77".into(),
        "violet harbor quantum 77".into(),
    )
    .await;
    assert_redirect(&answer, "/", "signed in");
    let active = session_cookie(&answer).expect("a new cookie when the session becomes active");
    assert_ne!(active, first, "the session id is rotated");
    assert_eq!(
        client.get(url("/")).send().await.expect("get").status(),
        StatusCode::OK
    );
    // The token of the sign-in stages no longer opens anything.
    assert_redirect(
        &get_with_cookie(&app, "/", &first).await,
        "/sign-in",
        "old token",
    );

    let events = app.store().recent_audit_events(50).await.expect("audit");
    for action in ["staff.sign-in", "staff.totp-enroll", "staff.password"] {
        assert!(
            events
                .iter()
                .any(|e| e.action == action && e.outcome == "ok"),
            "{action} audited"
        );
    }
    // The next sign-in asks for the second factor, not enrolment.
    let again = office::sign_in(&app, "tanaka.k", "violet harbor quantum 77", &secret).await;
    assert_eq!(again.get("/").await.status(), StatusCode::OK);
    app.stop().await;
}

async fn lock_out(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let staff = staff_client(&app, "supervisor", "branches:001").await;
    let client = office_client();
    let url = format!("{}/sign-in", app.office_url);
    let typed = "wrong-guess-Xq81-unique";
    for attempt in 1..=5 {
        let answer = post_form(
            &client,
            &url,
            &[("username", &staff.username), ("password", typed)],
        )
        .await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(
            session_cookie(&answer).is_none(),
            "no session for a wrong password"
        );
        let page = text(answer).await;
        if attempt < 5 {
            assert!(page.contains(WRONG_CREDENTIALS), "attempt {attempt}");
        } else {
            assert!(page.contains(LOCKED), "the fifth failure locks:\n{page}");
        }
    }
    // Even the right password is refused now, with the same message.
    let answer = post_form(
        &client,
        &url,
        &[("username", &staff.username), ("password", &staff.password)],
    )
    .await;
    assert!(session_cookie(&answer).is_none());
    assert!(text(answer).await.contains(LOCKED));
    // The lock ended the member's open sessions too.
    assert_redirect(
        &staff.get("/").await,
        "/sign-in",
        "sessions end at the lock",
    );

    // Audited as failed, anonymous, and never with what was typed.
    let events = app.store().recent_audit_events(50).await.expect("audit");
    let failed = events
        .iter()
        .filter(|e| e.action == "staff.sign-in" && e.outcome == "failed")
        .count();
    assert!(failed >= 5, "{failed} failed sign-ins audited");
    assert!(
        events
            .iter()
            .filter(|e| e.action == "staff.sign-in" && e.outcome == "failed")
            .all(|e| e.actor == "anonymous")
    );
    assert!(
        !contains(&app.database_bytes().await, typed),
        "the typed password is stored nowhere"
    );

    // Unknown usernames are answered like wrong passwords, and never lock.
    for _ in 0..6 {
        let answer = post_form(
            &client,
            &url,
            &[("username", "nobody-here"), ("password", typed)],
        )
        .await;
        assert!(text(answer).await.contains(WRONG_CREDENTIALS));
    }

    // Fifteen minutes later (moved in the database), the right password works again.
    expire_lock(&app, &staff.username).await;
    let back = office::sign_in(&app, &staff.username, &staff.password, &staff.totp_secret).await;
    assert_eq!(back.get("/").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_sqlite() {
    lock_out(Db::Sqlite).await;
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_postgres() {
    lock_out(Db::Postgres).await;
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let staff = staff_client(&app, "consultant", "centers:shinjuku").await;
    assert_redirect(&staff.sign_out().await, "/sign-in", "signed out");

    // The enrolment used the current step, so this is the next one.
    let (step, code) = totp_fresh(&staff.totp_secret);
    let signed_in = password_step(&app, &staff).await;
    let answer = signed_in
        .post("/sign-in/second-factor", &[("code", &code)])
        .await;
    assert_redirect(&answer, "/", "a fresh code");
    signed_in.post("/sign-out", &[]).await;

    // The same code again, within its window: refused.
    let again = password_step(&app, &staff).await;
    let answer = again
        .post("/sign-in/second-factor", &[("code", &code)])
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(text(answer).await.contains("同じコードは2回使えません"));
    // And so is the older code of the enrolment, though still within one step.
    let enrolment = office::totp_at_step(&staff.totp_secret, step - 1);
    let answer = again
        .post("/sign-in/second-factor", &[("code", &enrolment)])
        .await;
    assert!(text(answer).await.contains("確認コードが正しくありません"));
    app.stop().await;
}

/// A client past the password step (stage second factor), with its CSRF token.
struct Pending {
    client: reqwest::Client,
    csrf: String,
    office_url: String,
}

impl Pending {
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        post_form(&self.client, &format!("{}{path}", self.office_url), &all).await
    }
}

async fn password_step(app: &TestApp, staff: &StaffClient) -> Pending {
    let client = office_client();
    let answer = post_form(
        &client,
        &format!("{}/sign-in", app.office_url),
        &[("username", &staff.username), ("password", &staff.password)],
    )
    .await;
    assert_redirect(&answer, "/sign-in/second-factor", "password accepted");
    let page = client
        .get(format!("{}/sign-in/second-factor", app.office_url))
        .send()
        .await
        .expect("page");
    let csrf = csrf_of(&text(page).await);
    Pending {
        client,
        csrf,
        office_url: app.office_url.clone(),
    }
}

async fn sessions(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let staff = staff_client(&app, "auditor", "bank").await;
    staff.sign_out().await;

    // The session id changes at sign-in: password step, then active.
    let pending = password_step(&app, &staff).await;
    let answer = post_form(
        &office_client(),
        &format!("{}/sign-in", app.office_url),
        &[("username", &staff.username), ("password", &staff.password)],
    )
    .await;
    let other_browser = session_cookie(&answer).expect("cookie");
    let before = {
        let answer = post_form(
            &pending.client,
            &format!("{}/sign-in", app.office_url),
            &[("username", &staff.username), ("password", &staff.password)],
        )
        .await;
        session_cookie(&answer).expect("cookie")
    };
    let page = pending
        .client
        .get(format!("{}/sign-in/second-factor", app.office_url))
        .send()
        .await
        .expect("page");
    let csrf = csrf_of(&text(page).await);
    let answer = post_form(
        &pending.client,
        &format!("{}/sign-in/second-factor", app.office_url),
        &[("csrf", &csrf), ("code", &totp_now(&staff.totp_secret))],
    )
    .await;
    assert_redirect(&answer, "/", "signed in");
    let after = session_cookie(&answer).expect("a new cookie");
    assert_ne!(before, after, "rotated when the session became active");
    assert_ne!(other_browser, after);
    assert_redirect(
        &get_with_cookie(&app, "/", &before).await,
        "/sign-in",
        "pre-active token",
    );
    assert_eq!(
        get_with_cookie(&app, "/", &after).await.status(),
        StatusCode::OK
    );

    // Signed out: the cookie no longer works, even replayed.
    let home = text(get_with_cookie(&app, "/", &after).await).await;
    let csrf = csrf_of(&home);
    let out = post_form(
        &pending.client,
        &format!("{}/sign-out", app.office_url),
        &[("csrf", &csrf)],
    )
    .await;
    assert_redirect(&out, "/sign-in", "signed out");
    assert_eq!(
        session_cookie(&out).as_deref(),
        Some(""),
        "the cookie is removed"
    );
    assert_redirect(
        &get_with_cookie(&app, "/", &after).await,
        "/sign-in",
        "replayed cookie",
    );

    // Idle for longer than 15 minutes: over.
    // (Other members of staff: a third TOTP code within 30 s would have to wait.)
    let idle = staff_client(&app, "auditor", "bank").await;
    set_session_time(
        &app,
        &idle.username,
        SessionTime::LastSeen,
        OffsetDateTime::now_utc() - Duration::minutes(14),
    )
    .await;
    assert_eq!(
        idle.get("/").await.status(),
        StatusCode::OK,
        "14 minutes idle is fine"
    );
    set_session_time(
        &app,
        &idle.username,
        SessionTime::LastSeen,
        OffsetDateTime::now_utc() - Duration::minutes(16),
    )
    .await;
    assert_redirect(&idle.get("/").await, "/sign-in", "16 minutes idle");
    assert_redirect(&idle.get("/").await, "/sign-in", "and it stays over");

    // Older than 8 hours, however busy: over.
    let long = staff_client(&app, "auditor", "bank").await;
    set_session_time(
        &app,
        &long.username,
        SessionTime::Created,
        OffsetDateTime::now_utc() - Duration::hours(8) - Duration::minutes(1),
    )
    .await;
    assert_redirect(&long.get("/").await, "/sign-in", "absolute expiry");
    app.stop().await;
}

#[tokio::test]
async fn sessions_rotate_end_at_sign_out_and_expire_sqlite() {
    sessions(Db::Sqlite).await;
}

#[tokio::test]
async fn sessions_rotate_end_at_sign_out_and_expire_postgres() {
    sessions(Db::Postgres).await;
}

#[tokio::test]
async fn sensitive_actions_ask_to_sign_in_again_after_five_minutes() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let admin = staff_client(&app, "administrator", "bank").await;
    let fields = [
        ("username", "suzuki"),
        ("role", "operator"),
        ("scope", "branches:001"),
    ];
    set_session_time(
        &app,
        &admin.username,
        SessionTime::Authenticated,
        OffsetDateTime::now_utc() - Duration::minutes(6),
    )
    .await;
    let answer = admin.post_form("/staff", &fields).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&answer).starts_with("/reauth?next="),
        "{}",
        location(&answer)
    );
    assert!(
        app.store()
            .staff_by_username("suzuki")
            .await
            .expect("store")
            .is_none()
    );

    // A wrong password is refused; `next` may only be a path of this site.
    let wrong = admin
        .post_form(
            "/reauth",
            &[
                ("password", "not it at all"),
                ("code", "000000"),
                ("next", "/staff"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::OK);
    let answer = admin
        .post_form(
            "/reauth",
            &[
                ("password", &admin.password),
                ("code", &totp_now(&admin.totp_secret)),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_redirect(&answer, "/", "an off-site next goes to the start page");

    let answer = admin.post_form("/staff", &fields).await;
    assert_eq!(answer.status(), StatusCode::OK, "recently signed in");
    assert!(
        app.store()
            .staff_by_username("suzuki")
            .await
            .expect("store")
            .is_some()
    );
    let events = app.store().recent_audit_events(20).await.expect("audit");
    assert!(
        events
            .iter()
            .any(|e| e.action == "staff.reauth" && e.outcome == "ok")
    );
    assert!(
        events
            .iter()
            .any(|e| e.action == "staff.add" && e.outcome == "ok")
    );
    app.stop().await;
}

#[tokio::test]
async fn administrators_add_disable_and_reset_staff() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let admin = staff_client(&app, "administrator", "bank").await;
    let operator = staff_client(&app, "operator", "branches:001").await;

    // Only administrators.
    assert_eq!(operator.get("/staff").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        operator
            .post_form("/staff", &[("username", "x-y-z")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let list = text(admin.get("/staff").await).await;
    assert!(list.contains(&operator.username) && list.contains(&admin.username));

    // Add: refusals name the field; success shows the one-time password once.
    let new = text(admin.get("/staff/new").await).await;
    assert!(new.contains("name=\"username\""));
    let refused = admin
        .post_form(
            "/staff",
            &[
                ("username", "sato"),
                ("role", "administrator"),
                ("scope", "branches:001"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(refused).await.contains("全店（bank）"));
    let taken = admin
        .post_form(
            "/staff",
            &[
                ("username", &operator.username),
                ("role", "operator"),
                ("scope", "bank"),
            ],
        )
        .await;
    assert!(text(taken).await.contains("すでに使われています"));
    let added = text(
        admin
            .post_form(
                "/staff",
                &[
                    ("username", "sato.h"),
                    ("role", "consultant"),
                    ("scope", "centers:shinjuku"),
                ],
            )
            .await,
    )
    .await;
    let one_time = one_time_password_of(&added);
    let sato = first_sign_in(&app, "sato.h", &one_time).await;
    assert_eq!(sato.get("/").await.status(), StatusCode::OK);

    // Reset: the sessions end, the one-time password and TOTP enrolment start over.
    let sato_id = staff_id(&app, "sato.h").await;
    let reset = admin
        .post_form(&format!("/staff/{sato_id}/reset"), &[])
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    let one_time = one_time_password_of(&text(reset).await);
    assert_redirect(&sato.get("/").await, "/sign-in", "reset ends the sessions");
    let sato = first_sign_in(&app, "sato.h", &one_time).await;

    // Disable: the sessions stop at once, and the right password no longer signs in.
    let operator_id = staff_id(&app, &operator.username).await;
    let answer = admin
        .post_form(&format!("/staff/{operator_id}/disable"), &[])
        .await;
    assert_redirect(&answer, "/staff", "disabled");
    assert_redirect(
        &operator.get("/").await,
        "/sign-in",
        "a disabled member's session",
    );
    let answer = post_form(
        &office_client(),
        &format!("{}/sign-in", app.office_url),
        &[
            ("username", &operator.username),
            ("password", &operator.password),
        ],
    )
    .await;
    assert!(session_cookie(&answer).is_none());
    assert!(
        text(answer).await.contains(WRONG_CREDENTIALS),
        "answered like a wrong password"
    );
    assert_eq!(
        sato.get("/").await.status(),
        StatusCode::OK,
        "others are not affected"
    );

    // Not oneself.
    let admin_id = staff_id(&app, &admin.username).await;
    let answer = admin
        .post_form(&format!("/staff/{admin_id}/disable"), &[])
        .await;
    assert_eq!(answer.status(), StatusCode::CONFLICT);

    let events = app.store().recent_audit_events(100).await.expect("audit");
    for action in ["staff.add", "staff.reset", "staff.disable"] {
        assert!(
            events
                .iter()
                .any(|e| e.action == action && e.subject_kind.as_deref() == Some("staff")),
            "{action}"
        );
    }
    app.stop().await;
}

fn one_time_password_of(page: &str) -> String {
    let re = regex_lite::Regex::new(r#"id="one-time-password">([a-z0-9-]+)<"#).expect("regex");
    re.captures(page)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no one-time password in:\n{page}"))
}

#[tokio::test]
async fn the_totp_seed_is_encrypted_at_rest() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let staff = staff_client(&app, "operator", "bank").await;
    let seed = totp_rs::Secret::try_from_base32(&staff.totp_secret).expect("seed");
    let bytes = app.database_bytes().await;
    assert!(!contains(&bytes, &staff.totp_secret));
    assert!(
        !bytes.windows(20).any(|w| w == seed.as_ref()),
        "the raw seed is not stored"
    );
    assert!(!contains(&bytes, &staff.password), "nor the password");
    app.stop().await;
}

#[tokio::test]
async fn the_staff_command_adds_lists_resets_and_disables() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"));
        command
            .arg("--data-dir")
            .arg(&app.data)
            .arg("--database-url")
            .arg(&app.database_url)
            .arg("staff")
            .args(args)
            .env("MADOGUCHI_LOG", "error");
        common::output_of(command)
    };
    let added = run(&[
        "add",
        "--username",
        "kato",
        "--role",
        "supervisor",
        "--scope",
        "branches:001,002",
        "--format",
        "json",
    ])
    .await;
    assert_eq!(
        added.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&added.stdout).expect("json");
    let one_time = json["one_time_password"]
        .as_str()
        .expect("password")
        .to_owned();
    assert_eq!(json["must_change_password"], true);

    let again = run(&[
        "add",
        "--username",
        "kato",
        "--role",
        "supervisor",
        "--scope",
        "bank",
    ])
    .await;
    assert_eq!(again.status.code(), Some(4), "already taken");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--username"));
    let bad = run(&[
        "add",
        "--username",
        "ito",
        "--role",
        "boss",
        "--scope",
        "bank",
    ])
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--role is not valid: use operator"));
    let bad = run(&[
        "add",
        "--username",
        "ito",
        "--role",
        "operator",
        "--scope",
        "branches:1",
    ])
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--scope"));
    assert_eq!(run(&["disable", "nobody"]).await.status.code(), Some(3));

    let list = run(&["list", "--format", "json"]).await;
    assert_eq!(list.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    let kato = &json["staff"][0];
    assert_eq!(kato["username"], "kato");
    assert_eq!(kato["state"], "new");
    assert_eq!(kato["scope"], "branches:001,002");

    // The one-time password signs in (and must be changed).
    let kato = first_sign_in(&app, "kato", &one_time).await;
    let kato_id = app
        .store()
        .staff_by_username("kato")
        .await
        .expect("store")
        .expect("kato")
        .id;
    app.store()
        .add_staff_passkey(&madoguchi_store::NewPasskey {
            id: uuid::Uuid::now_v7(),
            staff_id: kato_id,
            credential_id: b"kato's laptop",
            name: "laptop",
            passkey: "{}",
            at: time::OffsetDateTime::now_utc(),
        })
        .await
        .expect("a passkey");
    let reset = run(&["reset", "kato"]).await;
    assert_eq!(
        reset.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(String::from_utf8_lossy(&reset.stdout).contains("one-time password: "));
    assert_redirect(&kato.get("/").await, "/sign-in", "reset ends the sessions");
    assert!(
        app.store()
            .staff_passkeys(kato_id)
            .await
            .expect("passkeys")
            .is_empty(),
        "a reset removes every second factor, passkeys included"
    );
    let disabled = run(&["disable", "kato"]).await;
    assert_eq!(
        disabled.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    let list = run(&["list"]).await;
    assert!(String::from_utf8_lossy(&list.stdout).contains("disabled"));
    let events = app.store().recent_audit_events(20).await.expect("audit");
    assert!(
        events
            .iter()
            .any(|e| e.actor == "cli:staff" && e.action == "staff.disable")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_renewed_at_sign_in() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let issued = accounts::add(app.store(), "ogawa", "auditor", "bank")
        .await
        .expect("add");
    // As if hashed years ago with weaker parameters.
    let old = madoguchi_office::sign_in::password::hash_with_costs(
        1024,
        1,
        1,
        issued.one_time_password.as_bytes(),
    )
    .expect("hash");
    assert!(old.contains("m=1024,t=1,p=1"));
    let pool = sqlx::SqlitePool::connect(&app.database_url)
        .await
        .expect("db");
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE username = 'ogawa'")
        .bind(&old)
        .execute(&pool)
        .await
        .expect("update");
    pool.close().await;

    let answer = post_form(
        &office_client(),
        &format!("{}/sign-in", app.office_url),
        &[
            ("username", "ogawa"),
            ("password", issued.one_time_password.as_str()),
        ],
    )
    .await;
    assert_redirect(&answer, "/totp/enroll", "the old hash still signs in");
    let row = app
        .store()
        .staff_by_username("ogawa")
        .await
        .expect("store")
        .expect("staff");
    assert!(
        row.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "renewed with the current parameters: {}",
        row.password_hash
    );
    assert!(row.must_change_password, "still the same one-time password");
    // And the renewed hash is of the same password.
    let again = first_sign_in(&app, "ogawa", issued.one_time_password.as_str()).await;
    assert_eq!(again.get("/").await.status(), StatusCode::OK);
    app.stop().await;
}

/// A forged passkey answer (no ceremony of this session, no signature the server can check)
/// is a failed second factor like a wrong code: audited, and the fifth locks the account.
/// An empty answer (the browser ran no script) is not counted.
#[tokio::test]
async fn forged_passkey_answers_count_as_failures_and_lock_the_account() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let staff = staff_client(&app, "operator", "branches:101").await;
    assert_redirect(&staff.sign_out().await, "/sign-in", "signed out");
    let pending = password_step(&app, &staff).await;
    let forged = serde_json::json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null},
        "extensions": {},
    })
    .to_string();

    let empty = pending
        .post("/sign-in/passkey", &[("credential", "")])
        .await;
    assert_eq!(empty.status(), StatusCode::OK);
    assert!(text(empty).await.contains("パスキーの応答がありません"));
    for attempt in 1..=4 {
        let answer = pending
            .post("/sign-in/passkey", &[("credential", &forged)])
            .await;
        assert_eq!(answer.status(), StatusCode::OK, "attempt {attempt}");
        assert!(
            text(answer)
                .await
                .contains("パスキーを確認できませんでした")
        );
    }
    let fifth = pending
        .post("/sign-in/passkey", &[("credential", &forged)])
        .await;
    assert!(
        text(fifth).await.contains("回続けて間違えたため"),
        "the fifth failure locks the account"
    );
    let failures = app
        .store()
        .recent_audit_events(50)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| {
            e.action == "staff.sign-in"
                && e.outcome == "failed"
                && e.detail.as_deref() == Some("passkey")
        })
        .count();
    assert_eq!(
        failures, 5,
        "each forged answer is audited, the empty one is not"
    );
    // Locked: even the right password is refused now.
    let answer = post_form(
        &office_client(),
        &format!("{}/sign-in", app.office_url),
        &[("username", &staff.username), ("password", &staff.password)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(text(answer).await.contains("分間サインインできません"));
    app.stop().await;
}

// -------------------------------------------------------------------------------------------
// Issue 16, 2: the lock-out holds under parallel requests, on two instances.

/// Failed sign-in events of `username` with `detail`.
async fn failures_of(app: &TestApp, username: &str, detail: &str) -> usize {
    let id = staff_id(app, username).await.to_string();
    app.store()
        .recent_audit_events(5000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| {
            e.action == "staff.sign-in"
                && e.outcome == "failed"
                && e.subject_id.as_deref() == Some(&id)
                && e.detail.as_deref() == Some(detail)
        })
        .count()
}

async fn locked_until(app: &TestApp, username: &str) -> Option<OffsetDateTime> {
    app.store()
        .staff_by_username(username)
        .await
        .expect("store")
        .expect("staff")
        .locked_until
}

/// The lock-out's end moved into the past, as time passing would.
async fn expire_lock(app: &TestApp, username: &str) {
    let id = staff_id(app, username).await;
    let past = madoguchi_store::db_time(OffsetDateTime::now_utc() - Duration::minutes(1));
    let sql = "UPDATE staff SET locked_until = $1 WHERE id = $2";
    match app.db {
        Db::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url)
                .await
                .expect("db");
            sqlx::query(sql)
                .bind(past)
                .bind(id)
                .execute(&pool)
                .await
                .expect("update");
            pool.close().await;
        }
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.expect("db");
            sqlx::query(sql)
                .bind(past)
                .bind(id)
                .execute(&pool)
                .await
                .expect("update");
            pool.close().await;
        }
    }
}

/// Limits of the address rule out of the way: these races are about the account's.
fn account_limits_only() -> common::Options {
    common::Options {
        profile_edits: vec![(
            "failed_sign_ins_per_hour = 20",
            "failed_sign_ins_per_hour = 1000",
        )],
        ..common::Options::default()
    }
}

/// 30 parallel sign-ins of one account over two instances, 29 wrong and 1 right: exactly 5
/// passwords are found wrong (no more are checked), the account is locked, and no session
/// of it is left, whichever request the right password came in. The next lock-out in a row
/// lasts twice as long.
async fn parallel_passwords(db: Db) {
    const N: usize = 30;
    let Some(app) = TestApp::spawn_with(db, account_limits_only()).await else {
        return;
    };
    let sibling = app.spawn_sibling(account_limits_only()).await;
    let staff = staff_client(&app, "operator", "branches:001").await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..N {
        let base = if i % 2 == 0 {
            app.office_url.clone()
        } else {
            sibling.office_url.clone()
        };
        let username = staff.username.clone();
        let password = if i == N / 2 {
            staff.password.clone()
        } else {
            format!("wrong-guess-{i}-Kq7")
        };
        burst.spawn(async move {
            let client = office_client();
            let answer = post_form(
                &client,
                &format!("{base}/sign-in"),
                &[("username", &username), ("password", &password)],
            )
            .await;
            (answer.status(), client)
        });
    }
    let answers = burst.join_all().await;
    assert_eq!(
        failures_of(&app, &staff.username, "password").await,
        5,
        "exactly five wrong passwords were checked"
    );
    let through = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::SEE_OTHER)
        .count();
    assert!(through <= 1, "only the right password can get through");
    assert_eq!(
        failures_of(&app, &staff.username, "locked").await,
        N - 5 - through,
        "every other attempt was refused unchecked, and audited"
    );
    let until = locked_until(&app, &staff.username).await.expect("locked");
    let first = until - OffsetDateTime::now_utc();
    assert!(
        first > Duration::minutes(14) && first <= Duration::minutes(15),
        "{first}"
    );
    assert_eq!(
        open_sessions(&app, &staff.username).await,
        0,
        "no session survives the lock"
    );
    for (_, client) in &answers {
        let page = client
            .get(format!("{}/sign-in/second-factor", app.office_url))
            .send()
            .await
            .expect("request");
        assert_redirect(&page, "/sign-in", "no client reaches the second factor");
    }

    // The lock ends; five more wrong in a row lock it for twice as long.
    expire_lock(&app, &staff.username).await;
    let client = office_client();
    for _ in 0..5 {
        post_form(
            &client,
            &format!("{}/sign-in", app.office_url),
            &[
                ("username", &staff.username),
                ("password", "wrong-again-Zz1"),
            ],
        )
        .await;
    }
    let until = locked_until(&app, &staff.username).await.expect("locked");
    let second = until - OffsetDateTime::now_utc();
    assert!(
        second > Duration::minutes(29) && second <= Duration::minutes(30),
        "{second}"
    );
    sibling.stop().await;
    app.stop().await;
}

/// Open sessions of `username`.
async fn open_sessions(app: &TestApp, username: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM staff_sessions WHERE ended_at IS NULL \
               AND staff_id = (SELECT id FROM staff WHERE username = $1)";
    match app.db {
        Db::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url)
                .await
                .expect("db");
            let n = sqlx::query_scalar(sql)
                .bind(username)
                .fetch_one(&pool)
                .await;
            pool.close().await;
            n.expect("count")
        }
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.expect("db");
            let n = sqlx::query_scalar(sql)
                .bind(username)
                .fetch_one(&pool)
                .await;
            pool.close().await;
            n.expect("count")
        }
    }
}

#[tokio::test]
async fn parallel_passwords_check_no_more_than_five_sqlite() {
    parallel_passwords(Db::Sqlite).await;
}

#[tokio::test]
async fn parallel_passwords_on_two_instances_check_no_more_than_five_postgres() {
    parallel_passwords(Db::Postgres).await;
}

/// With the password known, 20 parallel second-factor codes over two instances: exactly 5
/// are checked, the account is locked and the session ended.
async fn parallel_codes(db: Db) {
    const N: usize = 20;
    let Some(app) = TestApp::spawn_with(db, account_limits_only()).await else {
        return;
    };
    let sibling = app.spawn_sibling(account_limits_only()).await;
    let staff = staff_client(&app, "operator", "branches:001").await;
    let pending = password_step(&app, &staff).await;
    let other = Pending {
        client: pending.client.clone(),
        csrf: pending.csrf.clone(),
        office_url: sibling.office_url.clone(),
    };
    // Never a code of the steps around now.
    let step = OffsetDateTime::now_utc().unix_timestamp().unsigned_abs() / 30;
    let valid: Vec<String> = (step - 2..=step + 2)
        .map(|s| office::totp_at_step(&staff.totp_secret, s))
        .collect();
    let wrong: Vec<String> = (0..)
        .map(|i| format!("{:06}", 271_828 + i * 7))
        .filter(|code| !valid.contains(code))
        .take(N)
        .collect();
    let pending = std::sync::Arc::new([pending, other]);
    let mut burst = tokio::task::JoinSet::new();
    for (i, code) in wrong.into_iter().enumerate() {
        let pending = pending.clone();
        burst.spawn(async move {
            pending[i % 2]
                .post("/sign-in/second-factor", &[("code", &code)])
                .await
                .status()
        });
    }
    let statuses = burst.join_all().await;
    assert_eq!(
        failures_of(&app, &staff.username, "second-factor").await,
        5,
        "exactly five codes were checked"
    );
    // The others were refused unchecked: audited by the lock, or (once the lock ended the
    // session) turned away as signed out.
    let signed_out = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(
        failures_of(&app, &staff.username, "second-factor-locked").await + signed_out,
        N - 5,
        "{statuses:?}"
    );
    assert!(locked_until(&app, &staff.username).await.is_some());
    assert_eq!(open_sessions(&app, &staff.username).await, 0);
    // The right code no longer helps: the session is over.
    let code = totp_now(&staff.totp_secret);
    let answer = pending[0]
        .post("/sign-in/second-factor", &[("code", &code)])
        .await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "signed out");
    let home = pending[0]
        .client
        .get(format!("{}/", app.office_url))
        .send()
        .await
        .expect("request");
    assert_redirect(&home, "/sign-in", "no session");
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn parallel_second_factor_codes_check_no_more_than_five_sqlite() {
    parallel_codes(Db::Sqlite).await;
}

#[tokio::test]
async fn parallel_second_factor_codes_on_two_instances_check_no_more_than_five_postgres() {
    parallel_codes(Db::Postgres).await;
}

/// Issue 16, 7: a password changed (because it leaked, say) ends the member's other
/// sessions; the session that changed it goes on.
#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let staff = staff_client(&app, "operator", "branches:001").await;
    let elsewhere =
        office::sign_in(&app, &staff.username, &staff.password, &staff.totp_secret).await;
    assert_eq!(elsewhere.get("/").await.status(), StatusCode::OK);
    let new_password = "an entirely new passphrase 2026";
    let answer = staff
        .post_form(
            "/password",
            &[
                ("current", &staff.password),
                ("new_password", new_password),
                ("confirmation", new_password),
            ],
        )
        .await;
    assert_redirect(&answer, "/", "password changed");
    assert_eq!(
        staff.get("/").await.status(),
        StatusCode::OK,
        "this session goes on"
    );
    assert_redirect(
        &elsewhere.get("/").await,
        "/sign-in",
        "the other session has ended",
    );
    app.stop().await;
}
