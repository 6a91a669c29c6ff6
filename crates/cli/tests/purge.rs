//! Retention (SPEC §5, §6): `madoguchi purge` (the binary, against the running server's
//! database). A dry run lists what is due and deletes nothing; a run shreds the personal
//! data of a rejected application older than the profile's period (its data key gone, its
//! operational row and status kept), keeps a newer one's, deletes identity documents a week
//! after the decision, and records one audit event with counts only.

mod common;

use common::applicant::{Applicant, apply};
use common::{Db, TestApp};
use sqlx::Connection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_madoguchi");

/// Runs `$body` with `$conn` a fresh connection of `$db` to the app's database.
macro_rules! on_db {
    ($app:expr, $db:ident, $conn:ident => $body:expr) => {
        match $app.db {
            Db::Sqlite => {
                type $db = sqlx::Sqlite;
                let mut $conn = sqlx::SqliteConnection::connect(&$app.database_url)
                    .await
                    .expect("open SQLite");
                $body
            }
            Db::Postgres => {
                type $db = sqlx::Postgres;
                let mut $conn = sqlx::PgConnection::connect(&$app.database_url)
                    .await
                    .expect("open PostgreSQL");
                $body
            }
        }
    };
}

/// Sets an application's status and when it last changed (the test cannot wait months).
async fn decided(app: &TestApp, id: Uuid, status: &str, days_ago: i64) {
    let at = madoguchi_store::db_time(OffsetDateTime::now_utc() - Duration::days(days_ago));
    on_db!(app, Db, conn => {
        sqlx::query::<Db>("UPDATE applications SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(at)
            .bind(id)
            .execute(&mut conn)
            .await
            .expect("set status");
    })
}

async fn count(app: &TestApp, sql: &'static str, id: Uuid) -> i64 {
    on_db!(app, Db, conn => {
        sqlx::query_scalar::<Db, i64>(sql)
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("count")
    })
}

async fn data_keys(app: &TestApp, id: Uuid) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM data_keys WHERE record_id = $1",
        id,
    )
    .await
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    on_db!(app, Db, conn => {
        sqlx::query_scalar::<Db, String>("SELECT status FROM applications WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("status")
    })
}

/// (actor, detail) of the `purge.run` events.
async fn purge_events(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    on_db!(app, Db, conn => {
        sqlx::query_as::<Db, (String, Option<String>, String)>(
            "SELECT actor, detail, fields FROM audit_events WHERE action = 'purge.run' ORDER BY seq",
        )
        .fetch_all(&mut conn)
        .await
        .expect("audit")
    })
}

async fn purge(app: &TestApp, dry_run: bool) -> serde_json::Value {
    let mut command = std::process::Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(&app.data)
        .arg("--database-url")
        .arg(&app.database_url)
        .args(["purge", "--demo", "--format", "json"])
        .env_remove("MADOGUCHI_CONFIG");
    if dry_run {
        command.arg("--dry-run");
    }
    let output = common::output_of(command).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

async fn submitted(app: &TestApp) -> (Applicant, String, Uuid) {
    let applicant = Applicant::new();
    let receipt = apply(app, &TestApp::client(), &applicant).await;
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("look-up")
        .expect("stored");
    (applicant, receipt, id)
}

async fn retention(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let (old_applicant, old_receipt, old) = submitted(&app).await;
    let (_, new_receipt, new) = submitted(&app).await;
    let (_, done_receipt, done_app) = submitted(&app).await;
    let new_documents = app.store().application_documents(new).await.expect("docs");
    let old_documents = app.store().application_documents(old).await.expect("docs");
    assert!(!new_documents.is_empty() && !old_documents.is_empty());
    // The demo profile keeps rejected applications 180 days, documents 7 days after the
    // decision.
    decided(&app, old, "rejected", 200).await;
    decided(&app, new, "rejected", 10).await;
    // Completed applications are kept 2557 days (7 years).
    decided(&app, done_app, "completed", 2600).await;
    let done_documents = app
        .store()
        .application_documents(done_app)
        .await
        .expect("docs");

    // Dry run: what would go, by receipt number and id; nothing deleted.
    let dry = purge(&app, true).await;
    assert_eq!(dry["dry_run"], true);
    // Oldest change first.
    assert_eq!(
        dry["applications"],
        serde_json::json!([done_receipt, old_receipt])
    );
    let due_documents = dry["documents"].as_array().expect("documents").len();
    assert_eq!(
        due_documents,
        old_documents.len() + new_documents.len() + done_documents.len()
    );
    let text = dry.to_string();
    for value in old_applicant.personal_values() {
        assert!(!text.contains(&value), "no personal value in the dry run");
    }
    assert_eq!(data_keys(&app, old).await, 1);
    assert_eq!(
        app.store()
            .application_documents(new)
            .await
            .expect("docs")
            .len(),
        new_documents.len()
    );
    assert!(
        purge_events(&app).await.is_empty(),
        "a dry run deletes nothing"
    );

    // The run.
    let done = purge(&app, false).await;
    assert_eq!(done["dry_run"], false);
    assert_eq!(
        done["applications"],
        serde_json::json!([done_receipt, old_receipt])
    );
    // The completed one: shredded too, still completed.
    assert_eq!(data_keys(&app, done_app).await, 0);
    assert_eq!(status_of(&app, done_app).await, "completed");
    // The old application: shredded, its row and status kept.
    assert_eq!(data_keys(&app, old).await, 0, "the data key is gone");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM application_personal WHERE application_id = $1",
            old
        )
        .await,
        0
    );
    assert!(
        app.store()
            .sealed_secrets(old)
            .await
            .expect("secrets")
            .is_empty()
    );
    assert_eq!(status_of(&app, old).await, "rejected");
    assert!(
        app.store()
            .encrypted_personal_record(old)
            .await
            .expect("record")
            .is_none()
    );
    // The newer one keeps its personal data, but its documents are past the week.
    assert_eq!(data_keys(&app, new).await, 1);
    assert!(
        app.store()
            .encrypted_personal_record(new)
            .await
            .expect("record")
            .is_some()
    );
    assert!(
        app.store()
            .application_documents(new)
            .await
            .expect("docs")
            .is_empty()
    );
    for doc in old_documents
        .iter()
        .chain(&new_documents)
        .chain(&done_documents)
    {
        assert_eq!(data_keys(&app, doc.id).await, 0, "document key gone");
        assert!(
            !app.data.join("documents").join(doc.id.to_string()).exists(),
            "document file gone"
        );
    }
    // One audit event, counts only.
    let events = purge_events(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (actor, detail, fields) = &events[0];
    assert_eq!(actor, "cli:purge");
    assert!(fields.is_empty());
    let detail = detail.as_deref().expect("detail");
    assert!(detail.contains("applications=2"), "{detail}");
    assert!(
        detail.contains(&format!("documents={due_documents}")),
        "{detail}"
    );
    for receipt in [&old_receipt, &new_receipt, &done_receipt] {
        assert!(!detail.contains(receipt.as_str()), "{detail}");
    }
    assert!(
        detail.split(',').all(|part| part
            .split_once('=')
            .is_some_and(|(_, n)| n.parse::<u64>().is_ok())),
        "counts only: {detail}"
    );

    // Nothing left to do: a second run deletes nothing.
    let again = purge(&app, false).await;
    assert_eq!(again["applications"], serde_json::json!([]));
    assert_eq!(again["documents"], serde_json::json!([]));
    app.stop().await;
}

#[tokio::test]
async fn sqlite_retention() {
    retention(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_retention() {
    retention(Db::Postgres).await;
}
