//! The `madoguchi` binary as an operator meets it: first run, refusals, clean shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_madoguchi");

/// Runs `madoguchi` with the space-separated arguments of `line` in `dir`.
fn run_line(line: &str, dir: &std::path::Path) -> Output {
    Command::new(BIN)
        .args(line.split(' '))
        .current_dir(dir)
        .output()
        .expect("madoguchi runs")
}

#[test]
fn a_broken_profile_is_refused_with_file_line_and_reason() {
    let tmp = tempfile::tempdir().expect("tmp");
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/demo-bank.toml"
    ))
    .expect("demo");
    let broken = demo.replacen("finance_code = \"9990\"", "finance_code = \"99X0\"", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("99X0"))
        .expect("edited line")
        + 1;
    std::fs::write(tmp.path().join("bank.toml"), broken).expect("write");
    let out = run_line("--config bank.toml --data-dir data serve", tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("bank.toml:{line}:")),
        "names file and line: {stderr}"
    );
    assert!(stderr.contains("finance_code"), "names the key: {stderr}");
}

#[test]
fn the_development_mode_and_the_back_office_refuse_non_loopback_addresses() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_line(
        "--data-dir data serve --demo --public-addr 0.0.0.0:0",
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let out = run_line(
        "--data-dir data serve --demo --public-addr 127.0.0.1:0 --office-addr 0.0.0.0:0",
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("back office must not be reachable"));
}

#[test]
fn serve_without_a_profile_says_how_to_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_line("--data-dir data serve", tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--demo"));
}

#[test]
fn the_core_private_key_is_never_written_into_the_data_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_line(
        "--data-dir data keys init --core-private-key data/core.key",
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!tmp.path().join("data/core.key").exists());
    let out = run_line(
        "--data-dir data keys init --core-private-key core.key",
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("core.key").exists());
}

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(dir: &std::path::Path) -> Server {
        let mut child = Command::new(BIN)
            .args([
                "--data-dir",
                "data",
                "serve",
                "--demo",
                "--public-addr",
                "127.0.0.1:0",
                "--office-addr",
                "127.0.0.1:0",
            ])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Server { child, lines }
    }

    /// The address printed after `label`, waiting up to 30 s for it.
    fn printed_url(&self, label: &str, seen: &mut Vec<String>) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {label:?} line; saw {seen:?}"));
            seen.push(line.clone());
            if let Some(url) = line.strip_prefix(label) {
                return url.trim().to_owned();
            }
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("exit")
    }
}

#[tokio::test]
async fn serve_demo_creates_what_it_needs_prints_its_urls_and_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = Server::start(tmp.path());
    let mut seen = Vec::new();
    let public = server.printed_url("public site:", &mut seen);
    let office = server.printed_url("back office:", &mut seen);
    assert!(
        seen.iter().any(|l| l.contains("core-banking-private.key")),
        "says where the core private key went: {seen:?}"
    );

    let home = reqwest::get(&public).await.expect("public site answers");
    assert_eq!(home.status(), 200);
    assert!(
        home.text().await.expect("body").contains("まどぐち銀行"),
        "the demo bank"
    );
    assert_eq!(
        reqwest::get(&office)
            .await
            .expect("back office answers")
            .status(),
        200
    );

    let data = tmp.path().join("data");
    assert!(
        data.join("madoguchi.sqlite3").exists(),
        "SQLite database created"
    );
    for key in [
        "office.key",
        "mail.key",
        "blind-index.key",
        "csrf.key",
        "core-banking.pub",
        "handoff-signing.key",
        "handoff-signing.pub",
    ] {
        assert!(data.join("keys").join(key).exists(), "{key} created");
    }
    assert!(
        !data.join("keys/core-banking.key").exists(),
        "no core private key in the data folder"
    );
    assert!(
        tmp.path().join("core-banking-private.key").exists(),
        "it is beside it"
    );

    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM stops the server cleanly: {status:?}"
    );
}

#[test]
fn migrate_uses_the_database_url_it_is_given() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("elsewhere.sqlite3");
    let line = format!(
        "--data-dir data --database-url sqlite://{} migrate",
        db.display()
    );
    let out = run_line(&line, tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        db.exists(),
        "the database named by --database-url was created"
    );
    assert!(
        !tmp.path().join("data/madoguchi.sqlite3").exists(),
        "not the default one"
    );
    let out = run_line(
        "--data-dir data --database-url mysql://nowhere/db migrate",
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--database-url"),
        "says which option is wrong"
    );
}
