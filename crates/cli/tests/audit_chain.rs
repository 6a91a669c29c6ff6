//! The audit log's tamper evidence end to end (SPEC §7): events written by the real server
//! form a hash chain; `madoguchi audit verify` (the real binary) passes the untouched log and
//! names a changed event, a removed one and two swapped ones; a chain rewritten after a change
//! (every later hash recomputed, as an attacker with the database would) disagrees with the
//! checkpoints signed before; the append-only triggers refuse UPDATE, DELETE (and TRUNCATE on
//! PostgreSQL) until an administrator of the database drops them.

mod common;

use common::madoguchi;
use common::office::staff_client;
use common::{Db, TestApp};
use madoguchi_audit::{GENESIS, link};
use sqlx::Connection;

/// `audit verify`: its exit code and what it printed.
async fn verify(app: &TestApp) -> (Option<i32>, String) {
    let out = madoguchi(app, &["audit", "verify"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

async fn assert_intact(app: &TestApp, when: &str) {
    let (code, text) = verify(app).await;
    assert_eq!(code, Some(0), "{when}: {text}");
    assert!(text.contains("audit log intact"), "{when}: {text}");
}

async fn assert_names(app: &TestApp, finding: &str) {
    let (code, text) = verify(app).await;
    assert_eq!(code, Some(3), "tampering is exit code 3: {text}");
    assert!(text.contains(finding), "names {finding:?}:\n{text}");
}

/// Runs SQL as the database's owner would (the test plays the attacker or the DBA).
macro_rules! sql {
    ($app:expr, $($statement:expr),+ $(,)?) => {{
        match $app.db {
            Db::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&$app.database_url).await.expect("SQLite");
                let mut result: Result<(), sqlx::Error> = Ok(());
                $( if result.is_ok() {
                    result = sqlx::query::<sqlx::Sqlite>($statement).execute(&mut conn).await.map(|_| ());
                } )+
                result
            }
            Db::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&$app.database_url).await.expect("PostgreSQL");
                let mut result: Result<(), sqlx::Error> = Ok(());
                $( if result.is_ok() {
                    result = sqlx::query::<sqlx::Postgres>($statement).execute(&mut conn).await.map(|_| ());
                } )+
                result
            }
        }
    }};
}

async fn scenario(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    // Audited events by the real server: sign-ins, enrolments, password changes.
    for _ in 0..3 {
        staff_client(&app, "auditor", "bank").await;
    }
    let events = app.store().audit_chain_page(0, 1000).await.expect("events");
    assert!(events.len() >= 9, "events written: {}", events.len());
    assert!(
        events
            .iter()
            .all(|e| e.hash.as_ref().is_some_and(|h| h.len() == 32))
    );

    let signed = madoguchi(&app, &["audit", "checkpoint"]).await;
    assert_eq!(signed.status.code(), Some(0));
    let note = String::from_utf8_lossy(&signed.stdout).to_string();
    assert!(note.starts_with("madoguchi/audit/"), "{note}");
    assert!(note.contains(&format!("\n{}\n", events.len())), "{note}");
    assert!(
        app.data.join("audit-checkpoints.log").exists(),
        "the external sink"
    );
    assert_intact(&app, "untouched").await;

    // Append-only: the triggers refuse changes, whoever asks.
    let refused = sql!(&app, "UPDATE audit_events SET fields = '' WHERE seq = 1");
    assert!(refused.is_err(), "an UPDATE of a chained event is refused");
    let refused = sql!(&app, "DELETE FROM audit_events WHERE seq = 1");
    assert!(refused.is_err(), "a DELETE is refused");
    if db == Db::Postgres {
        let refused = sql!(&app, "TRUNCATE audit_events");
        assert!(refused.is_err(), "a TRUNCATE is refused");
    }
    // An attacker with the database's owner rights drops them.
    match db {
        Db::Sqlite => sql!(
            &app,
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ),
        Db::Postgres => sql!(&app, "ALTER TABLE audit_events DISABLE TRIGGER USER"),
    }
    .expect("triggers dropped");

    // 1. One event's field list changed (the staff read fewer fields, says the log now).
    sql!(
        &app,
        "CREATE TABLE audit_copy AS SELECT * FROM audit_events",
        "UPDATE audit_events SET fields = 'family_name' WHERE seq = 3",
    )
    .expect("changed");
    let after = app.store().audit_chain_page(2, 1).await.expect("row 3");
    assert_eq!(after[0].event.fields, "family_name", "{after:?}");
    assert_names(&app, "event #3 was changed").await;
    sql!(
        &app,
        "UPDATE audit_events SET fields = (SELECT c.fields FROM audit_copy c WHERE c.seq = 3) WHERE seq = 3"
    )
    .expect("restored");
    assert_intact(&app, "restored").await;

    // 2. One event removed.
    sql!(&app, "DELETE FROM audit_events WHERE seq = 5").expect("deleted");
    assert_names(&app, "event #5 was removed").await;
    sql!(
        &app,
        "INSERT INTO audit_events SELECT * FROM audit_copy WHERE seq = 5"
    )
    .expect("put back");
    assert_intact(&app, "put back").await;

    // 3. Two events swapped.
    sql!(
        &app,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = -2",
    )
    .expect("swapped");
    assert_names(&app, "event #2 was changed or moved").await;
    sql!(
        &app,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = -2",
    )
    .expect("swapped back");
    assert_intact(&app, "swapped back").await;

    // 4. A change with every later hash recomputed: consistent, but not with the checkpoint.
    // (The session looked in from elsewhere, says the log now.)
    sql!(
        &app,
        "UPDATE audit_events SET actor_address = '10.9.9.9' WHERE seq = 3"
    )
    .expect("changed");
    let rows = app.store().audit_chain_page(0, 1000).await.expect("rows");
    let mut head = GENESIS;
    for row in &rows {
        head = link(&head, &row.content());
        let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
        match db {
            Db::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&app.database_url)
                    .await
                    .expect("SQLite");
                sqlx::query::<sqlx::Sqlite>(
                    "UPDATE audit_events SET hash = unhex($1) WHERE seq = $2",
                )
                .bind(hex)
                .bind(row.seq)
                .execute(&mut conn)
                .await
                .expect("rehash");
            }
            Db::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&app.database_url)
                    .await
                    .expect("PostgreSQL");
                sqlx::query::<sqlx::Postgres>(
                    "UPDATE audit_events SET hash = decode($1, 'hex') WHERE seq = $2",
                )
                .bind(hex)
                .bind(row.seq)
                .execute(&mut conn)
                .await
                .expect("rehash");
            }
        }
    }
    assert_names(
        &app,
        &format!("the checkpoint of {} events disagrees", events.len()),
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn audit_verify_names_each_tampering_on_sqlite() {
    scenario(Db::Sqlite).await;
}

#[tokio::test]
async fn audit_verify_names_each_tampering_on_postgres() {
    scenario(Db::Postgres).await;
}
