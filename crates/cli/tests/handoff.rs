//! Hand-off to core banking (SPEC §5), end to end: an application submitted over HTTP is set
//! to approved in the database, exported as a batch (`handoff export`), opened on the core
//! side (`madoguchi core open`, the binary: the PIN comes out right; a tampered batch or
//! manifest is refused with exit code 3), and answered (`handoff import`): completed, secrets
//! and identity documents gone at once, the account number readable with the office key; a
//! second import changes nothing. Then the supervisors' button.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::applicant::{Applicant, apply};
use common::office::staff_client;
use common::{Db, TestApp, contains, contains_token};
use madoguchi::commands::handoff::{export_batch, import_answer};
use madoguchi::data_dir::DataDir;
use madoguchi_core_open::{BatchOpenError, CorePrivateKey};
use madoguchi_handoff::HandoffVerifyingKey;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EncryptedFields, WrappedKey};
use sqlx::Connection;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_madoguchi");

/// Runs `$body` with `$conn` a fresh connection of `$db` to the app's database.
macro_rules! on_db {
    ($app:expr, $db:ident, $conn:ident => $body:expr) => {
        match $app.db {
            Db::Sqlite => {
                type $db = sqlx::Sqlite;
                let mut $conn = sqlx::SqliteConnection::connect(&$app.database_url)
                    .await
                    .expect("open SQLite");
                $body
            }
            Db::Postgres => {
                type $db = sqlx::Postgres;
                let mut $conn = sqlx::PgConnection::connect(&$app.database_url)
                    .await
                    .expect("open PostgreSQL");
                $body
            }
        }
    };
}

/// The review is H2's: the test sets the decision directly.
async fn set_status(app: &TestApp, id: Uuid, status: &str) {
    on_db!(app, Db, conn => {
        sqlx::query::<Db>("UPDATE applications SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(&mut conn)
            .await
            .expect("set status");
    })
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    on_db!(app, Db, conn => {
        sqlx::query_scalar::<Db, String>("SELECT status FROM applications WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("status")
    })
}

async fn count(app: &TestApp, sql: &'static str, id: Uuid) -> i64 {
    on_db!(app, Db, conn => {
        sqlx::query_scalar::<Db, i64>(sql)
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("count")
    })
}

/// (actor, action, fields) of the audit events with `action`.
async fn audit(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    on_db!(app, Db, conn => {
        sqlx::query_as::<Db, (String, String, String)>(
            "SELECT actor, action, fields FROM audit_events WHERE action = $1 ORDER BY seq",
        )
        .bind(action)
        .fetch_all(&mut conn)
        .await
        .expect("audit")
    })
}

fn core_open(app: &TestApp, batch: &Path, manifest: Option<&Path>, signer: &Path) -> Output {
    let mut command = std::process::Command::new(BIN);
    command
        .args(["core", "open", "--key"])
        .arg(&app.core_private_key)
        .arg("--signer")
        .arg(signer)
        .env_remove("MADOGUCHI_HANDOFF_SIGNER");
    if let Some(manifest) = manifest {
        command.arg("--manifest").arg(manifest);
    }
    command.arg(batch).output().expect("core open runs")
}

fn signer_of(app: &TestApp) -> PathBuf {
    app.data
        .join("keys")
        .join(madoguchi_handoff::VERIFYING_KEY_FILE)
}

async fn approved_application(app: &TestApp) -> (Applicant, String, Uuid) {
    let applicant = Applicant::new();
    let receipt = apply(app, &TestApp::client(), &applicant).await;
    let id = app
        .store()
        .application_id_by_receipt(&receipt)
        .await
        .expect("look-up")
        .expect("application stored");
    set_status(app, id, "approved").await;
    (applicant, receipt, id)
}

async fn hand_off_end_to_end(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let (applicant, receipt, id) = approved_application(&app).await;
    let documents = app.store().application_documents(id).await.expect("docs");
    assert!(
        !documents.is_empty(),
        "the application has identity documents"
    );
    let data = DataDir::open(&app.data).expect("data dir");

    // Export: one batch, the application handed off, the batch's row.
    let outcome = export_batch(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &common::Options::default().profile(),
        None,
    )
    .await
    .expect("export");
    let batch_id = outcome.batch_id.expect("a batch was written");
    assert_eq!(outcome.receipt_numbers, std::slice::from_ref(&receipt));
    assert_eq!(status_of(&app, id).await, "handed-off");
    let rows = app.store().handoff_batches(10).await.expect("batches");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].id, rows[0].count), (batch_id, 1));
    assert_eq!(rows[0].created_by, "cli:handoff-export");
    let exported = audit(&app, "application.handoff").await;
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].0, "cli:handoff-export");
    assert!(exported[0].2.contains("family_name"), "{:?}", exported[0]);

    // Nothing readable on disk: neither a personal value nor the PIN.
    let batch_path = outcome.batch_path.expect("batch path");
    let manifest_path = outcome.manifest_path.expect("manifest path");
    let handoff_dir = app.data.join("handoff");
    for entry in std::fs::read_dir(&handoff_dir)
        .expect("handoff dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "no temporary file left: {name}");
        let bytes = std::fs::read(entry.path()).expect("read");
        for value in applicant.personal_values() {
            assert!(!contains(&bytes, &value), "{value} in {name}");
        }
        assert!(!contains_token(&bytes, &applicant.pin), "PIN in {name}");
    }
    // A second export finds nothing approved and writes nothing.
    let again = export_batch(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &common::Options::default().profile(),
        None,
    )
    .await
    .expect("export");
    assert_eq!(again.batch_id, None);

    // The core side opens it: personal fields and the PIN in clear.
    let opened = core_open(&app, &batch_path, None, &signer_of(&app));
    assert_eq!(
        opened.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&opened.stdout).expect("JSON");
    assert_eq!(json["batch_id"], batch_id.to_string());
    let first = &json["applications"][0];
    assert_eq!(first["receipt_number"], receipt.as_str());
    assert_eq!(first["branch_code"], "101");
    assert_eq!(
        first["fields"]["family_name"],
        applicant.family_name.as_str()
    );
    assert_eq!(first["secrets"]["cash-card-pin"], applicant.pin.as_str());

    // A tampered batch: refused before decrypting, naming the hash.
    let tmp = tempfile::tempdir().expect("tmp");
    let mut bytes = std::fs::read(&batch_path).expect("batch");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let bad_batch = tmp.path().join("bad.batch");
    std::fs::write(&bad_batch, &bytes).expect("write");
    let refused = core_open(&app, &bad_batch, Some(&manifest_path), &signer_of(&app));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("SHA-256") && stderr.contains("altered"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());

    // A tampered manifest (one byte of its count): the signature fails.
    let manifest = std::fs::read_to_string(&manifest_path).expect("manifest");
    assert!(manifest.contains("\"count\": 1"), "{manifest}");
    let bad_manifest = tmp.path().join("bad.manifest.json");
    std::fs::write(
        &bad_manifest,
        manifest.replace("\"count\": 1", "\"count\": 2"),
    )
    .expect("write");
    let refused = core_open(&app, &batch_path, Some(&bad_manifest), &signer_of(&app));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("signature is invalid"), "{stderr}");

    // Another signer's key is refused, naming both ids; the library says the same.
    let other = madoguchi_handoff::HandoffSigningKey::generate().expect("key");
    let other_pub = tmp.path().join("other.pub");
    std::fs::write(&other_pub, other.verifying_key().to_file_text()).expect("write");
    let refused = core_open(&app, &batch_path, None, &other_pub);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("trusted signer"), "{stderr}");
    let core = CorePrivateKey::load(&app.core_private_key).expect("core key");
    let signer = HandoffVerifyingKey::load(&signer_of(&app)).expect("signer");
    assert!(matches!(
        core.open_batch(manifest.as_bytes(), &bytes, &signer),
        Err(BatchOpenError::Refused(_))
    ));

    // Core banking's answer: opened, plus a receipt number it does not know.
    let answer = serde_json::json!([
        {"receipt_number": receipt, "outcome": "opened", "branch_code": "101", "account_number": "1234567"},
        {"receipt_number": "NO-SUCH-RECEIPT", "outcome": "opened", "branch_code": "101", "account_number": "7654321"},
    ]);
    let answer = serde_json::to_vec(&answer).expect("json");
    let report = import_answer(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &answer,
    )
    .await
    .expect("import");
    assert_eq!(report.completed, std::slice::from_ref(&receipt));
    assert_eq!(report.unknown, ["NO-SUCH-RECEIPT"]);
    assert_eq!(status_of(&app, id).await, "completed");
    assert!(
        app.store()
            .sealed_secrets(id)
            .await
            .expect("secrets")
            .is_empty()
    );
    assert!(
        app.store()
            .application_documents(id)
            .await
            .expect("docs")
            .is_empty()
    );
    for doc in &documents {
        let keys = count(
            &app,
            "SELECT COUNT(*) FROM data_keys WHERE record_id = $1",
            doc.id,
        )
        .await;
        assert_eq!(keys, 0, "the document's key is gone");
        assert!(
            !app.data.join("documents").join(doc.id.to_string()).exists(),
            "the document's file is gone"
        );
    }
    // The account number, with the rest of the record, opens with the office's key only.
    let record = app
        .store()
        .encrypted_personal_record(id)
        .await
        .expect("record")
        .expect("personal data kept");
    let keyring = OfficeKeyring::load(&app.data.join("keys")).expect("office key");
    let opened = keyring
        .open_record(
            &id,
            &WrappedKey::from_stored(record.wrapped).expect("wrapped"),
        )
        .expect("unwrap");
    let fields = EncryptedFields::from_bytes(&record.fields).expect("fields");
    let account = opened
        .decrypt_field(
            "account_number",
            fields.get("account_number").expect("account"),
        )
        .expect("decrypt");
    assert_eq!(account.as_slice(), b"1234567");
    let name = opened
        .decrypt_field("family_name", fields.get("family_name").expect("name"))
        .expect("decrypt");
    assert_eq!(name.as_slice(), applicant.family_name.as_bytes());

    // The same answer again changes nothing, and says so.
    let second = import_answer(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &answer,
    )
    .await
    .expect("import again");
    assert!(!second.changed_anything());
    assert_eq!(second.already_answered, std::slice::from_ref(&receipt));
    assert_eq!(status_of(&app, id).await, "completed");

    app.stop().await;
}

#[tokio::test]
async fn sqlite_hand_off_end_to_end() {
    hand_off_end_to_end(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_hand_off_end_to_end() {
    hand_off_end_to_end(Db::Postgres).await;
}

/// A refusal by core banking rejects the application and deletes its secrets.
#[tokio::test]
async fn sqlite_a_refusal_rejects() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let (_, receipt, id) = approved_application(&app).await;
    let data = DataDir::open(&app.data).expect("data dir");
    export_batch(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &common::Options::default().profile(),
        None,
    )
    .await
    .expect("export");
    let answer = serde_json::json!({"results": [
        {"receipt_number": receipt, "outcome": "refused", "reason": "duplicate customer"},
    ]});
    let report = import_answer(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &serde_json::to_vec(&answer).expect("json"),
    )
    .await
    .expect("import");
    assert_eq!(report.rejected, [receipt]);
    assert_eq!(status_of(&app, id).await, "rejected");
    assert!(
        app.store()
            .sealed_secrets(id)
            .await
            .expect("secrets")
            .is_empty()
    );
    app.stop().await;
}

/// The supervisors' button: a batch of the applications in the supervisor's scope.
#[tokio::test]
async fn sqlite_the_supervisors_button_writes_a_batch() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let (_, _, id) = approved_application(&app).await;
    let operator = staff_client(&app, "operator", "branches:101").await;
    assert_eq!(operator.get("/handoff").await.status(), 403);

    // A supervisor of another branch sees nothing to hand off and hands off nothing.
    let elsewhere = staff_client(&app, "supervisor", "branches:102").await;
    let page = elsewhere.get("/handoff").await.text().await.expect("page");
    assert!(page.contains(r#"id="handoff-waiting">0<"#), "{page}");

    let supervisor = staff_client(&app, "supervisor", "branches:101").await;
    let page = supervisor.get("/handoff").await.text().await.expect("page");
    assert!(page.contains(r#"id="handoff-waiting">1<"#), "{page}");
    let answer = supervisor.post_form("/handoff", &[]).await;
    assert_eq!(answer.status(), 200);
    let page = answer.text().await.expect("page");
    assert!(page.contains("作成しました"), "{page}");
    assert_eq!(status_of(&app, id).await, "handed-off");
    let batches = app.store().handoff_batches(10).await.expect("batches");
    assert_eq!(batches.len(), 1);
    assert!(batches[0].created_by.starts_with("staff:"));
    assert!(
        page.contains(&batches[0].id.to_string()),
        "the page lists the batch"
    );
    let audited = audit(&app, "application.handoff").await;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].0.starts_with("staff:"));

    // The batch downloads as ciphertext that the core side opens.
    let batch = supervisor
        .get(&format!("/handoff/batches/{}", batches[0].id))
        .await;
    assert_eq!(batch.status(), 200);
    let bytes = batch.bytes().await.expect("bytes");
    let on_disk = std::fs::read(
        app.data
            .join("handoff")
            .join(madoguchi_handoff::batch_file_name(&batches[0].id)),
    )
    .expect("batch file");
    assert_eq!(bytes.as_ref(), on_disk.as_slice());

    // Issue 16, 7: a supervisor of another branch neither sees nor downloads it.
    let page = elsewhere.get("/handoff").await.text().await.expect("page");
    assert!(!page.contains(&batches[0].id.to_string()), "{page}");
    for part in ["", "?part=manifest"] {
        let answer = elsewhere
            .get(&format!("/handoff/batches/{}{part}", batches[0].id))
            .await;
        assert_eq!(answer.status(), 404, "out of scope: {part}");
    }
    // A bank-wide supervisor does.
    let bank = staff_client(&app, "supervisor", "bank").await;
    let page = bank.get("/handoff").await.text().await.expect("page");
    assert!(page.contains(&batches[0].id.to_string()), "{page}");
    app.stop().await;
}

fn office_keyring(data: &DataDir) -> madoguchi_keyring::OfficeKeyring {
    madoguchi_keyring::OfficeKeyring::load(&data.keys()).expect("office key")
}

fn public_keys(data: &DataDir) -> madoguchi_seal::PublicKeySet {
    madoguchi_seal::PublicKeySet::load(&data.keys()).expect("public keys")
}

/// Rotating the core-banking key is a profile change: secrets sealed after it are sealed to the
/// new key, those before it keep theirs, and the core side opens one batch holding both with
/// both private keys (and refuses it with only the new one).
#[tokio::test]
async fn sqlite_a_core_key_rotated_in_the_profile_applies_to_new_seals() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let (before, receipt_before, _) = approved_application(&app).await;

    let new_key = madoguchi_keyring::PrivateKey::generate().expect("key");
    let tmp = tempfile::tempdir().expect("tmp");
    let new_private = tmp.path().join("core-banking-2027.key");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&new_private)
            .expect("key file");
        let text = new_key.to_file_text(madoguchi_seal::keyfile::KeyRole::CoreBanking);
        file.write_all(text.as_bytes()).expect("write");
    }
    let public_line = new_key
        .public_key()
        .to_file_text(madoguchi_seal::keyfile::KeyRole::CoreBanking);
    let section: &'static str = Box::leak(
        format!(
            "[core_banking]\npublic_key = \"{}\"\n\n[detection]",
            public_line.trim_end()
        )
        .into_boxed_str(),
    );
    let options = common::Options {
        profile_edits: vec![("[detection]", section)],
        ..common::Options::default()
    };
    let profile = options.profile();
    assert!(profile.core_banking_key().is_some());
    // The server restarted with the new profile (a sibling on the same data and database).
    let rotated = app.spawn_sibling(options).await;
    let (after, receipt_after, _) = approved_application(&rotated).await;

    let data = DataDir::open(&app.data).expect("data dir");
    let keys = madoguchi::commands::keys::public_keys(&data, &profile).expect("keys");
    assert_eq!(keys.core_banking.key_id(), new_key.key_id());
    let outcome = export_batch(
        app.store(),
        &data,
        &office_keyring(&data),
        &keys,
        &common::Options::default().profile(),
        None,
    )
    .await
    .expect("export");
    let batch = outcome.batch_path.expect("batch");

    let open = |keys: &[&Path]| {
        let mut command = std::process::Command::new(BIN);
        command.args(["core", "open"]);
        for key in keys {
            command.arg("--key").arg(key);
        }
        command
            .arg("--signer")
            .arg(signer_of(&app))
            .env_remove("MADOGUCHI_HANDOFF_SIGNER")
            .arg(&batch)
            .output()
            .expect("core open runs")
    };
    // The new key alone opens the batch but not the secret sealed before the rotation.
    let refused = open(&[&new_private]);
    assert_eq!(
        refused.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains(&receipt_before));

    let opened = open(&[&new_private, &app.core_private_key]);
    assert_eq!(
        opened.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&opened.stdout).expect("JSON");
    let pin_of = |receipt: &str| {
        json["applications"]
            .as_array()
            .expect("applications")
            .iter()
            .find(|a| a["receipt_number"] == receipt)
            .map(|a| a["secrets"]["cash-card-pin"].clone())
    };
    assert_eq!(pin_of(&receipt_before), Some(before.pin.clone().into()));
    assert_eq!(pin_of(&receipt_after), Some(after.pin.clone().into()));
    rotated.stop().await;
    app.stop().await;
}

/// Issue 16, 1: `handoff export` from the command line reads every approved application; a
/// profile that does not exempt it holds it to detection's limits: with 1 customer an hour,
/// a batch of 2 is refused whole — no batch, both still approved, the refusal audited.
#[tokio::test]
async fn sqlite_a_command_export_not_exempted_meets_the_limits() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let (_, _, first) = approved_application(&app).await;
    let (_, _, second) = approved_application(&app).await;
    let strict = common::Options {
        profile_edits: vec![
            (
                r#"exempt_commands = ["handoff-export", "incident-notify-list"]"#,
                "exempt_commands = []",
            ),
            (
                "customers_read_per_hour = 60",
                "customers_read_per_hour = 1",
            ),
        ],
        ..common::Options::default()
    };
    let data = DataDir::open(&app.data).expect("data dir");
    let refused = export_batch(
        app.store(),
        &data,
        &office_keyring(&data),
        &public_keys(&data),
        &strict.profile(),
        None,
    )
    .await
    .expect_err("refused");
    assert!(
        format!("{refused:#}").contains("exempt_commands"),
        "{refused:#}"
    );
    assert!(
        app.store()
            .handoff_batches(10)
            .await
            .expect("batches")
            .is_empty()
    );
    assert_eq!(status_of(&app, first).await, "approved");
    assert_eq!(status_of(&app, second).await, "approved");
    let denied = app
        .store()
        .recent_audit_events(100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "application.handoff" && e.outcome == "denied")
        .count();
    assert_eq!(denied, 1);
    app.stop().await;
}
