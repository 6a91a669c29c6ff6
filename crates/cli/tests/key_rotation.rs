//! Rotating the back office's key pair while the server runs (SPEC §6, issue 7): a key file
//! rotated to a new key file, and a key file rotated into a PKCS#11 token (SoftHSM2) whose
//! private key never leaves it. Every record stays readable throughout; old records move to
//! the new key in the rewrap; the old key is deleted only when nothing uses it.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::applicant::{Applicant, apply};
use common::office::{StaffClient, staff_client};
use common::token::SoftToken;
use common::{Db, Options, TestApp, madoguchi, succeeded};
use reqwest::StatusCode;

/// An application submitted through the public site: its receipt and its applicant.
struct Submitted {
    receipt: String,
    applicant: Applicant,
}

async fn submit(app: &TestApp) -> Submitted {
    let applicant = Applicant::new();
    let receipt = apply(app, &TestApp::client(), &applicant).await;
    Submitted { receipt, applicant }
}

/// How many data keys each back-office key id wraps.
async fn counts(app: &TestApp) -> Vec<(String, i64)> {
    app.store().data_key_counts().await.expect("counts")
}

fn office_pub_key_id(app: &TestApp) -> String {
    let key = madoguchi_seal::OfficePublicKey::load(&app.data.join("keys/office.pub"))
        .expect("office.pub");
    key.key_id().to_string()
}

/// Submits applications until the public site wraps one's data key to `key_id` (it re-reads
/// office.pub every few seconds), and returns them all.
async fn submit_until_wrapped_to(app: &TestApp, key_id: &str) -> Vec<Submitted> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut submitted = Vec::new();
    loop {
        let record = submit(app).await;
        let id = app
            .store()
            .application_id_by_receipt(&record.receipt)
            .await
            .expect("lookup")
            .expect("application exists");
        submitted.push(record);
        let wrapped = app
            .store()
            .data_keys_wrapped_to(key_id, None, 100_000)
            .await
            .expect("data keys");
        if wrapped.iter().any(|k| k.record_id == id) {
            return submitted;
        }
        let now = counts(app).await;
        assert!(
            Instant::now() < deadline,
            "the public site never wrapped to the rotated key {key_id}: {now:?}"
        );
        // The site re-reads office.pub every 10 s; an application a second is plenty to see it.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The back office reveals the applicant's family name and e-mail: the record opens.
async fn assert_readable(app: &TestApp, staff: &StaffClient, record: &Submitted) {
    let id = app
        .store()
        .application_id_by_receipt(&record.receipt)
        .await
        .expect("lookup")
        .expect("application exists");
    let shown = staff
        .post_form(
            &format!("/applications/{id}/reveal"),
            &[
                ("fields", "family_name"),
                ("fields", "email"),
                ("purpose", "review"),
            ],
        )
        .await;
    let status = shown.status();
    let page = shown.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "{}: {page}", record.receipt);
    assert!(
        page.contains(&record.applicant.email) && page.contains(&record.applicant.family_name),
        "application {} did not open",
        record.receipt
    );
}

/// Pretends a key file of the data folder (`keys/office.pub`, `keys/blind-index.key`) was
/// written eleven minutes ago: past the retirement grace.
fn backdate(app: &TestApp, file: &str) {
    std::fs::File::options()
        .write(true)
        .open(app.data.join(file))
        .expect(file)
        .set_modified(SystemTime::now() - Duration::from_secs(11 * 60))
        .expect("set mtime");
}

/// Every step audited, and the audit log intact.
async fn assert_audited(app: &TestApp, steps: &[&str]) {
    let actions = audit_actions(app).await;
    for action in steps {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    succeeded(&madoguchi(app, &["audit", "verify"]).await, "audit verify");
}

/// `doctor`'s MDG-KEY-05 (an unfinished rotation): its findings, empty when it passes.
async fn unfinished_rotation(app: &TestApp) -> Vec<String> {
    let out = madoguchi(app, &["doctor", "--format", "json"]).await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let check = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "MDG-KEY-05")
        .expect("MDG-KEY-05 is checked")
        .clone();
    check["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.store()
        .recent_audit_events(500)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("keys."))
        .collect()
}

async fn rotate_file_key(db: Db) {
    let Some(app) = TestApp::spawn_with(db, Options::unlimited()).await else {
        return;
    };
    let staff = staff_client(&app, "operator", "branches:101").await;
    let before = [submit(&app).await, submit(&app).await];
    let old_key = office_pub_key_id(&app);

    succeeded(&madoguchi(&app, &["keys", "rotate"]).await, "keys rotate");
    let new_key = office_pub_key_id(&app);
    assert_ne!(old_key, new_key, "office.pub names a new key");
    assert!(
        app.data.join(format!("keys/office.{old_key}.key")).exists(),
        "the old key is kept under its id"
    );

    // The running server wraps new records to the new key and still opens the old ones.
    let after = submit_until_wrapped_to(&app, &new_key).await;
    for record in before.iter().chain(after.last()) {
        assert_readable(&app, &staff, record).await;
    }

    // Retiring now is refused: records still use the old key, and the rotation is recent.
    let refused = madoguchi(&app, &["keys", "retire", &old_key]).await;
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("keys rewrap"), "{message}");
    let refused = madoguchi(&app, &["keys", "retire", &new_key]).await;
    assert!(
        !refused.status.success(),
        "the current key is never retired"
    );

    let pending = unfinished_rotation(&app).await;
    assert!(
        pending
            .iter()
            .any(|f| f.contains("still wrapped to the earlier key") && f.contains(&old_key)),
        "{pending:?}"
    );

    let out = succeeded(&madoguchi(&app, &["keys", "rewrap"]).await, "keys rewrap");
    assert!(out.contains("data keys moved"), "{out}");
    let pending = unfinished_rotation(&app).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(
        pending[0].contains("wraps no data key any more"),
        "{pending:?}"
    );
    let now = counts(&app).await;
    assert!(
        now.iter().all(|(k, _)| *k == new_key),
        "every data key moved to {new_key}: {now:?}"
    );

    // Still too soon after the rotation for every public process to have seen it.
    let refused = madoguchi(&app, &["keys", "retire", &old_key]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("retire it after"));
    backdate(&app, "keys/office.pub");
    succeeded(
        &madoguchi(&app, &["keys", "retire", &old_key]).await,
        "keys retire",
    );
    assert!(!app.data.join(format!("keys/office.{old_key}.key")).exists());
    assert_eq!(unfinished_rotation(&app).await, Vec::<String>::new());

    // With the old key gone, the records, old and new, still open (a sample: detection
    // holds a member of staff who reads too many customers in an hour).
    for record in before.iter().chain(after.first()).chain(after.last()) {
        assert_readable(&app, &staff, record).await;
    }
    assert_audited(&app, &["keys.rotate", "keys.rewrap", "keys.retire"]).await;
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_file_key_keeps_every_record_readable_on_sqlite() {
    rotate_file_key(Db::Sqlite).await;
}

#[tokio::test]
async fn a_rotated_file_key_keeps_every_record_readable_on_postgres() {
    rotate_file_key(Db::Postgres).await;
}

async fn with_token(app: &TestApp, token: &SoftToken, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = token.args();
    all.extend(args.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    madoguchi(app, &refs).await
}

/// A server (SQLite) whose back office is given a SoftHSM2 token of its own.
async fn spawn_with_token() -> Option<(SoftToken, TestApp)> {
    let token = SoftToken::create()?;
    let options = Options {
        office_token: Some(token.config()),
        ..Options::unlimited()
    };
    let app = TestApp::spawn_with(Db::Sqlite, options).await?;
    Some((token, app))
}

#[tokio::test]
async fn an_office_key_moved_into_a_token_opens_every_record_and_never_leaves_it() {
    let Some((token, app)) = spawn_with_token().await else {
        return;
    };
    let staff = staff_client(&app, "operator", "branches:101").await;
    let before = [submit(&app).await, submit(&app).await];
    let file_key = office_pub_key_id(&app);

    // The rotation generates the new key pair inside the token.
    succeeded(
        &with_token(&app, &token, &["keys", "rotate"]).await,
        "keys rotate into the token",
    );
    let token_key = office_pub_key_id(&app);
    let office_pub = std::fs::read_to_string(app.data.join("keys/office.pub")).expect("pub");
    assert!(office_pub.starts_with("madoguchi-p256-public v1 office "));
    assert!(!app.data.join("keys/office.key").exists());

    let objects = token.objects();
    assert!(objects.contains("Private Key Object; EC"), "{objects}");
    for attribute in [
        "sensitive",
        "always sensitive",
        "never extractable",
        "local",
    ] {
        assert!(
            objects.contains(attribute),
            "the token's private key is not {attribute}: {objects}"
        );
    }

    // New records are wrapped to the token key (ECDH-ES, v2), and both kinds open.
    let after = submit_until_wrapped_to(&app, &token_key).await;
    for record in before.iter().chain(after.last()) {
        assert_readable(&app, &staff, record).await;
    }

    succeeded(
        &with_token(&app, &token, &["keys", "rewrap"]).await,
        "keys rewrap",
    );
    assert!(counts(&app).await.iter().all(|(k, _)| *k == token_key));
    backdate(&app, "keys/office.pub");
    succeeded(
        &with_token(&app, &token, &["keys", "retire", &file_key]).await,
        "keys retire",
    );

    // No private key is left in the keys folder, yet every record opens: through the token.
    let key_files: Vec<String> = std::fs::read_dir(app.data.join("keys"))
        .expect("keys folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("office") && n.ends_with(".key"))
        .collect();
    assert!(key_files.is_empty(), "office key files left: {key_files:?}");
    for record in before.iter().chain(after.first()).chain(after.last()) {
        assert_readable(&app, &staff, record).await;
    }
    let status = succeeded(
        &with_token(&app, &token, &["keys", "status", "--format", "json"]).await,
        "keys status",
    );
    let status: serde_json::Value = serde_json::from_str(&status).expect("json");
    let rows = &status["office"];
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{status}");
    assert_eq!(rows[0]["held_in"], "token");
    assert_eq!(rows[0]["current"], true);

    // Without the token the back office cannot open anything any more.
    let refused = madoguchi(&app, &["keys", "rewrap"]).await;
    assert!(!refused.status.success());
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_audit_signing_key_keeps_earlier_checkpoints_verifiable() {
    let Some(app) = TestApp::spawn_with(Db::Sqlite, Options::unlimited()).await else {
        return;
    };
    // An audited change (the public site's submissions are not staff actions).
    succeeded(
        &madoguchi(
            &app,
            &[
                "staff",
                "add",
                "--username",
                "sato",
                "--role",
                "auditor",
                "--scope",
                "bank",
            ],
        )
        .await,
        "staff add",
    );
    // The head is signed now (by this command, or already by the server's own task).
    succeeded(
        &madoguchi(&app, &["audit", "checkpoint"]).await,
        "audit checkpoint",
    );
    let old_origin =
        madoguchi_audit::AuditVerifyingKey::load(&app.data.join("keys/audit-signing.pub"))
            .expect("verifying key")
            .origin();
    let notes = app.store().audit_checkpoints().await.expect("checkpoints");
    assert!(
        notes.iter().all(|c| c.note.starts_with(&old_origin)),
        "{old_origin}"
    );
    assert!(!notes.is_empty());

    succeeded(
        &madoguchi(&app, &["keys", "rotate", "audit-signing"]).await,
        "keys rotate audit-signing",
    );
    // The rotation is itself an audit event, so the log grew: the next checkpoint is signed
    // by the new key, under a new origin.
    let checkpoint = succeeded(
        &madoguchi(&app, &["audit", "checkpoint"]).await,
        "audit checkpoint",
    );
    let new_origin = checkpoint.lines().next().expect("origin").to_owned();
    assert_ne!(new_origin, old_origin);
    let verified = succeeded(
        &madoguchi(&app, &["audit", "verify", "--format", "json"]).await,
        "audit verify",
    );
    let verified: serde_json::Value = serde_json::from_str(&verified).expect("json");
    assert_eq!(verified["intact"], true, "{verified}");
    // Each note is kept twice, in the database and in the sink: two origins, four notes.
    assert!(
        verified["checkpoints"].as_u64().expect("count") >= 4,
        "{verified}"
    );

    // Without the earlier verifying key, its checkpoints no longer open: the kept file is
    // what makes them verifiable.
    let old_id = old_origin.trim_start_matches("madoguchi/audit/");
    let kept = app.data.join(format!("keys/audit-signing.{old_id}.pub"));
    let moved = app.data.join("earlier-audit-key.pub");
    std::fs::rename(&kept, &moved).expect("move the earlier key away");
    let out = madoguchi(&app, &["audit", "verify", "--format", "json"]).await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["intact"], false, "{report}");
    std::fs::rename(&moved, &kept).expect("put it back");
    app.stop().await;
}

#[tokio::test]
async fn an_audit_signing_key_moved_into_a_token_signs_checkpoints_from_there() {
    let Some((token, app)) = spawn_with_token().await else {
        return;
    };
    let staff_add = |name: &'static str| {
        [
            "staff",
            "add",
            "--username",
            name,
            "--role",
            "auditor",
            "--scope",
            "bank",
        ]
    };
    succeeded(&madoguchi(&app, &staff_add("suzuki")).await, "staff add");
    succeeded(
        &with_token(&app, &token, &["audit", "checkpoint"]).await,
        "audit checkpoint (file key)",
    );
    succeeded(
        &with_token(&app, &token, &["keys", "rotate", "audit-signing"]).await,
        "keys rotate audit-signing into the token",
    );
    assert!(
        !app.data.join("keys/audit-signing.key").exists(),
        "no audit signing key file is left"
    );
    let objects = token.objects();
    assert!(
        objects.contains("Private Key Object; EC_EDWARDS"),
        "{objects}"
    );
    assert!(objects.contains("never extractable"), "{objects}");

    succeeded(&madoguchi(&app, &staff_add("kato")).await, "staff add");
    // Without the token nothing can sign any more; with it, the token signs.
    let refused = madoguchi(&app, &["audit", "checkpoint"]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("token"));
    let note = succeeded(
        &with_token(&app, &token, &["audit", "checkpoint"]).await,
        "audit checkpoint (token key)",
    );
    let origin = madoguchi_audit::AuditVerifyingKey::load(&app.data.join("keys/audit-signing.pub"))
        .expect("verifying key")
        .origin();
    assert!(note.starts_with(&origin), "{note}");
    let verified = succeeded(
        &madoguchi(&app, &["audit", "verify", "--format", "json"]).await,
        "audit verify",
    );
    let verified: serde_json::Value = serde_json::from_str(&verified).expect("json");
    assert_eq!(verified["intact"], true, "{verified}");
    // `keys init` after an upgrade leaves the token's keys alone.
    let core = app.core_private_key.display().to_string();
    succeeded(
        &madoguchi(&app, &["keys", "init", "--core-private-key", &core]).await,
        "keys init",
    );
    assert!(!app.data.join("keys/audit-signing.key").exists());
    app.stop().await;
}

// --- The blind-index key ----------------------------------------------------------------------

/// The blind-index key file's key.
fn blind_key(app: &TestApp, file: &str) -> madoguchi_seal::BlindIndexKey {
    madoguchi_seal::BlindIndexKey::load(&app.data.join("keys").join(file)).expect(file)
}

/// Stored e-mail indexes per blind-index key id (`None`: written before ids were kept).
async fn index_keys(app: &TestApp) -> Vec<(Option<String>, i64)> {
    let mut counts: Vec<(Option<String>, i64)> = Vec::new();
    for (_, key, n) in app.store().email_index_key_counts().await.expect("counts") {
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, total)) => *total += n,
            None => counts.push((key, n)),
        }
    }
    counts
}

/// Every status-check e-mail to `to` in the outbox folder so far.
fn status_mails(app: &TestApp, to: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(app.data.join("outbox")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| common::decoded_mail(&raw))
        .filter(|mail| {
            mail.contains(&format!("To: {to}")) && mail.contains("お申込み状況の確認画面")
        })
        .collect()
}

/// Starts a status check through the API; returns its id and the code of its new e-mail.
async fn start_status_check(app: &TestApp, record: &Submitted) -> (String, String) {
    let to = &record.applicant.email;
    let seen = status_mails(app, to);
    let started = common::reservation::api_post(
        app,
        "/api/v1/status-checks",
        &serde_json::json!({ "receipt_number": record.receipt, "email": to }),
    )
    .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let check_id = started.json["check_id"]
        .as_str()
        .expect("check_id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(mail) = status_mails(app, to)
            .into_iter()
            .find(|m| !seen.contains(m))
        {
            return (check_id, common::applicant::code_in(&mail));
        }
        assert!(Instant::now() < deadline, "no status code e-mail to {to}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Confirms a status check: the application's status, or the HTTP status it was refused with.
async fn confirm_status_check(app: &TestApp, check_id: &str, code: &str) -> Result<String, u16> {
    let shown = common::reservation::api_post(
        app,
        &format!("/api/v1/status-checks/{check_id}/confirm"),
        &serde_json::json!({ "code": code }),
    )
    .await;
    match shown.status {
        200 => Ok(shown.json["status"].as_str().unwrap_or_default().to_owned()),
        other => Err(other),
    }
}

/// The applicant's status through the API, from the start to the code.
async fn status_of(app: &TestApp, record: &Submitted) -> Result<String, u16> {
    let (check_id, code) = start_status_check(app, record).await;
    confirm_status_check(app, &check_id, &code).await
}

/// Tries one more booking for `visitor` (who holds the profile's maximum): the API's answer.
async fn one_booking_too_many(app: &TestApp, visitor: &common::reservation::Visitor) -> String {
    use common::reservation::{api_post, slots};
    let listed = slots(app, "naha").await;
    let slot = listed
        .iter()
        .rev()
        .find(|s| s.free > 0)
        .expect("a free slot");
    let answer = api_post(
        app,
        "/api/v1/bookings",
        &visitor.json("naha", &slot.starts_at),
    )
    .await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    answer.code().to_owned()
}

async fn rotate_blind_index(db: Db) {
    use common::reservation::{Visitor, book_by_api, slots};
    let options = Options {
        profile_edits: vec![(
            "max_future_bookings_per_email = 3",
            "max_future_bookings_per_email = 2",
        )],
        ..Options::unlimited()
    };
    let Some(app) = TestApp::spawn_with(db, options).await else {
        return;
    };
    // Before the rotation: two applications, and an address holding its two bookings.
    let before = [submit(&app).await, submit(&app).await];
    let visitor = Visitor::new();
    let listed = slots(&app, "naha").await;
    book_by_api(&app, "naha", &listed[0], &visitor).await;
    book_by_api(&app, "naha", &listed[1], &visitor).await;
    let old_key = blind_key(&app, "blind-index.key");
    let old_id = old_key.key_id().to_string();
    assert_eq!(
        index_keys(&app).await,
        vec![(Some(old_id.clone()), 4)],
        "every stored index names its key"
    );

    let out = succeeded(
        &madoguchi(&app, &["keys", "rotate", "blind-index"]).await,
        "keys rotate blind-index",
    );
    let new_key = blind_key(&app, "blind-index.key");
    let new_id = new_key.key_id().to_string();
    assert_ne!(old_id, new_id);
    assert!(out.contains(&new_id), "{out}");
    assert_eq!(
        blind_key(&app, "blind-index.previous.key")
            .key_id()
            .to_string(),
        old_id,
        "the replaced key is kept while rows need it"
    );
    let refused = madoguchi(&app, &["keys", "rotate", "blind-index"]).await;
    assert!(!refused.status.success(), "one rotation at a time");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unfinished"));

    // The running public site indexes new records with the new key (it re-reads the key files
    // every 10 s) ...
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut during = Vec::new();
    while !index_keys(&app)
        .await
        .iter()
        .any(|(k, _)| k.as_deref() == Some(&new_id))
    {
        assert!(
            Instant::now() < deadline,
            "the public site kept the old key"
        );
        during.push(submit(&app).await);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let during = during.pop().expect("an application under the new key");
    // ... and still finds what the old key indexed: a status check, and the address's bookings.
    assert_eq!(
        status_of(&app, &before[0]).await.as_deref(),
        Ok("submitted")
    );
    assert_eq!(status_of(&app, &during).await.as_deref(), Ok("submitted"));
    assert_eq!(
        one_booking_too_many(&app, &visitor).await,
        "too-many-bookings"
    );
    // A status check whose code is typed after the re-index.
    let (pending_check, pending_code) = start_status_check(&app, &before[1]).await;

    let pending = unfinished_rotation(&app).await;
    assert!(
        pending
            .iter()
            .any(|f| f.contains("still need the earlier blind-index key") && f.contains(&old_id)),
        "{pending:?}"
    );
    let out = succeeded(&madoguchi(&app, &["keys", "reindex"]).await, "keys reindex");
    assert!(out.contains("e-mail indexes moved"), "{out}");
    assert!(
        out.contains("0 stored indexes are not computed by it"),
        "{out}"
    );
    let now = index_keys(&app).await;
    assert!(
        now.iter().all(|(k, _)| k.as_deref() == Some(&new_id)),
        "every stored index is the new key's: {now:?}"
    );
    // The rows hold the new key's index of each address, and no longer the old key's.
    for record in before.iter().chain([&during]) {
        let email = record.applicant.email.to_ascii_lowercase();
        let old = old_key.email_index(&email);
        let new = new_key.email_index(&email);
        let store = app.store();
        let found = store
            .application_status(&record.receipt, [new.as_bytes(), new.as_bytes()])
            .await
            .expect("status");
        assert!(found.is_some(), "{} re-indexed", record.receipt);
        let stale = store
            .application_status(&record.receipt, [old.as_bytes(), old.as_bytes()])
            .await
            .expect("status");
        assert!(stale.is_none(), "{} keeps no old index", record.receipt);
    }
    assert_eq!(
        confirm_status_check(&app, &pending_check, &pending_code)
            .await
            .as_deref(),
        Ok("submitted"),
        "a status check started before the re-index"
    );

    // Retiring: too soon first (a process may still index with the old key), then done.
    let refused = madoguchi(&app, &["keys", "retire", "blind-index"]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("retire it after"));
    let pending = unfinished_rotation(&app).await;
    assert!(
        pending
            .iter()
            .any(|f| f.contains("keys retire blind-index")),
        "{pending:?}"
    );
    backdate(&app, "keys/blind-index.key");
    succeeded(
        &madoguchi(&app, &["keys", "retire", "blind-index"]).await,
        "keys retire blind-index",
    );
    assert!(!app.data.join("keys/blind-index.previous.key").exists());
    assert_eq!(unfinished_rotation(&app).await, Vec::<String>::new());

    // With the old key gone, every record is still found by its address.
    for record in before.iter().chain([&during]) {
        assert_eq!(status_of(&app, record).await.as_deref(), Ok("submitted"));
    }
    assert_eq!(
        one_booking_too_many(&app, &visitor).await,
        "too-many-bookings"
    );
    let status = succeeded(
        &madoguchi(&app, &["keys", "status", "--format", "json"]).await,
        "keys status",
    );
    let status: serde_json::Value = serde_json::from_str(&status).expect("json");
    assert_eq!(
        status["blind_index"][0]["key_id"],
        new_id.as_str(),
        "{status}"
    );
    assert_eq!(
        status["blind_index"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );
    assert_audited(&app, &["keys.rotate", "keys.reindex", "keys.retire"]).await;
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_blind_index_key_keeps_every_address_findable_on_sqlite() {
    rotate_blind_index(Db::Sqlite).await;
}

#[tokio::test]
async fn a_rotated_blind_index_key_keeps_every_address_findable_on_postgres() {
    rotate_blind_index(Db::Postgres).await;
}
