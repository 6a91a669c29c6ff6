//! Crash safety (issue 8): `madoguchi serve` is killed with SIGKILL while applicants submit
//! applications and book visits, then started again. Every submission the server acknowledged
//! (the receipt page, the 201) is there and opens in the back office; no record is half
//! written (each has its personal fields, its data key and, for an application, its sealed
//! PIN); the audit chain verifies; and each acknowledged submission's e-mail is delivered,
//! once. On SQLite and on PostgreSQL.
//!
//! On PostgreSQL the database itself is also restarted under load (a cluster of the test's
//! own, `pg_ctl restart -m fast`): `serve` keeps running, requests during the outage are
//! answered 503 (never a panic, never a 500), submissions are acknowledged again once it is
//! back, and the same checks hold.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::applicant::{self, Applicant};
use common::office::staff_client;
use common::pg_cluster::PgCluster;
use common::reservation::{BOOKED_MAIL, Visitor, api_post, slots};
use common::{Db, TestApp, serve_process as serve};
use sqlx::Connection as _;

const WORKERS: usize = 4;
const BOOKERS: usize = 2;
/// Acknowledged applications before the kill.
const BEFORE_KILL: usize = 8;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

async fn count(url: &str, sql: &str) -> i64 {
    match url.starts_with("postgres") {
        true => {
            let mut c = sqlx::PgConnection::connect(url).await.expect("pg");
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .expect(sql)
        }
        false => {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .expect(sql)
        }
    }
}

type Applied = Arc<Mutex<Vec<(String, Applicant)>>>;
type Booked = Arc<Mutex<Vec<Visitor>>>;

/// Applicants and visitors, each one after the other, until stopped.
struct Load {
    applied: Applied,
    booked: Booked,
    /// Every status the booking API answered other than 201 (and 409: the slot filled up).
    refused: Arc<Mutex<Vec<u16>>>,
    stop: Arc<AtomicBool>,
    tasks: tokio::task::JoinSet<()>,
}

impl Load {
    /// With `until_failure`, a worker ends at its first failure (the server was killed);
    /// otherwise it goes on with the next applicant (the server stays up while the database
    /// restarts).
    async fn start(site: &Arc<TestApp>, until_failure: bool) -> Load {
        let offered = Arc::new(slots(site, "naha").await);
        let next_slot = Arc::new(AtomicUsize::new(0));
        let applied: Applied = Arc::default();
        let booked: Booked = Arc::default();
        let refused: Arc<Mutex<Vec<u16>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..WORKERS {
            let (site, applied, stop) = (site.clone(), applied.clone(), stop.clone());
            tasks.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let person = Applicant::new();
                    let (s, p) = (site.clone(), person.clone());
                    // A panic (the server went away mid-form) ends this applicant only.
                    let attempt =
                        tokio::spawn(
                            async move { applicant::apply(&s, &TestApp::client(), &p).await },
                        );
                    match attempt.await {
                        Ok(receipt) => applied.lock().expect("lock").push((receipt, person)),
                        Err(_) if until_failure => return,
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            });
        }
        for _ in 0..BOOKERS {
            let (site, booked, stop) = (site.clone(), booked.clone(), stop.clone());
            let (offered, next_slot, refused) =
                (offered.clone(), next_slot.clone(), refused.clone());
            tasks.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let visitor = Visitor::new();
                    let slot = &offered[next_slot.fetch_add(1, Ordering::SeqCst) % offered.len()];
                    let body = visitor.json("naha", &slot.starts_at);
                    let (s, b) = (site.clone(), body.clone());
                    let attempt =
                        tokio::spawn(
                            async move { api_post(&s, "/api/v1/bookings", &b).await.status },
                        );
                    match attempt.await {
                        Ok(201) => booked.lock().expect("lock").push(visitor),
                        Ok(409) => continue,
                        Ok(status) => refused.lock().expect("lock").push(status),
                        Err(_) if until_failure => return,
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            });
        }
        Load {
            applied,
            booked,
            refused,
            stop,
            tasks,
        }
    }

    /// Waits (up to two minutes) until `count` applications were acknowledged in all.
    async fn until_applied(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.applied.lock().expect("lock").len() < count {
            assert!(Instant::now() < deadline, "the load made no progress");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn applied_count(&self) -> usize {
        self.applied.lock().expect("lock").len()
    }

    /// Stops the workers; what was acknowledged.
    async fn finish(mut self) -> (Vec<(String, Applicant)>, Vec<Visitor>, Vec<u16>) {
        self.stop.store(true, Ordering::SeqCst);
        while self.tasks.join_next().await.is_some() {}
        let applied = self.applied.lock().expect("lock").clone();
        let booked = self.booked.lock().expect("lock").clone();
        let refused = self.refused.lock().expect("lock").clone();
        (applied, booked, refused)
    }
}

async fn crash_and_restart(db: Db) {
    let Some(mut owner) = TestApp::spawn(db).await else {
        return;
    };
    owner.stop_server().await;
    let (public, office) = (free_port(), free_port());
    let mut server = serve(&owner, public, office).await;
    let site = Arc::new(
        owner
            .external(
                format!("http://127.0.0.1:{public}"),
                format!("http://127.0.0.1:{office}"),
            )
            .await,
    );
    let load = Load::start(&site, true).await;
    load.until_applied(BEFORE_KILL).await;
    // SIGKILL, mid-flight: requests are being served as it dies.
    server.start_kill().expect("kill");
    server.wait().await.expect("killed");
    let (applied, booked, _) = load.finish().await;
    assert!(applied.len() >= BEFORE_KILL);

    // Started again on the same data.
    let mut server = serve(&owner, public, office).await;
    everything_acknowledged_is_whole(&owner, &site, &applied, &booked).await;
    server.start_kill().expect("kill");
    let _ = server.wait().await;
    owner.stop().await;
}

/// Every acknowledged submission is there, whole, opens in the back office and got its
/// e-mail once; the audit chain verifies.
async fn everything_acknowledged_is_whole(
    owner: &TestApp,
    site: &TestApp,
    applied: &[(String, Applicant)],
    booked: &[Visitor],
) {
    let url = &owner.database_url;
    for (receipt, _) in applied {
        let sql = format!("SELECT COUNT(*) FROM applications WHERE receipt_number = '{receipt}'");
        assert_eq!(count(url, &sql).await, 1, "acknowledged {receipt} is kept");
    }
    let half_written = [
        "SELECT COUNT(*) FROM applications a WHERE NOT EXISTS \
         (SELECT 1 FROM application_personal p WHERE p.application_id = a.id) \
         OR NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.record_id = a.id) \
         OR NOT EXISTS (SELECT 1 FROM application_secrets s WHERE s.application_id = a.id)",
        "SELECT COUNT(*) FROM bookings b WHERE NOT EXISTS \
         (SELECT 1 FROM booking_personal p WHERE p.booking_id = b.id) \
         OR NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.record_id = b.id)",
    ];
    for sql in half_written {
        assert_eq!(count(url, sql).await, 0, "no half-written record: {sql}");
    }
    let stored_bookings = count(url, "SELECT COUNT(*) FROM bookings").await;
    assert!(
        stored_bookings >= booked.len() as i64,
        "acknowledged bookings are kept"
    );

    // Each one opens in the back office.
    let operator = staff_client(site, "operator", "bank").await;
    for (receipt, person) in applied {
        let queue = operator
            .get("/applications?status=submitted&days=1")
            .await
            .text()
            .await
            .expect("queue");
        assert!(queue.contains(receipt.as_str()), "{receipt} in the queue");
        let id = regex_lite::Regex::new(&format!(
            r#"href="/applications/([0-9a-f-]{{36}})"[^>]*>{receipt}<"#
        ))
        .expect("regex")
        .captures(&queue)
        .map(|c| c[1].to_owned())
        .unwrap_or_else(|| panic!("the link of {receipt}"));
        let page = operator
            .post_form(
                &format!("/applications/{id}/reveal"),
                &[("fields", "family_name"), ("purpose", "review")],
            )
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains(&person.family_name),
            "{receipt} opens: {}",
            page.get(..3000).unwrap_or(&page)
        );
    }

    // The audit chain verifies.
    let out = common::madoguchi(site, &["audit", "verify"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Every acknowledged submission's e-mail goes out, once — those the killed worker had
    // claimed after its claim's lease (two minutes).
    let lease = Duration::from_secs(150);
    for (receipt, person) in applied {
        site.wait_for_mail_within(&person.email, receipt, lease)
            .await;
        let copies = std::fs::read_dir(site.data.join("outbox"))
            .expect("outbox")
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|raw| common::decoded_mail(&raw))
            .filter(|text| text.contains(receipt.as_str()))
            .count();
        assert_eq!(copies, 1, "one e-mail for {receipt}");
    }
    for visitor in booked {
        site.wait_for_mail_within(&visitor.email, BOOKED_MAIL, lease)
            .await;
    }
}

#[tokio::test]
async fn acknowledged_submissions_survive_sigkill_on_sqlite() {
    crash_and_restart(Db::Sqlite).await;
}

#[tokio::test]
async fn acknowledged_submissions_survive_sigkill_on_postgres() {
    crash_and_restart(Db::Postgres).await;
}

/// What a page or API answer looked like while the database restarted.
fn leaks_internals(body: &str) -> bool {
    [
        "sqlx",
        "SQLSTATE",
        "database error",
        "PoolTimedOut",
        "panicked",
        "terminating connection",
    ]
    .iter()
    .any(|word| body.contains(word))
}

#[tokio::test]
async fn acknowledged_submissions_survive_a_postgresql_restart_under_load() {
    let Some(cluster) = PgCluster::start().await else {
        return;
    };
    let mut owner = TestApp::spawn_on_postgres(&cluster.url()).await;
    owner.stop_server().await;
    let (public, office) = (free_port(), free_port());
    let mut server = serve(&owner, public, office).await;
    let site = Arc::new(
        owner
            .external(
                format!("http://127.0.0.1:{public}"),
                format!("http://127.0.0.1:{office}"),
            )
            .await,
    );
    let load = Load::start(&site, false).await;
    // A reader besides the load: the slots page of the API, every 20 ms, through the restart.
    let probing = Arc::new(AtomicBool::new(true));
    let probe = {
        let (site, probing) = (site.clone(), probing.clone());
        tokio::spawn(async move {
            let mut answers = Vec::new();
            while probing.load(Ordering::SeqCst) {
                let answer =
                    common::reservation::api_get(&site, "/api/v1/loan-centers/naha/slots").await;
                answers.push((answer.status, answer.retry_after, answer.text));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };
    load.until_applied(BEFORE_KILL).await;
    // `fast`: sessions are ended and a checkpoint written; `immediate`: the server is killed
    // and replays its WAL. After each, applications are acknowledged again by the same
    // `serve`.
    let mut timings = Vec::new();
    for mode in ["fast", "immediate"] {
        let before = load.applied_count();
        let restarted_at = Instant::now();
        cluster.restart(mode).await;
        let outage = restarted_at.elapsed();
        load.until_applied(before + WORKERS).await;
        timings.push(format!(
            "-m {mode}: pg_ctl restart {:.1} s, acknowledged again after {:.1} s",
            outage.as_secs_f64(),
            restarted_at.elapsed().as_secs_f64()
        ));
    }
    probing.store(false, Ordering::SeqCst);
    let answers = probe.await.expect("probe");
    let (applied, booked, refused) = load.finish().await;
    assert!(
        server.try_wait().expect("status").is_none(),
        "serve kept running through the restart"
    );

    // During the outage: 200 or a clean 503 with Retry-After, nothing that names SQL.
    let unavailable = answers.iter().filter(|(status, ..)| *status == 503).count();
    for (status, retry_after, text) in &answers {
        assert!(
            *status == 200 || *status == 503,
            "slots answered {status} during the restart: {text}"
        );
        assert!(!leaks_internals(text), "{status}: {text}");
        if *status == 503 {
            assert!(retry_after.is_some(), "503 with Retry-After");
        }
    }
    for status in &refused {
        assert_eq!(
            *status, 503,
            "a booking during the restart was answered {status}"
        );
    }
    // Nor did any form: the server logged no failed request (a 503 is a warning), no panic.
    let log = std::fs::read_to_string(owner.data.join("serve.log")).expect("serve.log");
    for line in log.lines() {
        assert!(
            !(line.contains("request failed") || line.contains("panicked")),
            "during the restart: {line}"
        );
    }
    let unavailable_logged = log
        .lines()
        .filter(|l| l.contains("the database is unavailable"))
        .count();
    eprintln!(
        "postgresql restarts: {}; {} of {} probes answered 503, {} bookings refused with 503, \
         {} requests answered 503 in all; {} applications and {} bookings acknowledged in all",
        timings.join("; "),
        unavailable,
        answers.len(),
        refused.len(),
        unavailable_logged,
        applied.len(),
        booked.len()
    );

    everything_acknowledged_is_whole(&owner, &site, &applied, &booked).await;
    server.start_kill().expect("kill");
    let _ = server.wait().await;
    owner.stop().await;
    drop(cluster);
}
