//! The production layout of `deploy/` (issue 7), built on this machine: PostgreSQL with the
//! least-privilege roles, the two `serve` processes exactly as the systemd units start them
//! (their `ExecStart` and `EnvironmentFile`s, with paths and ports of this test), and Debian's
//! nginx with `deploy/nginx/madoguchi.conf` terminating TLS with a certificate of a CA made
//! here. Both sites answer through nginx over TLS; the retention and audit-verification units
//! run with their own roles; and `doctor`, run with each unit's settings, scores 100 with no
//! finding.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::token::SoftToken;
use common::{Db, TestApp};
use tokio::process::{Child, Command};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something accepts connections on `port` (or fails after 30 s).
async fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `KEY=value` lines of an environment file.
fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .expect("env file")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A unit's `ExecStart` arguments after the binary, and its environment files' names.
fn unit(name: &str) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(format!("{ROOT}/deploy/systemd/{name}")).expect("unit");
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let args: Vec<String> = exec.split_whitespace().skip(1).map(str::to_owned).collect();
    let envs = text
        .lines()
        .filter_map(|l| l.strip_prefix("EnvironmentFile=/etc/madoguchi/"))
        .map(str::to_owned)
        .collect();
    (args, envs)
}

struct Site {
    tmp: PathBuf,
    token: SoftToken,
    public_port: u16,
    office_port: u16,
    public_tls: u16,
    office_tls: u16,
}

/// The environment of a unit, with this test's paths, ports and database.
fn environment(
    site: &Site,
    app: &TestApp,
    files: &[String],
    role: &str,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for file in files {
        env.extend(env_file(&Path::new(ROOT).join("deploy/systemd").join(file)));
    }
    let profile = site.tmp.join("bank.toml");
    env.insert("MADOGUCHI_CONFIG".into(), profile.display().to_string());
    env.insert("MADOGUCHI_DATA_DIR".into(), app.data.display().to_string());
    env.insert(
        "MADOGUCHI_PUBLIC_URL".into(),
        format!("https://localhost:{}", site.public_tls),
    );
    env.insert(
        "MADOGUCHI_OFFICE_URL".into(),
        format!("https://localhost:{}", site.office_tls),
    );
    env.insert(
        "MADOGUCHI_AUDIT_SINK".into(),
        site.tmp.join("checkpoints.log").display().to_string(),
    );
    if env.contains_key("MADOGUCHI_METRICS_ADDR") {
        env.insert(
            "MADOGUCHI_METRICS_ADDR".into(),
            format!("127.0.0.1:{}", free_port()),
        );
    }
    if env.contains_key("MADOGUCHI_PKCS11_TOKEN") {
        env.extend(site.token.env().into_iter().map(|(k, v)| (k.to_owned(), v)));
    }
    let url = app
        .database_url
        .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    env.insert("DATABASE_URL".into(), url);
    env
}

/// The unit's arguments with this test's ports.
fn arguments(args: &[String], site: &Site) -> Vec<String> {
    args.iter()
        .map(|a| {
            a.replace("127.0.0.1:8080", &format!("127.0.0.1:{}", site.public_port))
                .replace("127.0.0.1:8081", &format!("127.0.0.1:{}", site.office_port))
        })
        .collect()
}

fn madoguchi(args: &[String], env: &BTreeMap<String, String>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .kill_on_drop(true);
    command
}

fn run(program: &str, args: &[&str]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for `localhost` signed by it.
fn certificates(dir: &Path) {
    let p = |f: &str| dir.join(f).display().to_string();
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.crt"),
            "-days",
            "2",
            "-subj",
            "/CN=madoguchi test CA",
        ],
    );
    run(
        "openssl",
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p("site.key"),
            "-out",
            &p("site.csr"),
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").expect("ext");
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &p("site.csr"),
            "-CA",
            &p("ca.crt"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p("site.crt"),
            "-days",
            "2",
            "-extfile",
            &p("san.ext"),
        ],
    );
}

/// deploy/nginx/madoguchi.conf with this test's ports, certificates and logs, inside a
/// minimal main configuration.
fn nginx_conf(site: &Site) -> PathBuf {
    let conf =
        std::fs::read_to_string(format!("{ROOT}/deploy/nginx/madoguchi.conf")).expect("conf");
    let t = |f: &str| site.tmp.join(f).display().to_string();
    let mut tls = [site.public_tls, site.office_tls].into_iter();
    let mut body = String::new();
    for line in conf.lines() {
        let line = if line.trim() == "listen 443 ssl http2;" {
            format!(
                "    listen 127.0.0.1:{} ssl http2;",
                tls.next().expect("two TLS servers")
            )
        } else if line.trim() == "listen 80;" {
            format!("    listen 127.0.0.1:{};", free_port())
        } else {
            line.replace("127.0.0.1:8080", &format!("127.0.0.1:{}", site.public_port))
                .replace("127.0.0.1:8081", &format!("127.0.0.1:{}", site.office_port))
                .replace("/etc/ssl/madoguchi/apply.crt", &t("site.crt"))
                .replace("/etc/ssl/madoguchi/apply.key", &t("site.key"))
                .replace("/etc/ssl/madoguchi/office.crt", &t("site.crt"))
                .replace("/etc/ssl/madoguchi/office.key", &t("site.key"))
                .replace("/var/log/nginx/", &format!("{}/", site.tmp.display()))
                .replace("apply.bank.example.jp", "localhost")
                .replace("office.bank.example.jp", "localhost")
        };
        body.push_str(&line);
        body.push('\n');
    }
    let main = format!(
        "pid {pid};\nerror_log {err};\nevents {{}}\nhttp {{\n  access_log {acc};\n  \
         client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n{body}}}\n",
        pid = t("nginx.pid"),
        err = t("nginx-error.log"),
        acc = t("access.log"),
        tmp = site.tmp.display(),
    );
    let path = site.tmp.join("nginx.conf");
    std::fs::write(&path, main).expect("nginx.conf");
    path
}

fn tools_present() -> bool {
    let present = [
        "/usr/sbin/nginx",
        "/usr/bin/openssl",
        "/usr/bin/curl",
        common::token::SOFTHSM_MODULE,
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    if !present {
        assert!(
            !common::in_ci(),
            "nginx, openssl, curl and SoftHSM2 are required when CI=true (scripts/test installs them)"
        );
        eprintln!("SKIPPED: nginx, openssl, curl or SoftHSM2 missing");
    }
    present
}

/// `curl` through nginx with the test CA: status line and headers.
fn fetch(site: &Site, port: u16, path: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "--cacert"])
        .arg(site.tmp.join("ca.crt"))
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_lowercase()
}

async fn owner_runs(owner: &TestApp, args: &[&str]) {
    let out = common::madoguchi(owner, args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn doctor(env: &BTreeMap<String, String>, serve_args: &[String]) -> serde_json::Value {
    let mut args = vec!["doctor".to_owned()];
    args.extend(serve_args.iter().skip(1).cloned());
    args.extend(["--format".to_owned(), "json".to_owned()]);
    let out = madoguchi(&args, env).output().await.expect("doctor");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn failed(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| format!("{} {:?}", c["id"], c["findings"]))
        .collect()
}

#[tokio::test]
async fn the_deploy_layout_serves_over_tls_and_scores_100() {
    if !tools_present() {
        return;
    }
    let Some(mut owner) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let out = common::madoguchi(&owner, &["migrate", "--create-roles"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    owner.stop_server().await;
    // What the test's own server ran (a retention pass at its start) is not the layout's.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&owner.database_url)
        .await
        .expect("owner connection");
    sqlx::query("DELETE FROM job_runs")
        .execute(&mut conn)
        .await
        .expect("job runs");
    // The development core key that `keys init` made beside the data goes: in production it
    // never is on this host (doctor's MDG-KEY-02 would stop both units).
    std::fs::remove_file(&owner.core_private_key).expect("core key");
    // The back-office key moves into the HSM (a SoftHSM2 token here): a key pair generated
    // there, the file key retired (nothing is wrapped to it yet; office.pub is dated back past
    // the retirement grace).
    let token = SoftToken::create().expect("SoftHSM2 (tools_present checked it)");
    let file_key = std::fs::read_to_string(owner.data.join("keys/office.pub")).expect("pub");
    let file_key = madoguchi_seal::OfficePublicKey::parse_file_text(&file_key)
        .expect("office.pub")
        .key_id()
        .to_string();
    let token_args = token.args();
    let mut rotate: Vec<&str> = token_args.iter().map(String::as_str).collect();
    rotate.extend(["keys", "rotate"]);
    owner_runs(&owner, &rotate).await;
    std::fs::File::options()
        .write(true)
        .open(owner.data.join("keys/office.pub"))
        .expect("office.pub")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .expect("mtime");
    let mut retire: Vec<&str> = token_args.iter().map(String::as_str).collect();
    retire.extend(["keys", "retire", &file_key]);
    owner_runs(&owner, &retire).await;
    let tmp = tempfile::tempdir().expect("temp");
    let site = Site {
        token,
        tmp: tmp.path().to_path_buf(),
        public_port: free_port(),
        office_port: free_port(),
        public_tls: free_port(),
        office_tls: free_port(),
    };
    std::fs::write(site.tmp.join("bank.toml"), madoguchi::demo::DEMO_PROFILE).expect("profile");
    certificates(&site.tmp);

    let (public_args, public_files) = unit("madoguchi-public.service");
    let (office_args, office_files) = unit("madoguchi-office.service");
    let public_env = environment(&site, &owner, &public_files, "madoguchi_public");
    let office_env = environment(&site, &owner, &office_files, "madoguchi_office");
    let public_args = arguments(&public_args, &site);
    let office_args = arguments(&office_args, &site);
    let mut office = madoguchi(&office_args, &office_env)
        .stdout(Stdio::null())
        .spawn()
        .expect("office");
    wait_for_port(site.office_port, "the office unit", &mut office).await;
    let mut public = madoguchi(&public_args, &public_env)
        .stdout(Stdio::null())
        .spawn()
        .expect("public");
    wait_for_port(site.public_port, "the public unit", &mut public).await;
    let conf = nginx_conf(&site);
    let mut nginx = Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(&site.tmp)
        .arg("-c")
        .arg(&conf)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("nginx");
    wait_for_port(site.public_tls, "nginx", &mut nginx).await;

    // Through nginx over TLS: the public site and the back office's sign-in page, with
    // madoguchi's headers and no version banner.
    let page = fetch(&site, site.public_tls, "/");
    assert!(page.starts_with("http/2 200"), "{page}");
    assert!(page.contains("strict-transport-security"), "{page}");
    assert!(page.contains("content-security-policy"), "{page}");
    assert!(!page.contains("nginx/"), "no version banner: {page}");
    let sign_in = fetch(&site, site.office_tls, "/sign-in");
    assert!(sign_in.starts_with("http/2 200"), "{sign_in}");
    assert!(sign_in.contains("x-frame-options: deny"), "{sign_in}");

    // The office unit leaves retention to its own unit: it has run no pass (it would have at
    // its start).
    let retention_runs: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM job_runs WHERE job = 'retention'")
            .fetch_one(&mut conn)
            .await
            .expect("job runs");
    assert_eq!(retention_runs, 0, "the office unit purged by itself");
    // The two timers' jobs, each as its unit runs it with its own role: the retention purge
    // (the office unit leaves it to this job) and the audit verification.
    for (name, role) in [
        ("madoguchi-retention.service", "madoguchi_retention"),
        ("madoguchi-audit-verify.service", "madoguchi_audit"),
    ] {
        let (args, files) = unit(name);
        let out = madoguchi(&args, &environment(&site, &owner, &files, role))
            .output()
            .await
            .expect(name);
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // doctor with each unit's settings: everything passes (the retention and verification
    // runs just recorded included).
    let report = doctor(&public_env, &public_args).await;
    assert_eq!(failed(&report), Vec::<String>::new(), "public unit");
    assert_eq!(report["score"], 100);
    let report = doctor(&office_env, &office_args).await;
    assert_eq!(failed(&report), Vec::<String>::new(), "office unit");
    assert_eq!(report["score"], 100);
    // The operator's view of the same (shown with --nocapture).
    for (name, env, serve_args) in [
        ("public", &public_env, &public_args),
        ("office", &office_env, &office_args),
    ] {
        let mut args = vec!["doctor".to_owned()];
        args.extend(serve_args.iter().skip(1).cloned());
        let out = madoguchi(&args, env).output().await.expect("doctor");
        eprintln!(
            "doctor, {name} unit:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // One break: the public process's role granted SELECT on a personal table. doctor
    // reports it as high, and the public unit refuses to start with it.
    let owner_url = owner.database_url.clone();
    let grant = |sql: &'static str| {
        let url = owner_url.clone();
        async move {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .expect("owner connection");
            sqlx::query(sql).execute(&mut conn).await.expect(sql);
        }
    };
    grant("GRANT SELECT ON application_personal TO madoguchi_public").await;
    let report = doctor(&public_env, &public_args).await;
    assert!(
        failed(&report).iter().any(|f| f.contains("MDG-PG-04")),
        "{:?}",
        failed(&report)
    );
    let mut second_public = public_args.clone();
    if let Some(addr) = second_public
        .iter_mut()
        .find(|a| a.contains(&site.public_port.to_string()))
    {
        *addr = addr.replace(&site.public_port.to_string(), &free_port().to_string());
    }
    let refused = madoguchi(&second_public, &public_env)
        .output()
        .await
        .expect("serve");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "serve must refuse: {stderr}"
    );
    assert!(stderr.contains("MDG-PG-04"), "{stderr}");
    grant("REVOKE SELECT ON application_personal FROM madoguchi_public").await;
    let report = doctor(&public_env, &public_args).await;
    assert_eq!(
        failed(&report),
        Vec::<String>::new(),
        "public unit, revoked"
    );

    // nginx's own stop, so that its workers end with it.
    let stop = Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(&site.tmp)
        .arg("-c")
        .arg(&conf)
        .args(["-s", "stop"])
        .status()
        .await;
    assert!(stop.is_ok_and(|s| s.success()), "nginx -s stop");
    let _ = nginx.wait().await;
    let _ = public.kill().await;
    let _ = office.kill().await;
    owner.stop().await;
}
