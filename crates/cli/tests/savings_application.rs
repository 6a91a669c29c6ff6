//! The account-opening slice end to end over HTTP, on SQLite and on PostgreSQL: what is stored
//! is unreadable without the right key, and nothing personal leaks to logs or e-mail.

mod common;

use common::applicant::{Applicant, apply, post_step, verify_email};
use common::{Db, TestApp, contains, contains_token, csrf_of, logs, post_form};
use madoguchi_core_open::CorePrivateKey;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EncryptedFields, SealedSecret, SecretKind, WrappedKey};

async fn submission_leaves_no_plaintext(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let applicant = Applicant::new();
    let client = TestApp::client();
    let receipt = apply(&app, &client, &applicant).await;

    // The confirmation e-mail: addressed to the applicant, naming only the name and receipt.
    let mail = app.wait_for_mail(&applicant.email, &receipt).await;
    assert!(
        mail.contains(&format!("To: {}", applicant.email)),
        "recipient header:\n{mail}"
    );
    assert!(
        mail.contains(&applicant.family_name) && mail.contains(&applicant.given_name),
        "name in body"
    );
    for private in [
        &applicant.phone_mobile,
        &applicant.address_line,
        &applicant.birth_date,
        &applicant.family_name_kana,
        &applicant.employer_name,
        &applicant.postal_code,
    ] {
        assert!(
            !mail.contains(private.as_str()),
            "the e-mail must not carry {private:?}"
        );
    }
    assert!(
        !mail.contains(&applicant.pin),
        "the e-mail must not carry the PIN"
    );
    assert!(
        mail.contains("暗証番号やパスワードをお尋ねすることは絶対にありません"),
        "standing warning"
    );

    // Nothing personal at rest, nothing in the logs.
    let stored = app.database_bytes().await;
    let logged = logs::captured();
    for value in applicant.personal_values() {
        assert!(
            !contains(&stored, &value),
            "{value:?} found in plaintext in the {db:?} database"
        );
        assert!(
            !contains(&logged, &value),
            "{value:?} found in the server's log output"
        );
    }
    assert!(
        !contains_token(&stored, &applicant.pin),
        "the PIN found in the {db:?} database"
    );
    assert!(
        !contains_token(&logged, &applicant.pin),
        "the PIN found in the server's log output"
    );

    // The sealed PIN opens with the core-banking private key, and with nothing else.
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("query")
        .expect("application stored under its receipt number");
    let sealed = app.store().sealed_secrets(id).await.expect("secrets");
    assert_eq!(sealed.len(), 1);
    let sealed = SealedSecret::from_stored(sealed[0].sealed.clone()).expect("sealed format");
    let core = CorePrivateKey::load(&app.core_private_key).expect("core key");
    let pin = core
        .open_secret(&sealed, SecretKind::CashCardPin, &id)
        .expect("core key opens the PIN");
    assert_eq!(pin.as_slice(), applicant.pin.as_bytes());
    let other = uuid::Uuid::now_v7();
    assert!(
        core.open_secret(&sealed, SecretKind::CashCardPin, &other)
            .is_err(),
        "bound to its application"
    );

    // The personal fields open with the back office's key, field by field.
    let record = app
        .store()
        .encrypted_personal_record(id)
        .await
        .expect("query")
        .expect("stored");
    let office = OfficeKeyring::load(&app.data.join("keys")).expect("office key");
    let wrapped = WrappedKey::from_stored(record.wrapped).expect("wrapped key format");
    let fields = EncryptedFields::from_bytes(&record.fields).expect("fields format");
    let record_key = office
        .open_record(&id, &wrapped)
        .expect("office key unwraps the data key");
    for (field, expected) in [
        ("family_name", &applicant.family_name),
        ("address_line", &applicant.address_line),
        ("email", &applicant.email),
    ] {
        let plain = record_key
            .decrypt_field(field, fields.get(field).expect("field stored"))
            .expect("decrypts");
        assert_eq!(plain.as_slice(), expected.as_bytes(), "{field}");
    }
    assert!(
        !fields.names().any(|name| name.contains("pin")),
        "no PIN among the personal fields"
    );
    app.stop().await;
}

#[tokio::test]
async fn sqlite_submission_leaves_no_plaintext() {
    submission_leaves_no_plaintext(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_submission_leaves_no_plaintext() {
    submission_leaves_no_plaintext(Db::Postgres).await;
}

async fn double_submit_creates_one_application(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let applicant = Applicant::new();
    let client = TestApp::client();
    let receipt = apply(&app, &client, &applicant).await;
    // The browser's back button and a second press of 申し込む.
    let page = client
        .get(app.url("/apply/savings-account"))
        .send()
        .await
        .expect("start")
        .text()
        .await
        .expect("body");
    let again = post_form(
        &client,
        &app.url("/apply/savings-account/submit"),
        &[("csrf", &csrf_of(&page))],
    )
    .await;
    assert_eq!(
        again.status(),
        410,
        "a second submission of the same draft is refused"
    );
    assert!(
        app.store()
            .application_id_by_receipt(&receipt)
            .await
            .expect("query")
            .is_some()
    );
    app.stop().await;
}

#[tokio::test]
async fn sqlite_double_submit_creates_one_application() {
    double_submit_creates_one_application(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_double_submit_creates_one_application() {
    double_submit_creates_one_application(Db::Postgres).await;
}

#[tokio::test]
async fn a_refused_step_names_the_field_keeps_the_input_and_never_the_pin() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let applicant = Applicant::new();
    let client = TestApp::client();
    verify_email(&app, &client, &applicant.email).await;

    let mut personal = applicant.personal_step();
    personal.retain(|(k, _)| *k != "family_name_kana");
    personal.push(("family_name_kana", "yamada".to_owned()));
    let refused = post_step(&app, &client, "personal", &personal).await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("body");
    assert!(
        html.contains("フリガナ（セイ）は全角カタカナで入力してください"),
        "message names the field and the fix"
    );
    assert!(
        html.contains(&format!("value=\"{}\"", applicant.address_line)),
        "other input kept"
    );

    let r = post_step(&app, &client, "personal", &applicant.personal_step()).await;
    assert!(r.url().path().ends_with("/profile"));
    let r = post_step(&app, &client, "profile", &applicant.profile_step()).await;
    assert!(r.url().path().ends_with("/identity"));
    let r = common::documents::upload_all(&app, &client).await;
    assert!(r.url().path().ends_with("/branch"));
    // The last four digits of the phone are refused as a PIN, and the PIN is not echoed.
    let weak = applicant.phone_mobile[applicant.phone_mobile.len() - 4..].to_owned();
    let branch = vec![
        ("branch_code", "101".to_owned()),
        ("cash_card_pin", weak.clone()),
        ("cash_card_pin_confirm", weak.clone()),
    ];
    let refused = post_step(&app, &client, "branch", &branch).await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("body");
    assert!(
        html.contains("電話番号の下4桁は暗証番号に使えません"),
        "PIN refusal explained"
    );
    assert!(
        !html.contains(&format!("value=\"{weak}\"")),
        "the PIN is never shown again"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_tries_run_out() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let email = Applicant::new().email;
    let csrf = app.open_application(&client).await;
    post_form(
        &client,
        &app.url("/apply/savings-account/email"),
        &[("csrf", &csrf), ("email", &email)],
    )
    .await;
    let mail = app.wait_for_mail(&email, "確認コード").await;
    let right = common::applicant::code_in(&mail);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let r = post_form(
            &client,
            &app.url("/apply/savings-account/verify"),
            &[("csrf", &csrf), ("code", wrong)],
        )
        .await;
        assert_eq!(r.status(), 422);
    }
    // The right code no longer works once the tries are spent.
    let r = post_form(
        &client,
        &app.url("/apply/savings-account/verify"),
        &[("csrf", &csrf), ("code", &right)],
    )
    .await;
    let html = r.text().await.expect("body");
    assert!(
        html.contains("入力回数の上限"),
        "exhausted check explained:\n{html}"
    );
    app.stop().await;
}

/// Issue 16, 7 (session fixation): a session value someone planted in the applicant's browser
/// is worth nothing once the e-mail is verified — the server renews the session there, and
/// the planted value reaches no draft.
#[tokio::test]
async fn verifying_the_email_renews_the_browser_session() {
    use reqwest::cookie::CookieStore as _;
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    // The attacker's own session value, as the server issues it.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let answer = bare
        .get(app.url("/apply/savings-account"))
        .send()
        .await
        .expect("start");
    let planted = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("mdg_session="))
        .and_then(|rest| rest.split(';').next())
        .expect("a session cookie")
        .to_owned();
    // The applicant's browser carries it, and verifies an address.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let site: reqwest::Url = app.public_url.parse().expect("url");
    jar.add_cookie_str(&format!("mdg_session={planted}; Path=/"), &site);
    let applicant = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .expect("client");
    verify_email(&app, &applicant, "fixed.session@example.jp").await;
    let cookies = jar
        .cookies(&site)
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .expect("cookies");
    assert!(cookies.contains("mdg_session="), "{cookies}");
    assert!(
        !cookies.contains(&planted),
        "the session was renewed: {cookies}"
    );
    // The applicant goes on; the planted value reaches nothing.
    let own = applicant
        .get(app.url("/apply/savings-account/personal"))
        .send()
        .await
        .expect("page");
    assert_eq!(own.status(), 200);
    let stolen = bare
        .get(app.url("/apply/savings-account/personal"))
        .header("cookie", format!("mdg_session={planted}"))
        .send()
        .await
        .expect("page");
    assert_ne!(stolen.status(), 200, "no draft under the planted value");
    let body = stolen.text().await.expect("body");
    assert!(!body.contains("fixed.session"), "{body}");
    assert!(!body.contains("f***@example.jp"), "{body}");
    app.stop().await;
}
