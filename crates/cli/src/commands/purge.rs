//! Retention (SPEC §5): `madoguchi purge`, and the same pass that `serve` runs every minute.
//!
//! One pass deletes: expired e-mail checks and drafts; identity documents of discarded or
//! expired drafts; the personal data of rejected, withdrawn and expired applications after the
//! profile's `retention.rejected_days`, and of completed ones after `retention.completed_days`
//! (data key, fields, secrets, notes, documents: crypto-shredding; the operational row and its
//! status stay); identity documents `retention.documents_days_after_decision` days after the
//! application left review; bookings' personal data after `reservations.retention_days`.
//! Every deletion of a record deletes its data key. A pass that deleted something is audited
//! (`purge.run`) with counts only. `madoguchi purge` also sweeps stray document files (as
//! `serve` does hourly); with `serve --external-retention` it runs from a timer as the
//! `madoguchi_retention` database role, which may delete personal rows but never read them.

use anyhow::Context;
use madoguchi_documents::DocumentStore;
use madoguchi_domain::profile::BankProfile;
use madoguchi_seal::{EnvelopeWriter, PublicKeySet};
use madoguchi_store::{AuditEventRow, RETENTION_BATCH, Store};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::connect_store;
use crate::cli::{Cli, PrintFormat, PurgeArgs};
use crate::data_dir::DataDir;
use crate::demo::load_profile;

/// The actor of `madoguchi purge`.
pub const CLI_ACTOR: &str = "cli:purge";
/// The actor of the pass `serve` runs.
pub const SYSTEM_ACTOR: &str = "system:purge";

/// What a pass deleted (or, dry, would delete). Identifiers and counts, nothing personal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    pub email_checks: u64,
    pub drafts: u64,
    /// Documents of discarded or expired drafts.
    pub draft_documents: u64,
    /// Applications whose personal data was shredded, by receipt number.
    pub applications: Vec<String>,
    /// Identity documents deleted after the decision (and with shredded applications).
    pub documents: Vec<Uuid>,
    pub bookings: u64,
}

impl PurgeReport {
    /// Whether anything was (or would be) deleted.
    pub fn is_empty(&self) -> bool {
        self.email_checks == 0
            && self.drafts == 0
            && self.draft_documents == 0
            && self.applications.is_empty()
            && self.documents.is_empty()
            && self.bookings == 0
    }

    /// The audit detail: counts only.
    pub fn counts(&self) -> String {
        format!(
            "drafts={},email_checks={},draft_documents={},applications={},documents={},bookings={}",
            self.drafts,
            self.email_checks,
            self.draft_documents,
            self.applications.len(),
            self.documents.len(),
            self.bookings
        )
    }
}

/// The cut-off times of one pass.
struct Cutoffs {
    ended_before: OffsetDateTime,
    completed_before: OffsetDateTime,
    decided_before: OffsetDateTime,
    bookings_before: OffsetDateTime,
}

impl Cutoffs {
    fn new(profile: &BankProfile, now: OffsetDateTime) -> Cutoffs {
        let retention = profile.retention();
        Cutoffs {
            ended_before: now - retention.rejected(),
            completed_before: now - retention.completed(),
            decided_before: now - retention.documents_after_decision(),
            bookings_before: now - profile.reservations().retention(),
        }
    }
}

/// One pass at `now`. With `dry_run`, lists what is due and deletes nothing.
pub async fn purge_once(
    store: &Store,
    files: &DocumentStore,
    profile: &BankProfile,
    now: OffsetDateTime,
    dry_run: bool,
) -> anyhow::Result<PurgeReport> {
    let cut = Cutoffs::new(profile, now);
    if dry_run {
        let (checks, drafts, draft_documents) = store.drafts_due(now).await?;
        let applications = store
            .applications_due(cut.ended_before, cut.completed_before, i64::MAX)
            .await?
            .into_iter()
            .map(|a| a.receipt_number)
            .collect();
        return Ok(PurgeReport {
            dry_run: true,
            email_checks: checks.unsigned_abs(),
            drafts: drafts.unsigned_abs(),
            draft_documents: draft_documents.unsigned_abs(),
            applications,
            documents: store.documents_due(cut.decided_before, i64::MAX).await?,
            bookings: store
                .bookings_due(cut.bookings_before, cut.bookings_before)
                .await?
                .unsigned_abs(),
        });
    }
    let mut report = PurgeReport::default();
    let (checks, drafts) = store.purge_expired_drafts(now).await?;
    report.email_checks = checks;
    report.drafts = drafts;
    report.draft_documents = crate::documents::purge_orphans(store, files, now).await? as u64;
    loop {
        let shredded = store
            .shred_applications(cut.ended_before, cut.completed_before)
            .await?;
        let full = shredded.applications.len() >= RETENTION_BATCH;
        delete_files(files, &shredded.documents).await?;
        report.documents.extend(shredded.documents);
        report
            .applications
            .extend(shredded.applications.into_iter().map(|a| a.receipt_number));
        if !full {
            break;
        }
    }
    loop {
        let ids = store.purge_decided_documents(cut.decided_before).await?;
        let full = ids.len() >= RETENTION_BATCH;
        delete_files(files, &ids).await?;
        report.documents.extend(ids);
        if !full {
            break;
        }
    }
    report.bookings = store
        .purge_bookings(cut.bookings_before, cut.bookings_before, now)
        .await?
        .bookings;
    Ok(report)
}

/// Deletes documents' files whose keys and rows are already gone (unreadable already: a
/// file that stays is only swept later).
async fn delete_files(files: &DocumentStore, ids: &[Uuid]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    for id in ids {
        if let Err(e) = files.delete(id).await {
            tracing::warn!(error = %e, "a purged document was not deleted");
        }
    }
    Ok(())
}

/// Records a pass in the audit log: counts only.
pub async fn audit_run(store: &Store, actor: &str, report: &PurgeReport) -> anyhow::Result<()> {
    store
        .insert_audit_event(&AuditEventRow {
            id: Uuid::now_v7(),
            at: OffsetDateTime::now_utc(),
            actor: actor.to_owned(),
            actor_address: None,
            session: None,
            action: "purge.run".to_owned(),
            subject_kind: None,
            subject_id: None,
            fields: String::new(),
            purpose: Some("retention".to_owned()),
            detail: Some(report.counts()),
            outcome: "ok".to_owned(),
        })
        .await
        .map(|_seq| ())
        .context("cannot write the purge's audit event")
}

/// `madoguchi purge [--dry-run]`.
pub async fn run(cli: &Cli, args: &PurgeArgs) -> anyhow::Result<()> {
    if cli.config.is_none() && !args.demo {
        anyhow::bail!(
            "no bank profile: pass --config FILE (its [retention] periods decide what is \
             deleted), or --demo to use the fictional demo bank's"
        );
    }
    let profile = load_profile(cli.config.as_deref())?;
    let data = DataDir::open(&cli.data_dir)?;
    let keys = PublicKeySet::load(&data.keys())?;
    let files = crate::documents::open(
        crate::documents::bucket(cli)?.as_ref(),
        &data,
        EnvelopeWriter::new(keys.office.clone()),
    )
    .await?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let result = async {
        let report = purge_once(
            &store,
            &files,
            &profile,
            OffsetDateTime::now_utc(),
            args.dry_run,
        )
        .await?;
        if !args.dry_run {
            // The hourly sweep of `serve` too: with `serve --external-retention` this command
            // is the whole retention job.
            let stray = crate::documents::sweep_stray_files(&store, &files).await?;
            if stray > 0 {
                tracing::info!(stray_files = stray, "stray document files swept");
            }
            audit_run(&store, CLI_ACTOR, &report).await?;
            store
                .record_job_run("retention", "ok", OffsetDateTime::now_utc())
                .await?;
        }
        anyhow::Ok(report)
    }
    .await;
    store.close().await;
    let report = result?;
    match args.format {
        PrintFormat::Json => println!("{}", serde_json::to_string(&report)?),
        PrintFormat::Text => print_text(&report),
    }
    Ok(())
}

fn print_text(report: &PurgeReport) {
    let verb = if report.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    println!("{verb}:");
    println!("  expired e-mail checks:          {}", report.email_checks);
    println!("  expired drafts:                 {}", report.drafts);
    println!(
        "  documents of expired drafts:    {}",
        report.draft_documents
    );
    println!(
        "  applications' personal data:    {}",
        report.applications.len()
    );
    for receipt in &report.applications {
        println!("    {receipt}");
    }
    println!(
        "  identity documents:             {}",
        report.documents.len()
    );
    for id in &report.documents {
        println!("    {id}");
    }
    println!("  bookings' personal data:        {}", report.bookings);
}
