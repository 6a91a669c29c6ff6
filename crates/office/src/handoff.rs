//! Hand-off to core banking (SPEC §5): the batch export of approved applications and the
//! import of core banking's answer. Used by the supervisors' page (`GET /handoff`,
//! `POST /handoff`) and by `madoguchi handoff export|import`.
//!
//! Export: every approved application (in the member of staff's scope) is audited, then its
//! personal fields are decrypted with the back office's keyring into one batch
//! (`madoguchi-handoff`), with its sealed secrets copied through unopened; the batch is sealed
//! to the core-banking key and its manifest signed with the hand-off signing key. The files
//! are written as hidden temporary files and synced, the applications move to handed-off with
//! the batch's row in one transaction, and only then are the files renamed into place: a crash
//! leaves either no batch or a complete one. No plaintext is ever written to disk.
//!
//! Import: core banking's answer completes an application (the record re-encrypted under a
//! fresh data key with the account number added; secrets, identity documents and their keys
//! deleted at once) or rejects it. Answering twice changes nothing the second time.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use madoguchi_documents::DocumentStore;
use madoguchi_domain::BankProfile;
use madoguchi_domain::account::AccountNumber;
use madoguchi_domain::profile::{BranchCode, CommandRead};
use madoguchi_handoff::{
    BatchApplication, BatchPayload, BatchSecret, HandoffSigningKey, PersonalValues, seal_batch,
};
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EncryptedFields, EnvelopeWriter, OfficePublicKey, PublicKey, WrappedKey};
use madoguchi_store::{HandoffAnswered, HandoffBatchRow, HandoffCandidate, HandoffRecorded, Store};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession};
use crate::view::Layout;

/// The personal field core banking's account number is stored as.
pub const ACCOUNT_NUMBER_FIELD: &str = "account_number";
/// The branch the account was opened at, as core banking answered.
pub const ACCOUNT_BRANCH_FIELD: &str = "account_branch_code";

/// What the hand-off needs: the store, the keys, and the folder of batches.
pub struct HandoffContext<'a> {
    pub store: &'a Store,
    /// Decrypts the personal fields (export) and the records to complete (import).
    pub keyring: &'a OfficeKeyring,
    /// The back office's public key: completed records are re-encrypted to it.
    pub office_public: &'a OfficePublicKey,
    /// The core-banking public key: batches are sealed to it.
    pub core_public: &'a PublicKey,
    /// Signs the manifests (export only).
    pub signer: Option<&'a HandoffSigningKey>,
    /// `<data-dir>/handoff`.
    pub dir: &'a Path,
    /// The identity documents' folder (import deletes the files).
    pub documents: Option<&'a DocumentStore>,
}

/// Who acts, for the audit log.
pub enum Auditor<'a> {
    /// A member of staff through the back office (recorded by [`crate::audit::record`]).
    Staff {
        state: &'a OfficeState,
        staff: &'a StaffSession,
        address: Option<String>,
    },
    /// A command or job, e.g. `cli:handoff-import`.
    System(&'a str),
    /// A command whose reads of personal data the profile exempts from detection, or screens
    /// ([`crate::detection::command`]), e.g. `cli:handoff-export`.
    Command {
        actor: &'a str,
        command: CommandRead,
        profile: &'a BankProfile,
    },
}

impl Auditor<'_> {
    fn actor(&self) -> String {
        match self {
            Auditor::Staff { staff, .. } => format!("staff:{}", staff.staff_id),
            Auditor::System(actor) | Auditor::Command { actor, .. } => (*actor).to_owned(),
        }
    }

    async fn record(&self, store: &Store, event: Event<'_>) -> Result<(), HandoffFailure> {
        match self {
            Auditor::Staff {
                state,
                staff,
                address,
            } => audit::record(state, Some(staff), address.clone(), event)
                .await
                .map_err(|e| HandoffFailure::Audit(e.to_string())),
            Auditor::System(actor) => store
                .insert_audit_event(&audit::row_of(actor, None, None, event))
                .await
                .map(|_seq| ())
                .map_err(|e| HandoffFailure::Audit(e.to_string())),
            Auditor::Command {
                actor,
                command,
                profile,
            } => crate::detection::command::append_command_reads(
                store,
                profile,
                *command,
                vec![audit::row_of(actor, None, None, event)],
            )
            .await
            .map_err(|e| HandoffFailure::Audit(e.to_string())),
        }
    }
}

/// The hand-off could not be done. Messages name what, never a value.
#[derive(Debug, thiserror::Error)]
pub enum HandoffFailure {
    #[error("storage: {0}")]
    Store(#[from] madoguchi_store::StoreError),
    #[error("the audit event could not be written, so nothing was exported: {0}")]
    Audit(String),
    #[error("application {0}: its personal record is missing or cannot be opened")]
    Record(String),
    #[error("application {0} changed meanwhile (withdrawn, or in another batch): run again")]
    Changed(Uuid),
    #[error("the hand-off signing key is not loaded")]
    NoSigner,
    #[error("the batch could not be sealed: {0}")]
    Seal(#[from] madoguchi_handoff::HandoffError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the answer file is not core banking's answer: {0}")]
    Answer(String),
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOutcome {
    /// `None` when there was nothing to export (no file written).
    pub batch_id: Option<Uuid>,
    pub receipt_numbers: Vec<String>,
    pub batch_path: Option<PathBuf>,
    pub manifest_path: Option<PathBuf>,
    /// SHA-256 of the batch file.
    pub sha256: Option<String>,
}

/// Exports every approved application whose branch `branches` covers (`None`: all) as one
/// batch into `ctx.dir`.
pub async fn export(
    ctx: &HandoffContext<'_>,
    branches: Option<&[String]>,
    auditor: &Auditor<'_>,
) -> Result<ExportOutcome, HandoffFailure> {
    let signer = ctx.signer.ok_or(HandoffFailure::NoSigner)?;
    let candidates: Vec<HandoffCandidate> = ctx
        .store
        .approved_for_handoff()
        .await?
        .into_iter()
        .filter(|c| branches.is_none_or(|b| b.contains(&c.branch_code)))
        .collect();
    if candidates.is_empty() {
        return Ok(ExportOutcome {
            batch_id: None,
            receipt_numbers: Vec::new(),
            batch_path: None,
            manifest_path: None,
            sha256: None,
        });
    }
    let batch_id = Uuid::now_v7();
    let now = OffsetDateTime::now_utc();
    let mut payload = BatchPayload::new(batch_id, now);
    for candidate in &candidates {
        payload
            .applications
            .push(application_for_batch(ctx, candidate, batch_id, auditor).await?);
    }
    let sealed = seal_batch(&payload, ctx.core_public, signer)?;
    drop(payload);

    create_private_dir(ctx.dir)?;
    let batch_path = ctx.dir.join(madoguchi_handoff::batch_file_name(&batch_id));
    let manifest_path = ctx
        .dir
        .join(madoguchi_handoff::manifest_file_name(&batch_id));
    let batch_tmp = write_hidden(&batch_path, &sealed.ciphertext)?;
    let manifest_tmp = match write_hidden(&manifest_path, &sealed.manifest.to_json()) {
        Ok(tmp) => tmp,
        Err(e) => {
            let _ = fs::remove_file(&batch_tmp);
            return Err(e);
        }
    };
    let discard = || {
        let _ = fs::remove_file(&batch_tmp);
        let _ = fs::remove_file(&manifest_tmp);
    };
    let row = HandoffBatchRow {
        id: batch_id,
        created_at: now,
        count: candidates.len() as i64,
        sha256: sealed.manifest.ciphertext_sha256.clone(),
        core_key_id: sealed.manifest.core_key_id.clone(),
        created_by: auditor.actor(),
    };
    let ids: Vec<Uuid> = candidates.iter().map(|c| c.id).collect();
    let failure = match ctx.store.record_handoff_batch(&row, &ids).await {
        Ok(HandoffRecorded::Recorded) => None,
        Ok(HandoffRecorded::NotApproved(id)) => Some(HandoffFailure::Changed(id)),
        Err(e) => Some(e.into()),
    };
    if let Some(failure) = failure {
        discard();
        // The applications' events are written already: say that no batch came of them.
        let _ = auditor
            .record(ctx.store, batch_event(batch_id, candidates.len(), "failed"))
            .await;
        return Err(failure);
    }
    // Committed: publish the batch, then its manifest (a manifest means a complete batch).
    publish(&batch_tmp, &batch_path)?;
    publish(&manifest_tmp, &manifest_path)?;
    sync_dir(ctx.dir)?;
    auditor
        .record(ctx.store, batch_event(batch_id, candidates.len(), "ok"))
        .await?;
    Ok(ExportOutcome {
        batch_id: Some(batch_id),
        receipt_numbers: candidates.into_iter().map(|c| c.receipt_number).collect(),
        batch_path: Some(batch_path),
        manifest_path: Some(manifest_path),
        sha256: Some(sealed.manifest.ciphertext_sha256),
    })
}

fn batch_event(batch_id: Uuid, count: usize, outcome: &str) -> Event<'_> {
    Event {
        action: "handoff.export",
        subject_kind: Some("batch"),
        subject_id: Some(batch_id.to_string()),
        fields: &[],
        purpose: Some("handoff"),
        detail: Some(format!("count={count}")),
        outcome,
    }
}

/// One application's entry: audited first, then decrypted.
async fn application_for_batch(
    ctx: &HandoffContext<'_>,
    candidate: &HandoffCandidate,
    batch_id: Uuid,
    auditor: &Auditor<'_>,
) -> Result<BatchApplication, HandoffFailure> {
    let missing = || HandoffFailure::Record(candidate.receipt_number.clone());
    let record = ctx
        .store
        .encrypted_personal_record(candidate.id)
        .await?
        .ok_or_else(missing)?;
    let encrypted = EncryptedFields::from_bytes(&record.fields).map_err(|_| missing())?;
    let names: Vec<&str> = encrypted.names().collect();
    auditor
        .record(
            ctx.store,
            Event {
                action: "application.handoff",
                subject_kind: Some("application"),
                subject_id: Some(candidate.id.to_string()),
                fields: &names,
                purpose: Some("handoff"),
                detail: Some(format!("batch={batch_id}")),
                outcome: "ok",
            },
        )
        .await?;
    let fields =
        decrypt_all(ctx.keyring, candidate.id, &record.wrapped, &encrypted).ok_or_else(missing)?;
    let secrets = ctx
        .store
        .sealed_secrets(candidate.id)
        .await?
        .iter()
        .map(|s| BatchSecret::new(&s.kind, &s.key_id, &s.sealed))
        .collect();
    Ok(BatchApplication {
        application_id: candidate.id,
        receipt_number: candidate.receipt_number.clone(),
        product: candidate.product.clone(),
        branch_code: candidate.branch_code.clone(),
        submitted_at: rfc3339(candidate.submitted_at),
        fields,
        secrets,
    })
}

/// Every field of a record, in clear (wiped on drop); `None` when the key does not open it.
fn decrypt_all(
    keyring: &OfficeKeyring,
    record_id: Uuid,
    wrapped: &[u8],
    encrypted: &EncryptedFields,
) -> Option<PersonalValues> {
    let wrapped = WrappedKey::from_stored(wrapped.to_vec()).ok()?;
    let record = keyring.open_record(&record_id, &wrapped).ok()?;
    let mut values = PersonalValues::default();
    for (name, ct) in encrypted.iter() {
        let plain = record.decrypt_field(name, ct).ok()?;
        let text = String::from_utf8(plain.to_vec()).ok()?;
        values.insert(name, text);
    }
    Some(values)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HandoffFailure + '_ {
    move |source| HandoffFailure::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create_private_dir(dir: &Path) -> Result<(), HandoffFailure> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err(dir))
}

/// Writes `bytes` to `.<name>.tmp` beside `path` (mode 0600, synced); returns its path.
fn write_hidden(path: &Path, bytes: &[u8]) -> Result<PathBuf, HandoffFailure> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let written = (|| -> std::io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(HandoffFailure::Io { path: tmp, source });
    }
    Ok(tmp)
}

fn publish(tmp: &Path, path: &Path) -> Result<(), HandoffFailure> {
    fs::rename(tmp, path).map_err(io_err(path))
}

fn sync_dir(dir: &Path) -> Result<(), HandoffFailure> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    Ok(())
}

/// Core banking's answer: a list of results, bare or as `{"results": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum AnswerFile {
    Bare(Vec<AnswerItem>),
    Wrapped {
        #[allow(dead_code)]
        #[serde(default)]
        batch_id: Option<String>,
        results: Vec<AnswerItem>,
    },
}

/// One result: `opened` with the branch and account number, or `refused` with a reason.
#[derive(Deserialize)]
struct AnswerItem {
    receipt_number: String,
    outcome: String,
    #[serde(default)]
    branch_code: Option<String>,
    #[serde(default)]
    account_number: Option<String>,
    /// Read so that the file is accepted; never stored (it may hold anything).
    #[allow(dead_code)]
    #[serde(default)]
    reason: Option<String>,
}

/// What an import did, by receipt number.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// handed-off → completed now.
    pub completed: Vec<String>,
    /// handed-off → rejected now.
    pub rejected: Vec<String>,
    /// Already answered before (completed or rejected): nothing changed.
    pub already_answered: Vec<String>,
    /// Known but not handed off (receipt number, status): nothing changed.
    pub not_handed_off: Vec<(String, String)>,
    /// No such application.
    pub unknown: Vec<String>,
    /// Results that could not be used (receipt number, what is wrong).
    pub invalid: Vec<(String, String)>,
}

impl ImportReport {
    /// Whether the import changed anything.
    pub fn changed_anything(&self) -> bool {
        !self.completed.is_empty() || !self.rejected.is_empty()
    }
}

/// Imports core banking's answer (`bytes`: its JSON).
pub async fn import(
    ctx: &HandoffContext<'_>,
    bytes: &[u8],
    auditor: &Auditor<'_>,
) -> Result<ImportReport, HandoffFailure> {
    let file: AnswerFile =
        serde_json::from_slice(bytes).map_err(|e| HandoffFailure::Answer(e.to_string()))?;
    let items = match file {
        AnswerFile::Bare(items) | AnswerFile::Wrapped { results: items, .. } => items,
    };
    let mut report = ImportReport::default();
    for item in items {
        let receipt = item.receipt_number.chars().take(40).collect::<String>();
        let Some(target) = ctx.store.handoff_target(&item.receipt_number).await? else {
            report.unknown.push(receipt);
            continue;
        };
        match target.status.as_str() {
            "handed-off" => {}
            "completed" | "rejected" => {
                report.already_answered.push(receipt);
                continue;
            }
            other => {
                report.not_handed_off.push((receipt, other.to_owned()));
                continue;
            }
        }
        match item.outcome.as_str() {
            "opened" => {
                let account = item
                    .account_number
                    .as_deref()
                    .and_then(|a| AccountNumber::parse(a).ok());
                let branch = item
                    .branch_code
                    .as_deref()
                    .filter(|b| b.len() == 3)
                    .and_then(|b| BranchCode::parse(b).ok());
                let (Some(account), Some(branch)) = (account, branch) else {
                    report.invalid.push((
                        receipt,
                        "an opened account needs branch_code (3 digits) and account_number (7 digits)"
                            .to_owned(),
                    ));
                    continue;
                };
                match complete(ctx, target.id, &receipt, account, branch, auditor).await? {
                    HandoffAnswered::Done { .. } => report.completed.push(receipt),
                    HandoffAnswered::NotHandedOff => report.already_answered.push(receipt),
                }
            }
            "refused" => {
                auditor
                    .record(
                        ctx.store,
                        Event {
                            action: "application.handoff-refused",
                            subject_kind: Some("application"),
                            subject_id: Some(target.id.to_string()),
                            fields: &[],
                            purpose: Some("handoff"),
                            detail: None,
                            outcome: "ok",
                        },
                    )
                    .await?;
                let actor = auditor.actor();
                match ctx
                    .store
                    .refuse_handoff(target.id, &actor, OffsetDateTime::now_utc())
                    .await?
                {
                    HandoffAnswered::Done { .. } => report.rejected.push(receipt),
                    HandoffAnswered::NotHandedOff => report.already_answered.push(receipt),
                }
            }
            _ => report
                .invalid
                .push((receipt, "outcome must be opened or refused".to_owned())),
        }
    }
    auditor
        .record(
            ctx.store,
            Event {
                action: "handoff.import",
                subject_kind: Some("batch"),
                subject_id: None,
                fields: &[],
                purpose: Some("handoff"),
                detail: Some(format!(
                    "completed={},rejected={},already={},unknown={},invalid={}",
                    report.completed.len(),
                    report.rejected.len(),
                    report.already_answered.len() + report.not_handed_off.len(),
                    report.unknown.len(),
                    report.invalid.len()
                )),
                outcome: "ok",
            },
        )
        .await?;
    Ok(report)
}

/// Completes one application: its record re-encrypted under a fresh data key with the
/// account added, then (one transaction) secrets, documents and old key gone; then the files.
async fn complete(
    ctx: &HandoffContext<'_>,
    id: Uuid,
    receipt: &str,
    account: AccountNumber,
    branch: BranchCode,
    auditor: &Auditor<'_>,
) -> Result<HandoffAnswered, HandoffFailure> {
    let missing = || HandoffFailure::Record(receipt.to_owned());
    let record = ctx
        .store
        .encrypted_personal_record(id)
        .await?
        .ok_or_else(missing)?;
    let encrypted = EncryptedFields::from_bytes(&record.fields).map_err(|_| missing())?;
    let mut names: Vec<&str> = encrypted.names().collect();
    names.extend([ACCOUNT_NUMBER_FIELD, ACCOUNT_BRANCH_FIELD]);
    auditor
        .record(
            ctx.store,
            Event {
                action: "application.handoff-complete",
                subject_kind: Some("application"),
                subject_id: Some(id.to_string()),
                fields: &names,
                purpose: Some("handoff"),
                detail: None,
                outcome: "ok",
            },
        )
        .await?;
    let mut values =
        decrypt_all(ctx.keyring, id, &record.wrapped, &encrypted).ok_or_else(missing)?;
    values.insert(ACCOUNT_NUMBER_FIELD, account.as_str().to_owned());
    values.insert(ACCOUNT_BRANCH_FIELD, branch.as_str().to_owned());
    let writer = EnvelopeWriter::new(ctx.office_public.clone());
    let encryptor = writer.begin(&id).map_err(|_| missing())?;
    let mut fields = EncryptedFields::new();
    for (name, value) in values.iter() {
        encryptor
            .encrypt_into(&mut fields, name, value.as_bytes())
            .map_err(|_| missing())?;
    }
    drop(values);
    let wrapped = encryptor.wrapped_key();
    let answered = ctx
        .store
        .complete_handoff(
            id,
            &fields.to_bytes(),
            &wrapped.key_id().to_string(),
            wrapped.as_bytes(),
            &auditor.actor(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    if let (HandoffAnswered::Done { documents }, Some(files)) = (&answered, ctx.documents) {
        for doc in documents {
            if let Err(e) = files.delete(doc).await {
                // The key is gone: the file is unreadable; the hourly sweep removes it.
                tracing::warn!(error = %e, "a completed application's document was not deleted");
            }
        }
    }
    Ok(answered)
}

// --- the supervisors' page ---

/// A batch as the page lists it: nothing personal.
struct BatchLine {
    id: String,
    created_at: String,
    count: i64,
    sha256: String,
    created_by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "handoff.html")]
pub(crate) struct HandoffPage {
    layout: Layout,
    waiting: usize,
    batches: Vec<BatchLine>,
    message: Option<String>,
}

fn handoff_dir(state: &OfficeState) -> PathBuf {
    state.inner.handoff_dir.clone()
}

fn signing_key_path(state: &OfficeState) -> PathBuf {
    state.inner.handoff_signing_key.clone()
}

async fn render(
    state: &OfficeState,
    staff: &StaffSession,
    message: Option<String>,
) -> Result<HandoffPage, OfficeError> {
    let branches = staff.scope.branch_filter();
    let waiting = state
        .store()
        .approved_for_handoff()
        .await?
        .iter()
        .filter(|c| branches.as_ref().is_none_or(|b| b.contains(&c.branch_code)))
        .count();
    let mut visible = Vec::new();
    for batch in state.store().handoff_batches(50).await? {
        if batch_in_scope(state, staff, batch.id).await? {
            visible.push(batch);
        }
    }
    let batches = visible
        .into_iter()
        .map(|b| BatchLine {
            id: b.id.to_string(),
            created_at: jst(b.created_at),
            count: b.count,
            sha256: b.sha256,
            created_by: b.created_by,
        })
        .collect();
    Ok(HandoffPage {
        layout: Layout::new(state, Some(staff), "勘定系への連携"),
        waiting,
        batches,
        message,
    })
}

fn jst(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+9));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `GET /handoff`: approved applications waiting, and the batches written.
pub(crate) async fn page(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
) -> Result<HandoffPage, OfficeError> {
    render(&state, &staff, None).await
}

/// `POST /handoff`: writes one batch of the approved applications in the supervisor's scope.
pub(crate) async fn export_now(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Actor(staff): Actor,
) -> Result<Response, OfficeError> {
    let signer = HandoffSigningKey::load(&signing_key_path(&state))
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    let dir = handoff_dir(&state);
    let keys = &state.inner.keys;
    let ctx = HandoffContext {
        store: state.store(),
        keyring: &state.inner.keyring,
        office_public: &keys.office,
        core_public: &keys.core_banking,
        signer: Some(&signer),
        dir: &dir,
        documents: Some(&state.inner.documents),
    };
    let auditor = Auditor::Staff {
        state: &state,
        staff: &staff,
        address: Some(peer.ip().to_string()),
    };
    let branches = staff.scope.branch_filter();
    let message = match export(&ctx, branches.as_deref(), &auditor).await {
        Ok(outcome) => match outcome.batch_id {
            Some(id) => format!(
                "バッチ {id} を作成しました（{}件）。",
                outcome.receipt_numbers.len()
            ),
            None => "連携待ちの申込はありません。".to_owned(),
        },
        Err(HandoffFailure::Changed(_)) => {
            "処理中に申込の状態が変わりました。もう一度お試しください。".to_owned()
        }
        Err(e) => return Err(OfficeError::Internal(e.to_string())),
    };
    Ok(render(&state, &staff, Some(message)).await?.into_response())
}

/// Whether `staff` may see and download batch `id`: every application it carried is in their
/// scope (a bank-wide batch is a bank-wide supervisor's only; one whose applications are gone
/// too).
async fn batch_in_scope(
    state: &OfficeState,
    staff: &StaffSession,
    id: Uuid,
) -> Result<bool, OfficeError> {
    let Some(allowed) = staff.scope.branch_filter() else {
        return Ok(true);
    };
    let carried = state.store().handoff_batch_branches(id).await?;
    Ok(!carried.is_empty() && carried.iter().all(|b| allowed.contains(b)))
}

/// `GET /handoff/batches/{batch}`: the batch file (ciphertext sealed to core banking) or,
/// with `?part=manifest`, its manifest — of a batch in the supervisor's scope (another is
/// answered as missing).
pub(crate) async fn download(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    UrlPath(batch): UrlPath<String>,
    axum::extract::Query(query): axum::extract::Query<DownloadQuery>,
) -> Result<Response, OfficeError> {
    let Ok(id) = Uuid::parse_str(&batch) else {
        return Ok(crate::error::status_page(StatusCode::NOT_FOUND));
    };
    if state.store().handoff_batch(id).await?.is_none()
        || !batch_in_scope(&state, &staff, id).await?
    {
        return Ok(crate::error::status_page(StatusCode::NOT_FOUND));
    }
    let manifest = query.part.as_deref() == Some("manifest");
    let name = if manifest {
        madoguchi_handoff::manifest_file_name(&id)
    } else {
        madoguchi_handoff::batch_file_name(&id)
    };
    let Ok(bytes) = fs::read(handoff_dir(&state).join(&name)) else {
        return Ok(crate::error::status_page(StatusCode::NOT_FOUND));
    };
    let content_type = if manifest {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `?part=manifest`.
#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    part: Option<String>,
}
