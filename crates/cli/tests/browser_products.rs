//! Browser end to end, in real headless Chromium, for the products `browser.rs` does not
//! drive: internet banking (Japanese), the Visa debit card (English, chosen with the header's
//! switch), a savings application resumed after Chromium was closed and opened again on the
//! same profile, and a status check.

mod common;

use common::applicant::{Applicant, code_in, receipt_in};
use common::browser::Browser;
use common::existing_account::AccountHolder;
use common::{Db, TestApp};

/// The 6-digit code in an English verification e-mail.
fn english_code_in(mail: &str) -> String {
    regex_lite::Regex::new(r"Confirmation code: (\d{6})")
        .expect("regex")
        .captures(mail)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no code in e-mail:\n{mail}"))
}

/// Fills the customer step of an existing-account product as the holder would.
async fn fill_customer_step(browser: &Browser, holder: &AccountHolder) {
    for (name, value) in holder.customer_step() {
        browser.fill(name, &value).await;
    }
}

/// Fills the account step: the branch chosen, the account type ticked, the number typed.
async fn fill_account_step(browser: &Browser, holder: &AccountHolder) {
    browser.select("branch_code", &holder.branch_code).await;
    browser
        .click(&format!(
            "input[name='account_type'][value='{}']",
            holder.account_type
        ))
        .await;
    browser.fill("account_number", &holder.account_number).await;
}

#[tokio::test]
async fn internet_banking_in_chromium() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let holder = AccountHolder::new();

    browser.client.goto(&app.url("/")).await.expect("open site");
    browser
        .click_and_wait("a[href='/apply/internet-banking']")
        .await;
    assert_eq!(
        browser.text_of("main h1").await,
        "インターネットバンキングのお申込み",
        "the product's heading"
    );
    browser.fill("email", &holder.email).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/internet-banking/verify");

    let mail = app.wait_for_mail(&holder.email, "確認コード").await;
    browser.fill("code", &code_in(&mail)).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/internet-banking/customer");
    let page = browser.text().await;
    assert!(page.contains("生年月日"), "the customer step:\n{page}");

    fill_customer_step(&browser, &holder).await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/internet-banking/account",
        "customer step accepted:\n{}",
        browser.text().await
    );
    assert!(browser.text().await.contains("口座番号"));

    fill_account_step(&browser, &holder).await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/internet-banking/credentials",
        "account step accepted:\n{}",
        browser.text().await
    );

    // A password made of the account number: refused next to its field, and never shown again.
    let weak = format!("Qz#{}Kv", holder.account_number);
    browser
        .fill("current_cash_card_pin", &holder.cash_card_pin)
        .await;
    browser.fill("logon_password", &weak).await;
    browser.fill("logon_password_confirm", &weak).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/internet-banking/credentials");
    let refusal = browser.text_of("#logon_password-error").await;
    assert!(
        refusal.contains("ログオンパスワードに口座番号を含めることはできません"),
        "the refusal stands next to the password field: {refusal}"
    );
    assert!(
        browser.text().await.contains("入力内容をご確認ください"),
        "the error summary is shown"
    );
    assert_eq!(browser.value_of("logon_password").await, "");
    assert_eq!(browser.value_of("current_cash_card_pin").await, "");
    assert!(
        !browser
            .client
            .source()
            .await
            .expect("source")
            .contains(&weak),
        "the refused password is not echoed"
    );

    browser
        .fill("current_cash_card_pin", &holder.cash_card_pin)
        .await;
    browser.fill("logon_password", &holder.logon_password).await;
    browser
        .fill("logon_password_confirm", &holder.logon_password)
        .await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/internet-banking/confirm",
        "credentials accepted:\n{}",
        browser.text().await
    );
    let confirm = browser.text().await;
    for shown in [
        holder.family_name.as_str(),
        holder.family_name_kana.as_str(),
        holder.account_number.as_str(),
    ] {
        assert!(
            confirm.contains(shown),
            "{shown} on the confirmation:\n{confirm}"
        );
    }
    let source = browser.client.source().await.expect("source");
    assert!(
        !source.contains(&holder.logon_password)
            && !common::contains_token(source.as_bytes(), &holder.cash_card_pin),
        "the confirmation never shows a secret"
    );

    browser.submit().await;
    assert_eq!(browser.text_of("main h1").await, "お申込みを受け付けました");
    let done = browser.text().await;
    assert!(
        done.contains("インターネットバンキング"),
        "the product is named:\n{done}"
    );
    let receipt = receipt_in(&browser.client.source().await.expect("source"));
    assert!(done.contains(&format!("受付番号：{receipt}")), "{done}");

    let mail = app.wait_for_mail(&holder.email, &receipt).await;
    assert!(
        mail.contains("インターネットバンキングのお申込みを受け付けました"),
        "{mail}"
    );
    assert!(mail.contains(&format!("受付番号：{receipt}")), "{mail}");
    assert!(!mail.contains(&holder.logon_password));
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn debit_card_in_chromium_in_english() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let holder = AccountHolder::new();

    // Japanese by default; the header's link switches to English and stays on the page.
    browser.client.goto(&app.url("/")).await.expect("open site");
    assert_eq!(browser.page_lang().await, "ja");
    assert_eq!(browser.text_of("#switch-language").await, "English");
    browser.click_and_wait("#switch-language").await;
    assert_eq!(browser.path().await, "/");
    assert_eq!(browser.page_lang().await, "en");
    assert_eq!(browser.text_of("#switch-language").await, "日本語");

    browser.click_and_wait("a[href='/apply/debit-card']").await;
    assert_eq!(browser.page_lang().await, "en");
    assert_eq!(
        browser.text_of("main h1").await,
        "Apply for a Visa debit card"
    );
    assert_eq!(
        browser.text_of("label[for='email']").await,
        "E-mail address Required"
    );
    browser.fill("email", &holder.email).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/debit-card/verify");

    let mail = app
        .wait_for_mail(&holder.email, "Confirmation code: ")
        .await;
    assert!(!mail.contains("確認コード"), "an English e-mail:\n{mail}");
    browser.fill("code", &english_code_in(&mail)).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/debit-card/customer");
    let page = browser.text().await;
    assert!(
        page.contains("Step 3 of") && page.contains("Your details"),
        "{page}"
    );
    for (name, label) in [
        ("family_name", "Family name"),
        ("given_name_kana", "Given name (katakana)"),
        ("birth_date", "Date of birth"),
        ("phone", "Phone number"),
    ] {
        let shown = browser.text_of(&format!("label[for='{name}']")).await;
        assert!(shown.starts_with(label), "{name}: {shown:?}");
    }

    fill_customer_step(&browser, &holder).await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/debit-card/account",
        "customer step accepted:\n{}",
        browser.text().await
    );
    assert!(
        browser
            .text_of("label[for='account_number']")
            .await
            .starts_with("Account number")
    );
    fill_account_step(&browser, &holder).await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/debit-card/card",
        "account step accepted:\n{}",
        browser.text().await
    );
    assert!(
        browser
            .text_of("label[for='embossed_name']")
            .await
            .starts_with("Name on the card (roman letters)")
    );

    // A name on the card with a digit: refused in English, next to its field.
    browser.fill("embossed_name", "SHURI KENSHOUKA3").await;
    browser.fill("debit_card_pin", &holder.debit_card_pin).await;
    browser
        .fill("debit_card_pin_confirm", &holder.debit_card_pin)
        .await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/debit-card/card");
    let refusal = browser.text_of("#embossed_name-error").await;
    assert!(
        refusal.contains("in capital letters (A–Z) and spaces"),
        "an English refusal next to the field: {refusal}"
    );
    assert_eq!(browser.value_of("debit_card_pin").await, "");

    browser
        .fill("embossed_name", &holder.embossed_name_typed)
        .await;
    browser.fill("debit_card_pin", &holder.debit_card_pin).await;
    browser
        .fill("debit_card_pin_confirm", &holder.debit_card_pin)
        .await;
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/debit-card/confirm",
        "card step accepted:\n{}",
        browser.text().await
    );
    let confirm = browser.text().await;
    assert!(
        confirm.contains(&holder.embossed_name),
        "the name on the card, in capitals:\n{confirm}"
    );
    assert_eq!(
        browser.text_of("main form button[type=submit]").await,
        "Apply"
    );

    browser.submit().await;
    assert_eq!(
        browser.text_of("main h1").await,
        "We have received your application"
    );
    let done = browser.text().await;
    assert!(
        done.contains("Thank you for applying for a Visa debit card."),
        "{done}"
    );
    let receipt = receipt_in(&browser.client.source().await.expect("source"));
    assert!(
        done.contains(&format!("Receipt number: {receipt}")),
        "{done}"
    );

    let mail = app.wait_for_mail(&holder.email, &receipt).await;
    assert!(
        mail.contains("We have received your application for a Visa debit card"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!("Receipt number: {receipt}")),
        "{mail}"
    );
    assert!(
        mail.contains("We will never ask for your PIN or password"),
        "{mail}"
    );
    assert!(
        !mail.contains("受け付けました") && !mail.contains("受付番号"),
        "no Japanese left:\n{mail}"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_savings_application_resumes_after_the_browser_is_closed() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let profile = tempfile::tempdir().expect("profile dir");
    let Some(browser) = Browser::start_with_profile(profile.path()).await else {
        return;
    };
    let applicant = Applicant::new();

    browser
        .client
        .goto(&app.url("/apply/savings-account"))
        .await
        .expect("open the application");
    browser.fill("email", &applicant.email).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/savings-account/verify");
    let mail = app.wait_for_mail(&applicant.email, "確認コード").await;
    browser.fill("code", &code_in(&mail)).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/apply/savings-account/personal");

    for (name, value) in applicant.personal_step() {
        match name {
            "sex" => browser.click("input[name='sex'][value='female']").await,
            "prefecture" => browser.select("prefecture", &value).await,
            _ if value.is_empty() => {}
            _ => browser.fill(name, &value).await,
        }
    }
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/apply/savings-account/profile",
        "personal step accepted:\n{}",
        browser.text().await
    );

    // Chromium quits (and chromedriver with it); a new one opens on the same profile.
    browser.quit().await;
    let Some(browser) = Browser::start_with_profile(profile.path()).await else {
        return;
    };
    browser
        .client
        .goto(&app.url("/apply/savings-account"))
        .await
        .expect("open the application again");
    assert_eq!(
        browser.path().await,
        "/apply/savings-account/profile",
        "the next unfinished step:\n{}",
        browser.text().await
    );
    assert_eq!(
        browser.text_of("main h1").await,
        "普通預金口座開設のお申込み"
    );

    // The first step kept what was typed before the browser was closed.
    browser
        .click_and_wait("main a[href='/apply/savings-account/personal']")
        .await;
    assert_eq!(browser.path().await, "/apply/savings-account/personal");
    for (name, value) in applicant.personal_step() {
        match name {
            "sex" => assert!(
                browser
                    .is_checked("input[name='sex'][value='female']")
                    .await,
                "the sex chosen is kept"
            ),
            _ if value.is_empty() => {}
            _ => assert_eq!(browser.value_of(name).await, value, "{name} kept"),
        }
    }
    browser.close().await;
    drop(profile);
    app.stop().await;
}

#[tokio::test]
async fn a_status_check_in_chromium() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let applicant = Applicant::new();
    let receipt = common::applicant::apply(&app, &TestApp::client(), &applicant).await;
    app.wait_for_mail(&applicant.email, &receipt).await;
    let Some(browser) = Browser::start().await else {
        return;
    };

    browser.client.goto(&app.url("/")).await.expect("open site");
    browser.click_and_wait("main a[href='/status']").await;
    assert_eq!(browser.path().await, "/status");
    assert_eq!(browser.text_of("main h1").await, "お申込み状況の確認");
    browser.fill("receipt_number", &receipt).await;
    browser.fill("email", &applicant.email).await;
    browser.submit().await;
    let page = browser.text().await;
    assert!(page.contains("6桁の確認コード"), "the code page:\n{page}");

    let mail = app
        .wait_for_mail(&applicant.email, "お申込み状況の確認画面に")
        .await;
    browser.fill("code", &code_in(&mail)).await;
    browser.submit().await;
    assert_eq!(browser.text_of("main h1").await, "お申込み状況");
    assert_eq!(browser.text_of("#status-label").await, "受付済み");
    assert_eq!(browser.text_of("#status-product").await, "普通預金口座開設");

    let source = browser.client.source().await.expect("source");
    let mut private = applicant.personal_values();
    private.extend([
        applicant.given_name.clone(),
        applicant.given_name_kana.clone(),
        applicant.postal_code.clone(),
    ]);
    assert!(
        !common::contains_token(source.as_bytes(), &applicant.pin),
        "the status page shows the PIN"
    );
    for value in private {
        assert!(
            !source.contains(&value),
            "the status page shows {value:?}:\n{source}"
        );
    }
    browser.close().await;
    app.stop().await;
}
