//! The internet-banking application end to end over HTTP, on SQLite and on PostgreSQL: both
//! secrets are sealed to the core-banking key and open only with it, every personal field is
//! encrypted, and nothing personal or secret reaches the logs or the outbox. Weak passwords
//! are refused, each with its own reason.

mod common;

use common::existing_account::{
    AccountHolder, apply_internet_banking, credentials, expect_step, outbox_text, post_step,
    verify_email,
};
use common::{Db, TestApp, contains, contains_token, logs};
use madoguchi_core_open::CorePrivateKey;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EncryptedFields, SealedSecret, SecretKind, WrappedKey};

const SLUG: &str = "internet-banking";

async fn a_full_application_leaves_no_plaintext(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let holder = AccountHolder::new();
    let client = TestApp::client();
    let home = client
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("body");
    assert!(
        home.contains("href=\"/apply/internet-banking\""),
        "offered on the home page"
    );
    let receipt = apply_internet_banking(&app, &client, &holder).await;

    // The confirmation e-mail names the product and the receipt number, nothing else personal.
    let mail = app.wait_for_mail(&holder.email, &receipt).await;
    assert!(mail.contains("インターネットバンキングのお申込みを受け付けました"));
    assert!(mail.contains("暗証番号やパスワードをお尋ねすることは絶対にありません"));

    let stored = app.database_bytes().await;
    let logged = logs::captured();
    let outbox = outbox_text(&app.data);
    for value in holder.personal_values() {
        assert!(
            !contains(&stored, &value),
            "{value:?} in plaintext in the {db:?} database"
        );
        assert!(!contains(&logged, &value), "{value:?} in the logs");
    }
    for value in holder.private_values() {
        assert!(!contains(&outbox, &value), "{value:?} in the outbox");
    }
    for (what, haystack) in [
        ("database", &stored),
        ("logs", &logged),
        ("outbox", &outbox),
    ] {
        assert!(
            !contains(haystack, &holder.logon_password),
            "the logon password in the {what}"
        );
        assert!(
            !contains_token(haystack, &holder.cash_card_pin),
            "the cash-card PIN in the {what}"
        );
    }

    // Each secret opens with the core-banking private key, as typed, bound to its application
    // and its kind.
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("query")
        .expect("stored under its receipt number");
    let rows = app.store().sealed_secrets(id).await.expect("secrets");
    assert_eq!(rows.len(), 2, "cash-card PIN and logon password");
    let core = CorePrivateKey::load(&app.core_private_key).expect("core key");
    for (kind, expected) in [
        (SecretKind::CashCardPin, &holder.cash_card_pin),
        (SecretKind::LogonPassword, &holder.logon_password),
    ] {
        let row = rows
            .iter()
            .find(|r| r.kind == kind.label())
            .unwrap_or_else(|| panic!("{kind} stored"));
        let sealed = SealedSecret::from_stored(row.sealed.clone()).expect("sealed format");
        let opened = core
            .open_secret(&sealed, kind, &id)
            .expect("core key opens it");
        assert_eq!(opened.as_slice(), expected.as_bytes(), "{kind}");
        assert!(
            core.open_secret(&sealed, kind, &uuid::Uuid::now_v7())
                .is_err(),
            "{kind} bound to its application"
        );
        let other_kind = if kind == SecretKind::CashCardPin {
            SecretKind::LogonPassword
        } else {
            SecretKind::CashCardPin
        };
        assert!(core.open_secret(&sealed, other_kind, &id).is_err());
    }
    // The personal fields open with the back office's key, field by field.
    let office = OfficeKeyring::load(&app.data.join("keys")).expect("office key");
    let record = app
        .store()
        .encrypted_personal_record(id)
        .await
        .expect("query")
        .expect("stored");
    let wrapped = WrappedKey::from_stored(record.wrapped).expect("wrapped key format");
    let fields = EncryptedFields::from_bytes(&record.fields).expect("fields format");
    let key = office
        .open_record(&id, &wrapped)
        .expect("office key unwraps");
    for (field, expected) in [
        ("email", holder.email.clone()),
        ("family_name_kana", holder.family_name_kana.clone()),
        ("birth_date", holder.birth_date.clone()),
        ("phone", holder.phone.clone()),
        ("branch_code", holder.branch_code.clone()),
        ("account_type", holder.account_type.clone()),
        ("account_number", holder.account_number.clone()),
    ] {
        let plain = key
            .decrypt_field(field, fields.get(field).expect("field stored"))
            .expect("decrypts");
        assert_eq!(plain.as_slice(), expected.as_bytes(), "{field}");
    }
    assert!(
        !fields
            .names()
            .any(|name| name.contains("pin") || name.contains("password")),
        "no secret among the personal fields"
    );
    app.stop().await;
}

#[tokio::test]
async fn sqlite_a_full_application_leaves_no_plaintext() {
    a_full_application_leaves_no_plaintext(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_full_application_leaves_no_plaintext() {
    a_full_application_leaves_no_plaintext(Db::Postgres).await;
}

/// Posts the credentials step; returns the status and the page.
async fn try_credentials(
    app: &TestApp,
    client: &reqwest::Client,
    pin: &str,
    password: &str,
    again: &str,
) -> (u16, String) {
    let r = post_step(
        app,
        client,
        SLUG,
        "credentials",
        &credentials(pin, password, again),
    )
    .await;
    (r.status().as_u16(), r.text().await.expect("body"))
}

#[tokio::test]
async fn weak_passwords_and_pins_are_refused_each_with_its_reason() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let holder = AccountHolder::new();
    let client = TestApp::client();
    verify_email(&app, &client, SLUG, &holder.email).await;
    expect_step(
        &app,
        &client,
        SLUG,
        "customer",
        &holder.customer_step(),
        "account",
    )
    .await;

    // The account step: a bad number is explained; full-width digits are fine.
    let mut bad_account = holder.account_step();
    bad_account[2].1 = "123-4567".to_owned();
    let r = post_step(&app, &client, SLUG, "account", &bad_account).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("口座番号は7桁の数字で入力してください"),
        "account number refusal explained"
    );
    let mut wide = holder.account_step();
    wide[2].1 = holder
        .account_number
        .chars()
        .map(|c| char::from_u32(u32::from(c) - u32::from('0') + u32::from('０')).unwrap_or(c))
        .collect();
    expect_step(&app, &client, SLUG, "account", &wide, "credentials").await;

    let phone_tail = &holder.phone[holder.phone.len() - 4..];
    let cases: Vec<(String, &str)> = vec![
        (
            "Sh1!".to_owned(),
            "ログオンパスワードは8文字以上で入力してください",
        ),
        (
            "Ｓａｎｇｏ７７Ｑｚ".to_owned(),
            "ログオンパスワードは半角の英字・数字・記号で入力してください",
        ),
        (
            "sangoKvwQz".to_owned(),
            "ログオンパスワードには英字と数字の両方を含めてください",
        ),
        (
            "Password1".to_owned(),
            "ログオンパスワードが推測されやすい内容です",
        ),
        (
            format!("Qz#{}Kv", holder.birth_date.replace('-', "")),
            "ログオンパスワードに生年月日（西暦・和暦・月日）を含めることはできません",
        ),
        (
            "Qz#s61Kvw7".to_owned(),
            "ログオンパスワードに生年月日（西暦・和暦・月日）を含めることはできません",
        ),
        (
            format!("Qz#{phone_tail}Kvw"),
            "ログオンパスワードに電話番号（下4桁を含む）を含めることはできません",
        ),
        (
            format!("Qz#{}Kv", holder.account_number),
            "ログオンパスワードに口座番号を含めることはできません",
        ),
        (
            "Kenshouka#7Qz".to_owned(),
            "ログオンパスワードにお名前（ローマ字）を含めることはできません",
        ),
        (
            "Syuri#7QzKv".to_owned(),
            "ログオンパスワードにお名前（ローマ字）を含めることはできません",
        ),
    ];
    for (password, message) in &cases {
        let (status, html) =
            try_credentials(&app, &client, &holder.cash_card_pin, password, password).await;
        assert_eq!(status, 422, "{password}");
        assert!(html.contains(message), "{password}: expected {message:?}");
        assert!(
            !html.contains(&format!("value=\"{password}\"")),
            "the password is never shown again"
        );
    }
    let (status, html) = try_credentials(
        &app,
        &client,
        &holder.cash_card_pin,
        &holder.logon_password,
        "Sango!Kv7wQz#Ryx",
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("確認のため、同じログオンパスワードを2回入力してください"));

    // The PIN in use follows the weak-PIN rules; the fix is to change it first.
    let (status, html) = try_credentials(
        &app,
        &client,
        phone_tail,
        &holder.logon_password,
        &holder.logon_password,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("ATMまたは窓口で暗証番号を変更してからお申込みください"),
        "weak PIN in use explained"
    );
    assert!(
        !html.contains(&format!("value=\"{phone_tail}\"")),
        "the PIN is never shown again"
    );

    // Nothing was sealed on a refusal: the confirmation page is not reachable yet.
    let r = client
        .get(app.url("/apply/internet-banking/confirm"))
        .send()
        .await
        .expect("confirm");
    assert!(r.url().path().ends_with("/credentials"));

    // Accepted at last; a changed account then asks for the secrets again (the password was
    // checked against the old number).
    expect_step(
        &app,
        &client,
        SLUG,
        "credentials",
        &holder.credentials_step(),
        "confirm",
    )
    .await;
    let mut other = holder.account_step();
    other[2].1 = "7000001".to_owned();
    let r = post_step(&app, &client, SLUG, "account", &other).await;
    assert!(r.url().path().ends_with("/credentials"));
    let r = client
        .get(app.url("/apply/internet-banking/confirm"))
        .send()
        .await
        .expect("confirm");
    assert!(
        r.url().path().ends_with("/credentials"),
        "secrets asked again"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_product_switch_closes_the_application() {
    let options = common::Options {
        profile_edits: vec![("internet_banking = true", "internet_banking = false")],
        ..common::Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    let client = TestApp::client();
    let home = client
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("body");
    assert!(!home.contains("/apply/internet-banking"));
    assert!(home.contains("/apply/debit-card"));
    let r = client
        .get(app.url("/apply/internet-banking"))
        .send()
        .await
        .expect("closed");
    assert_eq!(r.status(), 404);
    app.stop().await;
}
