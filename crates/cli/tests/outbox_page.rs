//! The back office shows the e-mail queue (issue 8): an administrator sees how many messages
//! wait and how many failed; a message the worker cannot deliver stays and is counted, and
//! nothing of any message's content is on the page.

mod common;

use std::time::{Duration, Instant};

use common::office::staff_client;
use common::{Db, TestApp};
use madoguchi_store::OutboxRow;
use reqwest::StatusCode;
use time::OffsetDateTime;
use uuid::Uuid;

async fn queue_shows_a_failing_message(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let admin = staff_client(&app, "administrator", "bank").await;
    let page = admin.get("/outbox").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("page");
    assert!(html.contains(r#"<td id="pending">0件</td>"#), "{html}");

    // A message sealed to no key the worker holds: every attempt fails, it is kept.
    let poisoned = OutboxRow::now(
        Uuid::now_v7(),
        "0000000000000000".to_owned(),
        vec![7; 120],
        OffsetDateTime::now_utc(),
    );
    app.store().enqueue(&poisoned).await.expect("enqueue");
    let deadline = Instant::now() + Duration::from_secs(10);
    let html = loop {
        let html = admin.get("/outbox").await.text().await.expect("page");
        if html.contains(r#"<td id="retrying">1件</td>"#) {
            break html;
        }
        assert!(
            Instant::now() < deadline,
            "the failure is not shown: {html}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(html.contains(r#"<td id="pending">1件</td>"#), "{html}");
    assert_eq!(app.store().outbox_len().await.expect("len"), 1, "kept");
    app.stop().await;
}

#[tokio::test]
async fn the_queue_page_counts_a_failing_message_sqlite() {
    queue_shows_a_failing_message(Db::Sqlite).await;
}

#[tokio::test]
async fn the_queue_page_counts_a_failing_message_postgres() {
    queue_shows_a_failing_message(Db::Postgres).await;
}
