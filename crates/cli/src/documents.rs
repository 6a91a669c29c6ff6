//! The documents' housekeeping (folder or bucket alike), run by `serve` with the purge of
//! expired drafts.
//!
//! - Unsubmitted documents whose draft was discarded or expired: data key and row deleted in
//!   one transaction (from then on the file is unreadable, backups included), then the file.
//! - Files or objects with no row (a write whose row was never stored, a deletion that
//!   failed) and temporary files of interrupted writes, once they are an hour old (a file younger than
//!   that may belong to an upload in progress).
//!
//! Counts are logged, never ids or content.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use madoguchi_documents::{DocumentStore, S3Location};
use madoguchi_seal::EnvelopeWriter;
use madoguchi_store::Store;
use time::OffsetDateTime;

use crate::cli::Cli;
use crate::data_dir::DataDir;

/// The bucket of `--documents s3://…` (with `--s3-endpoint`, `--s3-region`); `None`: the data
/// folder's `documents/`.
pub fn bucket(cli: &Cli) -> anyhow::Result<Option<S3Location>> {
    match &cli.documents {
        None => Ok(None),
        Some(url) => Ok(Some(S3Location::parse(
            url,
            cli.s3_endpoint.clone(),
            cli.s3_region.clone(),
        )?)),
    }
}

/// Opens where the documents are: the bucket (checked to answer), or the data folder's
/// `documents/` (created with mode 0700).
pub async fn open(
    bucket: Option<&S3Location>,
    data: &DataDir,
    envelopes: EnvelopeWriter,
) -> anyhow::Result<DocumentStore> {
    match bucket {
        Some(bucket) => Ok(DocumentStore::open_s3(bucket, envelopes).await?),
        None => DocumentStore::open(&data.documents(), envelopes).with_context(|| {
            format!(
                "cannot create the documents folder {}",
                data.documents().display()
            )
        }),
    }
}

/// Files younger than this are never swept.
pub const SWEEP_AFTER: Duration = Duration::from_secs(3600);

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DocumentPurge {
    /// Documents of discarded or expired drafts (key, row and file).
    pub orphans: usize,
    /// Files of the folder with no row, and temporary files.
    pub stray_files: usize,
}

/// Deletes the documents of discarded or expired drafts.
pub async fn purge_orphans(
    store: &Store,
    files: &DocumentStore,
    now: OffsetDateTime,
) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let ids = store.purge_orphan_documents(now).await?;
        let batch = ids.len();
        total += batch;
        for id in &ids {
            if let Err(e) = files.delete(id).await {
                tracing::warn!(error = %e, "a purged document was not deleted");
            }
        }
        if batch < 1000 {
            return Ok(total);
        }
    }
}

/// Deletes files of the folder that no row refers to, and temporary files, older than
/// [`SWEEP_AFTER`].
pub async fn sweep_stray_files(store: &Store, files: &DocumentStore) -> anyhow::Result<usize> {
    let listing = files.list().await?;
    let cutoff = SystemTime::now()
        .checked_sub(SWEEP_AFTER)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let old: Vec<_> = listing
        .into_iter()
        .filter(|e| e.modified < cutoff)
        .collect();
    if old.is_empty() {
        return Ok(0);
    }
    let known: HashSet<uuid::Uuid> = store.document_ids().await?.into_iter().collect();
    let mut swept = 0;
    for entry in old {
        let deleted = if entry.temporary {
            files.delete_temporary(&entry.id).await.map(|()| true)
        } else if known.contains(&entry.id) {
            Ok(false)
        } else {
            files.delete(&entry.id).await
        };
        match deleted {
            Ok(true) => swept += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "a stray document was not deleted"),
        }
    }
    Ok(swept)
}

/// One pass of both.
pub async fn purge(
    store: &Store,
    files: &DocumentStore,
    now: OffsetDateTime,
    sweep: bool,
) -> anyhow::Result<DocumentPurge> {
    let orphans = purge_orphans(store, files, now).await?;
    let stray_files = if sweep {
        sweep_stray_files(store, files).await?
    } else {
        0
    };
    Ok(DocumentPurge {
        orphans,
        stray_files,
    })
}
