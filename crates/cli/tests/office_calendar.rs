//! The loan centres' reservations calendar in the back office (SPEC §5 "Reservations"), over
//! HTTP: a consultant sees their centre's week with every booking masked; showing a field asks
//! for a purpose and writes one audit event with the exact fields before the value appears;
//! another centre's consultant gets 404; a blocked slot takes no public booking and shows as
//! full until freed; a visit outcome is recorded only once the visit's time has come.
//!
//! The tests run on any date: slots come from the public API's list.

mod common;

use common::office::{StaffClient, staff_client};
use common::reservation::{ApiSlot, Visitor, api_post, book_by_api, free_of, slot_links, slots};
use common::{Db, TestApp};
use sqlx::Connection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const NAHA: &str = "naha";
const CHATAN: &str = "chatan-weekend";

/// A page as the office answered it: status, `Location` (for a redirect) and body.
struct Page {
    status: u16,
    location: Option<String>,
    html: String,
}

async fn page_of(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let html = response.text().await.expect("body");
    Page {
        status,
        location,
        html,
    }
}

async fn get(staff: &StaffClient, path: &str) -> Page {
    page_of(staff.get(path).await).await
}

async fn post(staff: &StaffClient, path: &str, fields: &[(&str, &str)]) -> Page {
    page_of(staff.post_form(path, fields).await).await
}

/// A consultant of `centers` (`centers:naha`), signed in.
async fn consultant(app: &TestApp, centers: &str) -> StaffClient {
    staff_client(app, "consultant", centers).await
}

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

/// One row of `audit_events`, as the tests read it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Audit {
    actor: String,
    action: String,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    fields: String,
    purpose: Option<String>,
    outcome: String,
}

/// The audit events with `action`, oldest first.
async fn audit_events(app: &TestApp, action: &str) -> Vec<Audit> {
    on_db!(app, Db, conn => {
        sqlx::query_as::<Db, Audit>(
            "SELECT actor, action, subject_kind, subject_id, fields, purpose, outcome \
             FROM audit_events WHERE action = $1 ORDER BY seq",
        )
        .bind(action)
        .fetch_all(&mut conn)
        .await
        .expect("read audit events")
    })
}

/// The id and status of every booking of `center`, oldest first.
async fn bookings_of(app: &TestApp, center: &str) -> Vec<(Uuid, String)> {
    on_db!(app, Db, conn => {
        sqlx::query_as::<Db, (Uuid, String)>(
            "SELECT id, status FROM bookings WHERE center_id = $1 ORDER BY created_at, id",
        )
        .bind(center)
        .fetch_all(&mut conn)
        .await
        .expect("read bookings")
    })
}

/// Moves booking `id`'s visit to `starts_at` (the test cannot wait for a visit's time).
async fn move_visit(app: &TestApp, id: Uuid, starts_at: OffsetDateTime) {
    let starts_at = madoguchi_store::db_time(starts_at);
    on_db!(app, Db, conn => {
        sqlx::query::<Db>("UPDATE bookings SET starts_at = $1, ends_at = $2 WHERE id = $3")
            .bind(starts_at)
            .bind(starts_at + Duration::minutes(30))
            .bind(id)
            .execute(&mut conn)
            .await
            .expect("move the visit");
    })
}

/// The `week` parameter of the slot's week (any day of it will do).
fn week_of(slot: &ApiSlot) -> String {
    let day = slot.date();
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The Monday of the slot's week, as the calendar's links carry it.
fn monday_of(slot: &ApiSlot) -> String {
    let day = slot.date();
    let monday = day - Duration::days(i64::from(day.weekday().number_days_from_monday()));
    format!(
        "{:04}-{:02}-{:02}",
        monday.year(),
        u8::from(monday.month()),
        monday.day()
    )
}

/// Books the first free slot of `center` through the API for `visitor`.
async fn booked_by(app: &TestApp, center: &str, visitor: &Visitor) -> (ApiSlot, Uuid) {
    let slot = slots(app, center)
        .await
        .into_iter()
        .find(|s| s.free > 0)
        .expect("a free slot");
    book_by_api(app, center, &slot, visitor).await;
    let (id, _) = bookings_of(app, center)
        .await
        .pop()
        .expect("the booking is stored");
    (slot, id)
}

/// Books the first free slot of `center` through the API for a new visitor.
async fn booked(app: &TestApp, center: &str) -> (ApiSlot, Visitor, Uuid) {
    let visitor = Visitor::new();
    let (slot, id) = booked_by(app, center, &visitor).await;
    (slot, visitor, id)
}

/// Whether `html` shows any of the visitor's personal values.
fn shows_personal(html: &str, visitor: &Visitor) -> Option<String> {
    visitor
        .personal_values()
        .into_iter()
        .find(|value| html.contains(value.as_str()))
}

// --- 1. The week, masked; a reveal, audited first ------------------------------------------

#[tokio::test]
async fn a_consultant_sees_the_week_masked_and_reveals_on_purpose() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    // A note that would run as script if a page did not escape it.
    let visitor = Visitor {
        note: format!("<script>alert('{}')</script>", Uuid::new_v4().simple()),
        ..Visitor::new()
    };
    let (slot, id) = booked_by(&app, NAHA, &visitor).await;
    let staff = consultant(&app, "centers:naha").await;

    let list = get(&staff, "/reservations").await;
    assert_eq!(list.status, 200);
    assert!(
        list.html.contains("href=\"/reservations/naha\""),
        "{}",
        list.html
    );
    assert!(
        !list.html.contains(&format!("/reservations/{CHATAN}")),
        "only the centres in scope are listed"
    );

    let week = get(
        &staff,
        &format!("/reservations/naha?week={}", week_of(&slot)),
    )
    .await;
    assert_eq!(week.status, 200);
    assert!(
        week.html.contains(&format!("href=\"/bookings/{id}\"")),
        "the booking is listed"
    );
    assert!(
        week.html.contains("マイカーローン"),
        "its consultation type"
    );
    assert!(week.html.contains("予約中"), "its status");
    assert!(
        week.html.contains("＊＊＊＊") && week.html.contains("氏名"),
        "masked fields"
    );
    assert_eq!(
        shows_personal(&week.html, &visitor),
        None,
        "nothing personal in the week"
    );

    let detail = get(&staff, &format!("/bookings/{id}")).await;
    assert_eq!(detail.status, 200);
    assert_eq!(
        shows_personal(&detail.html, &visitor),
        None,
        "nothing personal in the detail"
    );
    assert!(audit_events(&app, "booking.reveal").await.is_empty());

    // Without a purpose, nothing is shown and nothing recorded.
    staff.reauth().await;
    let refused = post(
        &staff,
        &format!("/bookings/{id}/reveal"),
        &[("fields", "family_name")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert_eq!(shows_personal(&refused.html, &visitor), None);
    assert!(audit_events(&app, "booking.reveal").await.is_empty());

    let shown = post(
        &staff,
        &format!("/bookings/{id}/reveal"),
        &[
            ("purpose", "contact-customer"),
            ("fields", "phone"),
            ("fields", "family_name"),
        ],
    )
    .await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    assert!(
        shown.html.contains(&visitor.family_name),
        "the name is shown"
    );
    assert!(
        shown.html.contains(&visitor.phone_digits()),
        "the phone is shown"
    );
    assert!(
        !shown.html.contains(&visitor.email),
        "a field not asked for is not"
    );
    assert!(
        !shown.html.contains(&visitor.given_name),
        "a field not asked for is not"
    );
    let events = audit_events(&app, "booking.reveal").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.subject_kind.as_deref(), Some("booking"));
    assert_eq!(event.subject_id.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(event.fields, "family_name,phone", "the exact fields");
    assert_eq!(event.purpose.as_deref(), Some("contact-customer"));
    assert_eq!(event.outcome, "ok");
    assert!(event.actor.starts_with("staff:"), "{}", event.actor);

    // What the customer typed is shown escaped, never as markup.
    let note = post(
        &staff,
        &format!("/bookings/{id}/reveal"),
        &[("purpose", "booking-check"), ("fields", "note")],
    )
    .await;
    assert_eq!(note.status, 200);
    assert!(!note.html.contains("<script"), "the note is not markup");
    let escaped = visitor
        .note
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('\'', "&#39;");
    assert!(note.html.contains(&escaped), "the note is shown, escaped");
    let events = audit_events(&app, "booking.reveal").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].fields, "note");
    assert_eq!(events[1].purpose.as_deref(), Some("booking-check"));

    // No event, no data: when the audit log cannot be written, nothing is shown.
    on_db!(app, Db, conn => {
        sqlx::query::<Db>("ALTER TABLE audit_events RENAME TO audit_events_away")
            .execute(&mut conn)
            .await
            .expect("take the audit log away");
    });
    let unaudited = post(
        &staff,
        &format!("/bookings/{id}/reveal"),
        &[("purpose", "visit"), ("fields", "email")],
    )
    .await;
    assert_eq!(unaudited.status, 500);
    assert_eq!(shows_personal(&unaudited.html, &visitor), None);
    app.stop().await;
}

// --- 2. Another centre's consultant --------------------------------------------------------

#[tokio::test]
async fn another_centres_consultant_gets_not_found() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let (slot, visitor, id) = booked(&app, NAHA).await;
    let other = consultant(&app, "centers:chatan-weekend").await;
    other.reauth().await;
    let list = get(&other, "/reservations").await;
    assert!(!list.html.contains("href=\"/reservations/naha\""));
    for path in [
        format!("/reservations/naha?week={}", week_of(&slot)),
        format!("/bookings/{id}"),
    ] {
        let page = get(&other, &path).await;
        assert_eq!(page.status, 404, "GET {path}");
        assert_eq!(shows_personal(&page.html, &visitor), None);
    }
    let value = slot.form_value();
    for (path, fields) in [
        (
            format!("/bookings/{id}/reveal"),
            vec![("purpose", "visit"), ("fields", "family_name")],
        ),
        (
            format!("/bookings/{id}/outcome"),
            vec![("outcome", "visited")],
        ),
        (
            "/reservations/naha/block".to_owned(),
            vec![("starts_at", value.as_str())],
        ),
    ] {
        let page = post(&other, &path, &fields).await;
        assert_eq!(page.status, 404, "POST {path}");
        assert_eq!(shows_personal(&page.html, &visitor), None);
    }
    assert!(audit_events(&app, "booking.reveal").await.is_empty());
    assert!(audit_events(&app, "slot.block").await.is_empty());
    assert_eq!(free_of(&app, NAHA, &value).await, slot.free - 1);
    // Their own centre they do see.
    let own = get(&other, "/reservations/chatan-weekend").await;
    assert_eq!(own.status, 200);
    app.stop().await;
}

// --- 3. Blocking and freeing a slot --------------------------------------------------------

async fn blocking_a_slot_stops_public_bookings(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let (held, visitor, id) = booked(&app, NAHA).await;
    let staff = consultant(&app, "centers:naha").await;
    let value = held.form_value();
    let week_path = format!("/reservations/naha?week={}", week_of(&held));

    let blocked = post(&staff, "/reservations/naha/block", &[("starts_at", &value)]).await;
    assert_eq!(blocked.status, 303, "block answered {}", blocked.status);
    assert_eq!(
        blocked.location,
        Some(format!("/reservations/naha?week={}", monday_of(&held))),
        "back to the slot's week"
    );
    let events = audit_events(&app, "slot.block").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].subject_id.as_deref(),
        Some(format!("naha/{value}").as_str())
    );

    // The public side: not bookable, by the API, the page or the form.
    assert_eq!(
        free_of(&app, NAHA, &value).await,
        0,
        "the API offers it as full"
    );
    let browser = TestApp::client();
    let public_week = browser
        .get(app.url(&format!(
            "/reservations/centers/naha?week={}",
            week_of(&held)
        )))
        .send()
        .await
        .expect("public week")
        .text()
        .await
        .expect("body");
    assert!(
        !slot_links(&public_week, NAHA).contains(&value),
        "the public week offers no link to a blocked slot"
    );
    let late = Visitor::new();
    let refused = api_post(&app, "/api/v1/bookings", &late.json(NAHA, &held.starts_at)).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.code(), "slot-full");

    // The booking it held stays, and the calendar shows the slot blocked with it.
    assert_eq!(
        bookings_of(&app, NAHA).await,
        vec![(id, "booked".to_owned())]
    );
    let week = get(&staff, &week_path).await;
    assert!(
        week.html.contains("受付停止中"),
        "the calendar shows the block"
    );
    assert!(
        week.html.contains(&format!("/bookings/{id}")),
        "and the booking it holds"
    );
    assert!(week.html.contains("action=\"/reservations/naha/free\""));
    assert_eq!(shows_personal(&week.html, &visitor), None);

    // Freed, it takes bookings again.
    let freed = post(&staff, "/reservations/naha/free", &[("starts_at", &value)]).await;
    assert_eq!(freed.status, 303, "free answered {}", freed.status);
    assert_eq!(audit_events(&app, "slot.free").await.len(), 1);
    assert_eq!(free_of(&app, NAHA, &value).await, held.free - 1);
    book_by_api(&app, NAHA, &held, &late).await;
    assert_eq!(bookings_of(&app, NAHA).await.len(), 2);

    // A time that is no slot of the centre is refused and recorded nowhere.
    let odd = post(
        &staff,
        "/reservations/naha/block",
        &[("starts_at", "2030-01-01T03:17")],
    )
    .await;
    assert_eq!(odd.status, 422);
    assert_eq!(audit_events(&app, "slot.block").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn blocking_a_slot_stops_public_bookings_on_sqlite() {
    blocking_a_slot_stops_public_bookings(Db::Sqlite).await;
}

#[tokio::test]
async fn blocking_a_slot_stops_public_bookings_on_postgres() {
    blocking_a_slot_stops_public_bookings(Db::Postgres).await;
}

/// A block racing public bookings of the same slot through the API: the slot never holds
/// more than its places, and once the block is answered no booking gets in.
async fn a_block_racing_bookings(db: Db) {
    let Some(app) = TestApp::spawn_with(db, common::Options::unlimited()).await else {
        return;
    };
    let slot = slots(&app, NAHA)
        .await
        .into_iter()
        .find(|s| s.free > 0)
        .expect("a free slot");
    let staff = consultant(&app, "centers:naha").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (url, body) = (
            app.url("/api/v1/bookings"),
            Visitor::new().json(NAHA, &slot.starts_at),
        );
        tasks.spawn(async move {
            let response = common::reservation::api_client()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("booking");
            response.status().as_u16()
        });
    }
    let blocked = post(
        &staff,
        "/reservations/naha/block",
        &[("starts_at", &slot.form_value())],
    )
    .await;
    assert_eq!(blocked.status, 303);
    let after = api_post(
        &app,
        "/api/v1/bookings",
        &Visitor::new().json(NAHA, &slot.starts_at),
    )
    .await;
    assert_eq!(
        after.status, 409,
        "no booking after the block: {}",
        after.text
    );
    let statuses = tasks.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let made = statuses.iter().filter(|s| **s == 201).count();
    assert!(
        made as u64 <= slot.places,
        "{made} bookings for {} places",
        slot.places
    );
    assert_eq!(bookings_of(&app, NAHA).await.len(), made);
    assert_eq!(free_of(&app, NAHA, &slot.form_value()).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_block_racing_bookings_on_sqlite() {
    a_block_racing_bookings(Db::Sqlite).await;
}

#[tokio::test]
async fn a_block_racing_bookings_on_postgres() {
    a_block_racing_bookings(Db::Postgres).await;
}

// --- 4. Visit outcomes ---------------------------------------------------------------------

#[tokio::test]
async fn an_outcome_only_once_the_visit_has_started() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let (_, _, id) = booked(&app, NAHA).await;
    let staff = consultant(&app, "centers:naha").await;
    let path = format!("/bookings/{id}/outcome");

    let early = post(&staff, &path, &[("outcome", "visited")]).await;
    assert_eq!(early.status, 409, "a future visit has no outcome yet");
    assert_eq!(
        bookings_of(&app, NAHA).await,
        vec![(id, "booked".to_owned())]
    );
    assert!(audit_events(&app, "booking.outcome").await.is_empty());

    let bad = post(&staff, &path, &[("outcome", "maybe")]).await;
    assert_eq!(bad.status, 422);

    move_visit(&app, id, OffsetDateTime::now_utc() - Duration::hours(1)).await;
    let detail = get(&staff, &format!("/bookings/{id}")).await;
    assert!(
        detail.html.contains("value=\"no-show\""),
        "the outcome buttons are offered"
    );
    let recorded = post(&staff, &path, &[("outcome", "no-show")]).await;
    assert_eq!(recorded.status, 303, "outcome answered {}", recorded.status);
    assert_eq!(recorded.location, Some(format!("/bookings/{id}")));
    assert_eq!(
        bookings_of(&app, NAHA).await,
        vec![(id, "no_show".to_owned())]
    );
    let events = audit_events(&app, "booking.outcome").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].subject_id.as_deref(),
        Some(id.to_string().as_str())
    );
    assert_eq!(events[0].outcome, "ok");

    let again = post(&staff, &path, &[("outcome", "visited")]).await;
    assert_eq!(again.status, 409, "an outcome is recorded once");
    assert_eq!(
        bookings_of(&app, NAHA).await,
        vec![(id, "no_show".to_owned())]
    );
    app.stop().await;
}
