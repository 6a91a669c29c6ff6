//! Detection (SPEC §7, issue 6): a script that reads customers faster than anyone works is
//! stopped at the profile's limit — the read is refused and shows nothing, the account is held
//! (sessions ended, sign-in refused until a reset), and the security contact is alerted by
//! e-mail, in the audit log and as a metric. A canary record raises a critical alert the
//! moment it is opened. Exports, off-hours reveals and failed sign-ins from one address have
//! their own limits.

mod common;
#[path = "review_seed/mod.rs"]
mod seed;

use std::net::IpAddr;

use common::office::{StaffClient, sign_in, staff_client};
use common::{Db, Options, TestApp};
use reqwest::StatusCode;

const CONTACT: &str = "csirt@madoguchi-demo.example";

fn customer(i: usize) -> Vec<(&'static str, String)> {
    vec![
        ("family_name", "検知".to_owned()),
        ("given_name", format!("太郎{i}")),
        ("email", format!("taro.{i}@example.jp")),
        ("phone_mobile", format!("090-2000-{i:04}")),
    ]
}

async fn plant(app: &TestApp, n: usize, branch: &str) -> Vec<seed::Planted> {
    let mut planted = Vec::with_capacity(n);
    for i in 0..n {
        let fields = customer(i);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        planted.push(seed::plant(app, branch, &pairs).await);
    }
    planted
}

async fn reveal(staff: &StaffClient, id: uuid::Uuid) -> reqwest::Response {
    staff
        .post_form(
            &format!("/applications/{id}/reveal"),
            &[
                ("fields", "given_name"),
                ("fields", "phone_mobile"),
                ("purpose", "review"),
            ],
        )
        .await
}

/// The account as stored: its detection hold, if any.
async fn held_rule(app: &TestApp, staff: &StaffClient) -> Option<String> {
    app.store()
        .staff_by_username(&staff.username)
        .await
        .expect("staff")
        .expect("exists")
        .held_rule
}

async fn alerts(app: &TestApp) -> Vec<madoguchi_store::AuditEventRow> {
    app.store()
        .recent_audit_events(2000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "detection.alert")
        .collect()
}

/// The held member of staff: the session is over, and the right password no longer signs in.
async fn assert_held(app: &TestApp, staff: &StaffClient) {
    let home = staff.get("/").await;
    assert_eq!(
        home.status(),
        StatusCode::SEE_OTHER,
        "the session has ended"
    );
    let client = common::office::office_client();
    let answer = common::post_form(
        &client,
        &format!("{}/sign-in", app.office_url),
        &[("username", &staff.username), ("password", &staff.password)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK, "sign-in refused in place");
    let page = answer.text().await.expect("body");
    assert!(page.contains("セキュリティ上の理由で停止"), "{page}");
}

/// `madoguchi_detection_alerts_total{rule="customers-read"}` as scraped (0 before the first),
/// and the whole scrape.
async fn alert_counter(app: &TestApp) -> (u64, String) {
    let metrics = reqwest::get(app.metrics_url().expect("metrics on"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    let value = metrics
        .lines()
        .find(|l| {
            l.starts_with("madoguchi_detection_alerts_total")
                && l.contains("rule=\"customers-read\"")
        })
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |v| v.parse().expect("a count"));
    (value, metrics)
}

async fn customers_read(db: Db) {
    let options = Options {
        metrics: true,
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(db, options).await else {
        return;
    };
    let planted = plant(&app, 200, "101").await;
    let thief = staff_client(&app, "operator", "branches:101").await;
    let (before, _) = alert_counter(&app).await;
    // The script: every customer, as fast as the server answers.
    let mut shown = 0;
    let mut refused = None;
    for (i, p) in planted.iter().enumerate() {
        let answer = reveal(&thief, p.id).await;
        if answer.status() != StatusCode::OK {
            refused = Some((i, answer));
            break;
        }
        shown += 1;
    }
    let (at, answer) = refused.expect("the script was stopped");
    assert_eq!(shown, 60, "the limit is 60 customers an hour");
    assert_eq!(at, 60);
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let page = answer.text().await.expect("body");
    assert!(page.contains("アカウントを停止しました"), "{page}");
    assert!(!page.contains("太郎60"), "the refused read shows nothing");
    assert!(
        !page.contains("090-2000-0060"),
        "the refused read shows nothing"
    );
    // Every later request of the script is turned away.
    let after = reveal(&thief, planted[61].id).await;
    assert_ne!(after.status(), StatusCode::OK);
    assert_eq!(
        held_rule(&app, &thief).await.as_deref(),
        Some("customers-read")
    );
    assert_held(&app, &thief).await;

    // The audit log: the refused read as denied, one alert by the detection.
    let events = app.store().recent_audit_events(2000).await.expect("audit");
    let denied: Vec<_> = events
        .iter()
        .filter(|e| e.action == "application.reveal" && e.outcome == "denied")
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].subject_id, Some(planted[60].id.to_string()));
    let alerts = alerts(&app).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert.actor, "system:detection");
    let detail = alert.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("rule=customers-read"), "{detail}");
    assert!(detail.contains("count=61 limit=60"), "{detail}");
    let staff_id = app
        .store()
        .staff_by_username(&thief.username)
        .await
        .expect("staff")
        .expect("exists")
        .id;
    assert_eq!(alert.subject_id, Some(staff_id.to_string()));

    // The e-mail: who, what, and the command that scopes it; no customer's data.
    let mail = app.wait_for_mail(CONTACT, "customers-read").await;
    assert!(mail.contains(&thief.username), "{mail}");
    assert!(
        mail.contains(&format!("incident scope --actor staff:{staff_id}")),
        "{mail}"
    );
    assert!(!mail.contains("太郎"), "no personal data in the alert");

    // The metric (one recorder per process: the other backend's test may count too).
    let (after, metrics) = alert_counter(&app).await;
    assert!(
        after > before,
        "the alert is counted: {before} then {after}\n{metrics}"
    );
    assert!(!metrics.contains("太郎"), "no personal data in metrics");

    // An administrator's reset lifts the hold (a new one-time password, a new enrolment).
    let out = common::madoguchi(&app, &["staff", "reset", &thief.username]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(held_rule(&app, &thief).await, None);
    app.stop().await;
}

#[tokio::test]
async fn a_script_reading_200_customers_is_stopped_at_the_limit_sqlite() {
    customers_read(Db::Sqlite).await;
}

#[tokio::test]
async fn a_script_reading_200_customers_is_stopped_at_the_limit_postgres() {
    customers_read(Db::Postgres).await;
}

async fn canaries(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let real = plant(&app, 3, "101").await;
    let out = common::madoguchi(
        &app,
        &["demo", "canaries", "--applications", "3", "--bookings", "2"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let canaries = app.store().canaries().await.expect("canaries");
    assert_eq!(
        canaries.iter().filter(|(k, _)| k == "application").count(),
        3
    );
    assert_eq!(canaries.iter().filter(|(k, _)| k == "booking").count(), 2);

    // Day-to-day work does not touch them.
    let operator = staff_client(&app, "operator", "bank").await;
    for p in &real {
        assert_eq!(reveal(&operator, p.id).await.status(), StatusCode::OK);
    }
    assert!(alerts(&app).await.is_empty());
    // They look like any other application in the queue (completed, with a receipt number).
    let queue = operator.get("/applications?status=completed").await;
    let html = queue.text().await.expect("queue");
    let listed: Vec<&str> = canaries
        .iter()
        .filter(|(k, _)| k == "application")
        .map(|(_, id)| id.as_str())
        .filter(|id| html.contains(&format!("/applications/{id}")))
        .collect();
    assert_eq!(
        listed.len(),
        3,
        "the canaries are in the queue like the rest"
    );

    // Opening one — even the page without personal data — trips the alarm at once.
    let answer = operator.get(&format!("/applications/{}", listed[0])).await;
    assert_eq!(
        answer.status(),
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&common::logs::captured())
    );
    assert_eq!(held_rule(&app, &operator).await.as_deref(), Some("canary"));
    assert_held(&app, &operator).await;
    let alerts_now = alerts(&app).await;
    assert_eq!(alerts_now.len(), 1);
    let detail = alerts_now[0].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("severity=critical"), "{detail}");
    assert!(
        detail.contains(&format!("subject=application:{}", listed[0])),
        "{detail}"
    );
    let mail = app.wait_for_mail(CONTACT, "critical").await;
    assert!(mail.contains("カナリア"), "{mail}");

    // A canary visit trips it too, for a consultant of its centre.
    let booking = canaries
        .iter()
        .find(|(k, _)| k == "booking")
        .map(|(_, id)| id.clone())
        .expect("a canary booking");
    let consultant = staff_client(&app, "consultant", "bank").await;
    let answer = consultant.get(&format!("/bookings/{booking}")).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        held_rule(&app, &consultant).await.as_deref(),
        Some("canary")
    );
    assert_eq!(alerts(&app).await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn opening_a_canary_raises_a_critical_alert_sqlite() {
    canaries(Db::Sqlite).await;
}

#[tokio::test]
async fn opening_a_canary_raises_a_critical_alert_postgres() {
    canaries(Db::Postgres).await;
}

#[tokio::test]
async fn an_export_over_the_days_limit_is_refused_whole() {
    let options = Options {
        profile_edits: vec![("exported_rows_per_day = 500", "exported_rows_per_day = 5")],
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    plant(&app, 4, "101").await;
    let supervisor = staff_client(&app, "supervisor", "branches:101").await;
    let export = |s: &StaffClient| {
        let s = s.clone();
        async move {
            s.post_form(
                "/applications/export",
                &[("fields", "given_name"), ("purpose", "review")],
            )
            .await
        }
    };
    let first = export(&supervisor).await;
    assert_eq!(first.status(), StatusCode::OK, "4 rows: within the limit");
    assert!(first.text().await.expect("csv").contains("太郎3"));
    // 4 more would make 8 in a day.
    let second = export(&supervisor).await;
    assert_eq!(second.status(), StatusCode::FORBIDDEN);
    let body = second.text().await.expect("body");
    assert!(!body.contains("太郎"), "nothing of the refused export");
    assert_eq!(
        held_rule(&app, &supervisor).await.as_deref(),
        Some("exported-rows")
    );
    let alerts = alerts(&app).await;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0]
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("count=8 limit=5")
    );
    app.stop().await;
}

/// Business hours that exclude the present moment, whatever the time of the test.
fn hours_excluding_now() -> &'static str {
    let hour = time::OffsetDateTime::now_utc()
        .to_offset(madoguchi_domain::JST)
        .hour();
    if hour < 12 {
        "business_hours = \"13:00-14:00\""
    } else {
        "business_hours = \"01:00-02:00\""
    }
}

#[tokio::test]
async fn reveals_outside_business_hours_are_limited() {
    let options = Options {
        profile_edits: vec![
            ("business_hours = \"08:00-20:00\"", hours_excluding_now()),
            (
                "off_hours_reveals_per_hour = 10",
                "off_hours_reveals_per_hour = 2",
            ),
        ],
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    let planted = plant(&app, 3, "101").await;
    let operator = staff_client(&app, "operator", "branches:101").await;
    assert_eq!(
        reveal(&operator, planted[0].id).await.status(),
        StatusCode::OK
    );
    // The same customer again is another reveal.
    assert_eq!(
        reveal(&operator, planted[0].id).await.status(),
        StatusCode::OK
    );
    let third = reveal(&operator, planted[1].id).await;
    assert_eq!(third.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        held_rule(&app, &operator).await.as_deref(),
        Some("off-hours-reveals")
    );
    app.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_from_one_address_are_refused_after_the_limit() {
    let options = Options {
        profile_edits: vec![(
            "failed_sign_ins_per_hour = 20",
            "failed_sign_ins_per_hour = 5",
        )],
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    let victim = staff_client(&app, "operator", "branches:101").await;
    let sprayer: IpAddr = "127.0.0.3".parse().expect("address");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(sprayer)
        .build()
        .expect("client");
    let url = format!("{}/sign-in", app.office_url);
    // Five wrong passwords, over several accounts (spraying).
    for name in ["admin", "operator1", "suzuki", &victim.username, "tanaka"] {
        let answer = common::post_form(
            &client,
            &url,
            &[("username", name), ("password", "Winter2026!")],
        )
        .await;
        assert_eq!(
            answer.status(),
            StatusCode::OK,
            "wrong password: the form again"
        );
    }
    let mail = app.wait_for_mail(CONTACT, "failed-sign-ins").await;
    assert!(mail.contains("127.0.0.3"), "{mail}");
    // Now even the right password is refused from there…
    let answer = common::post_form(
        &client,
        &url,
        &[
            ("username", &victim.username),
            ("password", &victim.password),
        ],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK, "refused in place");
    let page = answer.text().await.expect("body");
    assert!(page.contains("しばらくサインインできません"), "{page}");
    // …while the member of staff signs in from their own address, and is not held.
    sign_in(
        &app,
        &victim.username,
        &victim.password,
        &victim.totp_secret,
    )
    .await;
    assert_eq!(held_rule(&app, &victim).await, None);
    let alerts = alerts(&app).await;
    assert_eq!(alerts.len(), 1, "the alert is raised once");
    assert_eq!(alerts[0].subject_kind.as_deref(), Some("address"));
    app.stop().await;
}

/// The servers a race runs against: on PostgreSQL two instances of one database (as two
/// `serve` processes behind a balancer), on SQLite two processes' worth of one file.
async fn two_instances(app: &TestApp, edits: &[(&'static str, &'static str)]) -> TestApp {
    app.spawn_sibling(Options {
        profile_edits: edits.to_vec(),
        ..Options::default()
    })
    .await
}

/// The same member of staff, talking to `other` (the session is the database's, not the
/// instance's).
fn on(staff: &StaffClient, other: &TestApp) -> StaffClient {
    StaffClient {
        office_url: other.office_url.clone(),
        ..staff.clone()
    }
}

/// Events of `action` by `staff` with `outcome`.
async fn events_of(app: &TestApp, staff: &StaffClient, action: &str, outcome: &str) -> usize {
    let id = app
        .store()
        .staff_by_username(&staff.username)
        .await
        .expect("staff")
        .expect("exists")
        .id;
    let actor = format!("staff:{id}");
    app.store()
        .recent_audit_events(5000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.actor == actor && e.action == action && e.outcome == outcome)
        .count()
}

/// Issue 16, 1: N parallel reveals of N customers by one operator, spread over two instances,
/// against a limit of L an hour: exactly L answers show data, the operator is held, one alert
/// is raised, and every refused read the server got to is in the audit log as denied.
async fn parallel_reveals(db: Db) {
    const LIMIT: usize = 5;
    const N: usize = 24;
    let edits = [(
        "customers_read_per_hour = 60",
        "customers_read_per_hour = 5",
    )];
    let options = Options {
        profile_edits: edits.to_vec(),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(db, options).await else {
        return;
    };
    let sibling = two_instances(&app, &edits).await;
    let planted = plant(&app, N, "101").await;
    let thief = staff_client(&app, "operator", "branches:101").await;
    let instances = [thief.clone(), on(&thief, &sibling)];
    let mut burst = tokio::task::JoinSet::new();
    for (i, p) in planted.iter().enumerate() {
        let staff = instances[i % 2].clone();
        let id = p.id;
        burst.spawn(async move {
            let answer = reveal(&staff, id).await;
            let status = answer.status();
            (i, status, answer.text().await.expect("body"))
        });
    }
    let answers = burst.join_all().await;
    let shown: Vec<_> = answers
        .iter()
        .filter(|(i, _, page)| page.contains(&format!("090-2000-{i:04}")))
        .collect();
    assert_eq!(shown.len(), LIMIT, "exactly the limit got data");
    assert!(shown.iter().all(|(_, status, _)| *status == StatusCode::OK));
    let refused: Vec<_> = answers
        .iter()
        .filter(|(_, status, _)| *status != StatusCode::OK)
        .collect();
    assert_eq!(refused.len(), N - LIMIT, "every other read is refused");
    for (_, status, page) in &refused {
        assert!(
            [StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED].contains(status),
            "held (403) or, once the hold ended the session, signed out (401): {status} {page}"
        );
        assert!(!page.contains("090-2000-"), "a refused read shows nothing");
    }
    assert_eq!(
        held_rule(&app, &thief).await.as_deref(),
        Some("customers-read")
    );
    assert_held(&app, &thief).await;
    assert_eq!(
        events_of(&app, &thief, "application.reveal", "ok").await,
        LIMIT
    );
    let forbidden = refused
        .iter()
        .filter(|(_, status, _)| *status == StatusCode::FORBIDDEN)
        .count();
    assert!(forbidden >= 1);
    assert_eq!(
        events_of(&app, &thief, "application.reveal", "denied").await,
        forbidden,
        "each read refused by detection is audited as denied"
    );
    assert_eq!(alerts(&app).await.len(), 1, "one alert for one hold");
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn parallel_reveals_get_no_more_than_the_limit_sqlite() {
    parallel_reveals(Db::Sqlite).await;
}

#[tokio::test]
async fn parallel_reveals_on_two_instances_get_no_more_than_the_limit_postgres() {
    parallel_reveals(Db::Postgres).await;
}

/// Issue 16, 1: rows, not requests, count. 20 parallel exports of 2 rows each against 5 rows
/// a day: two exports (4 rows) go out, the rest are refused whole, the supervisor is held.
async fn parallel_exports(db: Db) {
    const N: usize = 20;
    let edits = [("exported_rows_per_day = 500", "exported_rows_per_day = 5")];
    let options = Options {
        profile_edits: edits.to_vec(),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(db, options).await else {
        return;
    };
    let sibling = two_instances(&app, &edits).await;
    plant(&app, 2, "101").await;
    let supervisor = staff_client(&app, "supervisor", "branches:101").await;
    let instances = [supervisor.clone(), on(&supervisor, &sibling)];
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..N {
        let staff = instances[i % 2].clone();
        burst.spawn(async move {
            let answer = staff
                .post_form(
                    "/applications/export",
                    &[("fields", "given_name"), ("purpose", "review")],
                )
                .await;
            let status = answer.status();
            (status, answer.text().await.expect("body"))
        });
    }
    let answers = burst.join_all().await;
    let rows: usize = answers
        .iter()
        .map(|(_, body)| body.matches("太郎").count())
        .sum();
    assert_eq!(
        rows, 4,
        "two exports of two rows: no more than 5 rows in all"
    );
    let exported = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(exported, 2);
    assert_eq!(
        held_rule(&app, &supervisor).await.as_deref(),
        Some("exported-rows")
    );
    assert_eq!(
        events_of(&app, &supervisor, "application.export", "ok").await,
        4
    );
    let forbidden = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::FORBIDDEN)
        .count();
    assert!(forbidden >= 1);
    assert_eq!(
        events_of(&app, &supervisor, "application.export", "denied").await,
        2 * forbidden,
        "each refused export's rows are audited as denied"
    );
    assert_eq!(alerts(&app).await.len(), 1);
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn parallel_exports_get_no_more_rows_than_the_limit_sqlite() {
    parallel_exports(Db::Sqlite).await;
}

#[tokio::test]
async fn parallel_exports_on_two_instances_get_no_more_rows_than_the_limit_postgres() {
    parallel_exports(Db::Postgres).await;
}

/// Issue 16, 2: 30 parallel sign-ins from one address, each to another (or no) account,
/// against 20 failures an hour: exactly 20 passwords are checked, one alert is raised.
async fn parallel_spraying(db: Db) {
    const N: usize = 30;
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let sibling = two_instances(&app, &[]).await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..N {
        let url = format!(
            "{}/sign-in",
            if i % 2 == 0 {
                &app.office_url
            } else {
                &sibling.office_url
            }
        );
        burst.spawn(async move {
            let client = common::office::office_client();
            let name = format!("sprayed-{i}");
            let answer = common::post_form(
                &client,
                &url,
                &[("username", &name), ("password", "Winter2026!")],
            )
            .await;
            answer.text().await.expect("body")
        });
    }
    let pages = burst.join_all().await;
    let refused = pages
        .iter()
        .filter(|p| p.contains("しばらくサインインできません"))
        .count();
    assert_eq!(refused, N - 20, "past the limit, refused without a check");
    let events = app.store().recent_audit_events(5000).await.expect("audit");
    let checked = events
        .iter()
        .filter(|e| e.action == "staff.sign-in" && e.outcome == "failed")
        .count();
    assert_eq!(checked, 20, "exactly the limit of passwords checked");
    let denied = events
        .iter()
        .filter(|e| e.detail.as_deref() == Some("address-refused"))
        .count();
    assert_eq!(denied, N - 20, "every refused attempt is audited");
    let alerts = alerts(&app).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].subject_kind.as_deref(), Some("address"));
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn parallel_sign_ins_from_one_address_check_no_more_than_the_limit_sqlite() {
    parallel_spraying(Db::Sqlite).await;
}

#[tokio::test]
async fn parallel_sign_ins_from_one_address_check_no_more_than_the_limit_postgres() {
    parallel_spraying(Db::Postgres).await;
}
