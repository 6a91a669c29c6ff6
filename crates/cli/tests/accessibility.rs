//! Accessibility and weight of every public page, in real Chromium: axe-core (injected over
//! WebDriver) reports no serious or critical violation of WCAG 2.x A/AA rules on each page an
//! applicant or a visitor reaches — forms with refusals shown included — and each page with
//! its stylesheet weighs under 50 KB.
//!
//! axe-core comes from the npm registry through `scripts/fetch-axe` (run by `scripts/test`),
//! which exports its path as `MADOGUCHI_AXE_JS`. With CI=true a missing engine fails the test.

mod common;

use common::applicant::{Applicant, code_in};
use common::browser::Browser;
use common::{Db, TestApp};
use serde_json::Value;

/// The most a page and its stylesheet may weigh together (issue 3: a phone on a slow line).
const PAGE_BUDGET_BYTES: usize = 50 * 1024;

fn axe_source() -> Option<String> {
    let path = std::env::var("MADOGUCHI_AXE_JS").ok().or_else(|| {
        let default = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/test-tools/axe-core-4.14.1/axe.min.js"
        );
        std::path::Path::new(default)
            .exists()
            .then(|| default.to_owned())
    });
    match path.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(source) => Some(source),
        None if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("axe-core is required when CI=true: run scripts/fetch-axe (scripts/test does)")
        }
        None => {
            eprintln!("SKIPPED: axe-core missing; run scripts/fetch-axe");
            None
        }
    }
}

/// What one page's check found, empty when the page passes.
async fn check_page(browser: &Browser, axe: &str, stylesheet_bytes: usize) -> Vec<String> {
    let path = browser.path().await;
    let mut problems = Vec::new();
    let html = browser.client.source().await.expect("page source");
    let weight = html.len() + stylesheet_bytes;
    if weight > PAGE_BUDGET_BYTES {
        problems.push(format!("{path}: {weight} bytes with its stylesheet"));
    }
    browser
        .client
        .execute(axe, vec![])
        .await
        .expect("axe-core loads in the page");
    let found = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
                 .then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                 .catch(e => done(['axe failed: ' + e]));"#,
            vec![],
        )
        .await
        .expect("axe-core runs");
    if let Value::Array(violations) = found {
        problems.extend(
            violations
                .into_iter()
                .map(|v| format!("{path}: {}", v.as_str().unwrap_or("?"))),
        );
    }
    problems
}

async fn open(browser: &Browser, app: &TestApp, path: &str) {
    browser
        .client
        .goto(&app.url(path))
        .await
        .expect("open page");
}

#[tokio::test]
async fn every_public_page_is_accessible_and_light() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stylesheet = reqwest::get(app.url("/static/style.css"))
        .await
        .expect("stylesheet")
        .bytes()
        .await
        .expect("stylesheet body")
        .len();
    // The check itself can fail: an image without a text alternative is caught.
    open(&browser, &app, "/").await;
    browser
        .client
        .execute(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\">');",
            vec![],
        )
        .await
        .expect("break the page");
    let caught = check_page(&browser, &axe, stylesheet).await;
    assert!(
        caught.iter().any(|p| p.contains("image-alt")),
        "axe-core must report a missing alt text: {caught:?}"
    );

    let mut problems = Vec::new();
    let mut pages = 0;

    // Pages anyone reaches with a fresh browser.
    for path in [
        "/",
        "/apply/savings-account",
        "/apply/internet-banking",
        "/apply/debit-card",
        "/status",
        "/reservations",
        "/reservations/centers/naha",
        "/reservations/centers/chatan-weekend",
        "/no-such-page",
    ] {
        open(&browser, &app, path).await;
        problems.extend(check_page(&browser, &axe, stylesheet).await);
        pages += 1;
    }

    // The booking form, empty and with its refusals shown.
    open(&browser, &app, "/reservations/centers/naha").await;
    browser.click("a[href*='/book?slot=']").await;
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    browser.submit().await;
    assert!(
        browser.text().await.contains("入力内容をご確認ください"),
        "the empty booking form is refused with its summary"
    );
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    pages += 2;

    // The account-opening flow, step by step, with one refusal shown.
    let applicant = Applicant::new();
    open(&browser, &app, "/apply/savings-account").await;
    browser.fill("email", &applicant.email).await;
    browser.submit().await;
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    let mail = app.wait_for_mail(&applicant.email, "確認コード").await;
    browser.fill("code", "000000").await;
    browser.submit().await;
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    browser.fill("code", &code_in(&mail)).await;
    browser.submit().await;
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    browser.submit().await; // the empty personal step: every refusal shown
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    pages += 4;
    for (name, value) in applicant.personal_step() {
        match name {
            "sex" => browser.click("input[name='sex'][value='female']").await,
            "prefecture" => browser.select("prefecture", &value).await,
            _ if value.is_empty() => {}
            _ => browser.fill(name, &value).await,
        }
    }
    browser.submit().await;
    assert!(browser.path().await.ends_with("/profile"));
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    pages += 1;

    // The identity documents step (file inputs), blank and with its refusals shown.
    browser.select("occupation", "student").await;
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
        "{}",
        browser.text().await
    );
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    browser.submit().await; // no file chosen: each input asks for its file
    assert!(browser.text().await.contains("のファイルを選んでください"));
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    pages += 2;

    // English: the switch (a link in the header) returns to the same step in English.
    browser.click("#switch-language").await;
    assert!(browser.path().await.ends_with("/identity"));
    let source = browser.client.source().await.expect("page source");
    assert!(
        source.contains(r#"<html lang="en">"#),
        "English after the switch"
    );
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    for path in ["/", "/status", "/reservations/centers/naha"] {
        open(&browser, &app, path).await;
        problems.extend(check_page(&browser, &axe, stylesheet).await);
    }
    browser.click("a[href*='/book?slot=']").await;
    browser.submit().await;
    assert!(
        browser
            .text()
            .await
            .contains("Please check what you entered"),
        "the empty booking form is refused in English"
    );
    problems.extend(check_page(&browser, &axe, stylesheet).await);
    pages += 5;

    assert!(
        problems.is_empty(),
        "{} problem(s) on {pages} pages:\n{}",
        problems.len(),
        problems.join("\n")
    );
    browser.close().await;
    app.stop().await;
}
