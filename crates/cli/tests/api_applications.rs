//! The applications through the JSON API, on SQLite and on PostgreSQL: each product end to end
//! (e-mail check → code from the outbox → token → submission → receipt number → status), the
//! secrets open only with the core-banking key, nothing personal or secret in clear in the
//! database, logs or outbox; bad input gets a clear 4xx; a token submits once; a burst from
//! one address meets 429 with Retry-After and the server keeps serving.

mod common;

use common::applicant::{Applicant, code_in};
use common::existing_account::{AccountHolder, outbox_text};
use common::{Db, Options, TestApp, contains, contains_token, logs};
use madoguchi_core_open::CorePrivateKey;
use madoguchi_seal::{SealedSecret, SecretKind};
use serde_json::{Map, Value, json};

trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> reqwest::Response {
    client
        .post(url)
        .json_body(body)
        .send()
        .await
        .expect("request")
}

async fn json_of(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Passes the e-mail check of `product` for `email`; returns the verification token.
async fn verify(app: &TestApp, client: &reqwest::Client, product: &str, email: &str) -> String {
    let started = post_json(
        client,
        &app.url("/api/v1/email-checks"),
        &json!({"email": email, "product": product}),
    )
    .await;
    assert_eq!(started.status(), 202, "check started");
    let started = json_of(started).await;
    let check_id = started["check_id"].as_str().expect("check_id").to_owned();
    let code = code_in(&app.wait_for_mail(email, "確認コード").await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = post_json(
        client,
        &app.url(&format!("/api/v1/email-checks/{check_id}/confirm")),
        &json!({"code": wrong}),
    )
    .await;
    assert_eq!(refused.status(), 422, "a wrong code");
    let refused = json_of(refused).await;
    assert_eq!(refused["fields"][0]["field"], "code");
    assert_eq!(refused["fields"][0]["code"], "code-wrong");
    assert!(
        refused["fields"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("確認コード")),
        "the form's message: {refused}"
    );
    let confirmed = post_json(
        client,
        &app.url(&format!("/api/v1/email-checks/{check_id}/confirm")),
        &json!({"code": code}),
    )
    .await;
    assert_eq!(confirmed.status(), 200, "code confirmed");
    let confirmed = json_of(confirmed).await;
    assert_eq!(confirmed["product"], product);
    let token = confirmed["verification_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // A code yields one token.
    let again = post_json(
        client,
        &app.url(&format!("/api/v1/email-checks/{check_id}/confirm")),
        &json!({"code": code}),
    )
    .await;
    assert_eq!(again.status(), 410, "the check is used");
    assert_eq!(json_of(again).await["code"], "code-expired");
    token
}

async fn submit(
    app: &TestApp,
    client: &reqwest::Client,
    product: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/v1/applications/{product}")))
        .bearer_auth(token)
        .json_body(body)
        .send()
        .await
        .expect("submission")
}

fn object(pairs: Vec<(&'static str, String)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect()
}

fn savings_body(applicant: &Applicant) -> Value {
    let mut body = object(applicant.personal_step());
    body.extend(object(
        applicant
            .profile_step()
            .into_iter()
            .filter(|(k, _)| *k != "purposes")
            .collect(),
    ));
    body.insert("purposes".into(), json!(["salary-pension", "savings"]));
    for yes_no in ["us_person", "foreign_pep"] {
        body.insert(yes_no.into(), json!(false));
    }
    for consent in [
        "anti_social_declaration",
        "consent_terms",
        "consent_privacy",
    ] {
        body.insert(consent.into(), json!(true));
    }
    body.insert("branch_code".into(), json!("101"));
    body.insert("cash_card_pin".into(), json!(applicant.pin));
    body.insert("cash_card_pin_confirm".into(), json!(applicant.pin));
    Value::Object(body)
}

fn internet_banking_body(holder: &AccountHolder) -> Value {
    let mut body = object(holder.customer_step());
    body.extend(object(holder.account_step()));
    body.extend(object(holder.credentials_step()));
    Value::Object(body)
}

fn debit_card_body(holder: &AccountHolder) -> Value {
    let mut body = object(holder.customer_step());
    body.extend(object(holder.account_step()));
    body.extend(object(holder.card_step()));
    Value::Object(body)
}

/// Opens each stored secret with the core key and compares it with what was sent.
async fn assert_secrets(app: &TestApp, receipt: &str, expected: &[(SecretKind, &str)]) {
    let id = app
        .store()
        .application_id_by_receipt(receipt)
        .await
        .expect("query")
        .expect("stored under its receipt number");
    let rows = app.store().sealed_secrets(id).await.expect("secrets");
    assert_eq!(rows.len(), expected.len());
    let core = CorePrivateKey::load(&app.core_private_key).expect("core key");
    for (kind, value) in expected {
        let row = rows
            .iter()
            .find(|r| r.kind == kind.label())
            .unwrap_or_else(|| panic!("{kind} stored"));
        let sealed = SealedSecret::from_stored(row.sealed.clone()).expect("sealed format");
        let opened = core.open_secret(&sealed, *kind, &id).expect("core opens");
        assert_eq!(opened.as_slice(), value.as_bytes(), "{kind}");
        assert!(
            core.open_secret(&sealed, *kind, &uuid::Uuid::now_v7())
                .is_err(),
            "bound to its application"
        );
    }
}

/// Checks the status through the API: start, code, result.
async fn status_through_api(app: &TestApp, client: &reqwest::Client, receipt: &str, email: &str) {
    let started = post_json(
        client,
        &app.url("/api/v1/status-checks"),
        &json!({"receipt_number": receipt, "email": email}),
    )
    .await;
    assert_eq!(started.status(), 202);
    let check_id = json_of(started).await["check_id"]
        .as_str()
        .expect("check_id")
        .to_owned();
    let mail = app.wait_for_mail(email, "お申込み状況の確認画面").await;
    let code = code_in(&mail);
    let shown = post_json(
        client,
        &app.url(&format!("/api/v1/status-checks/{check_id}/confirm")),
        &json!({"code": code}),
    )
    .await;
    assert_eq!(shown.status(), 200);
    let shown = json_of(shown).await;
    assert_eq!(shown["status"], "submitted", "{shown}");
    let text = shown.to_string();
    assert!(!text.contains(email), "nothing personal echoed");
}

async fn each_product_end_to_end(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let client = TestApp::client();

    // 普通預金口座開設.
    let applicant = Applicant::new();
    let token = verify(&app, &client, "savings-account", &applicant.email).await;
    let answer = submit(
        &app,
        &client,
        "savings-account",
        &token,
        &savings_body(&applicant),
    )
    .await;
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let savings_receipt = json_of(answer).await["receipt_number"]
        .as_str()
        .expect("receipt")
        .to_owned();
    app.wait_for_mail(&applicant.email, &savings_receipt).await;
    assert_secrets(
        &app,
        &savings_receipt,
        &[(SecretKind::CashCardPin, &applicant.pin)],
    )
    .await;
    // The token submits once.
    let reused = submit(
        &app,
        &client,
        "savings-account",
        &token,
        &savings_body(&applicant),
    )
    .await;
    assert_eq!(reused.status(), 401, "token reuse refused");
    assert!(reused.headers().contains_key("www-authenticate"));
    assert_eq!(json_of(reused).await["code"], "token-invalid");

    // インターネットバンキング.
    let ib = AccountHolder::new();
    let token = verify(&app, &client, "internet-banking", &ib.email).await;
    // A token is for its product only.
    let other = submit(&app, &client, "debit-card", &token, &debit_card_body(&ib)).await;
    assert_eq!(other.status(), 401, "another product's token");
    let answer = submit(
        &app,
        &client,
        "internet-banking",
        &token,
        &internet_banking_body(&ib),
    )
    .await;
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let ib_receipt = json_of(answer).await["receipt_number"]
        .as_str()
        .expect("receipt")
        .to_owned();
    app.wait_for_mail(&ib.email, &ib_receipt).await;
    assert_secrets(
        &app,
        &ib_receipt,
        &[
            (SecretKind::CashCardPin, &ib.cash_card_pin),
            (SecretKind::LogonPassword, &ib.logon_password),
        ],
    )
    .await;

    // Visaデビットカード.
    let dc = AccountHolder::new();
    let token = verify(&app, &client, "debit-card", &dc.email).await;
    let answer = submit(&app, &client, "debit-card", &token, &debit_card_body(&dc)).await;
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let dc_receipt = json_of(answer).await["receipt_number"]
        .as_str()
        .expect("receipt")
        .to_owned();
    app.wait_for_mail(&dc.email, &dc_receipt).await;
    assert_secrets(
        &app,
        &dc_receipt,
        &[(SecretKind::DebitCardPin, &dc.debit_card_pin)],
    )
    .await;

    status_through_api(&app, &client, &ib_receipt, &ib.email).await;

    // Nothing personal or secret in clear at rest, in the logs or in the outbox.
    let stored = app.database_bytes().await;
    let logged = logs::captured();
    let outbox = outbox_text(&app.data);
    let mut personal = applicant.personal_values();
    personal.extend(ib.personal_values());
    personal.extend(dc.personal_values());
    for value in &personal {
        assert!(
            !contains(&stored, value),
            "{value:?} in the {db:?} database"
        );
        assert!(!contains(&logged, value), "{value:?} in the logs");
    }
    for value in ib.private_values().iter().chain(dc.private_values().iter()) {
        assert!(!contains(&outbox, value), "{value:?} in the outbox");
    }
    for (what, haystack) in [
        ("database", &stored),
        ("logs", &logged),
        ("outbox", &outbox),
    ] {
        assert!(
            !contains(haystack, &ib.logon_password),
            "password in the {what}"
        );
        for pin in [&applicant.pin, &ib.cash_card_pin, &dc.debit_card_pin] {
            assert!(!contains_token(haystack, pin), "a PIN in the {what}");
        }
        assert!(!contains(haystack, &token), "a token in the {what}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sqlite_each_product_end_to_end() {
    each_product_end_to_end(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_each_product_end_to_end() {
    each_product_end_to_end(Db::Postgres).await;
}

async fn bad_input_gets_a_clear_refusal(db: Db) {
    let Some(app) = TestApp::spawn_with(db, Options::unlimited()).await else {
        return;
    };
    let client = TestApp::client();
    let checks = app.url("/api/v1/email-checks");

    // Wrong types name their field.
    let answer = post_json(&client, &checks, &json!({"email": 12, "product": ["x"]})).await;
    assert_eq!(answer.status(), 422);
    let body = json_of(answer).await;
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"product"),
        "{body}"
    );
    assert!(body["fields"][0]["code"] == "invalid-type", "{body}");

    // Missing fields: the forms' codes and messages.
    let answer = post_json(&client, &checks, &json!({})).await;
    assert_eq!(answer.status(), 422);
    let body = json_of(answer).await;
    assert!(
        body["fields"].as_array().is_some_and(|f| f.len() == 2),
        "{body}"
    );
    assert!(
        body["fields"].as_array().expect("fields").iter().all(
            |f| f["code"] == "required" && f["message"].as_str().is_some_and(|m| !m.is_empty())
        )
    );
    let answer = post_json(
        &client,
        &checks,
        &json!({"email": "a@example.jp", "product": "car-loan"}),
    )
    .await;
    assert_eq!(json_of(answer).await["fields"][0]["code"], "invalid-choice");

    // Not JSON, invalid UTF-8, not an object, wrong media type, too large.
    for (content_type, bytes, status) in [
        ("application/json", b"{\"email\": ".to_vec(), 400),
        (
            "application/json",
            b"{\"email\": \"\xff\xfe\"}".to_vec(),
            400,
        ),
        ("application/json", b"[1, 2]".to_vec(), 400),
        ("text/plain", b"{}".to_vec(), 415),
        ("application/json", vec![b' '; 2 * 1024 * 1024], 413),
    ] {
        let answer = client
            .post(&checks)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status(), status, "{content_type}");
        let body = json_of(answer).await;
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }

    // Huge strings and NUL bytes: refused as the forms refuse them.
    let huge = "あ".repeat(20_000);
    for email in [huge.as_str(), "taro\u{0}@example.jp"] {
        let answer = post_json(
            &client,
            &checks,
            &json!({"email": email, "product": "debit-card"}),
        )
        .await;
        assert_eq!(answer.status(), 422, "{}", &email[..10.min(email.len())]);
    }

    // A submission without a token, with a made-up one, and with a good token but bad fields.
    let holder = AccountHolder::new();
    let url = app.url("/api/v1/applications/internet-banking");
    let answer = post_json(&client, &url, &internet_banking_body(&holder)).await;
    assert_eq!(answer.status(), 401);
    assert_eq!(json_of(answer).await["code"], "token-required");
    let answer = submit(&app, &client, "internet-banking", "made-up", &json!({})).await;
    assert_eq!(answer.status(), 401);
    let token = verify(&app, &client, "internet-banking", &holder.email).await;
    let mut body = internet_banking_body(&holder);
    body["phone"] = json!("12");
    body["account_number"] = json!(1234567);
    body["family_name_kana"] = json!("kana\u{0}");
    body.as_object_mut().expect("object").remove("birth_date");
    let answer = submit(&app, &client, "internet-banking", &token, &body).await;
    assert_eq!(answer.status(), 422);
    let refused = json_of(answer).await;
    assert_eq!(refused["fields"][0]["field"], "account_number", "{refused}");
    assert_eq!(refused["fields"][0]["code"], "invalid-type");
    body["account_number"] = json!(holder.account_number);
    let answer = submit(&app, &client, "internet-banking", &token, &body).await;
    assert_eq!(answer.status(), 422);
    let refused = json_of(answer).await;
    let codes: Vec<(String, String)> = refused["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or_default().to_owned(),
                f["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for field in ["phone", "birth_date", "family_name_kana"] {
        assert!(
            codes.iter().any(|(f, _)| f == field),
            "{field} refused: {refused}"
        );
    }
    // A weak password is refused with the form's reason; the token still works after that.
    let mut body = internet_banking_body(&holder);
    body["logon_password"] = json!("password1");
    body["logon_password_confirm"] = json!("password1");
    let answer = submit(&app, &client, "internet-banking", &token, &body).await;
    assert_eq!(answer.status(), 422);
    assert_eq!(
        json_of(answer).await["fields"][0]["field"],
        "logon_password"
    );
    let answer = submit(
        &app,
        &client,
        "internet-banking",
        &token,
        &internet_banking_body(&holder),
    )
    .await;
    assert_eq!(answer.status(), 201);

    // Unknown check ids.
    let answer = post_json(
        &client,
        &app.url("/api/v1/email-checks/nonsense/confirm"),
        &json!({"code": "123456"}),
    )
    .await;
    assert_eq!(answer.status(), 404);
    let unknown = "A".repeat(43);
    let answer = post_json(
        &client,
        &app.url(&format!("/api/v1/email-checks/{unknown}/confirm")),
        &json!({"code": "123456"}),
    )
    .await;
    assert_eq!(answer.status(), 410);
    app.stop().await;
}

#[tokio::test]
async fn sqlite_bad_input_gets_a_clear_refusal() {
    bad_input_gets_a_clear_refusal(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_bad_input_gets_a_clear_refusal() {
    bad_input_gets_a_clear_refusal(Db::Postgres).await;
}

/// `Accept-Language: en` (or `en-*`) gets the catalogue's English, for field messages and the
/// API's own messages alike; no header, or another language, gets Japanese.
#[tokio::test]
async fn refusals_follow_accept_language() {
    let Some(app) = TestApp::spawn_with(Db::Sqlite, Options::unlimited()).await else {
        return;
    };
    let client = TestApp::client();
    let checks = app.url("/api/v1/email-checks");
    let submission = app.url("/api/v1/applications/savings-account");
    let japanese = |text: &str| text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
    for (accept, english) in [
        (None, false),
        (Some("en"), true),
        (Some("en-GB,en;q=0.9"), true),
        (Some("ja,en;q=0.5"), false),
        (Some("fr"), false),
    ] {
        let with = |request: reqwest::RequestBuilder| match accept {
            Some(value) => request.header("accept-language", value),
            None => request,
        };

        // A field error: the forms' message, in the request's language.
        let answer = with(client.post(&checks))
            .json_body(&json!({"product": "savings-account"}))
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status(), 422, "{accept:?}");
        let body = json_of(answer).await;
        assert_eq!(body["code"], "invalid-fields");
        assert_eq!(body["fields"][0]["field"], "email", "{body}");
        let (message, field) = (
            body["message"].as_str().expect("message"),
            body["fields"][0]["message"]
                .as_str()
                .expect("field message"),
        );
        if english {
            assert_eq!(field, "Please enter the E-mail address.", "{body}");
            assert!(message.starts_with("Some fields are invalid"), "{body}");
        } else {
            assert_eq!(field, "メールアドレスを入力してください。", "{body}");
            assert!(message.starts_with("入力内容に誤りがあります"), "{body}");
        }

        // An error of the API itself: no token.
        let answer = with(client.post(&submission))
            .json_body(&json!({}))
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status(), 401, "{accept:?}");
        let body = json_of(answer).await;
        assert_eq!(body["code"], "token-required");
        let message = body["message"].as_str().expect("message");
        assert_eq!(japanese(message), !english, "{accept:?}: {body}");
        if english {
            assert!(message.contains("Authorization header"), "{body}");
        }

        // Not found, and the centres' names.
        let answer = with(client.get(app.url("/api/v1/nowhere")))
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status(), 404);
        let body = json_of(answer).await;
        assert_eq!(body["code"], "not-found");
        assert_eq!(
            japanese(body["message"].as_str().expect("message")),
            !english,
            "{body}"
        );
        let centres = json_of(
            with(client.get(app.url("/api/v1/loan-centers")))
                .send()
                .await
                .expect("request"),
        )
        .await;
        let expected = if english {
            "Naha Loan Center"
        } else {
            "那覇ローンセンター"
        };
        assert_eq!(centres[0]["name"], expected, "{centres}");
    }
    app.stop().await;
}

async fn a_burst_meets_the_rate_limit(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let client = TestApp::client();
    let url = app.url("/api/v1/applications/debit-card");
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let request = client
            .post(&url)
            .bearer_auth("A".repeat(43))
            .json_body(&json!({}));
        tasks.spawn(async move { request.send().await });
    }
    let answers = tasks.join_all().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let mut limited = 0;
    for answer in answers {
        let answer = answer.expect("answered");
        match answer.status().as_u16() {
            429 => {
                limited += 1;
                let wait: u64 = answer.headers()["retry-after"]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("seconds");
                assert!(wait >= 1);
                assert_eq!(json_of(answer).await["code"], "rate-limited");
            }
            401 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(limited >= 50, "{limited} of 100 limited");
    // The server keeps serving (other actions, and the document).
    let doc = client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(doc.status(), 200);
    let answer = post_json(
        &client,
        &app.url("/api/v1/email-checks"),
        &json!({"email": "burst@example.jp", "product": "debit-card"}),
    )
    .await;
    assert_eq!(answer.status(), 202);
    app.stop().await;
}

#[tokio::test]
async fn sqlite_a_burst_meets_the_rate_limit() {
    a_burst_meets_the_rate_limit(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_burst_meets_the_rate_limit() {
    a_burst_meets_the_rate_limit(Db::Postgres).await;
}

/// Issue 16, 5 (e-mail bombing): 32 parallel e-mail checks for one victim's address, spread
/// over two instances, with the per-client limit out of the way: exactly the hour's 10 codes
/// go out; every other request is 429 `recipient-limited` with Retry-After; another address
/// is served meanwhile.
async fn a_burst_of_checks_for_one_address_sends_ten_codes(db: Db) {
    const N: usize = 32;
    let Some(app) = TestApp::spawn_with(db, Options::unlimited()).await else {
        return;
    };
    let sibling = app.spawn_sibling(Options::unlimited()).await;
    let victim = "bombed.victim@example.jp";
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..N {
        let base = if i % 2 == 0 {
            app.public_url.clone()
        } else {
            sibling.public_url.clone()
        };
        burst.spawn(async move {
            let client = TestApp::client();
            let answer = post_json(
                &client,
                &format!("{base}/api/v1/email-checks"),
                &json!({"email": victim, "product": "savings-account"}),
            )
            .await;
            let status = answer.status().as_u16();
            let wait = answer
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            (status, wait, json_of(answer).await)
        });
    }
    let answers = burst.join_all().await;
    let sent = answers.iter().filter(|(s, _, _)| *s == 202).count();
    assert_eq!(sent, 10, "the hour's codes to one address");
    for (status, wait, body) in answers.iter().filter(|(s, _, _)| *s != 202) {
        assert_eq!(*status, 429, "{body}");
        assert_eq!(body["code"], "recipient-limited", "{body}");
        assert!(wait.is_some_and(|w| (1..=3600).contains(&w)), "{wait:?}");
    }
    // Every queued e-mail delivered, then counted: five codes reached the victim.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while common::count_of(&app, "SELECT COUNT(*) FROM outbox").await > 0 {
        assert!(std::time::Instant::now() < deadline, "the outbox drains");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        common::reservation::mails_to(&app, victim, "確認コード"),
        10
    );
    // Someone else still gets a code.
    let other = post_json(
        &TestApp::client(),
        &app.url("/api/v1/email-checks"),
        &json!({"email": "someone.else@example.jp", "product": "savings-account"}),
    )
    .await;
    assert_eq!(other.status(), 202);
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_burst_of_checks_for_one_address_sends_ten_codes_sqlite() {
    a_burst_of_checks_for_one_address_sends_ten_codes(Db::Sqlite).await;
}

#[tokio::test]
async fn a_burst_of_checks_for_one_address_on_two_instances_sends_ten_codes_postgres() {
    a_burst_of_checks_for_one_address_sends_ten_codes(Db::Postgres).await;
}
