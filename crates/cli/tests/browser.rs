//! Browser end to end, in real headless Chromium: a new applicant opens an ordinary savings
//! account, trips over a validation rule, fixes it, and gets a receipt number and an e-mail.

mod common;

use common::applicant::{Applicant, code_in};
use common::browser::Browser;
use common::{Db, TestApp};

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
        browser.path().await.ends_with("/branch"),
        "profile step accepted:\n{}",
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
    browser.close().await;
    app.stop().await;
}
