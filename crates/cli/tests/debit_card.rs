//! The Visa debit-card application end to end over HTTP, on SQLite and on PostgreSQL: the PIN
//! is sealed to the core-banking key and opens only with it, every personal field (the
//! account number and the embossed name included) is encrypted, and nothing personal or
//! secret reaches the logs or the outbox. Bad embossed names and ages are refused with a
//! message that says why.

mod common;

use common::existing_account::{
    AccountHolder, apply_debit_card, card, expect_step, outbox_text, post_step, verify_email,
};
use common::{Db, TestApp, contains, contains_token, logs};
use madoguchi_core_open::CorePrivateKey;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EncryptedFields, SealedSecret, SecretKind, WrappedKey};
use time::{Date, Month, OffsetDateTime, UtcOffset};

const SLUG: &str = "debit-card";

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
        home.contains("href=\"/apply/debit-card\""),
        "offered on the home page"
    );
    let (receipt, confirm) = apply_debit_card(&app, &client, &holder).await;
    assert!(
        confirm.contains(&holder.embossed_name),
        "the embossed name is shown normalized on the confirmation page"
    );

    let mail = app.wait_for_mail(&holder.email, &receipt).await;
    assert!(mail.contains("Visaデビットカードのお申込みを受け付けました"));

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
            !contains_token(haystack, &holder.debit_card_pin),
            "the debit-card PIN in the {what}"
        );
    }

    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("query")
        .expect("stored under its receipt number");
    let rows = app.store().sealed_secrets(id).await.expect("secrets");
    assert_eq!(rows.len(), 1, "the debit-card PIN only");
    assert_eq!(rows[0].kind, "debit-card-pin");
    let sealed = SealedSecret::from_stored(rows[0].sealed.clone()).expect("sealed format");
    let core = CorePrivateKey::load(&app.core_private_key).expect("core key");
    let pin = core
        .open_secret(&sealed, SecretKind::DebitCardPin, &id)
        .expect("core key opens the PIN");
    assert_eq!(pin.as_slice(), holder.debit_card_pin.as_bytes());
    assert!(
        core.open_secret(&sealed, SecretKind::DebitCardPin, &uuid::Uuid::now_v7())
            .is_err(),
        "bound to its application"
    );
    assert!(
        core.open_secret(&sealed, SecretKind::CashCardPin, &id)
            .is_err(),
        "bound to its kind"
    );

    let record = app
        .store()
        .encrypted_personal_record(id)
        .await
        .expect("query")
        .expect("stored");
    let office = OfficeKeyring::load(&app.data.join("keys")).expect("office key");
    let wrapped = WrappedKey::from_stored(record.wrapped).expect("wrapped key format");
    let fields = EncryptedFields::from_bytes(&record.fields).expect("fields format");
    let key = office
        .open_record(&id, &wrapped)
        .expect("office key unwraps");
    for (field, expected) in [
        ("email", &holder.email),
        ("given_name_kana", &holder.given_name_kana),
        ("phone", &holder.phone),
        ("account_number", &holder.account_number),
        ("embossed_name", &holder.embossed_name),
    ] {
        let plain = key
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
async fn sqlite_a_full_application_leaves_no_plaintext() {
    a_full_application_leaves_no_plaintext(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_full_application_leaves_no_plaintext() {
    a_full_application_leaves_no_plaintext(Db::Postgres).await;
}

#[tokio::test]
async fn bad_embossed_names_and_weak_pins_are_refused_with_the_reason() {
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
    let page = expect_step(
        &app,
        &client,
        SLUG,
        "account",
        &holder.account_step(),
        "card",
    )
    .await;
    assert!(
        page.contains("value=\"SHURI KENSHOKA\""),
        "the passport spelling of the reading is offered"
    );

    for (name, message) in [
        (
            "朱里 検証嘉",
            "カード表面のお名前は半角の英大文字（A〜Z）と空白で入力してください",
        ),
        (
            "SHURI KENSHOUKA3",
            "カード表面のお名前は半角の英大文字（A〜Z）と空白で入力してください",
        ),
        (
            "SHURI",
            "カード表面のお名前は名と姓の両方を、空白で区切って入力してください",
        ),
        (
            "SHURIKA ALEXANDRA KENSHOUKA",
            "カード表面のお名前は空白を含めて26文字以内で入力してください",
        ),
        ("", "カード表面のお名前を入力してください"),
    ] {
        let r = post_step(
            &app,
            &client,
            SLUG,
            "card",
            &card(name, &holder.debit_card_pin),
        )
        .await;
        assert_eq!(r.status(), 422, "{name:?}");
        let html = r.text().await.expect("body");
        assert!(html.contains(message), "{name:?}: expected {message:?}");
        assert!(
            !html.contains(&format!("value=\"{}\"", holder.debit_card_pin)),
            "the PIN is never shown again"
        );
    }

    let phone_tail = &holder.phone[holder.phone.len() - 4..];
    let r = post_step(
        &app,
        &client,
        SLUG,
        "card",
        &card("SHURI KENSHOUKA", phone_tail),
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("電話番号の下4桁は暗証番号に使えません"));
    let r = post_step(
        &app,
        &client,
        SLUG,
        "card",
        &card("SHURI KENSHOUKA", "0723"),
    )
    .await;
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("生年月日から推測できる番号は暗証番号に使えません")
    );

    // Full-width input is normalized and accepted.
    let confirm = expect_step(
        &app,
        &client,
        SLUG,
        "card",
        &card("ｓｈｕｒｉ　ｋｅｎｓｈｏｕｋａ", &holder.debit_card_pin),
        "confirm",
    )
    .await;
    assert!(confirm.contains("SHURI KENSHOUKA"));
    app.stop().await;
}

/// Today in Japan, as the server counts ages.
fn today_in_japan() -> Date {
    let jst = UtcOffset::from_hms(9, 0, 0).expect("offset");
    OffsetDateTime::now_utc().to_offset(jst).date()
}

#[tokio::test]
async fn junior_high_pupils_and_the_under_age_are_refused() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let holder = AccountHolder::new();
    let client = TestApp::client();
    verify_email(&app, &client, SLUG, &holder.email).await;
    let today = today_in_japan();
    let school_year = if today.month() >= Month::April {
        today.year()
    } else {
        today.year() - 1
    };
    let customer_with = |birth: String| {
        let mut step = holder.customer_step();
        step.retain(|(k, _)| *k != "birth_date");
        step.push(("birth_date", birth));
        step
    };
    // Born on 2 April fifteen years before the school year began: 中学3年 all year.
    let pupil = Date::from_calendar_date(school_year - 15, Month::April, 2).expect("date");
    if !(today.month() == Month::April && today.day() == 1) {
        // 15 years old except on 1 April, the day before the birthday: refused as a pupil.
        let r = post_step(
            &app,
            &client,
            SLUG,
            "customer",
            &customer_with(pupil.to_string()),
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.expect("body");
        assert!(
            html.contains("中学生の方はお申込みいただけません"),
            "junior high pupil explained"
        );
    }
    // One day older: left junior high school in March, and 15 since 1 April.
    let leaver = Date::from_calendar_date(school_year - 15, Month::April, 1).expect("date");
    expect_step(
        &app,
        &client,
        SLUG,
        "customer",
        &customer_with(leaver.to_string()),
        "account",
    )
    .await;
    let child = Date::from_calendar_date(today.year() - 10, Month::January, 1).expect("date");
    let r = post_step(
        &app,
        &client,
        SLUG,
        "customer",
        &customer_with(child.to_string()),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("お申込みいただける年齢に達していません")
    );
    app.stop().await;
}
