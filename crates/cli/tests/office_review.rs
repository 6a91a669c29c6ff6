//! The back office's queue and review over HTTP (SPEC §5): masked fields, reveals audited
//! field by field with a purpose, documents, notes, four eyes, scope, the more-information
//! e-mail, the queue's scope and paging, and the auditor's page.

mod common;
#[path = "review_seed/mod.rs"]
mod seed;

use common::office::{StaffClient, staff_client};
use common::{Db, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;

/// Distinctive values of a planted applicant.
fn applicant(tag: &str) -> Vec<(&'static str, String)> {
    vec![
        ("family_name", "検証川".to_owned()),
        ("given_name", format!("秘子{tag}")),
        ("family_name_kana", "ケンショウガワ".to_owned()),
        ("given_name_kana", "ヒメコ".to_owned()),
        ("birth_date", "1979-03-21".to_owned()),
        ("email", format!("himeko.{tag}@example.jp")),
        ("phone_mobile", "090-4417-2289".to_owned()),
        ("address_line", format!("那覇市泉崎九丁目{tag}番")),
        ("employer_name", format!("秘密商事{tag}")),
    ]
}

async fn plant(app: &TestApp, branch: &str, fields: &[(&'static str, String)]) -> seed::Planted {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    seed::plant(app, branch, &pairs).await
}

fn tag() -> String {
    Uuid::new_v4().simple().to_string()[..8].to_owned()
}

async fn text(answer: reqwest::Response) -> String {
    answer.text().await.expect("body")
}

async fn events(app: &TestApp, action: &str) -> Vec<madoguchi_store::AuditEventRow> {
    app.store()
        .recent_audit_events(500)
        .await
        .expect("audit events")
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    app.store()
        .application_for_review(id)
        .await
        .expect("row")
        .expect("application")
        .status
}

async fn post(staff: &StaffClient, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    staff.post_form(path, fields).await
}

#[tokio::test]
async fn fields_are_masked_and_a_reveal_is_audited_with_its_exact_fields_and_purpose() {
    for db in [Db::Sqlite, Db::Postgres] {
        let Some(app) = TestApp::spawn(db).await else {
            continue;
        };
        let t = tag();
        let values = applicant(&t);
        let planted = plant(&app, "101", &values).await;
        let operator = staff_client(&app, "operator", "branches:101").await;
        let path = format!("/applications/{}", planted.id);

        let page = operator.get(&path).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = text(page).await;
        assert!(page.contains(&planted.receipt_number));
        assert!(page.contains("＊＊＊＊"));
        for (name, value) in &values {
            assert!(!page.contains(value.as_str()), "{name} shown unmasked");
        }
        assert!(events(&app, "application.reveal").await.is_empty());

        // No purpose: refused, nothing decrypted, nothing recorded.
        let refused = post(
            &operator,
            &format!("{path}/reveal"),
            &[("fields", "family_name"), ("fields", "email")],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let refused = text(refused).await;
        assert!(!refused.contains("検証川") && !refused.contains(&format!("himeko.{t}")));
        assert!(events(&app, "application.reveal").await.is_empty());

        // A purpose not on the list is no purpose.
        let refused = post(
            &operator,
            &format!("{path}/reveal"),
            &[("fields", "family_name"), ("purpose", "curiosity")],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(events(&app, "application.reveal").await.is_empty());

        let shown = post(
            &operator,
            &format!("{path}/reveal"),
            &[
                ("fields", "email"),
                ("fields", "family_name"),
                ("fields", "no_such_field"),
                ("purpose", "identity-check"),
            ],
        )
        .await;
        assert_eq!(shown.status(), StatusCode::OK);
        let shown = text(shown).await;
        assert!(shown.contains("検証川"));
        assert!(shown.contains(&format!("himeko.{t}@example.jp")));
        for hidden in [
            format!("秘子{t}"),
            format!("秘密商事{t}"),
            "090-4417-2289".to_owned(),
        ] {
            assert!(!shown.contains(&hidden), "{hidden} was not asked for");
        }
        let reveals = events(&app, "application.reveal").await;
        assert_eq!(reveals.len(), 1, "one event per reveal");
        let event = &reveals[0];
        assert_eq!(event.fields, "family_name,email");
        assert_eq!(event.purpose.as_deref(), Some("identity-check"));
        assert_eq!(event.subject_kind.as_deref(), Some("application"));
        assert_eq!(
            event.subject_id.as_deref(),
            Some(planted.id.to_string().as_str())
        );
        assert!(event.actor.starts_with("staff:"));
        assert_eq!(event.outcome, "ok");
        app.stop().await;
    }
}

#[tokio::test]
async fn approval_takes_four_eyes_and_operators_cannot_decide() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let planted = plant(&app, "101", &applicant(&tag())).await;
    let path = format!("/applications/{}", planted.id);
    let operator = staff_client(&app, "operator", "branches:101").await;
    let first = staff_client(&app, "supervisor", "branches:101").await;
    let second = staff_client(&app, "supervisor", "branches:101").await;

    let moved = post(&operator, &format!("{path}/status"), &[("to", "in-review")]).await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, planted.id).await, "in-review");
    // Approving is not a reviewer's move, on either route.
    let refused = post(
        &operator,
        &format!("{path}/decision"),
        &[("to", "approved")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = post(&operator, &format!("{path}/status"), &[("to", "approved")]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // Nobody reviewed it yet.
    let refused = post(&second, &format!("{path}/decision"), &[("to", "approved")]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    let marked = post(&first, &format!("{path}/status"), &[("to", "reviewed")]).await;
    assert_eq!(marked.status(), StatusCode::SEE_OTHER);
    let refused = post(&first, &format!("{path}/decision"), &[("to", "approved")]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT, "own review");
    assert!(text(refused).await.contains("別の職員"));
    assert_eq!(status_of(&app, planted.id).await, "in-review");

    let approved = post(&second, &format!("{path}/decision"), &[("to", "approved")]).await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, planted.id).await, "approved");
    let history = app
        .store()
        .application_history(planted.id)
        .await
        .expect("history");
    let steps: Vec<(&str, &str)> = history
        .iter()
        .map(|h| (h.action.as_str(), h.to_status.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("status", "in-review"),
            ("reviewed", "in-review"),
            ("status", "approved")
        ]
    );
    // Approved is decided: no more rejection.
    let refused = post(&second, &format!("{path}/decision"), &[("to", "rejected")]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = text(operator.get(&path).await).await;
    assert!(page.contains("承認済"));
    assert!(page.contains("確認済み"));
    app.stop().await;
}

/// SPEC §6: a secret is kept until hand-off completes "or the application ends" — a rejected
/// or withdrawn application's sealed PIN is deleted with the move, not at the retention purge.
async fn ended_applications_lose_their_sealed_secrets_at_once(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let operator = staff_client(&app, "operator", "branches:101").await;
    let supervisor = staff_client(&app, "supervisor", "branches:101").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let receipt = common::applicant::apply(
            &app,
            &TestApp::client(),
            &common::applicant::Applicant::new(),
        )
        .await;
        let id = app
            .store()
            .application_id_by_receipt(&receipt)
            .await
            .expect("look-up")
            .expect("stored");
        assert!(
            !app.store()
                .sealed_secrets(id)
                .await
                .expect("secrets")
                .is_empty(),
            "the PIN arrives sealed"
        );
        ids.push(id);
    }
    let (rejected, withdrawn) = (ids[0], ids[1]);

    let path = format!("/applications/{rejected}");
    for to in ["in-review", "reviewed"] {
        let moved = post(&operator, &format!("{path}/status"), &[("to", to)]).await;
        assert_eq!(moved.status(), StatusCode::SEE_OTHER, "{to}");
    }
    // Until the decision, the secret stays for the hand-off.
    assert!(
        !app.store()
            .sealed_secrets(rejected)
            .await
            .expect("secrets")
            .is_empty()
    );
    let decided = post(
        &supervisor,
        &format!("{path}/decision"),
        &[("to", "rejected")],
    )
    .await;
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, rejected).await, "rejected");
    assert!(
        app.store()
            .sealed_secrets(rejected)
            .await
            .expect("secrets")
            .is_empty(),
        "a rejected application keeps no sealed secret"
    );

    let path = format!("/applications/{withdrawn}");
    let moved = post(&operator, &format!("{path}/status"), &[("to", "withdrawn")]).await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, withdrawn).await, "withdrawn");
    assert!(
        app.store()
            .sealed_secrets(withdrawn)
            .await
            .expect("secrets")
            .is_empty(),
        "a withdrawn application keeps no sealed secret"
    );
    app.stop().await;
}

#[tokio::test]
async fn ended_applications_lose_their_sealed_secrets_at_once_on_sqlite() {
    ended_applications_lose_their_sealed_secrets_at_once(Db::Sqlite).await;
}

#[tokio::test]
async fn ended_applications_lose_their_sealed_secrets_at_once_on_postgres() {
    ended_applications_lose_their_sealed_secrets_at_once(Db::Postgres).await;
}

#[tokio::test]
async fn an_application_of_another_branch_is_not_found() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let theirs = plant(&app, "102", &applicant(&tag())).await;
    let operator = staff_client(&app, "operator", "branches:101").await;
    let path = format!("/applications/{}", theirs.id);
    assert_eq!(operator.get(&path).await.status(), StatusCode::NOT_FOUND);
    for (action, fields) in [
        ("reveal", vec![("fields", "email"), ("purpose", "review")]),
        ("notes", vec![("note", "見ました")]),
        ("status", vec![("to", "in-review")]),
    ] {
        let answer = post(&operator, &format!("{path}/{action}"), &fields).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(
        operator
            .get(&format!("/applications/{}", Uuid::now_v7()))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(events(&app, "application.reveal").await.is_empty());
    assert_eq!(status_of(&app, theirs.id).await, "submitted");
    // A consultant (loan-centre scope) has no queue at all.
    let consultant = staff_client(&app, "consultant", "centers:naha").await;
    assert_eq!(
        consultant.get("/applications").await.status(),
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

#[tokio::test]
async fn asking_for_more_information_sends_an_e_mail_without_the_applicants_data() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let t = tag();
    let values = applicant(&t);
    let planted = plant(&app, "101", &values).await;
    let path = format!("/applications/{}", planted.id);
    let operator = staff_client(&app, "operator", "branches:101").await;
    post(&operator, &format!("{path}/status"), &[("to", "in-review")]).await;
    let asked = post(
        &operator,
        &format!("{path}/status"),
        &[("to", "more-information-needed")],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, planted.id).await, "more-information-needed");
    let email = format!("himeko.{t}@example.jp");
    let mail = app.wait_for_mail(&email, "追加でご確認").await;
    let (_, body) = mail.split_once("\r\n\r\n").expect("headers and body");
    for (name, value) in &values {
        assert!(!body.contains(value.as_str()), "{name} in the e-mail body");
    }
    assert!(!mail.contains(&planted.receipt_number), "receipt number");
    assert!(!mail.contains("検証川") && !mail.contains(&format!("秘子{t}")));
    assert!(body.contains("普通預金口座開設"), "names the product");
    assert!(body.contains("暗証番号"), "the standing warning");
    let notified = events(&app, "application.notify").await;
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].fields, "email");
    assert_eq!(
        notified[0].purpose.as_deref(),
        Some("more-information-request")
    );
    // Back in review after the applicant answered: the earlier review mark is gone.
    let back = post(&operator, &format!("{path}/status"), &[("to", "in-review")]).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn the_queue_shows_only_the_staffs_branches_and_pages() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let mine = plant(&app, "101", &applicant(&tag())).await;
    let theirs = plant(&app, "102", &applicant(&tag())).await;
    let now = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    app.store()
        .insert_synthetic_applications(110, &["101", "103"], now)
        .await
        .expect("synthetic applications");
    let operator = staff_client(&app, "operator", "branches:101,102").await;
    let narrow = staff_client(&app, "operator", "branches:101").await;

    let page = text(narrow.get("/applications").await).await;
    assert!(page.contains(&mine.receipt_number));
    assert!(!page.contains(&theirs.receipt_number));
    assert!(!page.contains("首里支店"), "no row of branch 103");
    // Asking for another branch by filter does not widen the scope.
    let page = text(narrow.get("/applications?branch=102").await).await;
    assert!(!page.contains(&theirs.receipt_number));
    assert!(page.contains("該当する申込はありません"));
    let page = text(operator.get("/applications?branch=102").await).await;
    assert!(page.contains(&theirs.receipt_number));

    // Paging: 1 planted + 55 synthetic rows of branch 101, 50 a page, none twice.
    let receipt =
        regex_lite::Regex::new(r#"<a href="/applications/[0-9a-f-]+">([^<]+)</a>"#).expect("regex");
    let next =
        regex_lite::Regex::new(r#"href="/applications\?([^"]+)" rel="next""#).expect("regex");
    let mut seen = Vec::new();
    let mut path = "/applications".to_owned();
    let mut pages = 0;
    loop {
        let page = narrow.get(&path).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = text(page).await;
        let rows: Vec<String> = receipt
            .captures_iter(&page)
            .map(|c| c[1].to_owned())
            .collect();
        assert!(rows.len() <= 50);
        seen.extend(rows);
        pages += 1;
        match next.captures(&page) {
            Some(c) => path = format!("/applications?{}", c[1].replace("&amp;", "&")),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 56);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 56, "no application twice");
    // Filters: the planted application is new, so not among those older than 30 days.
    let page = text(
        narrow
            .get("/applications?status=submitted&age=older&days=30")
            .await,
    )
    .await;
    assert!(!page.contains(&mine.receipt_number));
    app.stop().await;
}

#[tokio::test]
async fn notes_are_encrypted_and_shown_only_by_a_reveal() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let planted = plant(&app, "101", &applicant(&tag())).await;
    let path = format!("/applications/{}", planted.id);
    let operator = staff_client(&app, "operator", "branches:101").await;
    let note = format!("電話で在籍確認済み{}", tag());
    let added = post(&operator, &format!("{path}/notes"), &[("note", &note)]).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let page = text(operator.get(&path).await).await;
    assert!(page.contains("メモ（1件）"));
    assert!(!page.contains(&note));
    assert!(
        !common::contains(&app.database_bytes().await, &note),
        "the note is stored encrypted"
    );
    let shown = post(
        &operator,
        &format!("{path}/reveal"),
        &[("fields", "notes"), ("purpose", "review")],
    )
    .await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert!(text(shown).await.contains(&note));
    assert_eq!(events(&app, "application.note").await.len(), 1);
    let reveals = events(&app, "application.reveal").await;
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0].fields, "notes");
    app.stop().await;
}

#[tokio::test]
async fn a_document_opens_after_its_audit_event_and_cannot_run() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let applicant = common::applicant::Applicant::new();
    let receipt = common::applicant::apply(&app, &client, &applicant).await;
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("look-up")
        .expect("application");
    let documents = app
        .store()
        .application_documents(id)
        .await
        .expect("documents");
    assert_eq!(documents.len(), 3);
    let operator = staff_client(&app, "operator", "branches:101").await;
    let page = text(operator.get(&format!("/applications/{id}")).await).await;
    assert!(page.contains("本人確認書類（表）"));
    for document in &documents {
        let path = format!("/documents/{}", document.id);
        let refused = post(&operator, &path, &[]).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "no purpose");
        let opened = post(&operator, &path, &[("purpose", "identity-check")]).await;
        assert_eq!(opened.status(), StatusCode::OK);
        let header = |name: &str| {
            opened
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("content-type"), document.content_type);
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("content-security-policy"), "sandbox");
        assert!(
            header("content-disposition").starts_with("inline"),
            "images inline"
        );
        let bytes = opened.bytes().await.expect("document");
        assert_eq!(bytes.len() as i64, document.size_bytes);
    }
    let opened = events(&app, "document.open").await;
    assert_eq!(opened.len(), 3);
    assert!(
        opened
            .iter()
            .all(|e| e.fields == "document" && e.purpose.as_deref() == Some("identity-check"))
    );
    // Another branch's reviewer cannot open it.
    let other = staff_client(&app, "operator", "branches:102").await;
    let answer = post(
        &other,
        &format!("/documents/{}", documents[0].id),
        &[("purpose", "review")],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_auditor_reads_the_log_and_reviewers_cannot() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let planted = plant(&app, "101", &applicant(&tag())).await;
    let operator = staff_client(&app, "operator", "branches:101").await;
    post(
        &operator,
        &format!("/applications/{}/reveal", planted.id),
        &[("fields", "family_name"), ("purpose", "customer-inquiry")],
    )
    .await;
    assert_eq!(operator.get("/audit").await.status(), StatusCode::FORBIDDEN);
    let auditor = staff_client(&app, "auditor", "bank").await;
    let page = auditor.get("/audit").await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = text(page).await;
    assert!(page.contains("application.reveal"));
    assert!(page.contains("お客様からの問い合わせ対応"));
    assert!(!page.contains("検証川"), "names of fields, never values");
    assert_eq!(
        auditor
            .get(&format!("/applications/{}", planted.id))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

#[tokio::test]
async fn when_the_audit_event_cannot_be_written_nothing_is_shown() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let t = tag();
    let planted = plant(&app, "101", &applicant(&t)).await;
    let operator = staff_client(&app, "operator", "branches:101").await;
    // The audit log becomes unwritable (as a full disk or a lost database would make it).
    let pool = sqlx::SqlitePool::connect(&app.database_url)
        .await
        .expect("second connection");
    sqlx::query("ALTER TABLE audit_events RENAME TO audit_events_away")
        .execute(&pool)
        .await
        .expect("rename");
    pool.close().await;
    let answer = post(
        &operator,
        &format!("/applications/{}/reveal", planted.id),
        &[
            ("fields", "family_name"),
            ("fields", "email"),
            ("purpose", "review"),
        ],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let page = text(answer).await;
    assert!(!page.contains("検証川"));
    assert!(!page.contains(&format!("himeko.{t}")));
    let export = post(
        &operator,
        "/applications/export",
        &[("fields", "family_name"), ("purpose", "review")],
    )
    .await;
    assert_eq!(export.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!text(export).await.contains("検証川"));
    app.stop().await;
}

/// The queue page's latency over HTTP with 100,000 applications (run by hand):
/// `cargo test --release -p madoguchi --test office_review queue_page_latency -- --ignored --nocapture`
#[tokio::test]
#[ignore = "a benchmark: 100,000 applications"]
async fn queue_page_latency_with_100k_applications() {
    for db in [Db::Sqlite, Db::Postgres] {
        let Some(app) = TestApp::spawn(db).await else {
            continue;
        };
        let started = std::time::Instant::now();
        let branches = ["101", "102", "103", "201"];
        app.store()
            .insert_synthetic_applications(100_000, &branches, time::OffsetDateTime::now_utc())
            .await
            .expect("synthetic applications");
        println!("{db:?}: 100,000 applications in {:?}", started.elapsed());
        let operator = staff_client(&app, "operator", "branches:101,102").await;
        let supervisor = staff_client(&app, "supervisor", "branches:101,102,103,201").await;
        let paths = [
            "/applications",
            "/applications?status=in-review",
            "/applications?product=savings-account&age=older&days=30",
            "/applications?branch=102&age=within&days=7",
        ];
        let next =
            regex_lite::Regex::new(r#"href="/applications\?([^"]+)" rel="next""#).expect("regex");
        let mut timings = Vec::new();
        for i in 0..200 {
            let staff = if i % 2 == 0 { &operator } else { &supervisor };
            let mut path = paths[i % paths.len()].to_owned();
            // Every page up to the (i % 5)th, each timed.
            for _ in 0..=(i % 5) {
                let t = std::time::Instant::now();
                let page = staff.get(&path).await;
                assert_eq!(page.status(), StatusCode::OK);
                let page = text(page).await;
                timings.push(t.elapsed());
                match next.captures(&page) {
                    Some(c) => path = format!("/applications?{}", c[1].replace("&amp;", "&")),
                    None => break,
                }
            }
        }
        // The cost of any signed-in page (session look-up, authorization), for comparison.
        let mut baseline = Vec::new();
        for _ in 0..200 {
            let t = std::time::Instant::now();
            assert_eq!(operator.get("/").await.status(), StatusCode::OK);
            baseline.push(t.elapsed());
        }
        baseline.sort();
        println!(
            "{db:?}: GET / (baseline) p50 {:?}, p99 {:?}",
            baseline[100], baseline[197]
        );
        timings.sort();
        let at = |p: f64| timings[((timings.len() as f64 * p) as usize).min(timings.len() - 1)];
        println!(
            "{db:?}: GET /applications over {} requests: p50 {:?}, p99 {:?}, max {:?}",
            timings.len(),
            at(0.5),
            at(0.99),
            timings[timings.len() - 1]
        );
        app.stop().await;
    }
}
