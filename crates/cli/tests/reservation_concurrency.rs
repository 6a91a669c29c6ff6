//! Many customers want the last places of one slot at the same moment: the database, not the
//! process, keeps the slot from being overbooked. Hundreds of simultaneous bookings over real
//! HTTP (the JSON API) against one server on SQLite, and against two server processes sharing
//! one PostgreSQL database: exactly the slot's capacity is booked, everyone else is told the
//! slot is full (never a server error), the slot shows as full, and exactly the winners get a
//! confirmation e-mail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Db, Options, TestApp, decoded_mail};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One offered slot, as the slots API lists it, and as the e-mails write it.
#[derive(Debug, Clone)]
struct OfferedSlot {
    center_id: &'static str,
    center_name: String,
    starts_at: String,
    places: u64,
    /// `2026年12月1日（火） 10:00〜11:30`, as pages and e-mails write the visit.
    visit: String,
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.expect("request");
    assert_eq!(response.status(), 200, "GET {url}");
    serde_json::from_str(&response.text().await.expect("body")).expect("JSON")
}

fn weekday_ja(weekday: time::Weekday) -> &'static str {
    ["月", "火", "水", "木", "金", "土", "日"][usize::from(weekday.number_days_from_monday())]
}

/// The visit as the customer reads it, worked out here rather than taken from the server.
fn visit_label(starts_at: &str, ends_at: &str) -> String {
    let parse = |text: &str| OffsetDateTime::parse(text, &Rfc3339).expect("RFC 3339 time");
    let (start, end) = (parse(starts_at), parse(ends_at));
    assert_eq!(start.offset().whole_hours(), 9, "slots are in Japan time");
    format!(
        "{}年{}月{}日（{}） {}:{:02}〜{}:{:02}",
        start.year(),
        u8::from(start.month()),
        start.day(),
        weekday_ja(start.weekday()),
        start.hour(),
        start.minute(),
        end.hour(),
        end.minute()
    )
}

/// The first slot of `center_id` with every place free, after the first bookable day (which a
/// date change at midnight would take out of the window).
async fn empty_slot(app: &TestApp, center_id: &'static str) -> OfferedSlot {
    let centers = get_json(&app.url("/api/v1/loan-centers")).await;
    let center_name = centers
        .as_array()
        .expect("centre list")
        .iter()
        .find(|c| c["id"] == center_id)
        .and_then(|c| c["name"].as_str())
        .unwrap_or_else(|| panic!("no centre {center_id}"))
        .to_owned();
    let slots = get_json(&app.url(&format!("/api/v1/loan-centers/{center_id}/slots"))).await;
    let slot = slots["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter(|s| {
            let day = slots["first_bookable_day"].as_str().expect("first day");
            !s["starts_at"].as_str().expect("time").starts_with(day)
        })
        .find(|s| s["free"] == s["places"])
        .unwrap_or_else(|| panic!("no empty slot at {center_id}: {slots}"));
    let text = |key: &str| slot[key].as_str().expect("time").to_owned();
    OfferedSlot {
        center_id,
        center_name,
        visit: visit_label(&text("starts_at"), &text("ends_at")),
        starts_at: text("starts_at"),
        places: slot["places"].as_u64().expect("places"),
    }
}

/// What the slots API of `app` says is free in `slot`.
async fn free_places(app: &TestApp, slot: &OfferedSlot) -> u64 {
    let slots = get_json(&app.url(&format!("/api/v1/loan-centers/{}/slots", slot.center_id))).await;
    slots["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["starts_at"] == slot.starts_at.as_str())
        .and_then(|s| s["free"].as_u64())
        .unwrap_or_else(|| panic!("slot {} no longer listed", slot.starts_at))
}

/// One answer of the race: who asked, and what they were told.
struct Answer {
    email: String,
    status: u16,
    body: Value,
}

/// Reads the slots from every server many times at once, so that each opens its database
/// connections (and the client its HTTP connections) before the race: a cold pool would
/// spread the bookings out while it connects, and hide a race.
async fn warm_up(client: &reqwest::Client, base_urls: &[String], slot: &OfferedSlot) {
    let mut reads = tokio::task::JoinSet::new();
    for base_url in base_urls {
        for _ in 0..32 {
            let request = client.get(format!(
                "{base_url}/api/v1/loan-centers/{}/slots",
                slot.center_id
            ));
            reads.spawn(async move { request.send().await.expect("slots").status() });
        }
    }
    while let Some(status) = reads.join_next().await {
        assert_eq!(status.expect("read task"), 200);
    }
}

/// Sends `requests` bookings of `slot` at once, each from another customer (own e-mail
/// address and request_id), spread in turn over the servers at `base_urls`.
async fn race(base_urls: &[String], slot: &OfferedSlot, requests: usize) -> Vec<Answer> {
    let client = reqwest::Client::new();
    warm_up(&client, base_urls, slot).await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    // Every task is ready before the first one sends.
    let start = Arc::new(tokio::sync::Barrier::new(requests));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..requests {
        let client = client.clone();
        let start = start.clone();
        let url = format!("{}/api/v1/bookings", base_urls[i % base_urls.len()]);
        let email = format!("race.{}.{i}@example.jp", &run[..12]);
        let body = serde_json::json!({
            "center_id": slot.center_id,
            "starts_at": slot.starts_at,
            "consultation": "housing-loan",
            "family_name": "検証山",
            "given_name": "花子",
            "family_name_kana": "ケンショウヤマ",
            "given_name_kana": "ハナコ",
            "phone": "090-1234-5678",
            "email": email,
            "existing_customer": false,
            "note": "",
            "request_id": format!("race-{run}-{i}"),
        })
        .to_string();
        tasks.spawn(async move {
            start.wait().await;
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("the server answers");
            let status = response.status().as_u16();
            let text = response.text().await.expect("body");
            let body = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("status {status}, not JSON: {text}"));
            Answer {
                email,
                status,
                body,
            }
        });
    }
    let mut answers = Vec::with_capacity(requests);
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.expect("request task"));
    }
    answers
}

/// The confirmation e-mails written to `outbox` for `slot`, by recipient.
fn confirmations(outbox: &Path, slot: &OfferedSlot) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let visit = format!("ご来店日時：{}", slot.visit);
    let place = format!("ご来店場所：{}", slot.center_name);
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| decoded_mail(&raw))
        .filter(|text| {
            text.contains("ご来店予約を承りました")
                && text.contains(&visit)
                && text.contains(&place)
        })
        .map(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("To: "))
                .map(|to| to.trim().trim_matches(['<', '>']).to_owned())
                .unwrap_or_else(|| panic!("no To: header in\n{text}"))
        })
        .collect()
}

/// Races `requests` customers for `slot` through `apps` (in turn) and checks the outcome:
/// exactly the slot's places are booked, every other customer hears `slot-full`, every server
/// shows the slot full, and exactly the winners get a confirmation e-mail.
async fn book_the_last_places(apps: &[&TestApp], slot: &OfferedSlot, requests: usize) {
    let urls: Vec<String> = apps.iter().map(|a| a.public_url.clone()).collect();
    let answers = race(&urls, slot, requests).await;

    let mut statuses = BTreeMap::<u16, usize>::new();
    for answer in &answers {
        *statuses.entry(answer.status).or_default() += 1;
    }
    let places = usize::try_from(slot.places).expect("places");
    assert_eq!(
        statuses,
        BTreeMap::from([(201, places), (409, requests - places)]),
        "{requests} customers for the {places} places of {} at {}: statuses",
        slot.center_id,
        slot.starts_at
    );
    let mut winners = BTreeSet::new();
    for answer in &answers {
        match answer.status {
            201 => {
                assert_eq!(answer.body["starts_at"], slot.starts_at.as_str());
                assert_eq!(answer.body["center_id"], slot.center_id);
                assert_eq!(answer.body["status"], "booked");
                winners.insert(answer.email.clone());
            }
            _ => assert_eq!(
                answer.body["code"], "slot-full",
                "a refused customer hears the slot is full: {}",
                answer.body
            ),
        }
    }

    for app in apps {
        assert_eq!(
            free_places(app, slot).await,
            0,
            "{} shows the slot full",
            app.public_url
        );
    }
    let starts_at = OffsetDateTime::parse(&slot.starts_at, &Rfc3339).expect("time");
    let counts = apps[0]
        .store()
        .slot_counts(
            slot.center_id,
            starts_at,
            starts_at + time::Duration::minutes(1),
        )
        .await
        .expect("slot counts");
    assert_eq!(
        counts.iter().map(|c| c.booked).collect::<Vec<_>>(),
        vec![i64::try_from(places).expect("places")],
        "the database's count of the slot"
    );

    // Every server's outbox worker writes to the one shared folder; wait for the winners'.
    let outbox = apps[0].data.join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = confirmations(&outbox, slot);
    while sent.len() < places {
        assert!(
            Instant::now() < deadline,
            "only {} of {places} confirmation e-mails in {}",
            sent.len(),
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        sent = confirmations(&outbox, slot);
    }
    assert_eq!(sent.len(), places, "one confirmation per booking: {sent:?}");
    assert_eq!(
        sent.into_iter().collect::<BTreeSet<_>>(),
        winners,
        "the confirmations go to the customers who were told 201, and only to them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_customers_race_for_two_places_on_sqlite() {
    let Some(app) = TestApp::spawn_with(Db::Sqlite, Options::unlimited()).await else {
        return;
    };
    let weekend = empty_slot(&app, "chatan-weekend").await;
    assert_eq!(
        weekend.places, 2,
        "the demo profile's chatan-weekend centre"
    );
    book_the_last_places(&[&app], &weekend, 200).await;

    let naha = empty_slot(&app, "naha").await;
    assert_eq!(naha.places, 3, "the demo profile's naha centre");
    book_the_last_places(&[&app], &naha, 50).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_customers_race_for_two_places_across_two_servers_on_postgres() {
    let Some(app) = TestApp::spawn_with(Db::Postgres, Options::unlimited()).await else {
        return;
    };
    let sibling = app.spawn_sibling(Options::unlimited()).await;
    let weekend = empty_slot(&app, "chatan-weekend").await;
    assert_eq!(
        weekend.places, 2,
        "the demo profile's chatan-weekend centre"
    );
    book_the_last_places(&[&app, &sibling], &weekend, 200).await;

    let naha = empty_slot(&sibling, "naha").await;
    assert_eq!(naha.places, 3, "the demo profile's naha centre");
    book_the_last_places(&[&app, &sibling], &naha, 50).await;
    sibling.stop().await;
    app.stop().await;
}
