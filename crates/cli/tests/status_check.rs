//! The status check over HTTP, on SQLite and on PostgreSQL: with the receipt number and a new
//! e-mail code an applicant sees the product, the status and the date of its last change, and
//! nothing of their own data; a miss answers exactly like a match and sends nothing.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::applicant::{Applicant, apply, code_in};
use common::{Db, Options, TestApp, csrf_of, decoded_mail, logs, post_form};
use madoguchi_domain::ReceiptNumber;
use sqlx::Connection;
use time::OffsetDateTime;
use time::macros::datetime;

/// What only the status check's code e-mail says.
const STATUS_MAIL: &str = "お申込み状況の確認画面";

/// Every status-check e-mail delivered to `to` so far.
fn status_mails(app: &TestApp, to: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(app.data.join("outbox")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| decoded_mail(&raw))
        .filter(|mail| mail.contains(&format!("To: {to}")) && mail.contains(STATUS_MAIL))
        .collect()
}

/// Waits (up to 10 s) for a status-check e-mail to `to` not in `seen`; returns its code.
async fn next_status_code(app: &TestApp, to: &str, seen: &mut HashSet<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(mail) = status_mails(app, to)
            .into_iter()
            .find(|m| !seen.contains(m))
        {
            seen.insert(mail.clone());
            return code_in(&mail);
        }
        assert!(Instant::now() < deadline, "no new status e-mail to {to}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the outbox worker has delivered everything queued so far.
async fn outbox_drained(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.store().outbox_len().await.expect("outbox length") > 0 {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Opens the status form in `client`'s session; returns its CSRF token.
async fn open_status(app: &TestApp, client: &reqwest::Client) -> String {
    let response = client
        .get(app.url("/status"))
        .send()
        .await
        .expect("status form");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    assert!(html.contains("お申込み状況の確認"), "{html}");
    csrf_of(&html)
}

/// Submits the status form; returns the final status, path and page.
async fn ask(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    receipt: &str,
    email: &str,
) -> (u16, String, String) {
    let response = post_form(
        client,
        &app.url("/status/start"),
        &[
            ("csrf", csrf),
            ("receipt_number", receipt),
            ("email", email),
        ],
    )
    .await;
    let status = response.status().as_u16();
    let path = response.url().path().to_owned();
    (status, path, response.text().await.expect("body"))
}

/// Sends a code; returns the status and the page.
async fn send_code(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    code: &str,
) -> (u16, String) {
    let response = post_form(
        client,
        &app.url("/status/verify"),
        &[("csrf", csrf), ("code", code)],
    )
    .await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Changes an application's status as the back office will: an UPDATE of operational columns.
async fn set_status(app: &TestApp, receipt: &str, status: &str, at: OffsetDateTime) {
    const UPDATE: &str =
        "UPDATE applications SET status = $1, updated_at = $2 WHERE receipt_number = $3";
    let at = madoguchi_store::db_time(at);
    let changed = match app.db {
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .expect("connect");
            sqlx::query(UPDATE)
                .bind(status)
                .bind(at)
                .bind(receipt)
                .execute(&mut conn)
                .await
                .expect("update")
                .rows_affected()
        }
        Db::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url)
                .await
                .expect("connect");
            sqlx::query(UPDATE)
                .bind(status)
                .bind(at)
                .bind(receipt)
                .execute(&mut conn)
                .await
                .expect("update")
                .rows_affected()
        }
    };
    assert_eq!(changed, 1, "one application has receipt number {receipt}");
}

/// Every personal value of the applicant, the receipt number too: a status page shows none.
fn private_values(applicant: &Applicant, receipt: &str) -> Vec<String> {
    let mut values = applicant.personal_values();
    values.extend([
        applicant.given_name.clone(),
        applicant.given_name_kana.clone(),
        applicant.postal_code.clone(),
        applicant.birth_date.clone(),
        receipt.to_owned(),
    ]);
    values
}

/// Checks a status from a browser that never saw the application; returns the status page.
async fn check_status(
    app: &TestApp,
    receipt: &str,
    email: &str,
    seen: &mut HashSet<String>,
) -> String {
    let client = TestApp::client();
    let csrf = open_status(app, &client).await;
    // Typed as people do: lower case, without hyphens.
    let typed = receipt.replace('-', "").to_lowercase();
    let (status, path, _) = ask(app, &client, &csrf, &typed, email).await;
    assert_eq!((status, path.as_str()), (200, "/status/verify"));
    let code = next_status_code(app, email, seen).await;
    let (status, page) = send_code(app, &client, &csrf, &code).await;
    assert_eq!(status, 200, "{page}");
    // The status is shown once: the same code again starts over.
    let (again, html) = send_code(app, &client, &csrf, &code).await;
    assert_eq!(again, 422);
    assert!(
        html.contains("受付番号とメールアドレスを入力し直してください"),
        "{html}"
    );
    page
}

async fn the_applicant_sees_the_status_and_nothing_else(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let applicant = Applicant::new();
    let receipt = apply(&app, &TestApp::client(), &applicant).await;
    app.wait_for_mail(&applicant.email, &receipt).await;
    let mut seen = HashSet::new();

    let page = check_status(&app, &receipt, &applicant.email, &mut seen).await;
    assert!(page.contains("受付済み"), "{page}");
    assert!(page.contains("普通預金口座開設"), "{page}");
    let today = OffsetDateTime::now_utc()
        .to_offset(madoguchi_domain::JST)
        .date();
    let today = format!(
        "{}年{}月{}日",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    assert!(page.contains(&today), "the date of the last change: {page}");
    for value in private_values(&applicant, &receipt) {
        assert!(!page.contains(&value), "the status page shows {value:?}");
    }
    let mail = status_mails(&app, &applicant.email).pop().expect("mail");
    for value in private_values(&applicant, &receipt) {
        assert!(
            value == applicant.email || !mail.contains(&value),
            "the code e-mail carries {value:?}"
        );
    }
    assert!(mail.contains("暗証番号やパスワードをお尋ねすることは絶対にありません"));

    // The back office moves the application on; the page follows.
    set_status(&app, &receipt, "in-review", datetime!(2026-03-09 16:30 UTC)).await;
    let page = check_status(&app, &receipt, &applicant.email, &mut seen).await;
    assert!(page.contains("審査中"), "{page}");
    assert!(!page.contains("受付済み"), "{page}");
    assert!(
        page.contains("2026年3月10日"),
        "the last change, dated in Japan time: {page}"
    );
    for (status, label) in [
        ("more-information-needed", "追加書類のお願い"),
        ("completed", "手続き完了"),
        ("rejected", "お申込みをお受けできませんでした"),
    ] {
        set_status(&app, &receipt, status, OffsetDateTime::now_utc()).await;
        let page = check_status(&app, &receipt, &applicant.email, &mut seen).await;
        assert!(page.contains(label), "{status}: {page}");
        for value in private_values(&applicant, &receipt) {
            assert!(!page.contains(&value), "the status page shows {value:?}");
        }
    }

    let logged = logs::captured();
    for value in applicant.personal_values() {
        assert!(
            !common::contains(&logged, &value),
            "{value:?} found in the server's log output"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn sqlite_the_applicant_sees_the_status_and_nothing_else() {
    the_applicant_sees_the_status_and_nothing_else(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_the_applicant_sees_the_status_and_nothing_else() {
    the_applicant_sees_the_status_and_nothing_else(Db::Postgres).await;
}

async fn a_miss_answers_like_a_match_and_sends_nothing(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let applicant = Applicant::new();
    let receipt = apply(&app, &TestApp::client(), &applicant).await;
    app.wait_for_mail(&applicant.email, &receipt).await;
    let stranger = Applicant::new().email;
    let unknown = ReceiptNumber::generate().expect("randomness").to_string();
    assert_ne!(unknown, receipt);

    let client = TestApp::client();
    let csrf = open_status(&app, &client).await;
    let (_, _, matched) = ask(&app, &client, &csrf, &receipt, &applicant.email).await;
    let mut seen = HashSet::new();
    let real_code = next_status_code(&app, &applicant.email, &mut seen).await;
    for (what, receipt, email) in [
        ("another address", receipt.as_str(), stranger.as_str()),
        (
            "an unknown receipt number",
            unknown.as_str(),
            &applicant.email,
        ),
        ("both unknown", unknown.as_str(), stranger.as_str()),
    ] {
        let (status, path, page) = ask(&app, &client, &csrf, receipt, email).await;
        assert_eq!((status, path.as_str()), (200, "/status/verify"), "{what}");
        assert_eq!(page, matched, "{what}: the same page as a match");
    }
    assert!(
        matched.contains("一致した場合は、そのメールアドレスに6桁の確認コードをお送りしました"),
        "{matched}"
    );
    // The session's check now matches nothing: even a real code does not open it.
    let (status, page) = send_code(&app, &client, &csrf, &real_code).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("確認コードが正しくありません"), "{page}");

    // Only the match sent an e-mail.
    outbox_drained(&app).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status_mails(&app, &applicant.email).len(), 1);
    assert!(status_mails(&app, &stranger).is_empty());

    // A value that cannot be a receipt number or an address is refused by its form alone:
    // the field is named, the fix is said, and nothing is looked up or sent.
    for (receipt, email, field_message) in [
        (
            "ABC",
            applicant.email.as_str(),
            "受付番号は「XXXX-XXXX-XXXX」の形式",
        ),
        (
            "0000-1111-OOOO",
            applicant.email.as_str(),
            "受付番号は「XXXX-XXXX-XXXX」の形式",
        ),
        ("", applicant.email.as_str(), "受付番号を入力してください"),
        (
            receipt.as_str(),
            "not-an-address",
            "メールアドレスを正しい形式で",
        ),
    ] {
        let (status, path, page) = ask(&app, &client, &csrf, receipt, email).await;
        assert_eq!(
            (status, path.as_str()),
            (422, "/status/start"),
            "{receipt} {email}"
        );
        assert!(page.contains(field_message), "{receipt} {email}: {page}");
    }
    outbox_drained(&app).await;
    assert_eq!(status_mails(&app, &applicant.email).len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn sqlite_a_miss_answers_like_a_match_and_sends_nothing() {
    a_miss_answers_like_a_match_and_sends_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_miss_answers_like_a_match_and_sends_nothing() {
    a_miss_answers_like_a_match_and_sends_nothing(Db::Postgres).await;
}

#[tokio::test]
async fn wrong_codes_run_out() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let applicant = Applicant::new();
    let receipt = apply(&app, &TestApp::client(), &applicant).await;
    let client = TestApp::client();
    let csrf = open_status(&app, &client).await;
    ask(&app, &client, &csrf, &receipt, &applicant.email).await;
    let right = next_status_code(&app, &applicant.email, &mut HashSet::new()).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let tries = madoguchi::demo::demo_profile()
        .expect("demo profile")
        .applications()
        .email_code_max_tries();
    for _ in 0..tries {
        let (status, page) = send_code(&app, &client, &csrf, wrong).await;
        assert_eq!(status, 422);
        assert!(page.contains("確認コードが正しくありません"));
        assert!(!page.contains("受付済み"));
    }
    let (status, page) = send_code(&app, &client, &csrf, &right).await;
    assert_eq!(status, 422);
    assert!(page.contains("入力回数の上限"), "{page}");
    assert!(
        !page.contains("受付済み"),
        "no status after the tries ran out"
    );
    // The code page is gone with the check.
    let response = client
        .get(app.url("/status/verify"))
        .send()
        .await
        .expect("verify");
    assert_eq!(response.url().path(), "/status");
    app.stop().await;
}

#[tokio::test]
async fn every_status_form_needs_its_csrf_token() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let applicant = Applicant::new();
    let receipt = apply(&app, &TestApp::client(), &applicant).await;
    let client = TestApp::client();
    let csrf = open_status(&app, &client).await;
    let other_session = open_status(&app, &TestApp::client()).await;
    for token in ["", "forged", other_session.as_str()] {
        let (status, _, _) = ask(&app, &client, token, &receipt, &applicant.email).await;
        assert_eq!(status, 403, "start with token {token:?}");
    }
    outbox_drained(&app).await;
    assert!(
        status_mails(&app, &applicant.email).is_empty(),
        "no code sent"
    );
    ask(&app, &client, &csrf, &receipt, &applicant.email).await;
    let code = next_status_code(&app, &applicant.email, &mut HashSet::new()).await;
    for token in ["", other_session.as_str()] {
        let (status, page) = send_code(&app, &client, token, &code).await;
        assert_eq!(status, 403, "code with token {token:?}");
        assert!(!page.contains("受付済み"));
    }
    let (status, page) = send_code(&app, &client, &csrf, &code).await;
    assert_eq!(status, 200, "the refused posts spent no try: {page}");
    assert!(page.contains("受付済み"));
    app.stop().await;
}

#[tokio::test]
async fn status_checks_are_rate_limited_per_client() {
    let two = std::num::NonZeroU32::new(2).expect("non-zero");
    let options = Options {
        rate_limits: madoguchi_public::RateLimitSettings {
            email_checks_per_minute: two,
            code_tries_per_minute: two,
            ..Default::default()
        },
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    let client = TestApp::client();
    let csrf = open_status(&app, &client).await;
    let email = Applicant::new().email;
    let unknown = ReceiptNumber::generate().expect("randomness").to_string();
    for _ in 0..2 {
        let (status, _, _) = ask(&app, &client, &csrf, &unknown, &email).await;
        assert_eq!(status, 200);
    }
    let response = post_form(
        &client,
        &app.url("/status/start"),
        &[
            ("csrf", &csrf),
            ("receipt_number", &unknown),
            ("email", &email),
        ],
    )
    .await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    for _ in 0..2 {
        let (status, _) = send_code(&app, &client, &csrf, "123456").await;
        assert_eq!(status, 422);
    }
    let (status, _) = send_code(&app, &client, &csrf, "123456").await;
    assert_eq!(status, 429, "code tries are limited per client too");
    app.stop().await;
}

#[tokio::test]
async fn the_home_page_links_to_the_status_check() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let home = TestApp::client()
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("body");
    assert!(home.contains(r#"<a href="/status">"#), "{home}");
    app.stop().await;
}

/// Issue 16, 5: status checks count towards the codes one address receives in an hour, over
/// every client — and whether the receipt number matches or not, so that the refusal is the
/// same for an address with applications and one without.
#[tokio::test]
async fn an_address_receives_at_most_the_hours_codes() {
    let Some(app) = TestApp::spawn_with(Db::Sqlite, Options::unlimited()).await else {
        return;
    };
    let applicant = Applicant::new();
    let receipt = apply(&app, &TestApp::client(), &applicant).await;
    let unknown = ReceiptNumber::generate().expect("randomness").to_string();
    // The application's own code was the first of the hour's ten.
    for i in 1..10 {
        let client = TestApp::client();
        let csrf = open_status(&app, &client).await;
        let asked = if i % 2 == 0 { &receipt } else { &unknown };
        let (status, path, _) = ask(&app, &client, &csrf, asked, &applicant.email).await;
        assert_eq!(
            (status, path.as_str()),
            (200, "/status/verify"),
            "check {i}"
        );
    }
    for asked in [&receipt, &unknown] {
        let client = TestApp::client();
        let csrf = open_status(&app, &client).await;
        let (status, _, page) = ask(&app, &client, &csrf, asked, &applicant.email).await;
        assert_eq!(status, 429, "{page}");
        assert!(page.contains("送信が上限に達しました"), "{page}");
    }
    // Another address is served.
    let client = TestApp::client();
    let csrf = open_status(&app, &client).await;
    let (status, _, _) = ask(&app, &client, &csrf, &unknown, "other.person@example.jp").await;
    assert_eq!(status, 200);
    app.stop().await;
}
