//! `madoguchi audit verify | checkpoint | export`: proving the audit log intact, signing its
//! head, and archiving it (SPEC §7). The chain and the checkpoint format are
//! `madoguchi_audit`'s; this reads the database and the external sink and prints.
//!
//! Exit codes: 0 intact (or done), 1 error (database, keys, files), 3 the log was tampered
//! with — each finding is printed, the first broken event first.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use madoguchi_audit::{AuditVerifyingKey, Checkpoint, CheckpointSigner, Walk};
use madoguchi_store::{AuditCheckpointRow, AuditLink, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::connect_store;
use crate::cli::{AuditCommand, Cli, PrintFormat};
use crate::data_dir::DataDir;

/// Events read per query by the walk and the export.
const PAGE: i64 = 20_000;
/// Exit code when the log was tampered with.
const TAMPERED: u8 = 3;

/// Where checkpoints are appended besides the database, unless `--sink` says otherwise.
pub fn default_sink(data: &DataDir) -> PathBuf {
    data.root().join("audit-checkpoints.log")
}

/// Runs an `audit` command and answers with its exit code.
pub async fn main(cli: &Cli, command: &AuditCommand) -> ExitCode {
    let result = match command {
        AuditCommand::Verify { sink, format } => verify(cli, sink.as_deref(), *format).await,
        AuditCommand::Checkpoint { sink } => checkpoint(cli, sink.as_deref()).await.map(|()| true),
        AuditCommand::Export {
            from,
            to,
            format: _,
        } => export(cli, from, to).await.map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(TAMPERED),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The result of a walk over the whole log.
pub struct Verification {
    pub events: u64,
    pub checkpoints: usize,
    pub findings: Vec<madoguchi_audit::Finding>,
}

/// Walks the whole chain against every checkpoint (database and sink).
pub async fn verify_log(
    store: &Store,
    keys: &[AuditVerifyingKey],
    sink: &Path,
) -> anyhow::Result<Verification> {
    let mut notes: Vec<String> = store
        .audit_checkpoints()
        .await?
        .into_iter()
        .map(|c| c.note)
        .collect();
    notes.extend(read_sink(sink)?);
    let mut opened = Vec::new();
    let mut unsigned = Vec::new();
    for note in &notes {
        match Checkpoint::open_with_any(note, keys) {
            Ok(checkpoint) => opened.push(checkpoint),
            Err(e) => unsigned.push((size_of(note), e.to_string())),
        }
    }
    let mut walk = Walk::new(&opened);
    for (size, reason) in unsigned {
        walk.unsigned(size, reason);
    }
    // Each page is read while the one before is walked.
    let mut next = tokio::spawn(read_page(store.clone(), 0));
    loop {
        let page = next.await.context("reading the audit log")??;
        let Some(last) = page.last() else { break };
        next = tokio::spawn(read_page(store.clone(), last.seq));
        for row in &page {
            walk.step(&row.content(), row.hash.as_deref().unwrap_or_default());
        }
    }
    let (findings, events) = walk.finish();
    Ok(Verification {
        events,
        checkpoints: notes.len(),
        findings,
    })
}

async fn read_page(
    store: Store,
    after: i64,
) -> Result<Vec<AuditLink>, madoguchi_store::StoreError> {
    store.audit_links(after, PAGE).await
}

/// The size a note claims, for naming a note that does not open.
fn size_of(note: &str) -> u64 {
    note.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

async fn verify(cli: &Cli, sink: Option<&Path>, format: PrintFormat) -> anyhow::Result<bool> {
    let data = DataDir::open(&cli.data_dir)?;
    // The current verifying key and those it replaced: each opens the checkpoints it signed.
    let keys = madoguchi_audit::trusted_verifying_keys(&data.keys())
        .context("cannot load the audit verifying keys")?;
    let sink = sink.map_or_else(|| default_sink(&data), Path::to_path_buf);
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let result = verify_log(&store, &keys, &sink).await;
    // Remembered for `doctor` (MDG-AUDIT-01/02); a walk that could not finish is not a run.
    if let Ok(v) = &result {
        let outcome = if v.findings.is_empty() {
            "intact"
        } else {
            "tampered"
        };
        let recorded = store
            .record_job_run("audit-verify", outcome, OffsetDateTime::now_utc())
            .await;
        if let Err(e) = recorded {
            eprintln!("warning: the verification's result was not recorded: {e}");
        }
    }
    store.close().await;
    let v = result?;
    let intact = v.findings.is_empty();
    match format {
        PrintFormat::Json => {
            let findings: Vec<String> = v.findings.iter().map(ToString::to_string).collect();
            let json = serde_json::json!({
                "intact": intact,
                "events": v.events,
                "checkpoints": v.checkpoints,
                "findings": findings,
            });
            println!("{json}");
        }
        PrintFormat::Text if intact => println!(
            "audit log intact: {} events, {} checkpoints verified",
            v.events, v.checkpoints
        ),
        PrintFormat::Text => {
            println!(
                "audit log NOT intact: {} finding(s) over {} events and {} checkpoints",
                v.findings.len(),
                v.events,
                v.checkpoints
            );
            for finding in &v.findings {
                println!("  {finding}");
            }
        }
    }
    Ok(intact)
}

/// Signs the chain's head now, if it grew since the last checkpoint: keeps the note in the
/// database and appends it to the sink. Returns it.
pub async fn write_checkpoint(
    store: &Store,
    key: &dyn CheckpointSigner,
    sink: &Path,
) -> anyhow::Result<Option<String>> {
    let Some((size, head)) = store.audit_head().await? else {
        return Ok(None);
    };
    let last = store.last_audit_checkpoint().await?;
    if last.as_ref().is_some_and(|c| c.size >= size) {
        return Ok(None);
    }
    let root = head
        .as_slice()
        .try_into()
        .context("the audit log's last event has no valid hash: run `madoguchi audit verify`")?;
    let checkpoint = Checkpoint {
        origin: key.verifying_key().origin(),
        size: u64::try_from(size).unwrap_or(0),
        root,
    };
    let note = checkpoint.sign(key)?;
    let kept = store
        .insert_audit_checkpoint(&AuditCheckpointRow {
            size,
            head,
            note: note.clone(),
            created_at: OffsetDateTime::now_utc(),
        })
        .await?;
    if kept {
        append_to_sink(sink, &note)?;
    }
    Ok(Some(note))
}

async fn checkpoint(cli: &Cli, sink: Option<&Path>) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let token = crate::commands::keys::token_config(cli)?
        .map(|config| madoguchi_keyring::Token::open(&config))
        .transpose()?;
    let key = madoguchi_keyring::load_audit_signer(&data.keys(), token.as_ref())
        .context("cannot load the audit signing key")?;
    let sink = sink.map_or_else(|| default_sink(&data), Path::to_path_buf);
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let result = write_checkpoint(&store, key.as_ref(), &sink).await;
    store.close().await;
    match result? {
        Some(note) => print!("{note}"),
        None => println!("no new event since the last checkpoint"),
    }
    Ok(())
}

/// Appends a note to the sink (one note after another, each followed by an empty line),
/// synced before returning.
fn append_to_sink(sink: &Path, note: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(sink)
        .with_context(|| format!("cannot append to the checkpoint sink {}", sink.display()))?;
    file.write_all(format!("{note}\n").as_bytes())
        .and_then(|()| file.sync_data())
        .with_context(|| format!("cannot write the checkpoint sink {}", sink.display()))
}

/// The notes of the sink (none when it does not exist yet).
fn read_sink(sink: &Path) -> anyhow::Result<Vec<String>> {
    let text = match std::fs::read_to_string(sink) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the sink {}", sink.display()));
        }
    };
    // Each note is "body\n\nsignatures\n" and is followed by "\n": chunks pair up.
    let chunks: Vec<&str> = text
        .split("\n\n")
        .filter(|c| !c.trim().is_empty())
        .collect();
    Ok(chunks
        .chunks(2)
        .map(|pair| {
            format!(
                "{}\n\n{}\n",
                pair[0],
                pair.get(1).map_or("", |s| s.trim_end())
            )
        })
        .collect())
}

async fn export(cli: &Cli, from: &str, to: &str) -> anyhow::Result<()> {
    let parse = |what: &str, value: &str| {
        OffsetDateTime::parse(value, &Rfc3339).with_context(|| {
            format!("--{what} {value:?} is not a time: write it as 2026-12-01T00:00:00+09:00")
        })
    };
    let (from, to) = (parse("from", from)?, parse("to", to)?);
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut after = 0;
    let result: anyhow::Result<()> = async {
        loop {
            let page = store.audit_events_between(from, to, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                let e = &row.event;
                let line = serde_json::json!({
                    "seq": row.seq,
                    "id": e.id,
                    "at": e.at.format(&Rfc3339).unwrap_or_default(),
                    "actor": e.actor,
                    "actor_address": e.actor_address,
                    "session": e.session,
                    "action": e.action,
                    "subject_kind": e.subject_kind,
                    "subject_id": e.subject_id,
                    "fields": if e.fields.is_empty() { Vec::new() } else { e.fields.split(',').collect() },
                    "purpose": e.purpose,
                    "detail": e.detail,
                    "outcome": e.outcome,
                    "hash": row.hash.as_deref().map(hex::encode),
                });
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
        Ok(())
    }
    .await;
    store.close().await;
    result
}
