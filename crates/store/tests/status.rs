//! The status check's storage, on SQLite and on PostgreSQL: the look-up needs the receipt
//! number and the e-mail index together, and a status check lives beside the session's
//! application check, sending mail only when told to.

mod common;

use common::{TestDb, postgres, sqlite};
use madoguchi_store::{
    ApplicationStatusRow, CodeAttempt, DraftRow, EmailCheckRow, IndexMove, IndexedRecords,
    NewApplication, OutboxRow, Store, db_time,
};
use sqlx::Connection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const INDEX: [u8; 32] = [9; 32];
const OTHER_INDEX: [u8; 32] = [8; 32];

fn outbox_row() -> OutboxRow {
    OutboxRow::now(
        Uuid::now_v7(),
        "k1".to_owned(),
        vec![1, 2, 3],
        OffsetDateTime::now_utc(),
    )
}

fn check(key: &[u8], product: &str, ttl: Duration) -> EmailCheckRow {
    let now = OffsetDateTime::now_utc();
    EmailCheckRow {
        session_id: key.to_vec(),
        product: product.to_owned(),
        email_index: INDEX.to_vec(),
        email_sealed: vec![7; 40],
        code_mac: vec![5; 32],
        tries_left: 2,
        created_at: now,
        expires_at: now + ttl,
        email_index_previous: None,
    }
}

/// Submits an application through the real path (e-mail check, draft, submission).
async fn submit(store: &Store, session: &[u8], receipt: &str) -> OffsetDateTime {
    let id = Uuid::now_v7();
    let now = OffsetDateTime::now_utc();
    store
        .start_email_check(
            &check(session, "savings-account", Duration::minutes(10)),
            &outbox_row(),
        )
        .await
        .expect("check");
    store
        .start_draft(&DraftRow {
            session_id: session.to_vec(),
            product: "savings-account".to_owned(),
            application_id: id,
            body: vec![1; 64],
            created_at: now,
            updated_at: now,
            expires_at: now + Duration::hours(1),
        })
        .await
        .expect("draft");
    let application = NewApplication {
        id,
        receipt_number: receipt.to_owned(),
        product: "savings-account".to_owned(),
        branch_code: "101".to_owned(),
        email_index: INDEX.to_vec(),
        email_index_key: "0000000000000001".to_owned(),
        personal_fields: vec![3; 100],
        data_key_id: "k2".to_owned(),
        wrapped_data_key: vec![4; 80],
        secrets: Vec::new(),
        submitted_at: now,
    };
    store
        .submit_application(session, &application, &outbox_row())
        .await
        .expect("submit");
    db_time(now)
}

/// Changes a status as the back office will: one UPDATE of the operational columns.
async fn set_status(db: &TestDb, receipt: &str, status: &str, at: OffsetDateTime) {
    let at = db_time(at);
    if db.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&db.url)
            .await
            .expect("connect");
        sqlx::query(
            "UPDATE applications SET status = $1, updated_at = $2 WHERE receipt_number = $3",
        )
        .bind(status)
        .bind(at)
        .bind(receipt)
        .execute(&mut conn)
        .await
        .expect("update");
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        sqlx::query(
            "UPDATE applications SET status = $1, updated_at = $2 WHERE receipt_number = $3",
        )
        .bind(status)
        .bind(at)
        .bind(receipt)
        .execute(&mut conn)
        .await
        .expect("update");
    }
}

async fn status_needs_receipt_and_email_together(db: &TestDb) {
    let store = &db.store;
    let submitted_at = submit(store, &[1u8; 32], "STAT-2345-6789").await;
    submit(store, &[2u8; 32], "STAT-ABCD-EFGH").await;
    assert_eq!(
        store
            .application_status("STAT-2345-6789", [&INDEX, &INDEX])
            .await
            .expect("status"),
        Some(ApplicationStatusRow {
            product: "savings-account".to_owned(),
            status: "submitted".to_owned(),
            updated_at: submitted_at,
        })
    );
    assert_eq!(
        store
            .application_status("STAT-2345-6789", [&OTHER_INDEX, &OTHER_INDEX])
            .await
            .expect("status"),
        None,
        "a receipt number with another address matches nothing"
    );
    assert_eq!(
        store
            .application_status("STAT-2345-678A", [&INDEX, &INDEX])
            .await
            .expect("status"),
        None,
        "an unknown receipt number matches nothing"
    );
    // During a blind-index rotation the look-up carries the address's index under both keys:
    // either matching is enough, and the receipt number is still needed.
    let (index, other): (&[u8], &[u8]) = (&INDEX, &OTHER_INDEX);
    for candidates in [[other, index], [index, other]] {
        assert!(
            store
                .application_status("STAT-2345-6789", candidates)
                .await
                .expect("status")
                .is_some(),
            "found by either index"
        );
    }
    assert_eq!(
        store
            .application_status("STAT-ABCD-EFGH", [&OTHER_INDEX, &INDEX])
            .await
            .expect("status")
            .map(|row| row.status),
        Some("submitted".to_owned()),
    );
    assert_eq!(
        store
            .application_status("STAT-2345-678A", [&OTHER_INDEX, &INDEX])
            .await
            .expect("status"),
        None
    );

    let later = submitted_at + Duration::days(2);
    set_status(db, "STAT-2345-6789", "in-review", later).await;
    let row = store
        .application_status("STAT-2345-6789", [&INDEX, &INDEX])
        .await
        .expect("status")
        .expect("found");
    assert_eq!((row.status.as_str(), row.updated_at), ("in-review", later));
    let untouched = store
        .application_status("STAT-ABCD-EFGH", [&INDEX, &INDEX])
        .await
        .expect("status")
        .expect("found");
    assert_eq!(untouched.status, "submitted", "only that application moved");
}

async fn a_status_check_lives_beside_the_application_check(store: &Store) {
    let session = [3u8; 32];
    let status_key = [&session[..], b"/status"].concat();
    let now = OffsetDateTime::now_utc();
    store
        .start_email_check(
            &check(&session, "savings-account", Duration::minutes(10)),
            &outbox_row(),
        )
        .await
        .expect("application check");

    let queued = store.outbox_len().await.expect("len");
    store
        .start_status_check(&check(&status_key, "status", Duration::minutes(10)), None)
        .await
        .expect("status check without mail");
    assert_eq!(
        store.outbox_len().await.expect("len"),
        queued,
        "no match, no e-mail"
    );
    store
        .start_status_check(
            &check(&status_key, "status", Duration::minutes(10)),
            Some(&outbox_row()),
        )
        .await
        .expect("status check restarted with its mail");
    assert_eq!(
        store.outbox_len().await.expect("len"),
        queued + 1,
        "one code e-mail, queued with the check"
    );

    let live = store
        .email_check(&status_key, now)
        .await
        .expect("get")
        .expect("live");
    assert_eq!(live.product, "status");
    assert_eq!(
        store
            .email_check(&session, now)
            .await
            .expect("get")
            .expect("the application check is untouched")
            .product,
        "savings-account"
    );

    assert_eq!(
        store.spend_code_try(&status_key, now).await.expect("try"),
        CodeAttempt::Counted { tries_left: 1 }
    );
    assert!(store.end_email_check(&status_key, now).await.expect("end"));
    assert!(
        !store.end_email_check(&status_key, now).await.expect("end"),
        "a verified check ends once"
    );
    assert!(
        store
            .email_check(&session, now)
            .await
            .expect("get")
            .is_some(),
        "ending the status check leaves the application check"
    );

    // An expired check cannot be ended (nor used).
    store
        .start_status_check(&check(&status_key, "status", Duration::minutes(-1)), None)
        .await
        .expect("expired check");
    assert!(!store.end_email_check(&status_key, now).await.expect("end"));
}

/// After a blind-index rotation: the re-index reads stale rows with what opens their e-mail,
/// swaps each index only where the row still holds the index read, and the status checks of
/// the old index follow.
async fn a_reindex_swaps_only_rows_unchanged_since_read(store: &Store) {
    const NEW_KEY: &str = "00000000000000ff";
    let session = [7u8; 32];
    submit(store, &session, "STAT-REIX-0001").await;
    let status_key = [&session[..], b"/status"].concat();
    store
        .start_status_check(&check(&status_key, "status", Duration::minutes(10)), None)
        .await
        .expect("status check");
    let id = store
        .application_id_by_receipt("STAT-REIX-0001")
        .await
        .expect("lookup")
        .expect("submitted");
    let other = store
        .application_id_by_receipt("STAT-ABCD-EFGH")
        .await
        .expect("lookup")
        .expect("submitted");
    let stale_before = store.stale_email_indexes(NEW_KEY).await.expect("count");
    let stale = store
        .records_to_reindex(IndexedRecords::Applications, NEW_KEY, None, 100)
        .await
        .expect("stale rows");
    let row = stale.iter().find(|r| r.id == id).expect("ours is stale");
    assert_eq!(
        (
            row.email_index.as_slice(),
            row.fields.as_slice(),
            row.wrapped.as_slice()
        ),
        (&INDEX[..], &[3u8; 100][..], &[4u8; 80][..])
    );

    let moved = store
        .reindex_records(
            IndexedRecords::Applications,
            NEW_KEY,
            &[
                IndexMove {
                    id,
                    old: INDEX.to_vec(),
                    new: OTHER_INDEX.to_vec(),
                },
                // Changed since it was read (here: never held this index): left alone.
                IndexMove {
                    id: other,
                    old: vec![0; 32],
                    new: OTHER_INDEX.to_vec(),
                },
            ],
        )
        .await
        .expect("reindex");
    assert_eq!(moved, 1);
    let found = |receipt: &'static str, index: &'static [u8; 32]| async move {
        store
            .application_status(receipt, [index, index])
            .await
            .expect("status")
            .is_some()
    };
    assert!(found("STAT-REIX-0001", &OTHER_INDEX).await);
    assert!(!found("STAT-REIX-0001", &INDEX).await);
    assert!(
        found("STAT-ABCD-EFGH", &INDEX).await,
        "the other row is as it was"
    );
    let check = store
        .email_check(&status_key, OffsetDateTime::now_utc())
        .await
        .expect("check")
        .expect("live");
    assert_eq!(
        check.email_index,
        OTHER_INDEX.to_vec(),
        "the status check follows"
    );
    assert_eq!(
        store.stale_email_indexes(NEW_KEY).await.expect("count"),
        stale_before - 1
    );
    let again = store
        .records_to_reindex(IndexedRecords::Applications, NEW_KEY, None, 100)
        .await
        .expect("stale rows");
    assert!(again.iter().all(|r| r.id != id), "re-indexed once");
}

async fn all(db: TestDb) {
    status_needs_receipt_and_email_together(&db).await;
    a_status_check_lives_beside_the_application_check(&db.store).await;
    a_reindex_swaps_only_rows_unchanged_since_read(&db.store).await;
    db.finish().await;
}

#[tokio::test]
async fn sqlite_status() {
    all(sqlite().await).await;
}

#[tokio::test]
async fn postgres_status() {
    let Some(db) = postgres().await else {
        return;
    };
    all(db).await;
}
