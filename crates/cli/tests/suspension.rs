//! Suspension (SPEC §7): `madoguchi incident suspend` stops a public service on every
//! instance — two servers on one PostgreSQL here — with a 503 notice page (in the applicant's
//! language) and a machine-readable 503 for the API; the other service and the back office go
//! on; `resume` brings both instances back, and a form that was open meanwhile is sent again
//! without losing its input.

mod common;

use std::time::{Duration, Instant};

use common::applicant::verify_email;
use common::{Db, TestApp, madoguchi, post_form};

/// Waits (polling) until `path` on `app` answers `status`; the deadline is generous on
/// purpose — the product's own bound (its poll of half a second) is not what is timed here.
async fn until_status(app: &TestApp, path: &str, status: u16) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = client.get(app.url(path)).send().await.expect("request");
        if answer.status().as_u16() == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} on {} still answers {}",
            app.public_url,
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn cli(app: &TestApp, args: &[&str]) -> String {
    let out = madoguchi(app, args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn scenario(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let sibling = app.spawn_sibling(common::Options::default()).await;
    let instances = [&app, &sibling];

    // An applicant half-way: e-mail checked, the personal-details form open.
    let applicant = common::applicant::Applicant::new();
    let client = TestApp::client();
    verify_email(&app, &client, &applicant.email).await;
    let page = client
        .get(app.url("/apply/savings-account/personal"))
        .send()
        .await
        .expect("personal page")
        .text()
        .await
        .expect("body");
    let csrf = common::csrf_of(&page);

    let notice = app.tmp.path().join("notice.txt");
    std::fs::write(
        &notice,
        "システム点検のため受付を停止しています。\n<script>alert(1)</script>",
    )
    .expect("notice");
    cli(
        &app,
        &[
            "incident",
            "suspend",
            "--service",
            "web-application",
            "--notice",
            notice.to_str().expect("path"),
        ],
    )
    .await;
    for instance in instances {
        until_status(instance, "/apply/savings-account", 503).await;
        // The other service and the home page go on.
        until_status(instance, "/reservations", 200).await;
        until_status(instance, "/", 200).await;
    }
    let status = cli(&app, &["incident", "status"]).await;
    assert!(status.contains("web-application: SUSPENDED"), "{status}");
    assert!(status.contains("visit-reservation: running"), "{status}");

    // The open form is refused with the notice, in Japanese, the bank's text escaped.
    let mut fields = vec![("csrf", csrf.as_str())];
    let personal = applicant.personal_step();
    fields.extend(personal.iter().map(|(k, v)| (*k, v.as_str())));
    let refused = post_form(
        &client,
        &app.url("/apply/savings-account/personal"),
        &fields,
    )
    .await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body = refused.text().await.expect("body");
    assert!(
        body.contains("ただいまこのサービスを停止しております"),
        "{body}"
    );
    assert!(
        body.contains("システム点検のため"),
        "the bank's notice: {body}"
    );
    assert!(
        !body.contains("<script>alert(1)</script>"),
        "the notice is escaped"
    );
    // The API says so in a form a program reads.
    let api = reqwest::Client::new()
        .post(sibling.url("/api/v1/email-checks"))
        .header("content-type", "application/json")
        .body(r#"{"email":"a@example.jp","product":"savings-account"}"#)
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 503);
    let json: serde_json::Value =
        serde_json::from_str(&api.text().await.expect("body")).expect("JSON");
    assert_eq!(json["code"], "service-suspended");
    // The back office keeps working.
    let office = reqwest::Client::new()
        .get(format!("{}/sign-in", app.office_url))
        .send()
        .await
        .expect("office");
    assert_eq!(office.status(), 200);

    cli(&app, &["incident", "resume", "--service", "all"]).await;
    for instance in instances {
        until_status(instance, "/apply/savings-account", 200).await;
    }
    // The same form, sent again: accepted, the draft was kept.
    let sent = post_form(
        &client,
        &app.url("/apply/savings-account/personal"),
        &fields,
    )
    .await;
    assert_eq!(sent.status(), 200);
    assert!(
        sent.url().path().ends_with("/profile"),
        "on to the next step: {}",
        sent.url()
    );
    let events = app.store().recent_audit_events(50).await.expect("audit");
    for action in ["incident.suspend", "incident.resume"] {
        assert!(
            events
                .iter()
                .any(|e| e.action == action && e.actor == "cli:incident")
        );
    }
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn two_instances_stop_and_resume_together_on_postgres() {
    scenario(Db::Postgres).await;
}

#[tokio::test]
async fn suspension_on_sqlite() {
    scenario(Db::Sqlite).await;
}
