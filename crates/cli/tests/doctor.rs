//! `madoguchi doctor` and the start-up gate (SPEC §8, issue 7): a deployment laid out as the
//! README says passes every check (score 100); then one thing at a time is broken — a key
//! file readable by others, the core-banking private key copied onto the host, the back office
//! bound to every address, SMTP without TLS, trace logging — and `doctor` reports each as
//! high (exit 1) and `serve` refuses to start, naming it.

mod common;

use common::token::SoftToken;

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A production-like layout on SQLite: keys made, the back-office key moved into a PKCS#11
/// token (SoftHSM2), the core private key elsewhere, the jobs run once.
struct Layout {
    _tmp: tempfile::TempDir,
    /// Where `keys init` writes the core-banking private key: outside the data folder (as in
    /// production, on another host), and deleted with the layout.
    _core_dir: tempfile::TempDir,
    data: PathBuf,
    core_key: PathBuf,
    config: PathBuf,
    token: SoftToken,
}

fn madoguchi(layout: &Layout, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    command
        .env_remove("MADOGUCHI_LOG")
        .env_remove("DATABASE_URL")
        .args(["--data-dir", layout.data.to_str().expect("path")])
        .args(["--config", layout.config.to_str().expect("path")])
        .args(args);
    for (k, v) in layout.token.env() {
        command.env(k, v);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

const HTTPS: [&str; 4] = [
    "--public-url",
    "https://apply.bank.example.jp",
    "--office-url",
    "https://office.bank.example.jp",
];

async fn layout() -> Option<Layout> {
    let token = SoftToken::create()?;
    let tmp = tempfile::tempdir().expect("temp");
    let data = tmp.path().join("srv").join("data");
    std::fs::create_dir_all(data.parent().expect("parent")).expect("mkdir");
    let core_dir = tempfile::tempdir().expect("core");
    let core_key = core_dir.path().join("core-banking-private.key");
    let config = tmp.path().join("srv").join("bank.toml");
    std::fs::write(&config, madoguchi::demo::DEMO_PROFILE).expect("profile");
    let layout = Layout {
        _tmp: tmp,
        _core_dir: core_dir,
        data,
        core_key,
        config,
        token,
    };
    let core = layout.core_key.to_str().expect("path").to_owned();
    run(
        &layout,
        &["keys", "init", "--core-private-key", core.as_str()],
    )
    .await;
    // The office key moves into the token: a new key pair made there, the file key retired
    // (nothing was wrapped to it; office.pub is dated back past the retirement grace).
    let file_key = std::fs::read_to_string(layout.data.join("keys/office.pub")).expect("pub");
    let file_key = madoguchi_seal::OfficePublicKey::parse_file_text(&file_key)
        .expect("office.pub")
        .key_id()
        .to_string();
    run(&layout, &["keys", "rotate"]).await;
    std::fs::File::options()
        .write(true)
        .open(layout.data.join("keys/office.pub"))
        .expect("office.pub")
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .expect("mtime");
    run(&layout, &["keys", "retire", &file_key]).await;
    run(&layout, &["purge"]).await;
    run(&layout, &["audit", "verify"]).await;
    Some(layout)
}

async fn run(layout: &Layout, args: &[&str]) {
    let out = common::output_of(madoguchi(layout, args, &[])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn doctor(
    layout: &Layout,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, serde_json::Value) {
    let mut args = HTTPS.to_vec();
    args.extend_from_slice(extra);
    doctor_with(layout, &args, env).await
}

/// `doctor` with exactly these options.
async fn doctor_with(
    layout: &Layout,
    options: &[&str],
    env: &[(&str, &str)],
) -> (Output, serde_json::Value) {
    let mut args = vec!["doctor", "--format", "json"];
    args.extend_from_slice(options);
    let out = common::output_of(madoguchi(layout, &args, env)).await;
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, report)
}

fn failed(report: &serde_json::Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_owned(),
                c["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect()
}

/// `serve` with the same settings: it must refuse, naming `id`, before binding anything.
async fn serve_refuses(layout: &Layout, extra: &[&str], env: &[(&str, &str)], id: &str) {
    let mut args = vec![
        "serve",
        "--public-addr",
        "127.0.0.1:0",
        "--office-addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(&HTTPS);
    args.extend_from_slice(extra);
    let out = common::output_of(madoguchi(layout, &args, env)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "serve must refuse: {stderr}");
    assert!(stderr.contains(id), "{id} not named: {stderr}");
}

async fn assert_high(layout: &Layout, extra: &[&str], env: &[(&str, &str)], id: &str) {
    let (out, report) = doctor(layout, extra, env).await;
    assert_eq!(out.status.code(), Some(1), "a high finding");
    assert!(
        failed(&report).contains(&(id.to_owned(), "high".to_owned())),
        "{id} not reported: {:?}",
        failed(&report)
    );
    assert!(report["score"].as_u64().expect("score") < 100);
}

#[tokio::test]
async fn a_clean_layout_scores_100_and_each_break_is_high_and_stops_serve() {
    let Some(layout) = layout().await else {
        return;
    };
    let (out, report) = doctor(&layout, &[], &[]).await;
    assert_eq!(
        failed(&report),
        vec![],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["score"], 100);
    assert_eq!(out.status.code(), Some(0));

    // A key file readable by everyone.
    let mail_key = layout.data.join("keys").join("mail.key");
    std::fs::set_permissions(&mail_key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_high(&layout, &[], &[], "MDG-KEY-01").await;
    serve_refuses(&layout, &[], &[], "MDG-KEY-01").await;
    std::fs::set_permissions(&mail_key, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    // The token's PIN wrong: the back office cannot use its key.
    let wrong_pin = layout.data.join("wrong-pin");
    std::fs::write(&wrong_pin, "0000\n").expect("pin");
    let wrong = [(
        "MADOGUCHI_PKCS11_PIN_FILE",
        wrong_pin.to_str().expect("path"),
    )];
    assert_high(&layout, &[], &wrong, "MDG-KEY-04").await;
    serve_refuses(&layout, &[], &wrong, "MDG-KEY-04").await;
    std::fs::remove_file(&wrong_pin).expect("rm");

    // An office key file left on the host beside the token: medium (a key file), and low (an
    // earlier key that wraps nothing, still to retire); serve still starts.
    let left = layout.data.join("keys").join("office.0123456789abcdef.key");
    std::fs::copy(&mail_key, &left).expect("copy");
    let (out, report) = doctor(&layout, &[], &[]).await;
    assert_eq!(
        failed(&report),
        vec![
            ("MDG-KEY-03".to_owned(), "medium".to_owned()),
            ("MDG-KEY-05".to_owned(), "low".to_owned())
        ]
    );
    assert_eq!(out.status.code(), Some(0), "no high finding");
    std::fs::remove_file(&left).expect("rm");

    // The core-banking private key copied beside the data.
    let copy = layout.data.join("backup-core.key");
    std::fs::copy(&layout.core_key, &copy).expect("copy");
    assert_high(&layout, &[], &[], "MDG-KEY-02").await;
    serve_refuses(&layout, &[], &[], "MDG-KEY-02").await;
    std::fs::remove_file(&copy).expect("rm");

    // E-mail to SMTP in clear; request logging at trace level.
    assert_high(
        &layout,
        &["--smtp-url", "smtp://mail.bank.example.jp:25"],
        &[],
        "MDG-MAIL-01",
    )
    .await;
    serve_refuses(
        &layout,
        &["--smtp-url", "smtp://mail.bank.example.jp:25"],
        &[],
        "MDG-MAIL-01",
    )
    .await;
    assert_high(
        &layout,
        &[],
        &[("MADOGUCHI_LOG", "info,tower_http=trace")],
        "MDG-LOG-01",
    )
    .await;

    // The public site's links without TLS.
    let plain = [
        "--public-url",
        "http://apply.bank.example.jp",
        HTTPS[2],
        HTTPS[3],
    ];
    let (_, report) = doctor_with(&layout, &plain, &[]).await;
    assert!(failed(&report).contains(&("MDG-NET-03".to_owned(), "high".to_owned())));

    // The back office on every address, no allowlist, no TLS proxy.
    assert_high(&layout, &["--office-addr", "0.0.0.0:0"], &[], "MDG-NET-01").await;
    assert_high(&layout, &["--office-addr", "0.0.0.0:0"], &[], "MDG-NET-02").await;

    // Put back, the layout is clean again.
    let (out, report) = doctor(&layout, &[], &[]).await;
    assert_eq!(failed(&report), vec![]);
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test]
async fn staff_and_jobs_are_checked_from_the_database() {
    let Some(layout) = layout().await else {
        return;
    };
    let db = layout.data.join("madoguchi.sqlite3");
    // An account whose one-time password was never used, created two days ago.
    let out = common::output_of(madoguchi(
        &layout,
        &[
            "staff",
            "add",
            "--username",
            "tanaka",
            "--role",
            "operator",
            "--scope",
            "bank",
        ],
        &[],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!("sqlite://{}", db.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("sqlite");
    let two_days_ago = time::OffsetDateTime::now_utc() - time::Duration::days(2);
    sqlx::query("UPDATE staff SET created_at = ?1")
        .bind(two_days_ago)
        .execute(&mut conn)
        .await
        .expect("age the account");
    let (out, report) = doctor(&layout, &[], &[]).await;
    let failed = failed(&report);
    assert!(
        failed.contains(&("MDG-STAFF-01".to_owned(), "high".to_owned())),
        "{failed:?}"
    );
    assert!(
        failed.contains(&("MDG-STAFF-02".to_owned(), "high".to_owned())),
        "{failed:?}"
    );
    assert_eq!(out.status.code(), Some(1));
    let text = common::output_of(madoguchi(
        &layout,
        &["doctor", HTTPS[0], HTTPS[1], HTTPS[2], HTTPS[3]],
        &[],
    ))
    .await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("tanaka"), "the account is named: {text}");
    // Operational findings do not stop `serve` (a new deployment has staff still to come).
    assert!(!text.contains("MDG-KEY"), "{text}");
}
