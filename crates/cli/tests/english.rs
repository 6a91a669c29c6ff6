//! English (issue 3, item 6): an applicant chooses English with the switch on any page, the
//! choice is remembered in the `mdg_lang` cookie, and from then on every page, refusal and
//! e-mail is in English — while a visitor who chose nothing sees Japanese.

mod common;

use common::reservation::{
    ApiSlot, Visitor, manage_token, next_week, open_form, slot_links, slots, submit_form,
};
use common::{Db, TestApp, csrf_of, post_form};
use madoguchi_domain::reservation::JST;
use time::Weekday;

async fn get(client: &reqwest::Client, url: &str) -> (u16, String, String) {
    let response = client.get(url).send().await.expect("request");
    let status = response.status().as_u16();
    let path = response.url().path().to_owned();
    (status, path, response.text().await.expect("body"))
}

/// The switch link of a page, as its `href` says (HTML-unescaped).
fn switch_link(html: &str) -> String {
    let re = regex_lite::Regex::new(r#"id="switch-language" href="([^"]+)""#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().replace("&#38;", "&").replace("&amp;", "&"))
        .unwrap_or_else(|| panic!("no language switch in page:\n{html}"))
}

fn assert_english(html: &str, what: &str) {
    assert!(
        html.contains(r#"<html lang="en">"#),
        "{what}: lang=en\n{html}"
    );
    assert!(
        html.contains(r#"lang="ja" hreflang="ja">日本語</a>"#),
        "{what}: the switch back to Japanese"
    );
    assert!(
        html.contains("We will never ask for your PIN or password"),
        "{what}: the standing warning in English"
    );
    assert!(
        html.contains("Demo Bank") || html.contains("Bank"),
        "{what}: the bank's English name"
    );
    // No Japanese sentence of the page frame is left.
    for japanese in [
        "ご注意",
        "お問い合わせ",
        "本文へ移動",
        "必須",
        "入力内容をご確認ください",
    ] {
        assert!(
            !html.contains(japanese),
            "{what}: {japanese:?} left in\n{html}"
        );
    }
}

/// A visit written the English way, independently of the product's own formatting.
fn english_visit(slot: &ApiSlot) -> String {
    let (s, e) = (slot.start().to_offset(JST), slot.end().to_offset(JST));
    let weekday = match s.weekday() {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    };
    let month = &format!("{:?}", s.month())[..3];
    format!(
        "{weekday} {} {month} {}, {}:{:02}–{}:{:02} (JST)",
        s.day(),
        s.year(),
        s.hour(),
        s.minute(),
        e.hour(),
        e.minute()
    )
}

#[tokio::test]
async fn the_switch_sets_a_remembered_cookie_and_returns_to_the_page() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let browser = TestApp::client();

    // Japanese first, whatever the browser prefers.
    let response = browser
        .get(app.url("/status"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .expect("status page");
    let html = response.text().await.expect("body");
    assert!(html.contains(r#"<html lang="ja">"#), "Japanese by default");
    assert!(html.contains("お申込み状況の確認"));
    let link = switch_link(&html);
    assert_eq!(link, "/language?to=en&back=%2Fstatus");

    // The switch itself: a cookie for a year, and back to the same page.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let answer = plain.get(app.url(&link)).send().await.expect("switch");
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/status");
    let cookie = answer.headers()["set-cookie"].to_str().expect("cookie");
    for part in [
        "mdg_lang=en",
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=31536000",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    // Only this site's pages are places to go back to.
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("to", "en")
            .append_pair("back", evil)
            .finish();
        let answer = plain
            .get(app.url(&format!("/language?{query}")))
            .send()
            .await
            .expect("switch");
        assert_eq!(answer.headers()["location"], "/", "{evil}");
    }

    // In a browser: the page comes back in English, and stays English.
    let (status, path, html) = get(&browser, &app.url(&link)).await;
    assert_eq!((status, path.as_str()), (200, "/status"));
    assert_english(&html, "status page");
    assert!(
        html.contains("<h1>Check the status of an application</h1>"),
        "{html}"
    );
    let (_, _, home) = get(&browser, &app.url("/")).await;
    assert_english(&home, "home page");
    assert!(home.contains("<h1>Online applications</h1>"));
    assert!(home.contains("Apply for an ordinary savings account"));
    assert!(home.contains("Book a visit to a loan centre"));

    // And back to Japanese from a page with a query string.
    let (_, _, week) = get(&browser, &app.url("/reservations/centers/naha")).await;
    let back = switch_link(&week);
    assert!(back.starts_with("/language?to=ja&back=%2Freservations%2Fcenters%2Fnaha"));
    let (_, path, html) = get(&browser, &app.url(&back)).await;
    assert_eq!(path, "/reservations/centers/naha");
    assert!(html.contains(r#"<html lang="ja">"#));
    assert!(html.contains("手順 1／2"));
    app.stop().await;
}

#[tokio::test]
async fn english_pages_refusals_and_emails() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let browser = TestApp::client();
    let (_, _, _) = get(&browser, &app.url("/language?to=en&back=/")).await;

    // The savings e-mail page, a refusal, and the code e-mail in English.
    let (status, _, html) = get(&browser, &app.url("/apply/savings-account")).await;
    assert_eq!(status, 200);
    assert_english(&html, "savings e-mail page");
    assert!(
        html.contains("Apply for an ordinary savings account"),
        "{html}"
    );
    assert!(
        html.contains("Step 1 of 7: Confirm your e-mail address"),
        "{html}"
    );
    assert!(html.contains(">Send the confirmation code<"));
    let csrf = csrf_of(&html);
    let refused = post_form(
        &browser,
        &app.url("/apply/savings-account/email"),
        &[("csrf", &csrf), ("email", "not-an-address")],
    )
    .await;
    let html = refused.text().await.expect("body");
    assert_english(&html, "refused e-mail page");
    assert!(
        html.contains("<h2>Please check what you entered</h2>"),
        "{html}"
    );
    assert!(
        html.contains("Please enter the E-mail address in the right form (e.g. taro@example.jp)."),
        "{html}"
    );
    let email = format!("english.{}@example.jp", uuid::Uuid::new_v4().simple());
    let sent = post_form(
        &browser,
        &app.url("/apply/savings-account/email"),
        &[("csrf", &csrf), ("email", &email)],
    )
    .await;
    let html = sent.text().await.expect("body");
    assert!(
        html.contains("Step 2 of 7: Enter the confirmation code"),
        "{html}"
    );
    let mail = app.wait_for_mail(&email, "Confirmation code: ").await;
    assert!(
        mail.contains("We will never ask for your PIN or password"),
        "{mail}"
    );
    assert!(!mail.contains("確認コード"), "no Japanese left:\n{mail}");

    // The status page and its refusal.
    let (_, _, html) = get(&browser, &app.url("/status")).await;
    let csrf = csrf_of(&html);
    let refused = post_form(
        &browser,
        &app.url("/status/start"),
        &[
            ("csrf", &csrf),
            ("receipt_number", "12"),
            ("email", "x@example.jp"),
        ],
    )
    .await;
    let html = refused.text().await.expect("body");
    assert_english(&html, "refused status page");
    assert!(
        html.contains("Please enter the Receipt number in the form “XXXX-XXXX-XXXX”"),
        "{html}"
    );

    // An error page is English too.
    let (status, _, html) = get(&browser, &app.url("/no/such/page")).await;
    assert_eq!(status, 404);
    assert_english(&html, "not found");
    assert!(html.contains("<h1>Page not found</h1>"));

    // Reservations: the list of centres, a week, the form, a refusal, the booking, its e-mail.
    let (_, _, html) = get(&browser, &app.url("/reservations")).await;
    assert_english(&html, "centres");
    assert!(html.contains("<h2>Choose a centre</h2>"));
    // The centres' English names and addresses from the profile, not the Japanese.
    assert!(html.contains("Naha Loan Center"), "{html}");
    assert!(html.contains("Chatan Loan Plaza"), "{html}");
    assert!(html.contains("1-1-1 Madoguchi, Naha, Okinawa"), "{html}");
    assert!(!html.contains("那覇ローンセンター"), "{html}");
    let mut path = "/reservations/centers/naha".to_owned();
    let slot = loop {
        let (status, _, html) = get(&browser, &app.url(&path)).await;
        assert_eq!(status, 200, "week page {path}");
        assert_english(&html, "week");
        assert!(html.contains("Step 1 of 2: choose a time"));
        let day = regex_lite::Regex::new(
            r"<h2 [^>]*>(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}</h2>",
        )
        .expect("regex");
        assert!(day.is_match(&html), "English day headings:\n{html}");
        if let Some(first) = slot_links(&html, "naha").into_iter().next() {
            break first;
        }
        path = next_week(&html).expect("a week with a free slot");
    };
    let listed = slots(&app, "naha").await;
    let booked = listed
        .iter()
        .find(|s| s.form_value() == slot)
        .expect("slot listed")
        .clone();
    let form = open_form(&app, &browser, "naha", &slot).await;
    assert_english(&form.html, "booking form");
    assert!(form.html.contains(&english_visit(&booked)), "{}", form.html);
    assert!(form.html.contains("Step 2 of 2: your details"));

    let visitor = Visitor::new();
    let mut fields = visitor.form_fields();
    for (name, value) in fields.iter_mut() {
        if *name == "family_name_kana" {
            *value = "Misago".to_owned();
        }
    }
    let refused = submit_form(&app, &browser, "naha", &form, &slot, &fields).await;
    let html = refused.text().await.expect("body");
    assert_english(&html, "refused booking");
    assert!(
        html.contains("Please enter the Family name (katakana) in full-width katakana"),
        "{html}"
    );

    let form = open_form(&app, &browser, "naha", &slot).await;
    let done = submit_form(&app, &browser, "naha", &form, &slot, &visitor.form_fields()).await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.expect("body");
    assert_english(&html, "booked");
    assert!(html.contains("<h1>Your visit is booked</h1>"), "{html}");
    assert!(html.contains("Naha Loan Center"), "{html}");
    assert!(!html.contains("那覇"), "{html}");
    assert!(html.contains(&english_visit(&booked)));
    assert!(html.contains("<dd>Housing loan</dd>") || html.contains("<dt>Consultation</dt>"));

    let mail = app.wait_for_mail(&visitor.email, "Your visit to").await;
    assert!(mail.contains("Naha Loan Center"), "{mail}");
    assert!(
        mail.contains("2F Madoguchi Bank Head Office, 1-1-1 Madoguchi, Naha, Okinawa"),
        "{mail}"
    );
    assert!(!mail.contains("那覇"), "no Japanese centre name:\n{mail}");
    assert!(mail.contains(&english_visit(&booked)), "{mail}");
    assert!(mail.contains("Booked by: "), "{mail}");
    assert!(mail.contains("[Caution] We will never ask for your PIN or password"));
    assert!(mail.contains("This page never asks for a PIN or password."));
    assert!(
        !mail.contains("ご来店"),
        "no Japanese sentence in the e-mail:\n{mail}"
    );

    // The change/cancel page, opened from the e-mail in the same (English) browser.
    let token = manage_token(&mail);
    let (status, _, html) = get(&browser, &app.url(&format!("/reservations/manage/{token}"))).await;
    assert_eq!(status, 200);
    assert_english(&html, "manage");
    assert!(html.contains("<dd>Booked</dd>"), "{html}");
    assert!(html.contains("Naha Loan Center"), "{html}");
    assert!(html.contains(">Cancel this booking<"));
    app.stop().await;
}

#[tokio::test]
async fn a_visitor_who_chose_nothing_gets_japanese_mail() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("app");
    let browser = TestApp::client();
    let csrf = app.open_application(&browser).await;
    let email = format!("nihongo.{}@example.jp", uuid::Uuid::new_v4().simple());
    post_form(
        &browser,
        &app.url("/apply/savings-account/email"),
        &[("csrf", &csrf), ("email", &email)],
    )
    .await;
    let mail = app.wait_for_mail(&email, "確認コード：").await;
    assert!(!mail.contains("Confirmation code"), "{mail}");
    app.stop().await;
}
