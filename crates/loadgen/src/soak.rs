//! `--scenario soak`: a steady, open-loop mix for `--duration` seconds at `--rate`
//! operations per second, with the server's memory sampled every `--sample-every` seconds.
//!
//! Operations are scheduled at fixed intervals whatever the server does (open loop), and
//! each one's latency runs from its *scheduled* start to its end, so a stall shows in the
//! percentiles instead of slowing the load down (no coordinated omission). The mix, in
//! turn ([`MIX`], 10 operations):
//!
//! - `apply` ×2: an application through the JSON API (start the e-mail check, read the code
//!   from the outbox, confirm it, submit; 3 requests and the wait for the e-mail);
//! - `book` ×2: a visit booking (`POST /api/v1/bookings`, 1 request);
//! - `status` ×2: a status check of an earlier application (start it, read the code,
//!   confirm; 2 requests and the wait for the e-mail);
//! - `queue` ×1: a signed-in member of staff lists the application queue (1 request);
//! - `open` ×3: they open one application of the queue (1 request).
//!
//! A run begins with a few applications (closed loop, not counted) so that status checks
//! and the back office have something to read.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;
use tokio::time::Instant;

use crate::api::{self, Prepared};
use crate::bookings::{booking_body, free_places};
use crate::office::{Staff, application_ids};
use crate::outbox::Outbox;
use crate::stats::{CpuSample, Latency};

const CODE_TIMEOUT: Duration = Duration::from_secs(60);

/// The kinds of operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Apply,
    Book,
    Status,
    Queue,
    Open,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Apply => "apply",
            Kind::Book => "book",
            Kind::Status => "status",
            Kind::Queue => "queue",
            Kind::Open => "open",
        }
    }

    /// HTTP requests one operation makes.
    fn requests(self) -> usize {
        match self {
            Kind::Apply => 3,
            Kind::Status => 2,
            Kind::Book | Kind::Queue | Kind::Open => 1,
        }
    }
}

/// One round of the mix; operation `i` is `MIX[i % 10]`.
pub const MIX: [Kind; 10] = [
    Kind::Apply,
    Kind::Book,
    Kind::Open,
    Kind::Status,
    Kind::Queue,
    Kind::Apply,
    Kind::Open,
    Kind::Book,
    Kind::Status,
    Kind::Open,
];

/// What the soak needs to know.
pub struct Settings {
    pub site: String,
    pub office: String,
    pub outbox: Outbox,
    pub staff_user: String,
    pub staff_password: String,
    pub center: String,
    pub rate: f64,
    pub duration: Duration,
    pub sample_every: Duration,
    pub server_pid: Option<u32>,
    pub max_in_flight: usize,
    pub warm_up_applications: usize,
}

/// The run's shared state.
struct World {
    site: String,
    public: reqwest::Client,
    outbox: Outbox,
    staff: Staff,
    center: String,
    run_tag: String,
    /// Free booking places (start times), taken from the back.
    places: Mutex<Vec<String>>,
    /// Submitted applications not being checked right now: (receipt number, e-mail).
    receipts: Mutex<VecDeque<(String, String)>>,
    /// The ids of the last queue page.
    queue: Mutex<Vec<String>>,
    next_applicant: AtomicUsize,
    next_open: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The HTTP status named in an error message (`… HTTP 429 …`), if any.
fn status_in(message: &str) -> Option<u16> {
    let (_, after) = message.split_once("HTTP ")?;
    after.get(..3)?.parse().ok()
}

impl World {
    async fn apply(&self) -> anyhow::Result<()> {
        let index = self.next_applicant.fetch_add(1, Ordering::Relaxed);
        let prepared = Prepared::prepare(
            &self.site,
            &self.outbox,
            "savings-account",
            &self.run_tag,
            index,
        )
        .await?;
        let receipt = prepared.submit().await?;
        lock(&self.receipts).push_back((receipt, prepared.email));
        Ok(())
    }

    async fn book(&self) -> anyhow::Result<()> {
        let index = self.next_applicant.fetch_add(1, Ordering::Relaxed);
        let place = lock(&self.places)
            .pop()
            .context("no free booking place left")?;
        let body = booking_body(&self.center, &place, &self.run_tag, index);
        let answer = self
            .public
            .post(format!("{}/api/v1/bookings", self.site))
            .json(&body)
            .send()
            .await
            .context("POST /api/v1/bookings")?;
        let status = answer.status().as_u16();
        let text = answer.text().await.context("POST /api/v1/bookings")?;
        if status != 201 {
            bail!("booking: HTTP {status} {text}");
        }
        Ok(())
    }

    /// A status check of an earlier application; each application is checked by one
    /// operation at a time (its code goes to its one address).
    async fn status(&self) -> anyhow::Result<()> {
        let (receipt, email) = lock(&self.receipts)
            .pop_front()
            .context("no application free to check")?;
        let outcome = self.check(&receipt, &email).await;
        lock(&self.receipts).push_back((receipt, email));
        outcome
    }

    async fn check(&self, receipt: &str, email: &str) -> anyhow::Result<()> {
        let client = api::client()?;
        let (status, started) = api::post(
            &client,
            &format!("{}/api/v1/status-checks", self.site),
            &json!({"receipt_number": receipt, "email": email}),
        )
        .await?;
        if status != 202 {
            bail!("status-check: HTTP {status} {started}");
        }
        let check_id = started["check_id"].as_str().context("no check_id")?;
        let code = self
            .outbox
            .code_for(email, CODE_TIMEOUT)
            .await
            .context("status-check code")?;
        let (status, shown) = api::post(
            &client,
            &format!("{}/api/v1/status-checks/{check_id}/confirm", self.site),
            &json!({"code": code}),
        )
        .await?;
        if status != 200 || shown["status"].as_str().is_none() {
            bail!("status-check confirm: HTTP {status} {shown}");
        }
        Ok(())
    }

    async fn list_queue(&self) -> anyhow::Result<()> {
        let page = self.staff.get("/applications").await?;
        let ids = application_ids(&page);
        if ids.is_empty() {
            bail!("the queue page lists no application");
        }
        *lock(&self.queue) = ids;
        Ok(())
    }

    async fn open(&self) -> anyhow::Result<()> {
        let id = {
            let queue = lock(&self.queue);
            let n = self.next_open.fetch_add(1, Ordering::Relaxed);
            queue
                .get(n % queue.len().max(1))
                .cloned()
                .context("no application in the queue")?
        };
        self.staff.get(&format!("/applications/{id}")).await?;
        Ok(())
    }

    async fn run(&self, kind: Kind) -> anyhow::Result<()> {
        match kind {
            Kind::Apply => self.apply().await,
            Kind::Book => self.book().await,
            Kind::Status => self.status().await,
            Kind::Queue => self.list_queue().await,
            Kind::Open => self.open().await,
        }
    }
}

/// Results so far.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<Kind, Vec<Duration>>,
    /// (kind, HTTP status or 0 for none, message) → count.
    errors: BTreeMap<(Kind, u16, String), usize>,
    /// Operations not started because `max_in_flight` were still running.
    skipped: usize,
    window_ok: usize,
    window_errors: usize,
    window: Vec<Duration>,
}

impl Tally {
    fn record(&mut self, kind: Kind, latency: Duration, outcome: anyhow::Result<()>) {
        match outcome {
            Ok(()) => {
                self.latencies.entry(kind).or_default().push(latency);
                self.window_ok += 1;
                self.window.push(latency);
            }
            Err(e) => {
                let message = format!("{e:#}");
                let status = status_in(&message).unwrap_or(0);
                // Keep the message short: the first 160 characters name the step and status.
                let message: String = message.chars().take(160).collect();
                *self.errors.entry((kind, status, message)).or_insert(0) += 1;
                self.window_errors += 1;
            }
        }
    }
}

/// A `… kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One memory sample: seconds since the start, the server's resident memory (`VmRSS`) and
/// the anonymous part of it (`RssAnon`: the heap, not files mapped by SQLite), in KiB.
#[derive(Debug, Clone, Copy)]
struct Memory {
    t: f64,
    rss: u64,
    anon: u64,
}

fn memory(pid: u32, t: f64) -> Option<Memory> {
    Some(Memory {
        t,
        rss: status_kib(pid, "VmRSS:")?,
        anon: status_kib(pid, "RssAnon:")?,
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs the soak and prints its report; `Ok(false)` when an operation failed other than by
/// a 429.
pub async fn run(settings: Settings) -> anyhow::Result<bool> {
    if !settings.rate.is_finite() || settings.rate <= 0.0 || settings.duration.is_zero() {
        bail!("--rate and --duration must be above zero");
    }
    let site = settings.site.trim_end_matches('/').to_owned();
    let public = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let (_, places) = free_places(&public, &site, &settings.center).await?;
    let staff = Staff::first_sign_in(
        &settings.office,
        &settings.staff_user,
        &settings.staff_password,
    )
    .await
    .context("back-office sign-in")?;
    let world = Arc::new(World {
        site,
        public,
        outbox: settings.outbox,
        staff,
        center: settings.center.clone(),
        run_tag: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        places: Mutex::new(places),
        receipts: Mutex::new(VecDeque::new()),
        queue: Mutex::new(Vec::new()),
        next_applicant: AtomicUsize::new(0),
        next_open: AtomicUsize::new(0),
    });

    // Warm-up (not counted): applications for the status checks and the queue.
    let warm = crate::in_parallel(settings.warm_up_applications, 8, {
        let world = world.clone();
        move |_| {
            let world = world.clone();
            async move { world.apply().await }
        }
    })
    .await;
    if let Some(Err(e)) = warm.into_iter().find(Result::is_err) {
        return Err(e.context("warm-up application"));
    }
    world.list_queue().await.context("warm-up queue")?;

    let total = (settings.duration.as_secs_f64() * settings.rate).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / settings.rate);
    println!(
        "madoguchi-loadgen soak: {total} operations at {} /s for {} s (open loop; {:.1} HTTP requests/s), {}",
        settings.rate,
        settings.duration.as_secs(),
        settings.rate * MIX.iter().map(|k| k.requests()).sum::<usize>() as f64 / MIX.len() as f64,
        world.site
    );
    println!(
        "mix per 10 operations: apply 2, book 2, status 2, queue 1, open 3; latency from the scheduled start"
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut rss: Vec<Memory> = Vec::new();
    let cpu_before = CpuSample::now(settings.server_pid);
    let start = Instant::now() + Duration::from_millis(100);
    if let Some(m) = settings.server_pid.and_then(|pid| memory(pid, 0.0)) {
        rss.push(m);
        println!("    t s   RSS MiB  anon MiB   ops ok  errors  p99 ms  in flight");
        println!("{:>6.0} {:>9.1} {:>9.1}", 0.0, mib(m.rss), mib(m.anon));
    }

    // The sampler: RSS and this window's operations, every `sample_every`.
    // The samples are shared, not returned: the task is aborted at the end.
    let series: Arc<Mutex<Vec<Memory>>> = Arc::default();
    let sampler = {
        let (tally, in_flight, series) = (tally.clone(), in_flight.clone(), series.clone());
        let (every, pid) = (settings.sample_every, settings.server_pid);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(start + every, every);
            loop {
                tick.tick().await;
                let t = start.elapsed().as_secs_f64();
                let (ok, errors, p99) = {
                    let mut tally = lock(&tally);
                    let window = Latency::of(&mut tally.window);
                    let counts = (tally.window_ok, tally.window_errors);
                    tally.window.clear();
                    (tally.window_ok, tally.window_errors) = (0, 0);
                    (counts.0, counts.1, window.p99)
                };
                let m = pid.and_then(|pid| memory(pid, t));
                if let Some(m) = m {
                    lock(&series).push(m);
                }
                println!(
                    "{t:>6.0} {:>9} {:>9} {ok:>8} {errors:>7} {p99:>7.1} {:>10}",
                    m.map_or("-".to_owned(), |m| format!("{:.1}", mib(m.rss))),
                    m.map_or("-".to_owned(), |m| format!("{:.1}", mib(m.anon))),
                    in_flight.load(Ordering::Relaxed)
                );
                if pid.is_some() && m.is_none() {
                    println!("       the server is gone");
                    return;
                }
            }
        })
    };

    // The scheduler: operation i starts at start + i × interval, whatever came before.
    let mut running = tokio::task::JoinSet::new();
    for i in 0..total {
        let at = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(at).await;
        while running.try_join_next().is_some() {}
        if in_flight.load(Ordering::Relaxed) >= settings.max_in_flight {
            lock(&tally).skipped += 1;
            continue;
        }
        let kind = MIX[i % MIX.len()];
        let (world, tally, in_flight) = (world.clone(), tally.clone(), in_flight.clone());
        in_flight.fetch_add(1, Ordering::Relaxed);
        running.spawn(async move {
            let outcome = world.run(kind).await;
            let latency = at.elapsed();
            lock(&tally).record(kind, latency, outcome);
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    let scheduled_wall = start.elapsed();
    while running.join_next().await.is_some() {}
    let wall = start.elapsed();
    let cpu = match (CpuSample::now(settings.server_pid), cpu_before) {
        (Some(now), Some(before)) => Some(now.since(before)),
        _ => None,
    };
    sampler.abort();
    let _ = sampler.await; // Cancelled: it ran until now.
    rss.extend(lock(&series).iter().copied());
    if let Some(m) = settings
        .server_pid
        .and_then(|pid| memory(pid, wall.as_secs_f64()))
    {
        rss.push(m);
    }

    let mut tally = std::mem::take(&mut *lock(&tally));
    Ok(report(
        &mut tally,
        total,
        scheduled_wall,
        wall,
        &rss,
        cpu.map(|c| c.describe()),
    ))
}

fn report(
    tally: &mut Tally,
    total: usize,
    scheduled_wall: Duration,
    wall: Duration,
    rss: &[Memory],
    cpu: Option<String>,
) -> bool {
    let ok: usize = tally.latencies.values().map(Vec::len).sum();
    let requests: usize = tally
        .latencies
        .iter()
        .map(|(kind, l)| kind.requests() * l.len())
        .sum();
    let errors: usize = tally.errors.values().sum();
    let limited: usize = tally
        .errors
        .iter()
        .filter(|((_, status, _), _)| *status == 429)
        .map(|(_, n)| n)
        .sum();
    println!(
        "total    {ok} of {total} operations ok ({requests} HTTP requests), {errors} errors ({limited} of them 429), {} not started (too many in flight)",
        tally.skipped
    );
    println!(
        "         {:.1} operations/s, {:.1} requests/s over {:.1} s (the last started at {:.1} s)",
        ok as f64 / wall.as_secs_f64(),
        requests as f64 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        scheduled_wall.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        println!("         {cpu}");
    }
    println!("kind       ok    errors  p50 ms   p90 ms   p99 ms   max ms");
    for kind in [
        Kind::Apply,
        Kind::Book,
        Kind::Status,
        Kind::Queue,
        Kind::Open,
    ] {
        let samples = tally.latencies.entry(kind).or_default();
        let n = samples.len();
        let l = Latency::of(samples);
        let failed: usize = tally
            .errors
            .iter()
            .filter(|((k, _, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum();
        println!(
            "{:<8} {n:>6} {failed:>7} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            kind.name(),
            l.p50,
            l.p90,
            l.p99,
            l.max
        );
    }
    for ((kind, status, message), n) in &tally.errors {
        let why = if *status == 429 {
            "429, a rate limit"
        } else {
            "error"
        };
        println!("         {why} ×{n} ({}): {message}", kind.name());
    }
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        let min = rss.iter().map(|m| m.rss).min().unwrap_or(first.rss);
        let max = rss.iter().map(|m| m.rss).max().unwrap_or(first.rss);
        println!(
            "RSS MiB  start {:.1}  min {:.1}  max {:.1}  end {:.1}  (anon: start {:.1}, end {:.1})",
            mib(first.rss),
            mib(min),
            mib(max),
            mib(last.rss),
            mib(first.anon),
            mib(last.anon)
        );
        // From the first sample at or after the second minute to the end.
        if let Some(second_minute) = rss.iter().find(|m| m.t >= 120.0) {
            let growth = |then: u64, now: u64| {
                let kib = now as f64 - then as f64;
                format!(
                    "{:+.1} MiB ({:+.1} %)",
                    kib / 1024.0,
                    kib / then.max(1) as f64 * 100.0
                )
            };
            println!(
                "         from {:.0} s to the end: RSS {}, anon {}",
                second_minute.t,
                growth(second_minute.rss, last.rss),
                growth(second_minute.anon, last.anon)
            );
        }
    }
    errors == limited && tally.skipped == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_status_in_a_message() {
        assert_eq!(status_in("booking: HTTP 429 {…}"), Some(429));
        assert_eq!(status_in("office GET /x: HTTP 500"), Some(500));
        assert_eq!(status_in("connection refused"), None);
    }

    #[test]
    fn the_mix_is_two_two_two_one_three() {
        let count = |k: Kind| MIX.iter().filter(|&&m| m == k).count();
        assert_eq!(
            [
                Kind::Apply,
                Kind::Book,
                Kind::Status,
                Kind::Queue,
                Kind::Open
            ]
            .map(count),
            [2, 2, 2, 1, 3]
        );
    }
}
