//! `--scenario bookings`: visit bookings per second through the JSON API, on one or several
//! server instances, then the latency of the availability query for a 60-day window with
//! those bookings in place.
//!
//! Phase 1 reads the centre's free places from `GET /api/v1/loan-centers/{id}/slots`; phase
//! 2 books N of them (`POST /api/v1/bookings`, C at a time, spread round-robin over the
//! `--url`s, each with its own e-mail address); phase 3 asks for the whole 60-day window M
//! times, one request at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::stats::Latency;

/// What the bookings scenario measured.
pub struct Report {
    pub bookings: usize,
    pub booked: usize,
    pub errors: std::collections::BTreeMap<String, usize>,
    pub wall: Duration,
    pub latency: Latency,
    pub availability_queries: usize,
    pub availability_latency: Latency,
    pub slots_in_window: usize,
}

impl Report {
    pub fn rate(&self) -> f64 {
        self.booked as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    pub fn print(&self, urls: &[String], concurrency: usize, center: &str) {
        println!(
            "madoguchi-loadgen bookings: {} bookings at {center}, concurrency {concurrency}, {} instance(s)",
            self.bookings,
            urls.len()
        );
        println!(
            "book     {} bookings, {} errors, {:.2} s wall, {:.1} bookings/s",
            self.booked,
            self.errors.values().sum::<usize>(),
            self.wall.as_secs_f64(),
            self.rate()
        );
        print_latency(&self.latency);
        for (message, count) in &self.errors {
            println!("         error ×{count}: {message}");
        }
        println!(
            "slots    {} queries of the 60-day window ({} slots each, {} bookings stored)",
            self.availability_queries, self.slots_in_window, self.booked
        );
        print_latency(&self.availability_latency);
    }

    pub fn to_json(&self) -> Value {
        json!({
            "bookings": self.bookings,
            "booked": self.booked,
            "errors": self.errors,
            "wall_s": self.wall.as_secs_f64(),
            "per_s": crate::stats::round2(self.rate()),
            "latency": self.latency.to_json(),
            "availability": {
                "queries": self.availability_queries,
                "slots_in_window": self.slots_in_window,
                "latency": self.availability_latency.to_json(),
            },
        })
    }
}

fn print_latency(latency: &Latency) {
    println!(
        "         latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        latency.p50, latency.p90, latency.p99, latency.max
    );
}

async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = client.get(url).send().await.context(url.to_owned())?;
    let status = response.status();
    let body: Value = response.json().await.context("slots answer is not JSON")?;
    if !status.is_success() {
        bail!("GET {url}: {status} {body}");
    }
    Ok(body)
}

/// The 60-day window's query and every free place in it (a slot with 3 free places is listed
/// 3 times), in time order.
pub(crate) async fn free_places(
    client: &reqwest::Client,
    base: &str,
    center: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let first = get_json(
        client,
        &format!("{base}/api/v1/loan-centers/{center}/slots"),
    )
    .await?;
    let from = first["first_bookable_day"].as_str().context("no window")?;
    let to = first["last_bookable_day"].as_str().context("no window")?;
    let query = format!("{base}/api/v1/loan-centers/{center}/slots?from={from}&to={to}");
    let mut places = Vec::new();
    for slot in first["slots"].as_array().context("no slots")? {
        let free = slot["free"].as_u64().unwrap_or(0);
        let starts_at = slot["starts_at"].as_str().context("slot without start")?;
        places.extend((0..free).map(|_| starts_at.to_owned()));
    }
    Ok((query, places))
}

pub(crate) fn booking_body(center: &str, starts_at: &str, tag: &str, i: usize) -> Value {
    json!({
        "center_id": center,
        "starts_at": starts_at,
        "consultation": "housing-loan",
        "family_name": "比嘉",
        "given_name": "花子",
        "family_name_kana": "ヒガ",
        "given_name_kana": "ハナコ",
        "phone": "090-1234-5678",
        "email": format!("bench-{tag}-{i}@example.jp"),
        "existing_customer": false,
        "note": "住宅の購入について相談したい",
        "request_id": format!("{tag}-{i}"),
    })
}

/// Runs the scenario.
pub async fn run(
    urls: &[String],
    center: &str,
    bookings: usize,
    concurrency: usize,
    availability_queries: usize,
) -> anyhow::Result<Report> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let base = urls.first().context("no --url")?.trim_end_matches('/');
    let (window_query, places) = free_places(&client, base, center).await?;
    if places.len() < bookings {
        bail!(
            "only {} free places at {center} in the booking window, {bookings} asked; raise the centre's consultants_per_slot in the profile",
            places.len()
        );
    }
    let tag: Arc<str> = uuid::Uuid::new_v4().simple().to_string()[..8].into();
    let places = Arc::new(places);
    let urls: Arc<Vec<String>> = Arc::new(urls.to_vec());
    let center: Arc<str> = center.into();
    let started = Instant::now();
    let results = crate::in_parallel(bookings, concurrency, {
        let client = client.clone();
        move |i| {
            let (client, places, urls, center, tag) = (
                client.clone(),
                places.clone(),
                urls.clone(),
                center.clone(),
                tag.clone(),
            );
            async move {
                let base = urls[i % urls.len()].trim_end_matches('/').to_owned();
                let body = booking_body(&center, &places[i], &tag, i);
                let t = Instant::now();
                let response = client
                    .post(format!("{base}/api/v1/bookings"))
                    .json(&body)
                    .send()
                    .await?;
                let status = response.status();
                let answer = response.text().await?;
                if status.as_u16() != 201 {
                    bail!("POST /api/v1/bookings: {status} {answer}");
                }
                Ok((t.elapsed(), String::new()))
            }
        }
    })
    .await;
    let wall = started.elapsed();
    let mut latencies = Vec::with_capacity(bookings);
    let mut errors = std::collections::BTreeMap::new();
    for result in results {
        match result {
            Ok((latency, _)) => latencies.push(latency),
            Err(e) => *errors.entry(format!("{e:#}")).or_insert(0) += 1,
        }
    }
    let booked = latencies.len();
    let (availability_latency, slots_in_window) =
        availability(&client, &window_query, availability_queries).await?;
    Ok(Report {
        bookings,
        booked,
        errors,
        wall,
        latency: Latency::of(&mut latencies),
        availability_queries,
        availability_latency,
        slots_in_window,
    })
}

/// Asks for the whole window `n` times, one at a time.
async fn availability(
    client: &reqwest::Client,
    query: &str,
    n: usize,
) -> anyhow::Result<(Latency, usize)> {
    let mut latencies = Vec::with_capacity(n);
    let mut slots = 0;
    for _ in 0..n {
        let t = Instant::now();
        let body = get_json(client, query).await?;
        latencies.push(t.elapsed());
        slots = body["slots"].as_array().map_or(0, Vec::len);
    }
    Ok((Latency::of(&mut latencies), slots))
}
