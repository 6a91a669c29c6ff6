//! Delivery to a real SMTP server (aiosmtpd from PyPI, run by `scripts/smtp-test-server.py`)
//! that requires STARTTLS, with a certificate of a CA made here: the worker delivers every
//! message once, refuses a server whose certificate it cannot verify, keeps everything while
//! the server is down (waiting out the backoff), and delivers it once the server is back —
//! nothing lost, nothing sent twice; each message carries the Message-ID of its outbox row.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use madoguchi_domain::OutgoingMail;
use madoguchi_keyring::{MailKeyring, init_keys};
use madoguchi_mail::{OutboxWorker, Transport, message_id};
use madoguchi_seal::{MailSealer, PublicKey};
use madoguchi_store::{OutboxRow, Store};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The Python with aiosmtpd (`scripts/test` installs it), or why not.
fn python() -> Option<PathBuf> {
    let path = std::env::var_os("MADOGUCHI_TEST_AIOSMTPD")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/test-tools/aiosmtpd/bin/python"));
    if path.exists() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "aiosmtpd is required when CI=true: {} is missing (scripts/test installs it)",
        path.display()
    );
    eprintln!("SKIPPED: no aiosmtpd at {}", path.display());
    None
}

fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a certificate for 127.0.0.1 signed by it.
fn certificates(dir: &Path) {
    let p = |f: &str| dir.join(f).display().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    let (ca_key, ca_crt) = (p("ca.key"), p("ca.crt"));
    ca.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_crt,
        "-days",
        "2",
        "-subj",
        "/CN=mail test CA",
    ]);
    openssl(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    let (key, req) = (p("smtp.key"), p("smtp.csr"));
    csr.extend(["-keyout", &key, "-out", &req, "-subj", "/CN=127.0.0.1"]);
    openssl(&csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("ext");
    let (crt, ext) = (p("smtp.crt"), p("san.ext"));
    openssl(&[
        "x509",
        "-req",
        "-in",
        &req,
        "-CA",
        &ca_crt,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        &crt,
        "-days",
        "2",
        "-extfile",
        &ext,
    ]);
}

/// Starts the server and waits for its "ready".
async fn start_server(python: &Path, dir: &Path, port: u16, certs: &Path) -> Child {
    let mut child = Command::new(python)
        .arg("-u")
        .arg(Path::new(ROOT).join("scripts/smtp-test-server.py"))
        .arg(dir)
        .arg(port.to_string())
        .arg(certs.join("smtp.crt"))
        .arg(certs.join("smtp.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("smtp server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .expect("ready line");
    assert_eq!(line.trim(), "ready");
    child
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn delivered(dir: &Path) -> Vec<String> {
    let mut mails: Vec<String> = std::fs::read_dir(dir)
        .expect("mail dir")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).expect("eml"))
        .collect();
    mails.sort();
    mails
}

/// The recipients of the delivered messages, one line `To:` each.
fn recipients(dir: &Path) -> Vec<String> {
    let mut to: Vec<String> = delivered(dir)
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_owned))
        .collect();
    to.sort();
    to
}

/// The `Message-ID` lines of the delivered messages.
fn message_ids(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = delivered(dir)
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id: "))
                .map(|l| format!("Message-ID: {}", &l["message-id: ".len()..]))
        })
        .collect();
    ids.sort();
    ids
}

struct Outbox {
    store: Store,
    sealer: MailSealer,
}

impl Outbox {
    async fn enqueue(&self, to: &str) -> Uuid {
        let mail = OutgoingMail {
            to: to.to_owned(),
            subject: "お申込みの受付".to_owned(),
            body: "受け付けました。".to_owned(),
        };
        let id = Uuid::now_v7();
        let sealed = self
            .sealer
            .seal(&id, &serde_json::to_vec(&mail).expect("json"))
            .expect("seal");
        let row = OutboxRow::now(
            id,
            sealed.key_id().to_string(),
            sealed.into_bytes(),
            OffsetDateTime::now_utc(),
        );
        self.store.enqueue(&row).await.expect("enqueue");
        id
    }
}

#[tokio::test]
async fn delivery_over_starttls_survives_a_server_outage_without_loss_or_duplicates() {
    let Some(python) = python() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let keys = data.join("keys");
    let mailbox = tmp.path().join("mailbox");
    std::fs::create_dir_all(&mailbox).expect("mailbox");
    std::fs::create_dir_all(&data).expect("data");
    init_keys(&keys, &data, &tmp.path().join("core.key")).expect("keys");
    certificates(tmp.path());
    let store = Store::connect(&format!("sqlite://{}", data.join("db.sqlite3").display()))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let outbox = Outbox {
        store: store.clone(),
        sealer: MailSealer::new(PublicKey::load(&keys.join("mail.pub")).expect("mail.pub")),
    };
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}?tls=required");
    let ca = std::fs::read(tmp.path().join("ca.crt")).expect("ca");
    let worker = |transport: Transport| {
        OutboxWorker::new(
            store.clone(),
            MailKeyring::load(&keys).expect("mail key"),
            "no-reply@bank.example".parse().expect("from"),
            transport,
        )
    };
    let trusting = worker(Transport::smtp_trusting(&url, Some(&ca)).expect("transport"));

    // Up: three messages, each delivered once over STARTTLS.
    let mut server = start_server(&python, &mailbox, port, tmp.path()).await;
    let mut ids = Vec::new();
    for i in 1..=3 {
        ids.push(outbox.enqueue(&format!("taro{i}@example.jp")).await);
    }
    let report = trusting.deliver_due().await.expect("pass");
    assert_eq!((report.delivered, report.deferred), (3, 0));
    assert_eq!(recipients(&mailbox).len(), 3);
    assert!(
        delivered(&mailbox)[0].contains("=?utf-8?"),
        "a Japanese subject, encoded"
    );
    let again = trusting.deliver_due().await.expect("pass");
    assert_eq!((again.delivered, again.deferred), (0, 0), "nothing twice");
    // Each carries the Message-ID of its outbox row: the same if it were ever sent again.
    let from: lettre::message::Mailbox = "no-reply@bank.example".parse().expect("from");
    let mut expected: Vec<String> = ids
        .iter()
        .map(|id| format!("Message-ID: {}", message_id(&id.to_string(), &from)))
        .collect();
    expected.sort();
    assert_eq!(message_ids(&mailbox), expected);

    // A certificate this worker cannot verify: refused, kept.
    let untrusting = worker(Transport::smtp(&url).expect("transport"));
    let unverified = outbox.enqueue("hanako@example.jp").await;
    let report = untrusting.deliver_due().await.expect("pass");
    assert_eq!((report.delivered, report.deferred), (0, 1));
    assert_eq!(recipients(&mailbox).len(), 3);

    // Down: two more wait, with the first; the backoff is kept (nothing is due now).
    drop(server.stdin.take());
    server.wait().await.expect("server stopped");
    let first = outbox.enqueue("jiro@example.jp").await;
    let second = outbox.enqueue("saburo@example.jp").await;
    store
        .retry_later(unverified, OffsetDateTime::now_utc())
        .await
        .expect("due");
    let report = trusting.deliver_due().await.expect("pass");
    assert_eq!((report.delivered, report.deferred), (0, 3));
    assert_eq!(store.outbox_len().await.expect("len"), 3, "nothing lost");
    let early = trusting.deliver_due().await.expect("pass");
    assert_eq!(
        (early.delivered, early.deferred),
        (0, 0),
        "the backoff is waited out"
    );

    // Back: once due, all three go, once each.
    let mut server = start_server(&python, &mailbox, port, tmp.path()).await;
    for id in [unverified, first, second] {
        store
            .retry_later(id, OffsetDateTime::now_utc())
            .await
            .expect("due");
    }
    let report = trusting.deliver_due().await.expect("pass");
    assert_eq!((report.delivered, report.deferred), (3, 0));
    assert_eq!(store.outbox_len().await.expect("len"), 0);
    let to = recipients(&mailbox);
    assert_eq!(
        to,
        vec![
            "To: hanako@example.jp",
            "To: jiro@example.jp",
            "To: saburo@example.jp",
            "To: taro1@example.jp",
            "To: taro2@example.jp",
            "To: taro3@example.jp",
        ],
        "each recipient exactly once"
    );
    drop(server.stdin.take());
    server.wait().await.expect("server stopped");
}
