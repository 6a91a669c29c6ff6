//! Blocking slots from the back office's calendar, and visit outcomes, on SQLite and
//! PostgreSQL: a blocked slot takes no booking (not one that races the block, once the block
//! has committed), never overbooks, keeps the bookings it holds, and takes bookings again once
//! freed; an outcome is recorded only for a booking whose visit has started.
//!
//! Explicit times, no clock: the bookings are made at [`NOW`], for visits after it.

mod common;

use std::time::Instant;

use common::{TestDb, postgres, sqlite};
use madoguchi_store::{
    BookingChange, NewBooking, OutboxRow, SlotRef, Store, StoreError, VisitOutcome,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2031-03-03 09:00 UTC);

fn slot_of(center: &str, starts_at: OffsetDateTime, capacity: i64) -> SlotRef {
    SlotRef {
        center_id: center.to_owned(),
        starts_at,
        ends_at: starts_at + Duration::minutes(30),
        capacity,
    }
}

fn unique_bytes() -> Vec<u8> {
    Uuid::new_v4().as_bytes().repeat(2)
}

fn message(at: OffsetDateTime) -> OutboxRow {
    OutboxRow::now(Uuid::now_v7(), "mail-1".to_owned(), vec![1; 48], at)
}

/// A booking of `slot` by an address of its own, made at [`NOW`].
fn booking(slot: &SlotRef) -> NewBooking {
    NewBooking {
        id: Uuid::now_v7(),
        slot: slot.clone(),
        consultation: "car-loan".to_owned(),
        manage_id: unique_bytes(),
        request_id: unique_bytes(),
        request_id_previous: None,
        email_index: unique_bytes(),
        email_index_key: "0000000000000001".to_owned(),
        email_index_previous: None,
        contact_sealed: vec![7; 48],
        personal_fields: vec![3; 100],
        data_key_id: "data-1".to_owned(),
        wrapped_data_key: vec![4; 80],
        max_future_per_email: 3,
        created_at: NOW,
    }
}

async fn book(store: &Store, slot: &SlotRef) -> Result<Uuid, StoreError> {
    let new = booking(slot);
    store.book(&new, &message(NOW), None).await.map(|()| new.id)
}

/// (capacity, booked, blocked) of the slot's row, `None` without one.
async fn state_of(store: &Store, slot: &SlotRef) -> Option<(i64, i64, bool)> {
    store
        .slot_states(
            &slot.center_id,
            slot.starts_at,
            slot.starts_at + Duration::seconds(1),
        )
        .await
        .expect("slot states")
        .into_iter()
        .find(|s| s.starts_at == slot.starts_at)
        .map(|s| (s.capacity, s.booked, s.blocked))
}

fn is_full(outcome: &Result<Uuid, StoreError>) -> bool {
    matches!(outcome, Err(StoreError::SlotFull))
}

/// 1. A slot never booked can be blocked (its row is created with the capacity given); a
///    booking is then refused as full; freed, the slot takes bookings again. Both are
///    idempotent, and freeing a slot without a row changes nothing.
async fn block_and_free(db: &TestDb) {
    let store = &db.store;
    let slot = slot_of("block-free", datetime!(2031-03-10 01:00 UTC), 2);
    store
        .free_slot("block-free", slot.starts_at)
        .await
        .expect("free, no row");
    assert_eq!(state_of(store, &slot).await, None);
    store.block_slot(&slot).await.expect("block");
    store.block_slot(&slot).await.expect("block again");
    assert_eq!(state_of(store, &slot).await, Some((2, 0, true)));
    assert!(is_full(&book(store, &slot).await), "a blocked slot is full");
    store
        .free_slot("block-free", slot.starts_at)
        .await
        .expect("free");
    store
        .free_slot("block-free", slot.starts_at)
        .await
        .expect("free again");
    assert_eq!(state_of(store, &slot).await, Some((2, 0, false)));
    book(store, &slot)
        .await
        .expect("a freed slot takes bookings");
    assert_eq!(state_of(store, &slot).await, Some((2, 1, false)));
}

/// 2. The bookings a slot holds stay when it is blocked, and are listed for the calendar
///    without any personal column; a booking moved into a blocked slot is refused.
async fn bookings_stay_and_changes_are_refused(db: &TestDb) {
    let store = &db.store;
    let held = slot_of("stay", datetime!(2031-03-11 01:00 UTC), 3);
    let other = slot_of("stay", datetime!(2031-03-11 02:00 UTC), 3);
    let first = book(store, &held).await.expect("book");
    let mover = book(store, &other).await.expect("book");
    store.block_slot(&held).await.expect("block");
    assert_eq!(state_of(store, &held).await, Some((3, 1, true)));
    let listed = store
        .center_bookings("stay", held.starts_at, other.starts_at + Duration::hours(1))
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![first, mover]
    );
    let change = BookingChange {
        id: mover,
        from_starts_at: other.starts_at,
        to: held.clone(),
        at: NOW,
    };
    assert!(matches!(
        store.change_booking(&change, &message(NOW), None).await,
        Err(StoreError::SlotFull)
    ));
    assert_eq!(state_of(store, &held).await, Some((3, 1, true)));
    assert_eq!(state_of(store, &other).await, Some((3, 1, false)));
}

/// 3. Many bookings race a block, through several handles (instances): the slot never holds
///    more than its capacity, its counter equals the bookings that succeeded, and no booking
///    that started after the block returned gets in.
async fn a_block_racing_bookings_never_overbooks(db: &TestDb) {
    let mut stores = vec![db.store.clone()];
    for _ in 0..2 {
        let other = Store::connect(&db.url).await.expect("second handle");
        stores.push(other);
    }
    for (round, capacity) in [(0_i64, 3_i64), (1, 5), (2, 1000)] {
        let slot = slot_of(
            "race",
            datetime!(2031-03-12 01:00 UTC) + Duration::hours(round),
            capacity,
        );
        let mut tasks = JoinSet::new();
        for i in 0..40_usize {
            let (store, slot) = (stores[i % stores.len()].clone(), slot.clone());
            tasks.spawn(async move {
                // Spread the bookings around the block.
                tokio::time::sleep(std::time::Duration::from_millis((i as u64 % 10) * 3)).await;
                let started = Instant::now();
                (started, book(&store, &slot).await)
            });
        }
        let blocker = stores[1].clone();
        let blocked_slot = slot.clone();
        let block = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(12)).await;
            blocker.block_slot(&blocked_slot).await.expect("block");
            Instant::now()
        });
        let outcomes = tasks.join_all().await;
        let blocked_at = block.await.expect("block task");
        let mut booked = 0_i64;
        for (started, outcome) in &outcomes {
            match outcome {
                Ok(_) => {
                    booked += 1;
                    assert!(
                        *started < blocked_at,
                        "round {round}: a booking started after the block committed got in"
                    );
                }
                Err(StoreError::SlotFull) => {}
                Err(e) => panic!("round {round}: unexpected refusal {e:?}"),
            }
        }
        assert!(booked <= capacity, "round {round}: {booked} > {capacity}");
        assert_eq!(
            state_of(&db.store, &slot).await,
            Some((capacity, booked, true)),
            "round {round}"
        );
        let listed = db
            .store
            .center_bookings(
                "race",
                slot.starts_at,
                slot.starts_at + Duration::seconds(1),
            )
            .await
            .expect("list");
        assert_eq!(listed.len() as i64, booked, "round {round}");
        assert!(
            is_full(&book(&db.store, &slot).await),
            "round {round}: no booking after the block"
        );
    }
    for store in &stores[1..] {
        store.close().await;
    }
}

/// 4. A visit's outcome: refused before the visit starts, recorded once after, refused for a
///    cancelled booking.
async fn outcomes_only_after_the_visit_started(db: &TestDb) {
    let store = &db.store;
    let slot = slot_of("outcome", datetime!(2031-03-13 01:00 UTC), 2);
    let id = book(store, &slot).await.expect("book");
    let before = slot.starts_at - Duration::minutes(1);
    assert!(matches!(
        store
            .record_visit_outcome(id, VisitOutcome::Visited, before)
            .await,
        Err(StoreError::BookingChanged)
    ));
    assert_eq!(
        store
            .center_booking(id)
            .await
            .expect("read")
            .map(|b| b.status),
        Some("booked".to_owned())
    );
    store
        .record_visit_outcome(id, VisitOutcome::NoShow, slot.starts_at)
        .await
        .expect("at the start");
    assert_eq!(
        store
            .center_booking(id)
            .await
            .expect("read")
            .map(|b| b.status),
        Some("no_show".to_owned())
    );
    assert!(matches!(
        store
            .record_visit_outcome(
                id,
                VisitOutcome::Visited,
                slot.starts_at + Duration::hours(1)
            )
            .await,
        Err(StoreError::BookingChanged)
    ));
    let cancelled = book(store, &slot).await.expect("book");
    store
        .cancel_booking(cancelled, slot.starts_at, NOW, &message(NOW))
        .await
        .expect("cancel");
    assert!(matches!(
        store
            .record_visit_outcome(cancelled, VisitOutcome::Visited, slot.starts_at)
            .await,
        Err(StoreError::BookingChanged)
    ));
}

async fn all(db: &TestDb) {
    block_and_free(db).await;
    bookings_stay_and_changes_are_refused(db).await;
    a_block_racing_bookings_never_overbooks(db).await;
    outcomes_only_after_the_visit_started(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slot_blocks_on_sqlite() {
    let db = sqlite().await;
    all(&db).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slot_blocks_on_postgres() {
    let Some(db) = postgres().await else { return };
    all(&db).await;
    db.finish().await;
}
