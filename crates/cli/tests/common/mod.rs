//! The test harness: starts the real server (both listeners, outbox worker) on port 0 against
//! a fresh SQLite file or a fresh PostgreSQL database, with fresh keys, like `serve` does.
#![allow(dead_code)]

pub mod applicant;
pub mod browser;
pub mod documents;
pub mod existing_account;
pub mod logs;
pub mod moto;
pub mod office;
pub mod pg_cluster;
pub mod reservation;
pub mod token;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use madoguchi::app::{AppConfig, RunningApp, start};
use madoguchi::data_dir::DataDir;
use madoguchi_mail::Transport;
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub running: Option<RunningApp>,
    pub public_url: String,
    pub office_url: String,
    pub tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub core_private_key: PathBuf,
    pub db: Db,
    pub database_url: String,
    pg_database: Option<String>,
    /// The store of a server this test does not run in-process ([`TestApp::external`]).
    external_store: Option<madoguchi_store::Store>,
}

/// The PostgreSQL server the tests use (trust auth on loopback by default).
pub fn pg_base_url() -> String {
    std::env::var("MADOGUCHI_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Creates a fresh database, or says why not. In CI a missing PostgreSQL fails the test.
async fn create_pg_database() -> Option<(String, String)> {
    let base = pg_base_url();
    let admin = format!("{base}/postgres");
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(e) => {
            if in_ci() {
                panic!(
                    "PostgreSQL is required when CI=true but {base} is unreachable: {e}. Start it (see .ci/run)."
                );
            }
            eprintln!("SKIPPED: PostgreSQL unreachable at {base}: {e}");
            return None;
        }
    };
    let name = format!("mdg_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    Some((name.clone(), format!("{base}/{name}")))
}

/// How to start a test server, when the defaults do not fit.
#[derive(Default)]
pub struct Options {
    pub rate_limits: madoguchi_public::RateLimitSettings,
    /// Replaces `key = value` lines of the demo profile (`(old line, new line)`).
    pub profile_edits: Vec<(&'static str, &'static str)>,
    /// Where the back office listens (default 127.0.0.1:0).
    pub office_addr: Option<std::net::SocketAddr>,
    /// Client addresses besides loopback that may reach the back office.
    pub office_allowed_clients: Vec<std::net::IpAddr>,
    /// Serve Prometheus metrics on a port of its own ([`TestApp::metrics_url`]).
    pub metrics: bool,
    /// The PKCS#11 token holding the back-office key (default: the key file).
    pub office_token: Option<madoguchi_keyring::TokenConfig>,
    /// Declared TLS-terminating proxies whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The listeners' timeouts (default: those of `serve`).
    pub timeouts: Option<madoguchi_http::Timeouts>,
    /// Secure `__Host-` cookies as in production (a plain-HTTP client cannot send them back).
    pub secure_cookies: bool,
    /// Keep the identity documents in this bucket instead of the data folder.
    pub documents_bucket: Option<madoguchi_documents::S3Location>,
}

impl Options {
    /// Limits so high that a load test meets none.
    pub fn unlimited() -> Options {
        let many = std::num::NonZeroU32::new(1_000_000).expect("non-zero");
        Options {
            rate_limits: madoguchi_public::RateLimitSettings {
                email_checks_per_minute: many,
                code_tries_per_minute: many,
                submissions_per_minute: many,
                bookings_per_minute: many,
            },
            profile_edits: Vec::new(),
            office_addr: None,
            office_allowed_clients: Vec::new(),
            metrics: false,
            office_token: None,
            trusted_proxies: Vec::new(),
            timeouts: None,
            secure_cookies: false,
            documents_bucket: None,
        }
    }

    /// The demo profile with the test's edits. Tests run at any hour, so the off-hours rule
    /// of detection is lifted unless a test sets it (`detection.rs` does).
    pub fn profile(&self) -> madoguchi_domain::BankProfile {
        madoguchi_domain::BankProfile::from_toml_str("edited demo profile", &self.profile_text())
            .expect("edited demo profile loads")
    }

    /// [`Options::profile`] as TOML, for a `madoguchi` process's `--config`.
    pub fn profile_text(&self) -> String {
        let mut text = madoguchi::demo::DEMO_PROFILE.to_owned();
        for (old, new) in &self.profile_edits {
            assert!(text.contains(old), "the demo profile has no line {old:?}");
            text = text.replacen(old, new, 1);
        }
        let off_hours = "off_hours_reveals_per_hour = 10\n";
        assert!(
            text.contains(off_hours)
                || self
                    .profile_edits
                    .iter()
                    .any(|(old, _)| *old == off_hours.trim_end()),
            "the demo profile has no line {off_hours:?}"
        );
        text.replacen(off_hours, "off_hours_reveals_per_hour = 100000\n", 1)
    }
}

impl TestApp {
    /// Starts the server; `None` only outside CI when PostgreSQL is not there.
    pub async fn spawn(db: Db) -> Option<TestApp> {
        Self::spawn_with(db, Options::default()).await
    }

    /// Starts the server with `options`.
    pub async fn spawn_with(db: Db, options: Options) -> Option<TestApp> {
        logs::install();
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = DataDir::open(&tmp.path().join("data")).expect("data dir");
        let (pg_database, database_url) = match db {
            Db::Sqlite => (None, data.sqlite_url()),
            Db::Postgres => {
                let (name, url) = create_pg_database().await?;
                (Some(name), url)
            }
        };
        Some(Self::start_in(tmp, db, pg_database, database_url, &options).await)
    }

    /// Starts the server against `database_url`, a PostgreSQL database the test made itself
    /// (in a cluster of its own): nothing is created or dropped on the shared server.
    pub async fn spawn_on_postgres(database_url: &str) -> TestApp {
        logs::install();
        let tmp = tempfile::tempdir().expect("temp dir");
        Self::start_in(
            tmp,
            Db::Postgres,
            None,
            database_url.to_owned(),
            &Options::default(),
        )
        .await
    }

    async fn start_in(
        tmp: tempfile::TempDir,
        db: Db,
        pg_database: Option<String>,
        database_url: String,
        options: &Options,
    ) -> TestApp {
        let data_path = tmp.path().join("data");
        let data = DataDir::open(&data_path).expect("data dir");
        let core_private_key = tmp.path().join("core-banking-private.key");
        madoguchi_keyring::init_keys(&data.keys(), data.root(), &core_private_key)
            .expect("init keys");
        let running = start(config(&data, &database_url, options))
            .await
            .expect("server starts");
        TestApp {
            public_url: format!("http://{}", running.public_addr.expect("public site")),
            office_url: format!("http://{}", running.office_addr.expect("back office")),
            running: Some(running),
            tmp,
            data: data_path,
            core_private_key,
            db,
            database_url,
            pg_database,
            external_store: None,
        }
    }

    /// A second instance of the server against the same database and data folder (keys,
    /// outbox), as a second `serve` process would run. Stopping it leaves the database.
    pub async fn spawn_sibling(&self, options: Options) -> TestApp {
        let data = DataDir::open(&self.data).expect("data dir");
        let running = start(config(&data, &self.database_url, &options))
            .await
            .expect("sibling starts");
        TestApp {
            public_url: format!("http://{}", running.public_addr.expect("public site")),
            office_url: format!("http://{}", running.office_addr.expect("back office")),
            running: Some(running),
            tmp: tempfile::tempdir().expect("temp dir"),
            data: self.data.clone(),
            core_private_key: self.core_private_key.clone(),
            db: self.db,
            database_url: self.database_url.clone(),
            pg_database: None,
            external_store: None,
        }
    }

    /// `http://ADDR/metrics` when started with [`Options::metrics`].
    pub fn metrics_url(&self) -> Option<String> {
        let running = self.running.as_ref()?;
        Some(format!("http://{}/metrics", running.metrics_addr?))
    }

    /// One half of the server (`--listener public|office`) against this app's database and
    /// data folder, connected as `database_url` (e.g. a least-privilege role). The half it
    /// does not serve has an empty URL.
    pub async fn spawn_half(
        &self,
        listener: madoguchi::cli::Listener,
        database_url: &str,
    ) -> TestApp {
        let data = DataDir::open(&self.data).expect("data dir");
        let mut config = config(&data, database_url, &Options::default());
        config.listener = listener;
        let running = start(config).await.expect("half starts");
        TestApp {
            public_url: running
                .public_addr
                .map_or_else(String::new, |a| format!("http://{a}")),
            office_url: running
                .office_addr
                .map_or_else(String::new, |a| format!("http://{a}")),
            running: Some(running),
            tmp: tempfile::tempdir().expect("temp dir"),
            data: self.data.clone(),
            core_private_key: self.core_private_key.clone(),
            db: self.db,
            database_url: database_url.to_owned(),
            pg_database: None,
            external_store: None,
        }
    }

    /// Stops the server and keeps the database (for halves started after it).
    pub async fn stop_server(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }

    pub fn store(&self) -> &madoguchi_store::Store {
        match &self.running {
            Some(running) => &running.store,
            None => self
                .external_store
                .as_ref()
                .expect("a running or external server"),
        }
    }

    /// This app's database and data folder as served by a `madoguchi serve` process at these
    /// URLs (the helpers then drive it like an in-process one).
    pub async fn external(&self, public_url: String, office_url: String) -> TestApp {
        let store = madoguchi_store::Store::connect(&self.database_url)
            .await
            .expect("store");
        TestApp {
            running: None,
            public_url,
            office_url,
            tmp: tempfile::tempdir().expect("temp dir"),
            data: self.data.clone(),
            core_private_key: self.core_private_key.clone(),
            db: self.db,
            database_url: self.database_url.clone(),
            pg_database: None,
            external_store: Some(store),
        }
    }

    /// Opens the savings-account application with `client` (starting its browser session) and
    /// returns the session's CSRF token.
    pub async fn open_application(&self, client: &reqwest::Client) -> String {
        let page = client
            .get(self.url("/apply/savings-account"))
            .send()
            .await
            .expect("start")
            .text()
            .await
            .expect("body");
        csrf_of(&page)
    }

    /// A browser-like client: keeps cookies, follows redirects.
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// Waits (up to 10 s) for an e-mail to `to` whose text contains `marker`, and returns the
    /// raw message.
    pub async fn wait_for_mail(&self, to: &str, marker: &str) -> String {
        self.wait_for_mail_within(to, marker, Duration::from_secs(10))
            .await
    }

    /// [`TestApp::wait_for_mail`] with another limit (a message claimed by a worker that died
    /// waits out the claim's lease, two minutes, before another worker takes it).
    pub async fn wait_for_mail_within(&self, to: &str, marker: &str, limit: Duration) -> String {
        let dir = self.data.join("outbox");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(mail) = find_mail(&dir, to, marker) {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "no e-mail to {to} containing {marker:?} in {}",
                dir.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every byte the database holds: the SQLite files, or a `pg_dump` of the database.
    pub async fn database_bytes(&self) -> Vec<u8> {
        match self.db {
            Db::Sqlite => {
                let mut bytes = Vec::new();
                for entry in std::fs::read_dir(&self.data).expect("data dir").flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with("madoguchi.sqlite3") {
                        bytes.extend(std::fs::read(entry.path()).expect("read db file"));
                    }
                }
                assert!(!bytes.is_empty(), "no SQLite file found");
                bytes
            }
            Db::Postgres => {
                let output = std::process::Command::new("pg_dump")
                    .arg("--data-only")
                    .arg(&self.database_url)
                    .output()
                    .expect("pg_dump runs (Debian package postgresql-client)");
                assert!(
                    output.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                output.stdout
            }
        }
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        let Some(name) = self.pg_database.take() else {
            return;
        };
        if let Ok(mut conn) =
            sqlx::PgConnection::connect(&format!("{}/postgres", pg_base_url())).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await;
        }
    }
}

/// A test that panicked never reached [`TestApp::stop`]: its PostgreSQL database is dropped
/// here, with `psql`, so that failed runs leave nothing behind.
impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            let _ = std::process::Command::new("psql")
                .arg(format!("{}/postgres", pg_base_url()))
                .args([
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn config(data: &DataDir, database_url: &str, options: &Options) -> AppConfig {
    AppConfig {
        listener: madoguchi::cli::Listener::All,
        profile: options.profile(),
        data: data.clone(),
        database_url: Some(database_url.to_owned()),
        public_addr: "127.0.0.1:0".parse().expect("addr"),
        office_addr: options
            .office_addr
            .unwrap_or_else(|| "127.0.0.1:0".parse().expect("addr")),
        cookie_secure: options.secure_cookies,
        mail_from: "no-reply@demo-bank.example".to_owned(),
        transport: Transport::Folder(data.outbox()),
        rate_limits: options.rate_limits,
        public_url: None,
        office_url: None,
        audit_sink: None,
        metrics_addr: options
            .metrics
            .then(|| "127.0.0.1:0".parse().expect("addr")),
        office_allowed_clients: options.office_allowed_clients.clone(),
        office_token: options.office_token.clone(),
        timeouts: options.timeouts.unwrap_or_default(),
        trusted_proxies: options.trusted_proxies.clone(),
        documents_bucket: options.documents_bucket.clone(),
        external_retention: false,
    }
}

fn find_mail(dir: &Path, to: &str, marker: &str) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| decoded_mail(&raw))
        .find(|text| text.contains(to) && text.contains(marker))
}

/// The message with its body decoded (lettre picks base64 or quoted-printable for Japanese
/// text): the headers as sent, a blank line, the body as the reader sees it.
pub fn decoded_mail(raw: &str) -> String {
    use base64::Engine;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let body = if head.contains("Content-Transfer-Encoding: base64") {
        let compact: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("base64 body");
        String::from_utf8(bytes).expect("utf-8 body")
    } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
        // Mostly-ASCII (English) text is sent quoted-printable.
        quoted_printable(body)
    } else {
        body.to_owned()
    };
    format!("{head}\r\n\r\n{body}")
}

/// Decodes a quoted-printable body (RFC 2045 §6.7): soft line breaks and `=XX` octets.
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = joined.get(i + 1..i + 3).filter(|_| bytes[i] == b'=');
        if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 body")
}

/// Whether `haystack` contains `needle` anywhere.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `needle` stands in `haystack` as a token of its own: not inside a longer run of
/// letters or digits. A 4-digit PIN must be searched this way, or it is found by chance inside
/// timestamps, UUIDs and durations.
pub fn contains_token(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    let standalone = |i: usize| {
        let before = i.checked_sub(1).and_then(|j| haystack.get(j));
        let after = haystack.get(i + needle.len());
        !before.is_some_and(u8::is_ascii_alphanumeric)
            && !after.is_some_and(u8::is_ascii_alphanumeric)
    };
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .enumerate()
            .any(|(i, w)| w == needle && standalone(i))
}

/// The value of the hidden CSRF field in a page.
pub fn csrf_of(html: &str) -> String {
    let re = regex_lite::Regex::new(r#"name="csrf" value="([^"]+)""#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| {
            m.as_str()
                .replace("&#x2b;", "+")
                .replace("&#x2f;", "/")
                .replace("&#61;", "=")
        })
        .unwrap_or_else(|| panic!("no CSRF token in page:\n{html}"))
}

/// Runs a command to its end without blocking the test's runtime. The server under test runs
/// on that runtime: a command that waits for a database lock (the real `madoguchi` binary
/// writing to the same SQLite file) would otherwise wait for a transaction that the frozen
/// server can never finish.
pub async fn output_of(command: std::process::Command) -> std::process::Output {
    let mut command = tokio::process::Command::from(command);
    // A command that should have ended and did not (a `serve` that should have refused to
    // start) fails the test after two minutes instead of hanging the suite; it is killed.
    command.kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), command.output())
        .await
        .expect("the command ended within two minutes")
        .expect("the command runs")
}

/// The stdout of a command that must have succeeded (else its output, in the panic).
pub fn succeeded(out: &std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs the real `madoguchi` binary against the app's data folder and database (logging
/// errors only), without blocking the runtime the server runs on (see [`output_of`]).
#[allow(dead_code)]
pub async fn madoguchi(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    command
        .arg("--data-dir")
        .arg(&app.data)
        .arg("--database-url")
        .arg(&app.database_url)
        .args(args)
        .env("MADOGUCHI_LOG", "error")
        .env_remove("MADOGUCHI_HANDOFF_SIGNER");
    output_of(command).await
}

/// `serve --demo` as its own process on this app's data and database, limits lifted, with
/// the tests' demo profile (no off-hours limit on reveals: the checks open every application,
/// at any hour).
pub async fn serve_process(app: &TestApp, public: u16, office: u16) -> tokio::process::Child {
    let profile = app.data.join("test-profile.toml");
    std::fs::write(&profile, Options::default().profile_text()).expect("profile");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(app.data.join("serve.log"))
        .expect("serve.log");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["--config", profile.to_str().expect("path")])
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
        // Its log, appended to `<data>/serve.log` (warnings: a 503 is logged as one).
        .env("MADOGUCHI_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
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

/// A `SELECT COUNT(*) …` of the app's database, on either backend.
pub async fn count_of(app: &TestApp, sql: &'static str) -> i64 {
    match app.db {
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .expect("open SQLite");
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await
                .expect(sql)
        }
        Db::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url)
                .await
                .expect("open PostgreSQL");
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await
                .expect(sql)
        }
    }
}

/// Posts a form as a browser would.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request")
}
