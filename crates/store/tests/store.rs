//! The same storage tests on SQLite and on PostgreSQL.

mod common;

use common::{postgres, sqlite};
use madoguchi_store::{
    CodeAttempt, DraftRow, EmailCheckRow, NewApplication, OutboxRow, SealedSecretRow, Store,
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

fn email_check(session: &[u8], tries: i64) -> EmailCheckRow {
    let now = OffsetDateTime::now_utc();
    EmailCheckRow {
        session_id: session.to_vec(),
        product: "savings-account".to_owned(),
        email_index: vec![9; 32],
        email_sealed: vec![7; 40],
        code_mac: vec![5; 32],
        tries_left: tries,
        created_at: now,
        expires_at: now + Duration::minutes(10),
        email_index_previous: None,
    }
}

fn draft(session: &[u8], application_id: Uuid) -> DraftRow {
    let now = OffsetDateTime::now_utc();
    DraftRow {
        session_id: session.to_vec(),
        product: "savings-account".to_owned(),
        application_id,
        body: vec![1; 64],
        created_at: now,
        updated_at: now,
        expires_at: now + Duration::hours(24),
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

async fn code_tries_are_limited(store: &Store) {
    let session = [1u8; 32];
    store
        .start_email_check(&email_check(&session, 2), &outbox_row())
        .await
        .expect("start");
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        store.spend_code_try(&session, now).await.expect("try"),
        CodeAttempt::Counted { tries_left: 1 }
    );
    assert_eq!(
        store.spend_code_try(&session, now).await.expect("try"),
        CodeAttempt::Counted { tries_left: 0 }
    );
    assert_eq!(
        store.spend_code_try(&session, now).await.expect("try"),
        CodeAttempt::Exhausted
    );
    assert!(
        store
            .email_check(&session, now)
            .await
            .expect("get")
            .is_none(),
        "an exhausted check is deleted"
    );
}

async fn a_draft_is_submitted_once(store: &Store) {
    let session = [2u8; 32];
    let id = Uuid::now_v7();
    let queued_before = store.outbox_len().await.expect("len");
    store
        .start_email_check(&email_check(&session, 5), &outbox_row())
        .await
        .expect("check");
    store
        .start_draft(&draft(&session, id))
        .await
        .expect("draft");
    assert!(
        matches!(
            store.start_draft(&draft(&session, id)).await,
            Err(StoreError::DraftGone)
        ),
        "a verified check is used once"
    );
    store
        .submit_application(&session, &application(id, "AAAA-BBBB-CCCC"), &outbox_row())
        .await
        .expect("submit");
    let again = store
        .submit_application(&session, &application(id, "AAAA-BBBB-CCCD"), &outbox_row())
        .await;
    assert!(
        matches!(again, Err(StoreError::DraftGone)),
        "second submission refused"
    );
    assert_eq!(
        store
            .application_id_by_receipt("AAAA-BBBB-CCCC")
            .await
            .expect("get"),
        Some(id)
    );
    assert_eq!(
        store
            .application_id_by_receipt("AAAA-BBBB-CCCD")
            .await
            .expect("get"),
        None,
        "nothing of the refused one stored"
    );
    assert_eq!(store.sealed_secrets(id).await.expect("secrets").len(), 1);
    let queued = store.outbox_len().await.expect("len") - queued_before;
    assert_eq!(queued, 2, "the code e-mail and one confirmation, not two");
}

async fn a_taken_receipt_number_is_a_unique_violation(store: &Store) {
    let (s1, s2) = ([3u8; 32], [4u8; 32]);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    for (s, id) in [(&s1, a), (&s2, b)] {
        store
            .start_email_check(&email_check(s, 5), &outbox_row())
            .await
            .expect("check");
        store.start_draft(&draft(s, id)).await.expect("draft");
    }
    store
        .submit_application(&s1, &application(a, "DDDD-EEEE-FFFF"), &outbox_row())
        .await
        .expect("first");
    let clash = store
        .submit_application(&s2, &application(b, "DDDD-EEEE-FFFF"), &outbox_row())
        .await;
    assert!(clash.expect_err("clash").is_unique_violation());
    store
        .submit_application(&s2, &application(b, "DDDD-EEEE-GGGG"), &outbox_row())
        .await
        .expect("the draft survived the clash");
}

async fn claimed_mail_is_leased_and_retried(store: &Store) {
    // Earlier checks queued e-mails of their own into this store: deliver them first.
    let earlier = store
        .claim_outbox(OffsetDateTime::now_utc(), Duration::minutes(2), 1000)
        .await
        .expect("claim");
    store.remove_delivered(earlier.token).await.expect("remove");
    assert_eq!(store.outbox_len().await.expect("len"), 0);
    let row = outbox_row();
    store.enqueue(&row).await.expect("enqueue");
    let now = OffsetDateTime::now_utc();
    let holds =
        |claim: &madoguchi_store::OutboxClaim| claim.messages.iter().any(|m| m.id == row.id);
    let first = store
        .claim_outbox(now, Duration::minutes(2), 100)
        .await
        .expect("claim");
    assert!(holds(&first));
    let again = store
        .claim_outbox(now, Duration::minutes(2), 100)
        .await
        .expect("claim");
    assert!(!holds(&again), "a leased message is not claimed twice");

    // The first worker stalls past its lease; another claims the message again.
    let second = store
        .claim_outbox(now + Duration::minutes(3), Duration::minutes(2), 100)
        .await
        .expect("claim");
    assert!(
        second
            .messages
            .iter()
            .any(|m| m.id == row.id && m.attempts == 2),
        "a stalled worker's message comes back"
    );
    store.remove_delivered(first.token).await.expect("remove");
    assert_eq!(
        store.outbox_len().await.expect("len"),
        1,
        "the stalled worker cannot remove what it no longer holds"
    );
    store.remove_delivered(second.token).await.expect("remove");
    assert_eq!(
        store.outbox_len().await.expect("len"),
        0,
        "the holder removes it once delivered"
    );

    // A failed delivery is released for a later attempt, and not removed with its batch.
    let failed = outbox_row();
    store.enqueue(&failed).await.expect("enqueue");
    let claim = store
        .claim_outbox(now + Duration::minutes(10), Duration::minutes(2), 100)
        .await
        .expect("claim");
    store
        .retry_later(failed.id, now + Duration::minutes(11))
        .await
        .expect("retry");
    store.remove_delivered(claim.token).await.expect("remove");
    assert_eq!(
        store.outbox_len().await.expect("len"),
        1,
        "kept for its retry"
    );
    store.delivered(failed.id).await.expect("delivered");
}

async fn expired_drafts_are_purged(store: &Store) {
    let session = [5u8; 32];
    store
        .start_email_check(&email_check(&session, 5), &outbox_row())
        .await
        .expect("check");
    store
        .start_draft(&draft(&session, Uuid::now_v7()))
        .await
        .expect("draft");
    let later = OffsetDateTime::now_utc() + Duration::hours(25);
    assert!(
        store.draft(&session, later).await.expect("get").is_none(),
        "an expired draft is not served"
    );
    let (_, drafts) = store.purge_expired_drafts(later).await.expect("purge");
    assert!(drafts >= 1);
    assert!(
        store
            .draft(&session, OffsetDateTime::now_utc())
            .await
            .expect("get")
            .is_none(),
        "and is gone"
    );
}

/// Many submissions at once (grouped into shared transactions on SQLite): each draft yields
/// exactly one application, a duplicate is refused without disturbing the others.
async fn concurrent_submissions_are_each_stored_once(store: &Store) {
    let mut drafts = Vec::new();
    for i in 0..40u8 {
        let session = [100 + i; 32];
        let id = Uuid::now_v7();
        store
            .start_email_check(&email_check(&session, 5), &outbox_row())
            .await
            .expect("check");
        store
            .start_draft(&draft(&session, id))
            .await
            .expect("draft");
        drafts.push((session, id));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (session, id)) in drafts.iter().enumerate() {
        // The first five drafts are submitted twice (a double click), with different receipts.
        let copies = if n < 5 { 2 } else { 1 };
        for copy in 0..copies {
            let (store, session, id) = (store.clone(), *session, *id);
            let receipt = format!("CONC-{n:04}-{copy:04}");
            tasks.spawn(async move {
                store
                    .submit_application(&session, &application(id, &receipt), &outbox_row())
                    .await
            });
        }
    }
    let (mut stored, mut refused) = (0, 0);
    while let Some(outcome) = tasks.join_next().await {
        match outcome.expect("task") {
            Ok(()) => stored += 1,
            Err(StoreError::DraftGone) => refused += 1,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!((stored, refused), (40, 5));
    for (_, id) in &drafts {
        assert_eq!(
            store.sealed_secrets(*id).await.expect("secrets").len(),
            1,
            "each application stored once, whole"
        );
    }
}

async fn all(store: &Store) {
    code_tries_are_limited(store).await;
    a_draft_is_submitted_once(store).await;
    a_taken_receipt_number_is_a_unique_violation(store).await;
    claimed_mail_is_leased_and_retried(store).await;
    expired_drafts_are_purged(store).await;
    concurrent_submissions_are_each_stored_once(store).await;
}

#[tokio::test]
async fn store_on_sqlite() {
    let db = sqlite().await;
    all(&db.store).await;
    db.finish().await;
}

#[tokio::test]
async fn store_on_postgres() {
    let Some(db) = postgres().await else { return };
    all(&db.store).await;
    db.finish().await;
}
