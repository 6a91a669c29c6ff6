//! `madoguchi handoff export` and `madoguchi handoff import`: the back office's side of the
//! hand-off to core banking, from the command line (the supervisors' page does the export
//! too). The work itself is `madoguchi_office::handoff`; this wires keys and folders, and
//! audits as `cli:handoff-export` / `cli:handoff-import`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use madoguchi_documents::S3Location;
use madoguchi_domain::BankProfile;
use madoguchi_domain::profile::CommandRead;
use madoguchi_handoff::{HandoffSigningKey, SIGNING_KEY_FILE};
use madoguchi_keyring::OfficeKeyring;
use madoguchi_office::handoff::{Auditor, ExportOutcome, HandoffContext, ImportReport};
use madoguchi_seal::PublicKeySet;
use madoguchi_store::Store;

use crate::app::connect_store;
use crate::cli::{Cli, PrintFormat};
use crate::data_dir::DataDir;

/// The actor of exports from the command line.
pub const EXPORT_ACTOR: &str = "cli:handoff-export";
/// The actor of imports from the command line.
pub const IMPORT_ACTOR: &str = "cli:handoff-import";

/// The back office's keys, from the keys folder and the token options.
fn office_keyring(cli: &Cli, data: &DataDir) -> anyhow::Result<OfficeKeyring> {
    crate::commands::keys::office_key_source(cli, data)?
        .load()
        .context("cannot load the back office's key")
}

/// The public keys, with the profile's core-banking key.
fn public_keys(cli: &Cli, data: &DataDir) -> anyhow::Result<PublicKeySet> {
    let profile = crate::demo::load_profile(cli.config.as_deref())?;
    crate::commands::keys::public_keys(data, &profile)
}

/// Where batches go unless `--out` says otherwise.
pub fn handoff_dir(data: &DataDir) -> PathBuf {
    data.root().join("handoff")
}

/// Writes one batch of every approved application (see `madoguchi_office::handoff::export`).
pub async fn export_batch(
    store: &Store,
    data: &DataDir,
    keyring: &OfficeKeyring,
    keys: &PublicKeySet,
    profile: &BankProfile,
    out: Option<&Path>,
) -> anyhow::Result<ExportOutcome> {
    let keys_dir = data.keys();
    let signer = HandoffSigningKey::load(&keys_dir.join(SIGNING_KEY_FILE))
        .context("cannot load the hand-off signing key")?;
    let dir = out.map_or_else(|| handoff_dir(data), Path::to_path_buf);
    let ctx = HandoffContext {
        store,
        keyring,
        office_public: &keys.office,
        core_public: &keys.core_banking,
        signer: Some(&signer),
        dir: &dir,
        documents: None,
    };
    let auditor = Auditor::Command {
        actor: EXPORT_ACTOR,
        command: CommandRead::HandoffExport,
        profile,
    };
    Ok(madoguchi_office::handoff::export(&ctx, None, &auditor).await?)
}

/// Imports core banking's answer (see `madoguchi_office::handoff::import`).
pub async fn import_answer(
    store: &Store,
    data: &DataDir,
    keyring: &OfficeKeyring,
    keys: &PublicKeySet,
    answer: &[u8],
) -> anyhow::Result<ImportReport> {
    import_answer_to(store, data, None, keyring, keys, answer).await
}

/// [`import_answer`] with the identity documents in `bucket` (`None`: the data folder).
pub async fn import_answer_to(
    store: &Store,
    data: &DataDir,
    bucket: Option<&S3Location>,
    keyring: &OfficeKeyring,
    keys: &PublicKeySet,
    answer: &[u8],
) -> anyhow::Result<ImportReport> {
    let documents = crate::documents::open(bucket, data, keys.envelope_writer()).await?;
    let dir = handoff_dir(data);
    let ctx = HandoffContext {
        store,
        keyring,
        office_public: &keys.office,
        core_public: &keys.core_banking,
        signer: None,
        dir: &dir,
        documents: Some(&documents),
    };
    Ok(madoguchi_office::handoff::import(&ctx, answer, &Auditor::System(IMPORT_ACTOR)).await?)
}

/// `madoguchi handoff export`.
pub async fn export(cli: &Cli, out: Option<&Path>, format: PrintFormat) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let keyring = office_keyring(cli, &data)?;
    let profile = crate::demo::load_profile(cli.config.as_deref())?;
    let keys = crate::commands::keys::public_keys(&data, &profile)?;
    let result = export_batch(&store, &data, &keyring, &keys, &profile, out).await;
    store.close().await;
    let outcome = result?;
    match format {
        PrintFormat::Json => {
            let json = serde_json::json!({
                "batch_id": outcome.batch_id,
                "count": outcome.receipt_numbers.len(),
                "receipt_numbers": outcome.receipt_numbers,
                "batch": outcome.batch_path,
                "manifest": outcome.manifest_path,
                "sha256": outcome.sha256,
            });
            println!("{json}");
        }
        PrintFormat::Text => match (
            &outcome.batch_id,
            &outcome.batch_path,
            &outcome.manifest_path,
        ) {
            (Some(id), Some(batch), Some(manifest)) => {
                println!(
                    "batch {id}: {} application(s) handed off",
                    outcome.receipt_numbers.len()
                );
                println!("  batch:    {}", batch.display());
                println!("  manifest: {}", manifest.display());
                for receipt in &outcome.receipt_numbers {
                    println!("  {receipt}");
                }
            }
            _ => println!("no approved application: no batch written"),
        },
    }
    Ok(())
}

/// `madoguchi handoff import RESULT`.
pub async fn import(cli: &Cli, result: &Path, format: PrintFormat) -> anyhow::Result<()> {
    let answer = std::fs::read(result)
        .with_context(|| format!("cannot read the answer {}", result.display()))?;
    let data = DataDir::open(&cli.data_dir)?;
    let bucket = crate::documents::bucket(cli)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let keyring = office_keyring(cli, &data)?;
    let keys = public_keys(cli, &data)?;
    let report = import_answer_to(&store, &data, bucket.as_ref(), &keyring, &keys, &answer).await;
    store.close().await;
    let report = report?;
    match format {
        PrintFormat::Json => println!("{}", serde_json::to_string(&report)?),
        PrintFormat::Text => {
            if !report.changed_anything() {
                println!("nothing changed: every result was already imported, or none applied");
            }
            for r in &report.completed {
                println!("completed         {r}");
            }
            for r in &report.rejected {
                println!("rejected          {r}");
            }
            for r in &report.already_answered {
                println!("already imported  {r} (unchanged)");
            }
            for (r, status) in &report.not_handed_off {
                println!("not handed off    {r} ({status}; unchanged)");
            }
            for r in &report.unknown {
                println!("unknown           {r}");
            }
            for (r, why) in &report.invalid {
                println!("invalid           {r}: {why}");
            }
        }
    }
    Ok(())
}
