//! A local S3-compatible server for the tests: `moto_server` (PyPI `moto[server]`, pinned;
//! `scripts/test` installs it into `target/test-tools/moto`) on a free loopback port. With
//! CI=true a missing or broken moto fails the test; elsewhere the test is skipped, saying so.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The access key the tests give the server (moto accepts any).
pub const ACCESS_KEY_ID: &str = "madoguchi-test";
pub const SECRET_ACCESS_KEY: &str = "madoguchi-test-secret";
pub const REGION: &str = "ap-northeast-1";

pub struct Moto {
    child: Child,
    python: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    http: reqwest::Client,
}

/// The Python with moto (`MADOGUCHI_TEST_MOTO`, else the one `scripts/test` installs).
fn python() -> Option<PathBuf> {
    let path = std::env::var_os("MADOGUCHI_TEST_MOTO")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/test-tools/moto/bin/python"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        !super::in_ci(),
        "moto_server is required when CI=true: {} is missing (scripts/test installs moto[server])",
        path.display()
    );
    eprintln!("SKIPPED: no moto at {}", path.display());
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

impl Moto {
    /// Starts moto_server and waits (up to 60 s) until it answers; `None` only outside CI
    /// when moto is not installed.
    pub async fn start() -> Option<Moto> {
        let python = python()?;
        let port = free_port();
        let mut child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} -m moto.server: {e}", python.display()));
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{endpoint}/")).send().await
                && r.status().is_success()
            {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server ({}) exited: {status}", python.display());
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on {endpoint} within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(Moto {
            child,
            python,
            endpoint,
            http,
        })
    }

    /// Creates `bucket` (in [`REGION`]).
    pub async fn create_bucket(&self, bucket: &str) {
        let body = format!(
            "<CreateBucketConfiguration><LocationConstraint>{REGION}</LocationConstraint>\
             </CreateBucketConfiguration>"
        );
        let r = self
            .http
            .put(format!("{}/{bucket}", self.endpoint))
            .body(body)
            .send()
            .await
            .expect("create bucket");
        assert!(r.status().is_success(), "create bucket: {}", r.status());
    }

    /// The names of the objects under `prefix/`.
    pub async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let r = self
            .http
            .get(format!(
                "{}/{bucket}?list-type=2&prefix={prefix}/",
                self.endpoint
            ))
            .send()
            .await
            .expect("list objects");
        assert!(r.status().is_success(), "list objects: {}", r.status());
        let xml = r.text().await.expect("listing");
        let re = regex_lite::Regex::new("<Key>([^<]+)</Key>").expect("regex");
        let mut keys: Vec<String> = re.captures_iter(&xml).map(|c| c[1].to_owned()).collect();
        keys.sort();
        keys
    }

    /// The bytes of an object, as the bucket holds them: read by boto3 (moto's own
    /// dependency), a client independent of the server's.
    pub async fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        const READ: &str = "import boto3, sys\n\
            s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name=sys.argv[2], \
            aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])\n\
            body = s3.get_object(Bucket=sys.argv[5], Key=sys.argv[6])['Body'].read()\n\
            sys.stdout.buffer.write(body)\n";
        let out = Command::new(&self.python)
            .args([
                "-c",
                READ,
                &self.endpoint,
                REGION,
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
            ])
            .args([bucket, key])
            .output()
            .await
            .expect("boto3 runs");
        assert!(
            out.status.success(),
            "get {key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Stops the server (the bucket becomes unreachable).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// The environment a `madoguchi` process needs to reach the bucket.
    pub fn env(&self) -> [(&'static str, &'static str); 3] {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
            ("AWS_REGION", REGION),
        ]
    }
}
