//! The back office end to end, in real headless Chromium (SPEC §5): the first administrator
//! comes from `madoguchi staff add`, signs in with the one-time password, enrols TOTP, picks a
//! password and creates an operator and a supervisor on the staff pages. An applicant applies
//! for a savings account; the operator reveals the name with a purpose and marks the
//! application reviewed; the supervisor approves it and presses the hand-off button. Core
//! banking opens the batch (`madoguchi core open`: the cash-card PIN comes out as typed) and
//! answers with an account number (`madoguchi handoff import`): the application is completed,
//! its sealed secrets and identity documents are gone, and it still reads as completed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::applicant::{Applicant, apply};
use common::browser::Browser;
use common::office::totp_now;
use common::{Db, TestApp};
use sqlx::Connection;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_madoguchi");

/// A member of staff as the test knows them after their first sign-in.
struct Staff {
    username: String,
    password: String,
    totp_secret: String,
}

/// Runs the real binary against the app's data folder and database.
async fn madoguchi(app: &TestApp, args: &[&str]) -> Output {
    let output = common::madoguchi(app, args).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "madoguchi {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Step 2: the first administrator, from the command line; returns the one-time password.
async fn add_first_administrator(app: &TestApp, username: &str) -> String {
    let added = madoguchi(
        app,
        &[
            "staff",
            "add",
            "--username",
            username,
            "--role",
            "administrator",
            "--scope",
            "bank",
        ],
    )
    .await;
    let stdout = String::from_utf8(added.stdout).expect("utf-8");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("one-time password: "))
        .unwrap_or_else(|| panic!("no one-time password printed:\n{stdout}"))
        .trim()
        .to_owned()
}

/// The first sign-in in Chromium: the one-time password, the authenticator app enrolled with
/// the key shown on the page, a password of one's own; ends on the start page.
async fn first_sign_in(
    browser: &Browser,
    office_url: &str,
    username: &str,
    one_time_password: &str,
) -> Staff {
    browser
        .client
        .goto(&format!("{office_url}/sign-in"))
        .await
        .expect("open the back office");
    assert_eq!(browser.text_of("main h1").await, "サインイン");
    browser.fill("username", username).await;
    browser.fill("password", one_time_password).await;
    browser.submit().await;

    assert_eq!(
        browser.path().await,
        "/totp/enroll",
        "{}",
        browser.text().await
    );
    assert_eq!(browser.text_of("main h1").await, "認証アプリの登録");
    let totp_secret = browser.text_of("#totp-secret").await.replace(' ', "");
    browser.fill("code", &totp_now(&totp_secret)).await;
    browser.submit().await;

    assert_eq!(
        browser.path().await,
        "/password",
        "{}",
        browser.text().await
    );
    assert_eq!(browser.text_of("main h1").await, "パスワードの変更");
    let password = format!("kestrel meadow {} lantern", Uuid::new_v4().simple());
    browser.fill("new_password", &password).await;
    browser.fill("confirmation", &password).await;
    browser.submit().await;

    assert_eq!(browser.path().await, "/", "{}", browser.text().await);
    assert_eq!(browser.text_of("main h1").await, "トップ");
    let who = browser.text_of("header .who span").await;
    assert!(who.contains(username), "signed in as {username}: {who}");
    Staff {
        username: username.to_owned(),
        password,
        totp_secret,
    }
}

/// When a sensitive action asked to sign in again: the password and a fresh code, then back
/// to the page the form was on. Says whether it was asked (the action is then done again).
async fn reauth_if_asked(browser: &Browser, staff: &Staff) -> bool {
    if browser.path().await != "/reauth" {
        return false;
    }
    assert_eq!(browser.text_of("main h1").await, "もう一度サインイン");
    browser.fill("password", &staff.password).await;
    browser.fill("code", &totp_now(&staff.totp_secret)).await;
    browser.submit().await;
    assert_ne!(
        browser.path().await,
        "/reauth",
        "signed in again:\n{}",
        browser.text().await
    );
    true
}

async fn sign_out(browser: &Browser) {
    browser
        .click_and_wait("header form[action='/sign-out'] button[type=submit]")
        .await;
    assert_eq!(browser.path().await, "/sign-in");
    assert_eq!(browser.text_of("main h1").await, "サインイン");
}

/// Step 3, on the staff pages: a member of staff added; returns the one-time password shown.
async fn add_staff(
    browser: &Browser,
    admin: &Staff,
    username: &str,
    role: &str,
    scope: &str,
) -> String {
    loop {
        browser.click_and_wait("header nav a[href='/staff']").await;
        assert_eq!(browser.text_of("main h1").await, "職員管理");
        browser.click_and_wait("main a[href='/staff/new']").await;
        assert_eq!(browser.text_of("main h1").await, "職員の追加");
        browser.fill("username", username).await;
        browser.select("role", role).await;
        browser.fill("scope", scope).await;
        browser
            .click_and_wait("form[action='/staff'] button[type=submit]")
            .await;
        if !reauth_if_asked(browser, admin).await {
            break;
        }
    }
    assert_eq!(
        browser.text_of("main h1").await,
        "職員を追加しました",
        "{}",
        browser.text().await
    );
    assert!(
        browser
            .text()
            .await
            .contains(&format!("職員「{username}」を追加しました"))
    );
    let one_time_password = browser.text_of("#one-time-password").await;
    assert!(
        !one_time_password.is_empty(),
        "a one-time password is shown"
    );
    one_time_password
}

/// Step 3: the administrator's session.
async fn administrator_creates_the_reviewers(
    browser: &Browser,
    app: &TestApp,
    username: &str,
    one_time_password: &str,
) -> (String, String) {
    let admin = first_sign_in(browser, &app.office_url, username, one_time_password).await;
    let operator = add_staff(browser, &admin, "sato.operator", "operator", "branches:101").await;
    let supervisor = add_staff(
        browser,
        &admin,
        "suzuki.supervisor",
        "supervisor",
        "branches:101",
    )
    .await;
    browser.click_and_wait("header nav a[href='/staff']").await;
    let list = browser.text_of("main table").await;
    for name in [
        admin.username.as_str(),
        "sato.operator",
        "suzuki.supervisor",
    ] {
        assert!(list.contains(name), "{name} is listed:\n{list}");
    }
    sign_out(browser).await;
    (operator, supervisor)
}

/// Opens the application from the queue, by its receipt number.
async fn open_from_queue(browser: &Browser, receipt: &str) {
    browser
        .click_and_wait("header nav a[href='/applications']")
        .await;
    assert_eq!(browser.path().await, "/applications");
    assert_eq!(browser.text_of("main h1").await, "申込一覧");
    let queue = browser.text_of("#queue").await;
    assert!(queue.contains(receipt), "{receipt} in the queue:\n{queue}");
    let link = browser
        .client
        .find(fantoccini::Locator::LinkText(receipt))
        .await
        .expect("the application's link");
    let old = browser
        .client
        .find(fantoccini::Locator::Css("html"))
        .await
        .expect("page");
    link.click().await.expect("click");
    wait_until_gone(old).await;
    browser
        .client
        .wait()
        .for_element(fantoccini::Locator::Css("main h1"))
        .await
        .expect("application page");
    assert_eq!(browser.text_of("main h1").await, format!("申込 {receipt}"));
}

/// Waits until the document `old` has been replaced.
async fn wait_until_gone(old: fantoccini::elements::Element) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while old.tag_name().await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "no new page was loaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Chooses a move on the application page's status (or decision) form and sends it.
async fn choose_and_send(browser: &Browser, form: &str, to: &str) {
    browser
        .click(&format!(
            "form[action$='/{form}'] input[name='to'][value='{to}']"
        ))
        .await;
    browser
        .click_and_wait(&format!("form[action$='/{form}'] button[type=submit]"))
        .await;
}

/// Step 5: the operator's session.
async fn operator_reviews(
    browser: &Browser,
    app: &TestApp,
    one_time_password: &str,
    receipt: &str,
    applicant: &Applicant,
) {
    let operator =
        first_sign_in(browser, &app.office_url, "sato.operator", one_time_password).await;
    open_from_queue(browser, receipt).await;
    assert_eq!(browser.text_of("#status").await, "受付済");
    let personal = browser.text_of("#personal").await;
    assert!(
        !personal.contains(&applicant.family_name),
        "the name is masked until revealed:\n{personal}"
    );

    choose_and_send(browser, "status", "in-review").await;
    assert_eq!(browser.text_of("#status").await, "審査中");

    // The name, revealed for a purpose.
    loop {
        browser.click("#field-family_name").await;
        browser.click("#field-given_name").await;
        browser.select("purpose", "review").await;
        browser
            .click_and_wait("form[action$='/reveal'] button[type=submit]")
            .await;
        if !reauth_if_asked(browser, &operator).await {
            break;
        }
    }
    let page = browser.text().await;
    assert!(
        page.contains("利用目的「申込内容の審査」で表示しています"),
        "the purpose is named:\n{page}"
    );
    let personal = browser.text_of("#personal").await;
    assert!(
        personal.contains(&applicant.family_name) && personal.contains(&applicant.given_name),
        "the revealed name:\n{personal}"
    );

    choose_and_send(browser, "status", "reviewed").await;
    assert_eq!(browser.text_of("#status").await, "審査中");
    let operational = browser.text_of("#operational").await;
    assert!(
        operational.contains("あなた"),
        "marked reviewed by the operator:\n{operational}"
    );
    sign_out(browser).await;
}

/// Step 6: the supervisor's session; stays signed in.
async fn supervisor_approves_and_hands_off(
    browser: &Browser,
    app: &TestApp,
    one_time_password: &str,
    receipt: &str,
) -> Staff {
    let supervisor = first_sign_in(
        browser,
        &app.office_url,
        "suzuki.supervisor",
        one_time_password,
    )
    .await;
    open_from_queue(browser, receipt).await;
    assert_eq!(browser.text_of("#status").await, "審査中");
    choose_and_send(browser, "decision", "approved").await;
    assert_eq!(
        browser.text_of("#status").await,
        "承認済",
        "{}",
        browser.text().await
    );

    loop {
        browser
            .click_and_wait("header nav a[href='/handoff']")
            .await;
        assert_eq!(browser.text_of("main h1").await, "勘定系への連携");
        assert_eq!(browser.text_of("#handoff-waiting").await, "1");
        browser
            .click_and_wait("form[action='/handoff'] button[type=submit]")
            .await;
        if !reauth_if_asked(browser, &supervisor).await {
            break;
        }
    }
    let message = browser.text_of("#handoff-message").await;
    assert!(
        message.contains("作成しました") && message.contains("1件"),
        "the batch is written: {message}"
    );
    assert_eq!(browser.text_of("#handoff-waiting").await, "0");
    supervisor
}

/// The one batch the button wrote under `<data>/handoff/`.
fn written_batch(app: &TestApp) -> PathBuf {
    let batches: Vec<PathBuf> = std::fs::read_dir(app.data.join("handoff"))
        .expect("the hand-off folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "batch"))
        .collect();
    assert_eq!(batches.len(), 1, "one batch: {batches:?}");
    batches.into_iter().next().expect("one batch")
}

/// Step 7: core banking opens the batch with the real binary.
fn core_opens(app: &TestApp, batch: &Path, receipt: &str, applicant: &Applicant) {
    let signer = app.data.join("keys").join("handoff-signing.pub");
    let opened = std::process::Command::new(BIN)
        .args(["core", "open", "--key"])
        .arg(&app.core_private_key)
        .arg("--signer")
        .arg(&signer)
        .arg(batch)
        .env_remove("MADOGUCHI_HANDOFF_SIGNER")
        .env("MADOGUCHI_LOG", "error")
        .output()
        .expect("core open runs");
    assert_eq!(
        opened.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&opened.stdout).expect("JSON");
    let applications = json["applications"].as_array().expect("applications");
    assert_eq!(applications.len(), 1, "{json}");
    let opened = &applications[0];
    assert_eq!(opened["receipt_number"], receipt);
    assert_eq!(opened["branch_code"], "101");
    assert_eq!(
        opened["fields"]["family_name"],
        applicant.family_name.as_str()
    );
    assert_eq!(opened["secrets"]["cash-card-pin"], applicant.pin.as_str());
}

/// Step 8: core banking's answer, imported with the real binary.
async fn core_answers(app: &TestApp, receipt: &str) {
    let answer = serde_json::json!([
        {"receipt_number": receipt, "outcome": "opened", "branch_code": "101", "account_number": "3141592"},
    ]);
    let file = app.tmp.path().join("core-answer.json");
    std::fs::write(&file, serde_json::to_vec(&answer).expect("json")).expect("write answer");
    let imported = madoguchi(
        app,
        &["handoff", "import", file.to_str().expect("utf-8 path")],
    )
    .await;
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(
        stdout.contains(&format!("completed         {receipt}")),
        "{stdout}"
    );
}

async fn sqlite(app: &TestApp) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("open SQLite")
}

async fn count(app: &TestApp, sql: &'static str, id: Uuid) -> i64 {
    sqlx::query_scalar::<sqlx::Sqlite, i64>(sql)
        .bind(id)
        .fetch_one(&mut sqlite(app).await)
        .await
        .expect("count")
}

async fn document_ids(app: &TestApp, id: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar::<sqlx::Sqlite, Uuid>(
        "SELECT id FROM documents WHERE application_id = $1 OR draft_id = $1",
    )
    .bind(id)
    .fetch_all(&mut sqlite(app).await)
    .await
    .expect("documents")
}

#[tokio::test]
async fn staff_review_approve_and_hand_off_in_chromium() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };

    // 2. The first administrator, from the command line.
    let admin_password = add_first_administrator(&app, "yamada.admin").await;

    // 3. The administrator creates the operator and the supervisor.
    let (operator_password, supervisor_password) =
        administrator_creates_the_reviewers(&browser, &app, "yamada.admin", &admin_password).await;

    // 4. An applicant applies on the public site.
    let applicant = Applicant::new();
    let receipt = apply(&app, &TestApp::client(), &applicant).await;
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("look-up")
        .expect("the application is stored");
    let documents = document_ids(&app, id).await;
    assert!(
        !documents.is_empty(),
        "the application has identity documents"
    );
    for doc in &documents {
        assert!(app.data.join("documents").join(doc.to_string()).exists());
    }
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM application_secrets WHERE application_id = $1",
            id
        )
        .await
            > 0,
        "the PIN is sealed"
    );

    // 5. The operator reviews.
    operator_reviews(&browser, &app, &operator_password, &receipt, &applicant).await;

    // 6. The supervisor approves and hands off.
    let _supervisor =
        supervisor_approves_and_hands_off(&browser, &app, &supervisor_password, &receipt).await;

    // 7. Core banking opens the batch.
    core_opens(&app, &written_batch(&app), &receipt, &applicant);

    // 8. Core banking's answer: an account number.
    core_answers(&app, &receipt).await;

    // 9. Completed: the secrets and the identity documents are gone; the record reads on.
    open_from_queue(&browser, &receipt).await;
    assert_eq!(browser.text_of("#status").await, "完了");
    let status =
        sqlx::query_scalar::<sqlx::Sqlite, String>("SELECT status FROM applications WHERE id = $1")
            .bind(id)
            .fetch_one(&mut sqlite(&app).await)
            .await
            .expect("status");
    assert_eq!(status, "completed");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM application_secrets WHERE application_id = $1",
            id
        )
        .await,
        0,
        "the sealed secrets are deleted"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM documents WHERE application_id = $1 OR draft_id = $1",
            id
        )
        .await,
        0,
        "the identity documents' rows are deleted"
    );
    for doc in &documents {
        assert!(
            !app.data.join("documents").join(doc.to_string()).exists(),
            "the document's file {doc} is deleted"
        );
    }
    sign_out(&browser).await;

    browser.close().await;
    app.stop().await;
}

/// Passkeys (SPEC §5: "WebAuthn passkeys where the browser has them") in real Chromium with
/// WebDriver's virtual authenticator: a consultant registers one on the passkeys page, signs
/// out, and signs in again with the password and the passkey — no TOTP code. Another browser,
/// whose authenticator does not hold that passkey, is told so and signs in with a code.
#[tokio::test]
async fn a_passkey_replaces_the_totp_code_at_sign_in_in_chromium() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.add_virtual_authenticator().await;
    // Passkeys are bound to a domain name: the office is opened as localhost, not 127.0.0.1.
    let port = app.office_url.rsplit(':').next().expect("a port");
    let office = format!("http://localhost:{port}");
    let issued = madoguchi_office::staff_admin::accounts::add(
        app.store(),
        "higa.consultant",
        "consultant",
        "centers:naha",
    )
    .await
    .expect("staff add");
    let staff = first_sign_in(
        &browser,
        &office,
        "higa.consultant",
        issued.one_time_password.as_str(),
    )
    .await;

    // Register a passkey.
    browser.click_and_wait("main a[href='/passkeys']").await;
    assert_eq!(browser.text_of("main h1").await, "パスキー");
    assert_eq!(
        browser.text_of("#passkey-none").await,
        "登録済みのパスキーはありません。"
    );
    browser.fill("name", "窓口端末3").await;
    browser
        .click_and_wait("form[data-passkey='register'] button[type=submit]")
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("パスキー「窓口端末3」を登録しました。"),
        "registered:\n{page}"
    );
    assert!(browser.text_of("#passkey-list").await.contains("窓口端末3"));
    sign_out(&browser).await;

    // Sign in again: the password, then the passkey instead of a code.
    browser
        .client
        .goto(&format!("{office}/sign-in"))
        .await
        .expect("sign-in page");
    browser.fill("username", &staff.username).await;
    browser.fill("password", &staff.password).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/sign-in/second-factor");
    browser.click_and_wait("#passkey-sign-in").await;
    assert_eq!(browser.path().await, "/", "{}", browser.text().await);
    assert_eq!(browser.text_of("main h1").await, "トップ");
    assert!(
        browser
            .text_of("header .who span")
            .await
            .contains("higa.consultant")
    );
    let events = app.store().recent_audit_events(50).await.expect("audit");
    assert!(
        events
            .iter()
            .any(|e| e.action == "staff.passkey-add" && e.outcome == "ok")
    );
    let row = app
        .store()
        .staff_by_username("higa.consultant")
        .await
        .expect("store")
        .expect("staff");
    let passkeys = app.store().staff_passkeys(row.id).await.expect("passkeys");
    assert_eq!(passkeys.len(), 1);
    assert!(passkeys[0].last_used_at.is_some(), "the sign-in used it");
    sign_out(&browser).await;

    // A browser without that passkey: the ceremony cannot succeed, the code still can.
    let stranger = Browser::start().await.expect("a second Chromium");
    stranger.add_virtual_authenticator().await;
    stranger
        .client
        .goto(&format!("{office}/sign-in"))
        .await
        .expect("sign-in page");
    stranger.fill("username", &staff.username).await;
    stranger.fill("password", &staff.password).await;
    stranger.submit().await;
    assert_eq!(stranger.path().await, "/sign-in/second-factor");
    stranger.click("#passkey-sign-in").await;
    stranger
        .client
        .wait()
        .for_element(fantoccini::Locator::XPath(
            "//form[@data-passkey]//p[@role='status' and normalize-space(.) != '']",
        ))
        .await
        .expect("the page says the passkey did not work");
    assert_eq!(stranger.path().await, "/sign-in/second-factor");
    stranger.fill("code", &totp_now(&staff.totp_secret)).await;
    stranger.submit().await;
    assert_eq!(stranger.path().await, "/");
    stranger.close().await;

    browser.close().await;
    app.stop().await;
}
