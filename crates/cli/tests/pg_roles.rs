//! Least-privilege PostgreSQL (SPEC §9, issues 6 and 7): `madoguchi migrate --create-roles`
//! makes `madoguchi_public` and `madoguchi_office`. The public half of the server runs as the
//! first and the back office as the second, and together they take an application from the
//! form to a reveal. Connected as the public role, no crafted query reads a personal table;
//! as the office role, the audit log can be appended to and read, never changed, emptied or
//! truncated. `doctor` on the public role is clean, and names a grant that breaks the rule.
//! The retention job runs as `madoguchi_retention` (deletes personal data, never reads it) and
//! the audit verifier as `madoguchi_audit` (reads the log, appends checkpoints).

mod common;

use common::office::staff_client;
use common::{Db, TestApp, applicant};
use madoguchi::cli::Listener;
use sqlx::Connection as _;

/// The app's database URL with another user (trust authentication on loopback here; with
/// passwords or certificates in production).
fn as_role(app: &TestApp, role: &str) -> String {
    app.database_url
        .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1)
}

/// `sql` run as `role` fails with SQLSTATE 42501 (insufficient privilege).
async fn denied(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let error = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .err()
        .unwrap_or_else(|| panic!("allowed: {sql}"));
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
}

async fn doctor(app: &TestApp, url: &str, listener: &str) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    command.args([
        "--data-dir",
        app.data.to_str().expect("path"),
        "--database-url",
        url,
        "doctor",
        "--listener",
        listener,
        "--format",
        "json",
    ]);
    common::output_of(command).await
}

fn failed_ids(output: &std::process::Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_public_role_writes_applications_and_reads_no_personal_table() {
    let Some(mut owner) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let out = common::madoguchi(&owner, &["migrate", "--create-roles"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    owner.stop_server().await;
    let public_url = as_role(&owner, "madoguchi_public");
    let office_url = as_role(&owner, "madoguchi_office");

    // The two halves, each with its own role.
    let public = owner.spawn_half(Listener::Public, &public_url).await;
    let mut office = owner.spawn_half(Listener::Office, &office_url).await;
    // The public half's e-mails are delivered by the office half's worker.
    office.public_url = public.public_url.clone();
    let client = TestApp::client();
    let person = applicant::Applicant::new();
    let receipt = applicant::apply(&public, &client, &person).await;

    // The back office, as madoguchi_office, finds it and reveals the name.
    let operator = staff_client(&office, "operator", "bank").await;
    let queue = operator
        .get("/applications")
        .await
        .text()
        .await
        .expect("queue");
    let id = regex_lite::Regex::new(r#"href="/applications/([0-9a-f-]{36})""#)
        .expect("regex")
        .captures_iter(&queue)
        .map(|c| c[1].to_owned())
        .next()
        .expect("the application is in the queue");
    assert!(queue.contains(&receipt), "the queue shows {receipt}");
    let page = operator
        .post_form(
            &format!("/applications/{id}/reveal"),
            &[("fields", "family_name"), ("purpose", "review")],
        )
        .await;
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(
        page.text()
            .await
            .expect("page")
            .contains(&person.family_name)
    );

    // As the public role, no way in to personal data, however the query is written.
    for sql in [
        "SELECT * FROM application_personal",
        "SELECT fields FROM application_personal",
        "SELECT * FROM application_secrets",
        "SELECT * FROM booking_personal",
        "SELECT * FROM applications",
        "SELECT reviewed_by FROM applications",
        "SELECT wrapped FROM data_keys",
        "SELECT sealed FROM outbox",
        "SELECT * FROM staff",
        "SELECT * FROM audit_events",
        "SELECT (SELECT fields FROM application_personal LIMIT 1)",
        "WITH x AS (SELECT * FROM application_secrets) SELECT * FROM x",
        "SELECT a.receipt_number FROM applications a JOIN application_personal p ON p.application_id = a.id",
        "COPY application_personal TO STDOUT",
        "UPDATE applications SET status = 'approved'",
        "DELETE FROM applications",
        "CREATE TABLE stolen AS SELECT 1",
        "ALTER TABLE applications DISABLE ROW LEVEL SECURITY",
    ] {
        denied(&public_url, sql).await;
    }
    // What it may read: a booking form's nonce hash, to tell a form sent again across a
    // blind-index rotation.
    let mut public_conn = sqlx::PgConnection::connect(&public_url)
        .await
        .expect("public role");
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM bookings WHERE request_id = $1")
        .bind(vec![0u8; 32])
        .fetch_one(&mut public_conn)
        .await
        .expect("the public role reads request ids");
    // As the office role, the audit log is append-only by grant (the trigger stands behind).
    for sql in [
        "UPDATE audit_events SET outcome = 'ok'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DELETE FROM audit_checkpoints",
        "DROP TRIGGER audit_events_append_only ON audit_events",
        "CREATE TABLE stolen AS SELECT 1",
    ] {
        denied(&office_url, sql).await;
    }

    // doctor, as the public process runs: no database finding.
    let out = doctor(&owner, &public_url, "public").await;
    let failed = failed_ids(&out);
    for id in ["MDG-PG-02", "MDG-PG-03", "MDG-PG-04", "MDG-PG-05"] {
        assert!(!failed.contains(&id.to_owned()), "{id} in {failed:?}");
    }
    // One grant too many, and doctor names it, high.
    let mut admin = sqlx::PgConnection::connect(&owner.database_url)
        .await
        .expect("owner");
    sqlx::raw_sql("GRANT SELECT ON application_personal TO madoguchi_public")
        .execute(&mut admin)
        .await
        .expect("grant");
    let out = doctor(&owner, &public_url, "public").await;
    assert_eq!(out.status.code(), Some(1), "a high finding");
    assert!(failed_ids(&out).contains(&"MDG-PG-04".to_owned()));
    // …and the owner itself is flagged for serving.
    let out = doctor(&owner, &owner.database_url, "office").await;
    assert!(failed_ids(&out).contains(&"MDG-PG-02".to_owned()));

    public.stop().await;
    office.stop().await;
    owner.stop().await;
}

/// `madoguchi ARGS` against the app's data folder, connected as `url`.
async fn run_as(app: &TestApp, url: &str, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    command
        .args(["--data-dir", app.data.to_str().expect("path")])
        .args(["--database-url", url])
        .args(args);
    common::output_of(command).await
}

async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .expect(sql)
}

#[tokio::test]
async fn the_retention_and_audit_roles_do_their_job_and_nothing_else() {
    let Some(mut owner) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    // An application and a booking, then both made due for retention: the application
    // rejected 200 days ago (the demo bank keeps them 180), the visit 100 days past (90).
    let person = applicant::Applicant::new();
    let receipt = applicant::apply(&owner, &TestApp::client(), &person).await;
    let visitor = common::reservation::Visitor::new();
    let listed = common::reservation::slots(&owner, "naha").await;
    common::reservation::book_by_api(&owner, "naha", &listed[0], &visitor).await;
    let out = common::madoguchi(&owner, &["migrate", "--create-roles"]).await;
    common::succeeded(&out, "migrate --create-roles");
    owner.stop_server().await;
    let mut admin = sqlx::PgConnection::connect(&owner.database_url)
        .await
        .expect("owner");
    sqlx::raw_sql(
        "UPDATE applications SET status = 'rejected', updated_at = now() - interval '200 days';
         UPDATE bookings SET starts_at = now() - interval '100 days',
                             ends_at = now() - interval '100 days' + interval '1 hour'",
    )
    .execute(&mut admin)
    .await
    .expect("age the records");
    let retention_url = as_role(&owner, "madoguchi_retention");
    let audit_url = as_role(&owner, "madoguchi_audit");

    // The retention job, as madoguchi_retention: shreds both.
    let out = run_as(
        &owner,
        &retention_url,
        &["purge", "--demo", "--format", "json"],
    )
    .await;
    let report: serde_json::Value =
        serde_json::from_str(&common::succeeded(&out, "purge")).expect("json");
    assert_eq!(
        report["applications"],
        serde_json::json!([receipt]),
        "{report}"
    );
    assert_eq!(report["bookings"], 1, "{report}");
    let url = &owner.database_url;
    assert_eq!(
        count(url, "SELECT COUNT(*) FROM application_personal").await,
        0
    );
    assert_eq!(count(url, "SELECT COUNT(*) FROM booking_personal").await, 0);
    assert_eq!(count(url, "SELECT COUNT(*) FROM data_keys").await, 0);
    assert_eq!(
        count(url, "SELECT COUNT(*) FROM job_runs WHERE job = 'retention'").await,
        1
    );
    assert_eq!(
        count(
            url,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'purge.run'"
        )
        .await,
        1,
        "the pass is in the audit log"
    );
    // It may delete personal data, never read it, nor change records or the audit log.
    for sql in [
        "SELECT * FROM application_personal",
        "SELECT fields FROM application_personal",
        "SELECT sealed FROM application_secrets",
        "SELECT fields FROM booking_personal",
        "SELECT wrapped FROM data_keys",
        "SELECT email_index FROM applications",
        "SELECT contact_sealed FROM bookings",
        "SELECT sealed FROM outbox",
        "SELECT body FROM drafts",
        "SELECT * FROM staff",
        "UPDATE applications SET status = 'approved'",
        "DELETE FROM applications",
        "INSERT INTO application_personal (application_id, fields) VALUES (gen_random_uuid(), '')",
        "UPDATE audit_events SET outcome = 'ok'",
        "DELETE FROM audit_events",
        "INSERT INTO audit_checkpoints (size, head, note, created_at) VALUES (1, '', '', now())",
        "CREATE TABLE stolen AS SELECT 1",
    ] {
        denied(&retention_url, sql).await;
    }

    // The audit verifier, as madoguchi_audit: the chain verifies and the run is recorded.
    let out = run_as(&owner, &audit_url, &["audit", "verify"]).await;
    common::succeeded(&out, "audit verify");
    assert_eq!(
        count(
            url,
            "SELECT COUNT(*) FROM job_runs WHERE job = 'audit-verify'"
        )
        .await,
        1
    );
    for sql in [
        "SELECT * FROM applications",
        "SELECT fields FROM application_personal",
        "SELECT * FROM staff",
        "INSERT INTO audit_events (seq) VALUES (1000000)",
        "UPDATE audit_events SET outcome = 'ok'",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints",
        "CREATE TABLE stolen AS SELECT 1",
    ] {
        denied(&audit_url, sql).await;
    }
    owner.stop().await;
}
