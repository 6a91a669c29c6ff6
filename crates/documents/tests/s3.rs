//! The S3 backend against a local S3-compatible server (moto_server, which `scripts/test`
//! installs into `target/test-tools/moto`): the object holds exactly the sealed bytes, an id is
//! never overwritten (`If-None-Match: *`), a listing finds the documents under the prefix only,
//! a deletion is final and may be repeated, and the back office's key opens what was read.
//!
//! Credentials come from the AWS environment, which a test may not set for its own process:
//! the test starts moto, then runs itself again as a child process with that environment
//! (`MADOGUCHI_S3_TEST_ENDPOINT` tells the child where the server is). With CI=true a missing
//! moto fails the test.
#![cfg(feature = "s3")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use madoguchi_documents::{DOCUMENT_FIELD, DocumentStore, S3Location, sanitize};
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EnvelopeWriter, PublicKeySet, WrappedKey};
use support::*;
use uuid::Uuid;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const BUCKET: &str = "documents-test";
const TEST: &str = "objects_are_the_sealed_bytes_never_overwritten_and_deleted";
const CHILD: &str = "MADOGUCHI_S3_TEST_ENDPOINT";

fn python() -> Option<PathBuf> {
    let path = std::env::var_os("MADOGUCHI_TEST_MOTO")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/test-tools/moto/bin/python"));
    if path.exists() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "moto_server is required when CI=true: {} is missing (scripts/test installs moto[server])",
        path.display()
    );
    eprintln!("SKIPPED: no moto at {}", path.display());
    None
}

/// Kills moto when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn objects_are_the_sealed_bytes_never_overwritten_and_deleted() {
    if let Ok(endpoint) = std::env::var(CHILD) {
        return tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(checks(endpoint));
    }
    let Some(python) = python() else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let _server = Server(
        Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let env = [
        ("AWS_ACCESS_KEY_ID", "madoguchi-test"),
        ("AWS_SECRET_ACCESS_KEY", "madoguchi-test-secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    let created = Command::new(&python)
        .args([
            "-c",
            "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1]).create_bucket(Bucket=sys.argv[2])",
            &endpoint,
            BUCKET,
        ])
        .envs(env)
        .output()
        .expect("boto3");
    assert!(
        created.status.success(),
        "create bucket: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
        .envs(env)
        .env(CHILD, &endpoint)
        .output()
        .expect("the checks run");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(stdout.contains("1 passed"), "the checks ran: {stdout}");
}

async fn checks(endpoint: String) {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).expect("data");
    let keys = data.join("keys");
    madoguchi_keyring::init_keys(&keys, &data, &tmp.path().join("core.key")).expect("keys");
    let public = PublicKeySet::load(&keys).expect("public keys");
    let at = |prefix: &str| {
        S3Location::parse(
            &format!("s3://{BUCKET}/{prefix}"),
            Some(endpoint.clone()),
            Some("us-east-1".to_owned()),
        )
        .expect("location")
    };
    let store = DocumentStore::open_s3(
        &at("bank/identity"),
        EnvelopeWriter::new(public.office.clone()),
    )
    .await
    .expect("the bucket answers");
    let neighbour = DocumentStore::open_s3(&at("bank/other"), EnvelopeWriter::new(public.office))
        .await
        .expect("the bucket answers");

    let document = sanitize(&jpeg_with_gps(120, 80, 1)).expect("accepted");
    let id = Uuid::now_v7();
    let sealed = store.seal(&id, &document).expect("sealed");
    let bytes = sealed.bytes().to_vec();
    assert!(bytes.starts_with(b"MDGDOC01"));
    let stored = store.write(sealed).await.expect("stored");
    assert_eq!(stored.stored_bytes, bytes.len() as u64);

    // Read back: the ciphertext exactly, which only the office key opens.
    let read = store
        .read_sealed(&id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read, bytes[8..]);
    let office = OfficeKeyring::load(&keys).expect("office key");
    let wrapped = WrappedKey::from_stored(stored.wrapped_key).expect("wrapped");
    let plain = office
        .open_record(&id, &wrapped)
        .expect("unwraps")
        .decrypt_field(DOCUMENT_FIELD, &read)
        .expect("decrypts");
    assert_eq!(plain.as_slice(), &document.bytes[..]);

    // Never overwritten: a second write of the id is refused and the first stays.
    let again = store.seal(&id, &document).expect("sealed");
    let refused = store.write(again).await;
    assert!(refused.is_err(), "an id is never overwritten");
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains(BUCKET) && message.contains(&endpoint),
        "{message}"
    );
    assert_eq!(
        store
            .read_sealed(&id)
            .await
            .expect("read")
            .expect("present"),
        bytes[8..]
    );

    // Listed under its own prefix only.
    let other = Uuid::now_v7();
    neighbour
        .write(neighbour.seal(&other, &document).expect("sealed"))
        .await
        .expect("stored");
    let listed: Vec<Uuid> = store
        .list()
        .await
        .expect("list")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed, vec![id]);
    assert!(store.read_sealed(&other).await.expect("read").is_none());

    // Deleted for good; deleting again is fine.
    assert!(store.delete(&id).await.expect("delete"));
    assert!(store.delete(&id).await.expect("delete again"));
    assert!(store.read_sealed(&id).await.expect("read").is_none());
    assert!(store.list().await.expect("list").is_empty());
}
