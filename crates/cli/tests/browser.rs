//! Browser end to end, in real headless Chromium: a new applicant opens an ordinary savings
//! account, trips over a validation rule, fixes it, and gets a receipt number and an e-mail.

mod common;

use common::applicant::{Applicant, code_in};
use common::browser::Browser;
use common::{Db, TestApp};
use fantoccini::Locator;
use fantoccini::key::Key;

#[tokio::test]
async fn an_applicant_opens_a_savings_account_in_chromium() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let applicant = Applicant::new();

    browser.client.goto(&app.url("/")).await.expect("open site");
    browser.click("a[href='/apply/savings-account']").await;
    browser.fill("email", &applicant.email).await;
    browser.submit().await;
    assert!(browser.path().await.ends_with("/verify"));

    let mail = app.wait_for_mail(&applicant.email, "確認コード").await;
    browser.fill("code", &code_in(&mail)).await;
    browser.submit().await;
    assert!(browser.path().await.ends_with("/personal"));

    // Romaji in the kana field: refused next to the field, the rest kept.
    for (name, value) in applicant.personal_step() {
        match name {
            "sex" => browser.click("input[name='sex'][value='female']").await,
            "prefecture" => browser.select("prefecture", &value).await,
            "family_name_kana" => browser.fill(name, "yamada").await,
            _ if value.is_empty() => {}
            _ => browser.fill(name, &value).await,
        }
    }
    browser.submit().await;
    let page = browser.text().await;
    assert!(
        page.contains("フリガナ（セイ）は全角カタカナで入力してください"),
        "refusal shown:\n{page}"
    );
    assert!(browser.path().await.ends_with("/personal"));
    browser
        .fill("family_name_kana", &applicant.family_name_kana)
        .await;
    browser.submit().await;
    assert!(
        browser.path().await.ends_with("/profile"),
        "personal step accepted:\n{}",
        browser.text().await
    );

    browser.select("occupation", "company-employee").await;
    browser
        .fill("employer_name", &applicant.employer_name)
        .await;
    browser.fill("employer_phone", "098-987-6543").await;
    browser
        .click("input[name='purposes'][value='savings']")
        .await;
    for (name, value) in [
        ("nationality", "JP"),
        ("tax_residence", "japan-only"),
        ("us_person", "no"),
        ("foreign_pep", "no"),
    ] {
        browser
            .click(&format!("input[name='{name}'][value='{value}']"))
            .await;
    }
    for name in [
        "anti_social_declaration",
        "consent_terms",
        "consent_privacy",
    ] {
        browser.click(&format!("input[name='{name}']")).await;
    }
    browser.submit().await;
    assert!(
        browser.path().await.ends_with("/identity"),
        "profile step accepted:\n{}",
        browser.text().await
    );

    // Identity documents: a real phone-style JPEG with EXIF GPS data, chosen in the file
    // inputs; first a script named .jpg as the selfie, refused by name and reason.
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../documents/tests/fixtures");
    let script = app.tmp.path().join("selfie.jpg");
    std::fs::write(&script, b"<script>alert(1)</script>").expect("write");
    let photo = fixtures
        .join("exif-gps.jpg")
        .canonicalize()
        .expect("fixture");
    let scan = fixtures
        .join("text-chunk.png")
        .canonicalize()
        .expect("fixture");
    for (name, path) in [
        ("document_front", &photo),
        ("document_back", &scan),
        ("selfie", &script),
    ] {
        browser
            .client
            .find(Locator::Css(&format!("input[name='{name}']")))
            .await
            .expect("file input")
            .send_keys(&path.display().to_string())
            .await
            .expect("choose file");
    }
    browser.submit().await;
    let page = browser.text().await;
    assert!(
        page.contains("本人の顔写真（セルフィー）のファイル「selfie.jpg」は、JPEG・PNGの画像またはPDFではありません"),
        "the script is refused by name:\n{page}"
    );
    assert!(
        page.contains("受付済み：JPEG画像"),
        "the front was kept:\n{page}"
    );
    browser
        .client
        .find(Locator::Css("input[name='selfie']"))
        .await
        .expect("file input")
        .send_keys(&photo.display().to_string())
        .await
        .expect("choose file");
    browser.submit().await;
    assert!(
        browser.path().await.ends_with("/branch"),
        "documents accepted:\n{}",
        browser.text().await
    );

    browser.select("branch_code", "101").await;
    browser.fill("cash_card_pin", &applicant.pin).await;
    browser.fill("cash_card_pin_confirm", &applicant.pin).await;
    browser.submit().await;
    assert!(
        browser.path().await.ends_with("/confirm"),
        "branch step accepted:\n{}",
        browser.text().await
    );
    let confirm = browser.text().await;
    assert!(
        confirm.contains(&applicant.address_line) && !confirm.contains(&applicant.pin),
        "confirmation shows the input but never the PIN"
    );

    browser.submit().await;
    let done = browser.text().await;
    assert!(done.contains("お申込みを受け付けました"), "{done}");
    let receipt = common::applicant::receipt_in(&browser.client.source().await.expect("source"));
    app.wait_for_mail(&applicant.email, &receipt).await;

    // The stored photos, decrypted with the back office's key, carry no GPS position.
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("query")
        .expect("stored");
    let documents = app
        .store()
        .application_documents(id)
        .await
        .expect("documents");
    assert_eq!(documents.len(), 3);
    let office =
        madoguchi_keyring::OfficeKeyring::load(&app.data.join("keys")).expect("office key");
    for document in documents {
        let key = app
            .store()
            .document_key(document.id)
            .await
            .expect("query")
            .expect("key");
        let file = std::fs::read(
            app.data
                .join("documents")
                .join(document.id.hyphenated().to_string()),
        )
        .expect("document file");
        assert!(
            !file
                .windows(24)
                .any(|w| w == common::documents::GPS_LATITUDE)
        );
        let plain = office
            .open_record(
                &document.id,
                &madoguchi_seal::WrappedKey::from_stored(key.wrapped).expect("wrapped"),
            )
            .expect("unwrap")
            .decrypt_field(madoguchi_documents::DOCUMENT_FIELD, &file[8..])
            .expect("decrypt");
        image::load_from_memory(&plain).expect("an image");
        assert!(
            !plain
                .windows(24)
                .any(|w| w == common::documents::GPS_LATITUDE)
                && !plain.windows(6).any(|w| w == b"Exif\0\0"),
            "{}: the stored, decrypted file has no EXIF GPS data",
            document.kind
        );
    }
    browser.close().await;
    app.stop().await;
}

/// `2026年12月1日（火） 10:00〜11:00`: a slot's visit as the customer reads it, worked out
/// from the slot's value (`YYYY-MM-DDTHH:MM`, Japan time) and its length.
fn visit_label(slot: &str, minutes: i64) -> String {
    let start = time::PrimitiveDateTime::parse(
        slot,
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .unwrap_or_else(|e| panic!("slot value {slot:?}: {e}"));
    let end = start + time::Duration::minutes(minutes);
    let weekday = ["月", "火", "水", "木", "金", "土", "日"]
        [usize::from(start.weekday().number_days_from_monday())];
    format!(
        "{}年{}月{}日（{weekday}） {}:{:02}〜{}:{:02}",
        start.year(),
        u8::from(start.month()),
        start.day(),
        start.hour(),
        start.minute(),
        end.hour(),
        end.minute()
    )
}

/// A customer books a visit to the loan centre with the keyboard, then changes and cancels it
/// through the link of the confirmation e-mail.
async fn a_customer_books_changes_and_cancels_a_visit(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let email = format!(
        "visit.{}@example.jp",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );

    browser.client.goto(&app.url("/")).await.expect("open site");
    browser.click_and_wait("a[href='/reservations']").await;
    assert_eq!(browser.text_of("main h1").await, "ローンセンターご来店予約");
    browser
        .click_and_wait("a[href='/reservations/centers/naha']")
        .await;
    assert_eq!(browser.text_of("main h1").await, "那覇ローンセンター");

    // The first free slot of the week after its first day (which a date change at midnight
    // would take out of the window); the naha centre's slots last 60 minutes.
    let link = browser
        .client
        .find(Locator::Css(
            "main section.day ~ section.day a[href*='/book?slot=']",
        ))
        .await
        .expect("a free slot");
    let href = link.attr("href").await.expect("href").expect("href");
    let first = href
        .split_once("slot=")
        .map(|(_, slot)| slot.to_owned())
        .expect("slot value");
    let first_visit = visit_label(&first, 60);
    let link_text = link.text().await.expect("text");
    let (_, first_clock) = first_visit.rsplit_once(' ').expect("day and time");
    assert!(
        link_text.starts_with(first_clock),
        "the link {link_text:?} shows the slot's time ({first_visit})"
    );
    browser
        .click_and_wait(&format!("main a[href='{href}']"))
        .await;
    assert!(browser.path().await.ends_with("/naha/book"));
    let form_page = browser.text().await;
    assert!(
        form_page.contains("那覇ローンセンター") && form_page.contains(&first_visit),
        "the form shows the chosen centre and slot ({first_visit}):\n{form_page}"
    );

    // Every field is reached with Tab and filled from the keyboard.
    browser.tab_to("select[name='consultation']").await;
    browser.press(Key::Down).await;
    let consultation = browser
        .client
        .find(Locator::Css("select[name='consultation']"))
        .await
        .expect("select");
    assert_eq!(
        consultation.prop("value").await.expect("value").as_deref(),
        Some("housing-loan"),
        "the arrow key chooses the first consultation type"
    );
    for (name, value) in [
        ("family_name", "検証山"),
        ("given_name", "花子"),
        ("family_name_kana", "ケンショウヤマ"),
        ("given_name_kana", "ハナコ"),
        ("phone", "090-2741-3865"),
        ("email", email.as_str()),
    ] {
        browser
            .tab_to(&format!("input[name='{name}']"))
            .await
            .send_keys(value)
            .await
            .expect("type");
    }
    browser.tab_to("input[name='existing_customer']").await;
    browser.press(Key::Down).await;
    let newcomer = browser
        .client
        .find(Locator::Css("input[name='existing_customer'][value='no']"))
        .await
        .expect("radio");
    assert!(
        newcomer.is_selected().await.expect("checked"),
        "the arrow key moves to 取引はない（はじめて） and checks it"
    );
    browser
        .tab_to("textarea[name='note']")
        .await
        .send_keys("返済計画について相談したいです。")
        .await
        .expect("type");
    browser.tab_to("main form button[type=submit]").await;
    browser.press_and_wait(Key::Enter).await;

    let booked = browser.text().await;
    assert_eq!(browser.text_of("main h1").await, "ご来店予約を承りました");
    for shown in ["那覇ローンセンター", first_visit.as_str(), "住宅ローン"] {
        assert!(
            booked.contains(shown),
            "{shown} on the confirmation:\n{booked}"
        );
    }

    let mail = app.wait_for_mail(&email, "ご来店予約を承りました").await;
    assert!(
        mail.contains(&format!("ご来店日時：{first_visit}")),
        "the e-mail gives the visit:\n{mail}"
    );
    let manage =
        regex_lite::Regex::new(r"http://127\.0\.0\.1:\d+/reservations/manage/[A-Za-z0-9_-]{43}")
            .expect("regex")
            .find(&mail)
            .map(|m| m.as_str().to_owned())
            .unwrap_or_else(|| panic!("no change/cancel link in\n{mail}"));
    assert!(manage.starts_with(&app.public_url), "{manage}");

    // The link shows the booking; its token leaves the address bar at once.
    browser.client.goto(&manage).await.expect("open link");
    assert_eq!(browser.path().await, "/reservations/manage");
    assert_eq!(browser.text_of("main h1").await, "ご予約内容の確認");
    let shown = browser.text().await;
    for expected in [first_visit.as_str(), "ご予約済み", "住宅ローン"] {
        assert!(
            shown.contains(expected),
            "{expected} on the booking:\n{shown}"
        );
    }

    // A slot on another day: the visit the pages show changes with it.
    browser.click_and_wait("main a.button").await;
    let change_page = browser.text().await;
    assert!(
        change_page.contains("新しい日時をお選びください")
            && change_page.contains(&format!("{first_clock} 現在のご予約")),
        "the change page marks the slot held now:\n{change_page}"
    );
    assert!(
        browser
            .client
            .find_all(Locator::Css(&format!(
                "main button[name='slot'][value='{first}']"
            )))
            .await
            .expect("find")
            .is_empty(),
        "the slot held now is not offered"
    );
    let mut other = None;
    for button in browser
        .client
        .find_all(Locator::Css(
            "main section.day ~ section.day button[name='slot']",
        ))
        .await
        .expect("slot buttons")
    {
        let value = button.attr("value").await.expect("value").expect("value");
        if value[..10] != first[..10] {
            other = Some(value);
            break;
        }
    }
    let second = other.expect("a free slot on another day of the week");
    let second_visit = visit_label(&second, 60);
    browser
        .click_and_wait(&format!("main button[name='slot'][value='{second}']"))
        .await;
    assert_eq!(browser.text_of("main h1").await, "ご予約を変更しました");
    let changed = browser.text().await;
    assert!(
        changed.contains(&second_visit) && !changed.contains(&first_visit),
        "the new visit ({second_visit}), not the old one, is shown:\n{changed}"
    );
    app.wait_for_mail(&email, &format!("ご来店日時：{second_visit}"))
        .await;

    browser.client.goto(&manage).await.expect("open link again");
    let shown = browser.text().await;
    assert!(
        shown.contains(&second_visit) && !shown.contains(&first_visit),
        "the booking now is at {second_visit}:\n{shown}"
    );
    browser
        .click_and_wait("main form[action='/reservations/manage/cancel'] button")
        .await;
    assert_eq!(
        browser.text_of("main h1").await,
        "ご予約をキャンセルしました"
    );
    let cancelled = browser.text().await;
    assert!(
        cancelled.contains(&second_visit),
        "the cancelled visit is named:\n{cancelled}"
    );
    let notice = app
        .wait_for_mail(&email, "次のご来店予約をキャンセルしました")
        .await;
    assert!(notice.contains(&second_visit), "{notice}");

    // The link still shows the booking, cancelled, with nothing left to change.
    browser.client.goto(&manage).await.expect("open link again");
    let shown = browser.text().await;
    assert!(shown.contains("キャンセル済み"), "{shown}");
    assert!(
        browser
            .client
            .find_all(Locator::Css("main a.button, main form"))
            .await
            .expect("find")
            .is_empty(),
        "a cancelled booking offers no change and no cancel:\n{shown}"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_customer_books_changes_and_cancels_a_visit_in_chromium_on_sqlite() {
    a_customer_books_changes_and_cancels_a_visit(Db::Sqlite).await;
}

#[tokio::test]
async fn a_customer_books_changes_and_cancels_a_visit_in_chromium_on_postgres() {
    a_customer_books_changes_and_cancels_a_visit(Db::Postgres).await;
}
