//! Identity documents in an S3-compatible bucket (issue 8): the real `madoguchi serve`, with
//! `--documents s3://BUCKET/PREFIX` and a local moto_server as the storage, takes an
//! applicant's photos through the public form. The bucket holds one object per document, named
//! by its id, holding exactly the encrypted bytes the documents folder would (no image header,
//! no EXIF, not the uploaded file); the back office opens them; `madoguchi purge` deletes the
//! objects with their rows and keys; and an upload while the bucket is unreachable fails
//! without leaving a row behind.

mod common;

use std::time::{Duration, Instant};

use common::applicant::{Applicant, apply, post_step, verify_email};
use common::documents::{CAMERA_MAKE, GPS_JPEG, GPS_LATITUDE, PNG_TEXT, TEXT_PNG, upload_all};
use common::moto::Moto;
use common::office::staff_client;
use common::{Db, TestApp};
use madoguchi_documents::DOCUMENT_FIELD;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::WrappedKey;
use sqlx::Connection as _;
use tokio::process::{Child, Command};

const BUCKET: &str = "madoguchi-documents";
const PREFIX: &str = "bank/identity";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `madoguchi` binary on this app's data and database, its documents in the bucket.
fn madoguchi(app: &TestApp, moto: &Moto) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    command
        .args(["--data-dir", app.data.to_str().expect("path")])
        .args(["--database-url", &app.database_url])
        .args(["--documents", &format!("s3://{BUCKET}/{PREFIX}")])
        .args(["--s3-endpoint", &moto.endpoint])
        .envs(moto.env())
        .env("MADOGUCHI_LOG", "error")
        .kill_on_drop(true);
    command
}

/// `serve --demo` as its own process, waiting until it answers.
async fn serve(app: &TestApp, moto: &Moto, public: u16, office: u16) -> Child {
    let mut child = madoguchi(app, moto)
        .args(["serve", "--demo"])
        .args(["--public-addr", &format!("127.0.0.1:{public}")])
        .args(["--office-addr", &format!("127.0.0.1:{office}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", office))
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

/// Sets an application's status and when it last changed (retention cannot wait a week).
async fn decided_long_ago(app: &TestApp, id: uuid::Uuid) {
    let at = madoguchi_store::db_time(time::OffsetDateTime::now_utc() - time::Duration::days(200));
    let mut conn = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("open SQLite");
    sqlx::query("UPDATE applications SET status = 'rejected', updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut conn)
        .await
        .expect("set status");
}

#[tokio::test]
async fn documents_are_encrypted_objects_in_the_bucket_and_deleted_with_their_keys() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    moto.create_bucket(BUCKET).await;
    let Some(mut owner) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    owner.stop_server().await;
    let (public, office) = (free_port(), free_port());
    let mut server = serve(&owner, &moto, public, office).await;
    let site = owner
        .external(
            format!("http://127.0.0.1:{public}"),
            format!("http://127.0.0.1:{office}"),
        )
        .await;

    // An applicant sends the three photos through the public form.
    let applicant = Applicant::new();
    let receipt = apply(&site, &TestApp::client(), &applicant).await;
    let id = site
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("query")
        .expect("application stored");
    let documents = site
        .store()
        .application_documents(id)
        .await
        .expect("documents");
    assert_eq!(documents.len(), 3);

    // The bucket: one object per document, named by its id under the prefix; nothing in the
    // data folder.
    let mut expected: Vec<String> = documents
        .iter()
        .map(|d| format!("{PREFIX}/{}", d.id.hyphenated()))
        .collect();
    expected.sort();
    assert_eq!(moto.keys(BUCKET, PREFIX).await, expected);
    let folder = owner.data.join("documents");
    assert!(
        !folder.exists() || std::fs::read_dir(&folder).expect("folder").next().is_none(),
        "no document in the data folder"
    );

    // Each object is ciphertext: the stored format, no image, no metadata, not the upload;
    // the back office's key opens it.
    let keyring = OfficeKeyring::load(&owner.data.join("keys")).expect("office key");
    for document in &documents {
        let object = moto
            .object(BUCKET, &format!("{PREFIX}/{}", document.id.hyphenated()))
            .await;
        assert!(object.starts_with(b"MDGDOC01"), "the stored format");
        for (what, needle) in [
            ("JPEG header", &[0xFF, 0xD8, 0xFF][..]),
            ("PNG signature", b"\x89PNG"),
            ("PNG header", b"IHDR"),
            ("EXIF header", b"Exif\0\0"),
            ("GPS position", &GPS_LATITUDE[..]),
            ("camera make", CAMERA_MAKE),
            ("PNG text", PNG_TEXT),
            ("the photo's last bytes", &GPS_JPEG[GPS_JPEG.len() - 64..]),
            ("the PNG's last bytes", &TEXT_PNG[TEXT_PNG.len() - 32..]),
        ] {
            assert!(!find(&object, needle), "{what} in the object");
        }
        assert_ne!(object.as_slice(), GPS_JPEG);
        assert_ne!(object.as_slice(), TEXT_PNG);
        let key = site
            .store()
            .document_key(document.id)
            .await
            .expect("query")
            .expect("data key");
        let wrapped = WrappedKey::from_stored(key.wrapped).expect("wrapped key");
        let plain = keyring
            .open_record(&document.id, &wrapped)
            .expect("unwraps")
            .decrypt_field(DOCUMENT_FIELD, &object[8..])
            .expect("the object decrypts");
        assert_eq!(plain.len() as i64, document.size_bytes);
        image::load_from_memory(&plain).expect("an image");
    }

    // The back office shows each one (from the bucket, audited).
    let operator = staff_client(&site, "operator", "bank").await;
    for document in &documents {
        let opened = operator
            .post_form(
                &format!("/documents/{}", document.id),
                &[("purpose", "identity-check")],
            )
            .await;
        assert_eq!(opened.status(), 200, "{} opens", document.kind);
        let bytes = opened.bytes().await.expect("document");
        assert_eq!(bytes.len() as i64, document.size_bytes);
    }

    // Retention: a week after the decision `madoguchi purge` deletes the keys and rows, then
    // the objects.
    decided_long_ago(&owner, id).await;
    let purged = madoguchi(&owner, &moto)
        .args(["purge", "--demo", "--format", "json"])
        .output()
        .await
        .expect("purge");
    assert!(
        purged.status.success(),
        "purge: {}",
        String::from_utf8_lossy(&purged.stderr)
    );
    assert_eq!(moto.keys(BUCKET, PREFIX).await, Vec::<String>::new());
    for document in &documents {
        assert!(
            site.store()
                .document_key(document.id)
                .await
                .expect("query")
                .is_none(),
            "the data key is gone"
        );
    }
    assert!(site.store().document_ids().await.expect("ids").is_empty());

    // The bucket goes away: an upload fails cleanly, the server keeps serving, and no row
    // points at a document that is not there.
    moto.stop().await;
    let client = TestApp::client();
    let other = Applicant::new();
    verify_email(&site, &client, &other.email).await;
    let r = post_step(&site, &client, "personal", &other.personal_step()).await;
    assert!(r.url().path().ends_with("/profile"));
    let r = post_step(&site, &client, "profile", &other.profile_step()).await;
    assert!(r.url().path().ends_with("/identity"));
    let r = upload_all(&site, &client).await;
    assert_eq!(
        r.status(),
        503,
        "the upload is not accepted, try again later"
    );
    assert!(r.headers().contains_key("retry-after"));
    assert!(
        site.store().document_ids().await.expect("ids").is_empty(),
        "no row for a document the bucket never stored"
    );
    assert_eq!(
        TestApp::client()
            .get(site.url("/"))
            .send()
            .await
            .expect("home")
            .status(),
        200,
        "the server still serves"
    );
    assert!(server.try_wait().expect("status").is_none(), "serve runs");

    server.start_kill().expect("kill");
    let _ = server.wait().await;
    owner.stop().await;
}

#[tokio::test]
async fn serve_refuses_a_bucket_that_does_not_answer_and_names_it() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let Some(mut owner) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    owner.stop_server().await;
    // No bucket created.
    let run = madoguchi(&owner, &moto)
        .args(["serve", "--demo", "--public-addr", "127.0.0.1:0"])
        .args(["--office-addr", "127.0.0.1:0"])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("serve ended instead of serving")
        .expect("serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve refuses: {stderr}");
    assert!(stderr.contains(BUCKET), "names the bucket: {stderr}");
    assert!(
        stderr.contains(&moto.endpoint),
        "names the endpoint: {stderr}"
    );
    assert!(
        stderr.contains("AWS_ACCESS_KEY_ID"),
        "says what to check: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    moto.stop().await;
    owner.stop().await;
}
