//! Identity documents in the store, on SQLite and on PostgreSQL: one per kind and draft, data
//! key beside the row, linked to the application by the submission's transaction, and gone
//! (row and key) when their draft is discarded or expires.

mod common;

use common::{postgres, sqlite};
use madoguchi_store::{
    DraftRow, EmailCheckRow, NewApplication, NewDocument, OutboxRow, SealedSecretRow, Store,
    StoreError,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn outbox_row() -> OutboxRow {
    OutboxRow::now(
        Uuid::now_v7(),
        "k1".to_owned(),
        vec![1, 2, 3],
        OffsetDateTime::now_utc(),
    )
}

/// A live draft of `session` whose application id is returned.
async fn live_draft(store: &Store, session: &[u8], ttl: Duration) -> Uuid {
    let now = OffsetDateTime::now_utc();
    store
        .start_email_check(
            &EmailCheckRow {
                session_id: session.to_vec(),
                product: "savings-account".to_owned(),
                email_index: vec![9; 32],
                email_sealed: vec![7; 40],
                code_mac: vec![5; 32],
                tries_left: 5,
                created_at: now,
                expires_at: now + Duration::minutes(10),
                email_index_previous: None,
            },
            &outbox_row(),
        )
        .await
        .expect("check");
    let id = Uuid::now_v7();
    store
        .start_draft(&DraftRow {
            session_id: session.to_vec(),
            product: "savings-account".to_owned(),
            application_id: id,
            body: vec![1; 64],
            created_at: now,
            updated_at: now,
            expires_at: now + ttl,
        })
        .await
        .expect("draft");
    id
}

fn document(draft_id: Uuid, kind: &str) -> NewDocument {
    NewDocument {
        id: Uuid::now_v7(),
        draft_id,
        kind: kind.to_owned(),
        content_type: "image/jpeg".to_owned(),
        size_bytes: 123_456,
        key_id: "office-key".to_owned(),
        wrapped_key: vec![8; 89],
        created_at: OffsetDateTime::now_utc(),
    }
}

fn application(id: Uuid, receipt: &str) -> NewApplication {
    NewApplication {
        id,
        receipt_number: receipt.to_owned(),
        product: "savings-account".to_owned(),
        branch_code: "101".to_owned(),
        email_index: vec![9; 32],
        email_index_key: "0000000000000001".to_owned(),
        personal_fields: vec![3; 100],
        data_key_id: "k2".to_owned(),
        wrapped_data_key: vec![4; 80],
        secrets: vec![SealedSecretRow {
            kind: "cash-card-pin".to_owned(),
            key_id: "k3".to_owned(),
            sealed: vec![6; 60],
        }],
        submitted_at: OffsetDateTime::now_utc(),
    }
}

async fn documents_follow_their_draft_into_the_application(store: &Store) {
    let now = OffsetDateTime::now_utc();
    let session = [31u8; 32];
    let draft = live_draft(store, &session, Duration::hours(24)).await;

    let first_front = document(draft, "front");
    assert!(
        store
            .insert_document(&first_front, now)
            .await
            .expect("insert")
            .is_empty()
    );
    let key = store
        .document_key(first_front.id)
        .await
        .expect("key")
        .expect("stored with its data key");
    assert_eq!(key.key_id, "office-key");
    assert_eq!(key.wrapped, vec![8; 89]);

    // A second front replaces the first, row and key.
    let front = document(draft, "front");
    assert_eq!(
        store.insert_document(&front, now).await.expect("replace"),
        vec![first_front.id]
    );
    assert!(
        store
            .document_key(first_front.id)
            .await
            .expect("key")
            .is_none()
    );
    let back = document(draft, "back");
    let selfie = document(draft, "selfie");
    store.insert_document(&back, now).await.expect("back");
    store.insert_document(&selfie, now).await.expect("selfie");
    let in_draft = store.draft_documents(draft).await.expect("list");
    assert_eq!(
        in_draft.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(),
        ["back", "front", "selfie"]
    );
    assert!(in_draft.iter().all(|d| d.application_id.is_none()));
    assert_eq!(in_draft[1].id, front.id);
    assert_eq!(in_draft[1].size_bytes, 123_456);

    // An unknown kind or content type is refused by the schema.
    let mut odd = document(draft, "passport-photo");
    assert!(store.insert_document(&odd, now).await.is_err());
    odd.kind = "back".to_owned();
    odd.content_type = "text/html".to_owned();
    assert!(store.insert_document(&odd, now).await.is_err());
    assert_eq!(
        store.draft_documents(draft).await.expect("list").len(),
        3,
        "a refused insert changes nothing"
    );

    // Submission links the three in its transaction.
    store
        .submit_application(
            &session,
            &application(draft, "DOCS-AAAA-0001"),
            &outbox_row(),
        )
        .await
        .expect("submit");
    assert!(store.draft_documents(draft).await.expect("list").is_empty());
    let linked = store.application_documents(draft).await.expect("list");
    assert_eq!(linked.len(), 3);
    assert!(linked.iter().all(|d| d.application_id == Some(draft)));

    // The draft is gone: no more uploads, and the purge leaves submitted documents alone.
    assert!(matches!(
        store.insert_document(&document(draft, "front"), now).await,
        Err(StoreError::DraftGone)
    ));
    assert!(
        store
            .purge_orphan_documents(now + Duration::days(2))
            .await
            .expect("purge")
            .iter()
            .all(|id| !linked.iter().any(|d| d.id == *id))
    );
    assert_eq!(
        store
            .application_documents(draft)
            .await
            .expect("list")
            .len(),
        3
    );
    assert!(store.document_key(front.id).await.expect("key").is_some());
}

async fn a_discarded_draft_takes_its_documents_along(store: &Store) {
    let now = OffsetDateTime::now_utc();
    let session = [32u8; 32];
    let draft = live_draft(store, &session, Duration::hours(24)).await;
    let front = document(draft, "front");
    let selfie = document(draft, "selfie");
    store.insert_document(&front, now).await.expect("front");
    store.insert_document(&selfie, now).await.expect("selfie");

    let mut discarded = store.discard_draft(&session).await.expect("discard");
    discarded.sort();
    let mut expected = vec![front.id, selfie.id];
    expected.sort();
    assert_eq!(
        discarded, expected,
        "the caller learns which files to delete"
    );
    assert!(store.draft_documents(draft).await.expect("list").is_empty());
    assert!(store.document_key(front.id).await.expect("key").is_none());
    assert!(store.document_key(selfie.id).await.expect("key").is_none());
}

async fn expired_drafts_documents_are_purged(store: &Store) {
    let now = OffsetDateTime::now_utc();
    let session = [33u8; 32];
    let draft = live_draft(store, &session, Duration::minutes(30)).await;
    let back = document(draft, "back");
    store.insert_document(&back, now).await.expect("back");
    let other_session = [34u8; 32];
    let live = live_draft(store, &other_session, Duration::hours(24)).await;
    let kept = document(live, "back");
    store.insert_document(&kept, now).await.expect("kept");

    assert!(
        !store
            .purge_orphan_documents(now)
            .await
            .expect("purge")
            .contains(&back.id),
        "the draft is live"
    );
    let later = now + Duration::hours(1);
    assert!(matches!(
        store
            .insert_document(&document(draft, "front"), later)
            .await,
        Err(StoreError::DraftGone)
    ));
    let purged = store.purge_orphan_documents(later).await.expect("purge");
    assert!(purged.contains(&back.id), "{purged:?}");
    assert!(!purged.contains(&kept.id));
    assert!(store.document_key(back.id).await.expect("key").is_none());
    assert!(store.document_key(kept.id).await.expect("key").is_some());
    // The draft row itself goes with the ordinary purge; nothing is left to purge twice.
    store.purge_expired_drafts(later).await.expect("drafts");
    assert!(
        !store
            .purge_orphan_documents(later)
            .await
            .expect("purge")
            .contains(&back.id)
    );

    let ids = store.document_ids().await.expect("ids");
    assert!(ids.contains(&kept.id) && !ids.contains(&back.id));
}

async fn all(store: &Store) {
    documents_follow_their_draft_into_the_application(store).await;
    a_discarded_draft_takes_its_documents_along(store).await;
    expired_drafts_documents_are_purged(store).await;
}

#[tokio::test]
async fn documents_on_sqlite() {
    let db = sqlite().await;
    all(&db.store).await;
    db.finish().await;
}

#[tokio::test]
async fn documents_on_postgres() {
    let Some(db) = postgres().await else { return };
    all(&db.store).await;
    db.finish().await;
}
