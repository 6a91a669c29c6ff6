//! Crash safety (issue 8): `madoguchi serve` is killed with SIGKILL while applicants submit
//! applications and book visits, then started again. Every submission the server acknowledged
//! (the receipt page, the 201) is there and opens in the back office; no record is half
//! written (each has its personal fields, its data key and, for an application, its sealed
//! PIN); the audit chain verifies; and each acknowledged submission's e-mail is delivered,
//! once. On SQLite and on PostgreSQL.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::applicant::{self, Applicant};
use common::office::staff_client;
use common::reservation::{BOOKED_MAIL, Visitor, api_post, slots};
use common::{Db, TestApp};
use sqlx::Connection as _;
use tokio::process::{Child, Command};

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

/// `serve --demo` as its own process on this app's data and database, limits lifted.
async fn serve(app: &TestApp, public: u16, office: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["--data-dir", app.data.to_str().expect("path")])
        .args(["--database-url", &app.database_url])
        .args(["serve", "--demo"])
        .args(["--public-addr", &format!("127.0.0.1:{public}")])
        .args(["--office-addr", &format!("127.0.0.1:{office}")])
        .args([
            "--limit-email-checks",
            "100000",
            "--limit-code-tries",
            "100000",
        ])
        .args([
            "--limit-submissions",
            "100000",
            "--limit-bookings",
            "100000",
        ])
        .env("MADOGUCHI_LOG", "error")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", public))
        .await
        .is_err()
    {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve exited: {status}");
        }
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
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
    let offered = Arc::new(slots(&site, "naha").await);
    let next_slot = Arc::new(AtomicUsize::new(0));
    let applied: Arc<Mutex<Vec<(String, Applicant)>>> = Arc::default();
    let booked: Arc<Mutex<Vec<Visitor>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));

    // The load: applicants and visitors, each one after the other, until the server dies.
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (site, applied, stop) = (site.clone(), applied.clone(), stop.clone());
        load.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let person = Applicant::new();
                let (s, p) = (site.clone(), person.clone());
                // A panic (the server went away mid-form) ends this applicant only.
                let attempt =
                    tokio::spawn(async move { applicant::apply(&s, &TestApp::client(), &p).await });
                match attempt.await {
                    Ok(receipt) => applied.lock().expect("lock").push((receipt, person)),
                    Err(_) => return,
                }
            }
        });
    }
    for _ in 0..BOOKERS {
        let (site, booked, stop) = (site.clone(), booked.clone(), stop.clone());
        let (offered, next_slot) = (offered.clone(), next_slot.clone());
        load.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let visitor = Visitor::new();
                let slot = &offered[next_slot.fetch_add(1, Ordering::SeqCst) % offered.len()];
                let body = visitor.json("naha", &slot.starts_at);
                let (s, b) = (site.clone(), body.clone());
                let attempt =
                    tokio::spawn(async move { api_post(&s, "/api/v1/bookings", &b).await.status });
                match attempt.await {
                    Ok(201) => booked.lock().expect("lock").push(visitor),
                    Ok(_) => continue,
                    Err(_) => return,
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while applied.lock().expect("lock").len() < BEFORE_KILL {
        assert!(Instant::now() < deadline, "the load made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL, mid-flight: requests are being served as it dies.
    server.start_kill().expect("kill");
    server.wait().await.expect("killed");
    stop.store(true, Ordering::SeqCst);
    while load.join_next().await.is_some() {}
    let applied = applied.lock().expect("lock").clone();
    let booked = booked.lock().expect("lock").clone();
    assert!(applied.len() >= BEFORE_KILL);

    // Started again on the same data.
    let mut server = serve(&owner, public, office).await;
    let url = &owner.database_url;
    for (receipt, _) in &applied {
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
    let operator = staff_client(&site, "operator", "bank").await;
    for (receipt, person) in &applied {
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
        assert!(page.contains(&person.family_name), "{receipt} opens");
    }

    // The audit chain verifies.
    let out = common::madoguchi(&site, &["audit", "verify"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Every acknowledged submission's e-mail goes out, once — those the killed worker had
    // claimed after its claim's lease (two minutes).
    let lease = Duration::from_secs(150);
    for (receipt, person) in &applied {
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
    for visitor in &booked {
        site.wait_for_mail_within(&visitor.email, BOOKED_MAIL, lease)
            .await;
    }
    server.start_kill().expect("kill");
    let _ = server.wait().await;
    owner.stop().await;
}

#[tokio::test]
async fn acknowledged_submissions_survive_sigkill_on_sqlite() {
    crash_and_restart(Db::Sqlite).await;
}

#[tokio::test]
async fn acknowledged_submissions_survive_sigkill_on_postgres() {
    crash_and_restart(Db::Postgres).await;
}
