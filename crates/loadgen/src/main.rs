//! `madoguchi-loadgen`: account-opening submissions per second through a running madoguchi
//! server, measured from outside like a crowd of browsers.
//!
//! Phase 1, *prepare*: N independent browser sessions (each its own HTTP client and cookie
//! jar), C at a time, go through the e-mail check (the code is read from the server's outbox
//! folder), the three form steps (the PIN is sealed at the branch step) and the confirmation
//! page. Phase 2, *submit* (the headline): the N final POSTs, C at a time; each one encrypts
//! every personal field under a fresh data key, wraps the key, seals the confirmation e-mail
//! and commits it all durably. `--full-flow` instead times whole applications.
//!
//! `--scenario bookings` measures visit bookings instead (see `bookings.rs`); `--scenario
//! soak` runs a steady open-loop mix for minutes and samples the server's memory (see
//! `soak.rs`).
//!
//! It talks HTTP only and depends on no madoguchi crate.

mod api;
mod bookings;
mod flow;
mod office;
mod outbox;
mod soak;
mod stats;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use tokio::task::JoinSet;

use crate::flow::{REQUESTS_PER_APPLICATION, Session, Site};
use crate::outbox::Outbox;
use crate::stats::{CpuSample, CpuUse, Latency, round2};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Account-opening applications (the default).
    Applications,
    /// Visit bookings through the JSON API, then the 60-day availability query.
    Bookings,
    /// Applications of `--product` through the JSON API (see `api.rs`).
    ApiApplications,
    /// A steady open-loop mix of applications, bookings, status checks and back-office
    /// reads for `--duration` seconds at `--rate` (see `soak.rs`).
    Soak,
}

#[derive(Debug, Parser)]
#[command(
    name = "madoguchi-loadgen",
    about = "Measures submissions per second through a running madoguchi server"
)]
struct Args {
    /// The public site. Repeat it for bookings against several instances (round-robin).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: Vec<String>,
    #[arg(long, value_enum, default_value_t = Scenario::Applications)]
    scenario: Scenario,
    /// The product of `--scenario api-applications`: `savings-account`, `internet-banking`
    /// or `debit-card`.
    #[arg(long, default_value = "savings-account")]
    product: String,
    /// The server's outbox folder (`<data-dir>/outbox`), where the verification codes arrive
    /// (applications only).
    #[arg(long)]
    outbox: Option<PathBuf>,
    /// Bookings to make (bookings scenario).
    #[arg(long, default_value_t = 2000)]
    bookings: usize,
    /// The loan centre to book at (bookings scenario).
    #[arg(long, default_value = "naha")]
    center: String,
    /// Availability queries of the 60-day window after the bookings (bookings scenario).
    #[arg(long, default_value_t = 200)]
    availability_queries: usize,
    /// Applications to make.
    #[arg(long, default_value_t = 2000)]
    applications: usize,
    /// Requests in flight at once (browser sessions working in parallel).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Time whole applications (all 9 requests and the wait for the e-mail) instead of
    /// preparing every session first and timing only the submissions.
    #[arg(long)]
    full_flow: bool,
    /// The server's process id, to report its CPU use during each phase (Linux), and its
    /// memory over time (soak).
    #[arg(long)]
    server_pid: Option<u32>,
    /// The back office (soak).
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    office_url: String,
    /// A member of staff who reviews applications and has not signed in yet (soak).
    #[arg(long)]
    staff_user: Option<String>,
    /// Their one-time password, as `madoguchi staff add` printed it (soak).
    #[arg(long, env = "MADOGUCHI_SOAK_STAFF_PASSWORD", hide_env_values = true)]
    staff_password: Option<String>,
    /// Operations per second, scheduled at fixed intervals (soak).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seconds to run (soak).
    #[arg(long, default_value_t = 600)]
    duration: u64,
    /// Seconds between two samples of the server's memory (soak).
    #[arg(long, default_value_t = 10)]
    sample_every: u64,
    /// Operations running at once beyond which a scheduled one is not started but counted
    /// (soak).
    #[arg(long, default_value_t = 2000)]
    max_in_flight: usize,
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    attempted: usize,
    ok: usize,
    /// Error message (it names the step and the HTTP status) → how many times.
    errors: BTreeMap<String, usize>,
    wall: Duration,
    latency: Latency,
    cpu: Option<CpuUse>,
    distinct_receipts: Option<usize>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "attempted": self.attempted,
            "ok": self.ok,
            "errors": self.error_count(),
            "error_kinds": self.errors,
            "wall_s": (self.wall.as_secs_f64() * 1000.0).round() / 1000.0,
            "per_s": round2(self.rate()),
            "latency": self.latency.to_json(),
            "cpu": self.cpu.map(|c| c.to_json()),
            "distinct_receipts": self.distinct_receipts,
        })
    }

    fn print(&self, unit: &str) {
        println!(
            "{:<8} {} {unit}, {} errors, {:.2} s wall, {:.1} {unit}/s",
            self.name,
            self.ok,
            self.error_count(),
            self.wall.as_secs_f64(),
            self.rate()
        );
        println!(
            "         latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
            self.latency.p50, self.latency.p90, self.latency.p99, self.latency.max
        );
        if let Some(cpu) = &self.cpu {
            println!("         {}", cpu.describe());
        }
        if let Some(distinct) = self.distinct_receipts {
            println!("         distinct receipt numbers: {distinct}");
        }
        for (message, count) in &self.errors {
            println!("         error ×{count}: {message}");
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.applications == 0 || args.concurrency == 0 {
        eprintln!("error: --applications and --concurrency must be at least 1");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match args.scenario {
        Scenario::Applications => runtime.block_on(run(&args)),
        Scenario::Bookings => runtime.block_on(run_bookings(&args)),
        Scenario::ApiApplications => runtime.block_on(run_api(&args)),
        Scenario::Soak => runtime.block_on(run_soak(&args)),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the bookings scenario and prints it; `Ok(false)` when some booking failed.
async fn run_bookings(args: &Args) -> anyhow::Result<bool> {
    let report = bookings::run(
        &args.url,
        &args.center,
        args.bookings,
        args.concurrency,
        args.availability_queries,
    )
    .await?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.to_json())?),
        Format::Text => report.print(&args.url, args.concurrency, &args.center),
    }
    Ok(report.errors.is_empty())
}

/// Runs the soak and prints it; `Ok(false)` when some operation failed (429s aside).
async fn run_soak(args: &Args) -> anyhow::Result<bool> {
    let [url] = args.url.as_slice() else {
        anyhow::bail!("the soak takes exactly one --url");
    };
    let outbox_dir = args
        .outbox
        .as_ref()
        .context("the soak needs --outbox (the server's <data-dir>/outbox)")?;
    soak::run(soak::Settings {
        site: url.clone(),
        office: args.office_url.clone(),
        outbox: Outbox::watch_and_remove(outbox_dir)?,
        staff_user: args
            .staff_user
            .clone()
            .context("the soak needs --staff-user")?,
        staff_password: args
            .staff_password
            .clone()
            .context("the soak needs --staff-password (or MADOGUCHI_SOAK_STAFF_PASSWORD)")?,
        center: args.center.clone(),
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        sample_every: Duration::from_secs(args.sample_every.max(1)),
        server_pid: args.server_pid,
        max_in_flight: args.max_in_flight.max(1),
        warm_up_applications: 20,
    })
    .await
}

/// Runs the API applications scenario and prints it; `Ok(false)` when some request failed.
async fn run_api(args: &Args) -> anyhow::Result<bool> {
    let [url] = args.url.as_slice() else {
        anyhow::bail!("api-applications take exactly one --url");
    };
    let outbox_dir = args
        .outbox
        .as_ref()
        .context("api-applications need --outbox (the server's <data-dir>/outbox)")?;
    let outbox = Arc::new(Outbox::watch(outbox_dir)?);
    let run_tag: Arc<str> = uuid::Uuid::new_v4().simple().to_string()[..8].into();
    let product: Arc<str> = args.product.as_str().into();
    let site: Arc<str> = url.as_str().into();
    let (n, c) = (args.applications, args.concurrency);

    let before = CpuSample::now(args.server_pid);
    let started = Instant::now();
    let prepared = in_parallel(n, c, {
        let (site, outbox, run_tag, product) = (
            site.clone(),
            outbox.clone(),
            run_tag.clone(),
            product.clone(),
        );
        move |i| {
            let (site, outbox, run_tag, product) = (
                site.clone(),
                outbox.clone(),
                run_tag.clone(),
                product.clone(),
            );
            async move {
                api::timed(api::Prepared::prepare(
                    &site, &outbox, &product, &run_tag, i,
                ))
                .await
            }
        }
    })
    .await;
    let prepare_wall = started.elapsed();
    let prepare_cpu = cpu_since(before, args);
    let mut ready = Vec::with_capacity(n);
    let mut latencies = Vec::with_capacity(n);
    let mut errors = BTreeMap::new();
    for result in prepared {
        match result {
            Ok((latency, p)) => {
                latencies.push(latency);
                ready.push(p);
            }
            Err(e) => *errors.entry(format!("{e:#}")).or_insert(0) += 1,
        }
    }
    let prepare = Phase {
        name: "prepare",
        attempted: n,
        ok: ready.len(),
        errors,
        wall: prepare_wall,
        latency: Latency::of(&mut latencies),
        cpu: prepare_cpu,
        distinct_receipts: None,
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ready = Arc::new(ready);
    let before = CpuSample::now(args.server_pid);
    let started = Instant::now();
    let results = in_parallel(ready.len(), c, {
        let ready = ready.clone();
        move |i| {
            let ready = ready.clone();
            async move { api::timed(ready[i].submit()).await }
        }
    })
    .await;
    let wall = started.elapsed();
    let submit = timed_phase("submit", results, wall, cpu_since(before, args));
    let all_ok = prepare.error_count() == 0 && submit.error_count() == 0;
    match args.format {
        Format::Json => {
            let out = serde_json::json!({
                "url": url,
                "scenario": "api-applications",
                "product": args.product,
                "applications": n,
                "concurrency": c,
                "prepare": prepare.to_json(),
                "submit": submit.to_json(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => {
            println!(
                "madoguchi-loadgen: {n} {} applications through the JSON API, concurrency {c}, {url}",
                args.product
            );
            prepare.print("tokens");
            println!("         (2 requests each: start the e-mail check, confirm the code)");
            submit.print("submissions");
        }
    }
    Ok(all_ok)
}

/// Runs the benchmark and prints it; `Ok(false)` when some request failed.
async fn run(args: &Args) -> anyhow::Result<bool> {
    let [url] = args.url.as_slice() else {
        anyhow::bail!("applications take exactly one --url");
    };
    let outbox_dir = args
        .outbox
        .as_ref()
        .context("applications need --outbox (the server's <data-dir>/outbox)")?;
    let site = Arc::new(Site::new(url));
    let outbox = Arc::new(Outbox::watch(outbox_dir)?);
    let run_tag: Arc<str> = uuid::Uuid::new_v4().simple().to_string()[..8].into();
    let n = args.applications;
    let c = args.concurrency;

    let phases = if args.full_flow {
        let before = CpuSample::now(args.server_pid);
        let started = Instant::now();
        let results = in_parallel(n, c, {
            let (site, outbox, run_tag) = (site.clone(), outbox.clone(), run_tag.clone());
            move |i| {
                let (site, outbox, run_tag) = (site.clone(), outbox.clone(), run_tag.clone());
                async move {
                    let t = Instant::now();
                    let session = Session::prepare(&site, &outbox, &run_tag, i).await?;
                    let receipt = session.submit().await?;
                    Ok((t.elapsed(), receipt))
                }
            }
        })
        .await;
        let wall = started.elapsed();
        vec![timed_phase("full", results, wall, cpu_since(before, args))]
    } else {
        let before = CpuSample::now(args.server_pid);
        let started = Instant::now();
        let prepared = in_parallel(n, c, {
            let (site, outbox, run_tag) = (site.clone(), outbox.clone(), run_tag.clone());
            move |i| {
                let (site, outbox, run_tag) = (site.clone(), outbox.clone(), run_tag.clone());
                async move {
                    let t = Instant::now();
                    let session = Session::prepare(&site, &outbox, &run_tag, i).await?;
                    Ok((t.elapsed(), session))
                }
            }
        })
        .await;
        let prepare_wall = started.elapsed();
        let prepare_cpu = cpu_since(before, args);
        let mut sessions = Vec::with_capacity(n);
        let mut latencies = Vec::with_capacity(n);
        let mut errors = BTreeMap::new();
        for result in prepared {
            match result {
                Ok((latency, session)) => {
                    latencies.push(latency);
                    sessions.push(session);
                }
                Err(e) => *errors.entry(format!("{e:#}")).or_insert(0) += 1,
            }
        }
        let prepare = Phase {
            name: "prepare",
            attempted: n,
            ok: sessions.len(),
            errors,
            wall: prepare_wall,
            latency: Latency::of(&mut latencies),
            cpu: prepare_cpu,
            distinct_receipts: None,
        };
        // Every verification e-mail has been read by now; a pause lets the server settle
        // (the last form-step writes, a WAL checkpoint) before the timed phase.
        tokio::time::sleep(Duration::from_secs(1)).await;

        let sessions = Arc::new(sessions);
        let before = CpuSample::now(args.server_pid);
        let started = Instant::now();
        let results = in_parallel(sessions.len(), c, {
            let sessions = sessions.clone();
            move |i| {
                let sessions = sessions.clone();
                async move {
                    let t = Instant::now();
                    let receipt = sessions[i].submit().await?;
                    Ok((t.elapsed(), receipt))
                }
            }
        })
        .await;
        let wall = started.elapsed();
        let submit = timed_phase("submit", results, wall, cpu_since(before, args));
        vec![prepare, submit]
    };

    let all_ok = phases.iter().all(|p| p.error_count() == 0);
    match args.format {
        Format::Json => {
            let mut out = serde_json::json!({
                "url": url,
                "applications": n,
                "concurrency": c,
                "mode": if args.full_flow { "full-flow" } else { "submit" },
                "requests_per_application": REQUESTS_PER_APPLICATION,
            });
            for phase in &phases {
                out[phase.name] = phase.to_json();
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => {
            println!(
                "madoguchi-loadgen: {n} applications, concurrency {c}, {}",
                url
            );
            for phase in &phases {
                match phase.name {
                    "prepare" => {
                        phase.print("sessions");
                        println!(
                            "         (7 requests each: start, e-mail, code, personal, profile, branch with PIN, confirm; {:.1} requests/s)",
                            phase.rate() * 7.0
                        );
                    }
                    "submit" => phase.print("submissions"),
                    _ => {
                        phase.print("applications");
                        println!(
                            "         ({REQUESTS_PER_APPLICATION} requests each, the wait for the e-mail included; {:.1} requests/s)",
                            phase.rate() * REQUESTS_PER_APPLICATION as f64
                        );
                    }
                }
            }
        }
    }
    Ok(all_ok)
}

fn cpu_since(before: Option<CpuSample>, args: &Args) -> Option<CpuUse> {
    Some(CpuSample::now(args.server_pid)?.since(before?))
}

/// A phase whose results are (latency, receipt number).
fn timed_phase(
    name: &'static str,
    results: Vec<anyhow::Result<(Duration, String)>>,
    wall: Duration,
    cpu: Option<CpuUse>,
) -> Phase {
    let attempted = results.len();
    let mut latencies = Vec::with_capacity(attempted);
    let mut receipts = HashSet::with_capacity(attempted);
    let mut errors = BTreeMap::new();
    for result in results {
        match result {
            Ok((latency, receipt)) => {
                latencies.push(latency);
                receipts.insert(receipt);
            }
            Err(e) => *errors.entry(format!("{e:#}")).or_insert(0) += 1,
        }
    }
    Phase {
        name,
        attempted,
        ok: latencies.len(),
        errors,
        wall,
        latency: Latency::of(&mut latencies),
        cpu,
        distinct_receipts: Some(receipts.len()),
    }
}

/// Runs `job(0..n)` with at most `concurrency` at a time (a closed loop: each worker starts
/// its next job when the previous one ends); results in index order.
pub(crate) async fn in_parallel<T, F, Fut>(
    n: usize,
    concurrency: usize,
    job: F,
) -> Vec<anyhow::Result<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.min(n) {
        let (next, job) = (next.clone(), job.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return done;
                }
                done.push((i, job(i).await));
            }
        });
    }
    let mut slots: Vec<Option<anyhow::Result<T>>> = (0..n).map(|_| None).collect();
    while let Some(finished) = workers.join_next().await {
        match finished {
            Ok(done) => {
                for (i, result) in done {
                    slots[i] = Some(result);
                }
            }
            // A worker that panicked leaves its jobs as errors below.
            Err(e) => eprintln!("warning: a load-generator task failed: {e}"),
        }
    }
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err(anyhow::anyhow!("job lost (task failed)"))))
        .collect()
}
