//! `madoguchi core open`: the core banking side's tool. It runs where the core-banking
//! private key lives, never on the server; it touches no database.
//!
//! Exit codes (scripts rely on them): 0 opened and printed; 1 a file or key cannot be read;
//! 2 usage; 3 refused: the manifest or the batch failed verification (altered, truncated,
//! or signed by another key) and nothing was decrypted; 4 the batch or one of its secrets
//! does not open with this key.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use madoguchi_core_open::{BatchOpenError, CoreKeys, CorePrivateKey};
use madoguchi_handoff::HandoffVerifyingKey;

use crate::cli::{Cli, Command, CoreCommand};

/// Opened.
pub const EXIT_OPENED: u8 = 0;
/// A file or key could not be read.
pub const EXIT_ERROR: u8 = 1;
/// Usage (as clap's).
pub const EXIT_USAGE: u8 = 2;
/// The manifest or batch failed verification; nothing was decrypted.
pub const EXIT_REFUSED: u8 = 3;
/// The batch or a secret does not open with this key.
pub const EXIT_CANNOT_OPEN: u8 = 4;

/// Runs `core open` and returns its exit code.
pub fn main(cli: &Cli) -> ExitCode {
    let Command::Core(CoreCommand::Open {
        key,
        signer,
        manifest,
        batch,
    }) = &cli.command
    else {
        return ExitCode::from(EXIT_USAGE);
    };
    let Some(signer) = signer else {
        eprintln!(
            "error: pass --signer with the back office's handoff-signing.pub (or set \
             MADOGUCHI_HANDOFF_SIGNER): only batches it signed are opened"
        );
        return ExitCode::from(EXIT_USAGE);
    };
    let manifest = manifest
        .clone()
        .unwrap_or_else(|| madoguchi_handoff::manifest_path_for(batch));
    match open(key, signer, &manifest, batch) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn open(keys: &[PathBuf], signer: &Path, manifest: &Path, batch: &Path) -> anyhow::Result<u8> {
    let core = CoreKeys::new(
        keys.iter()
            .map(|k| CorePrivateKey::load(k))
            .collect::<Result<Vec<_>, _>>()?,
    );
    let signer = HandoffVerifyingKey::load(signer)?;
    let manifest_bytes = std::fs::read(manifest)
        .with_context(|| format!("cannot read the manifest {}", manifest.display()))?;
    let batch_bytes = std::fs::read(batch)
        .with_context(|| format!("cannot read the batch {}", batch.display()))?;
    let opened = match core.open_batch(&manifest_bytes, &batch_bytes, &signer) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("error: {}: {e}", batch.display());
            return Ok(match e {
                BatchOpenError::Refused(_) => EXIT_REFUSED,
                BatchOpenError::WrongKey(_)
                | BatchOpenError::Undecryptable(_)
                | BatchOpenError::Secret { .. }
                | BatchOpenError::MalformedSecret { .. } => EXIT_CANNOT_OPEN,
            });
        }
    };
    let json = opened.to_json();
    let mut out = std::io::stdout().lock();
    out.write_all(&json)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    eprintln!(
        "opened batch {}: {} application(s), signed by {}",
        opened.batch_id, opened.count, opened.signer_key_id
    );
    Ok(EXIT_OPENED)
}
