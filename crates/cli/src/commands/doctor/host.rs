//! Checks of this host's files: who may read the keys and the data folder, and whether the
//! core-banking **private** key is here at all (it belongs to core banking, never to this
//! server: with it, a copy of the database opens every sealed PIN and password).

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use madoguchi_seal::keyfile::PRIVATE_KEY_TAG;

use super::Deployment;
use super::finding::{Check, Outcome, Severity};

pub const KEY_FILES: Check = Check {
    id: "MDG-KEY-01",
    severity: Severity::High,
    title: "Key files or the data folder can be read by other users",
    risk: "Another account on the host reads the office key (every customer's data) or the blind-index key.",
    fix: "chown the data folder to the service user; chmod 0700 the data, keys and documents folders and 0600 every *.key file.",
    reference: "ASVS 4.0.3 V6.4.1, V14.1.3; CIS Controls v8 3.3",
};

pub const CORE_PRIVATE_KEY: Check = Check {
    id: "MDG-KEY-02",
    severity: Severity::High,
    title: "The core-banking private key is on this host",
    risk: "Whoever copies the host opens every sealed PIN and password: the 2021 leak, made worse.",
    fix: "Delete it here (shred -u FILE); it lives only in the core banking system. Keep only keys/core-banking.pub.",
    reference: "ASVS 4.0.3 V6.4.2; SPEC §6",
};

/// Both host checks.
pub fn run(deployment: &Deployment) -> Vec<Outcome> {
    vec![key_files(deployment), core_private_key(deployment)]
}

/// The uid this process runs as (Linux: `/proc/self/status`).
fn current_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn key_files(d: &Deployment) -> Outcome {
    let uid = current_uid();
    let mut findings = Vec::new();
    let mut folder = |path: &Path| {
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                findings.push(format!(
                    "{} has mode {mode:04o} (want 0700)",
                    path.display()
                ));
            }
            if uid.is_some_and(|u| u != meta.uid()) {
                findings.push(format!(
                    "{} is owned by uid {}, not this service's",
                    path.display(),
                    meta.uid()
                ));
            }
        }
    };
    folder(&d.data_dir);
    folder(&d.data_dir.join("keys"));
    folder(&d.data_dir.join("documents"));
    for file in files_in(&d.data_dir.join("keys")) {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        let private = file.extension().is_some_and(|e| e == "key");
        if private && mode & 0o077 != 0 {
            findings.push(format!(
                "{} has mode {mode:04o} (want 0600)",
                file.display()
            ));
        }
        if !private && mode & 0o022 != 0 {
            findings.push(format!(
                "{} is writable by others (mode {mode:04o})",
                file.display()
            ));
        }
        if private && uid.is_some_and(|u| u != meta.uid()) {
            findings.push(format!(
                "{} is owned by uid {}, not this service's",
                file.display(),
                meta.uid()
            ));
        }
    }
    Outcome::from_findings(KEY_FILES, findings)
}

fn core_private_key(d: &Deployment) -> Outcome {
    let mut places = vec![d.data_dir.clone()];
    if let Some(parent) = d.data_dir.parent() {
        places.push(parent.to_path_buf());
    }
    if let Some(folder) = d.config.as_deref().and_then(Path::parent) {
        places.push(folder.to_path_buf());
    }
    places.extend(d.key_search.iter().cloned());
    let mut findings: Vec<String> = Vec::new();
    for place in places {
        for file in walk(&place, 3) {
            let name = file.display().to_string();
            if is_core_private_key(&file) && !findings.contains(&name) {
                findings.push(name);
            }
        }
    }
    Outcome::from_findings(CORE_PRIVATE_KEY, findings)
}

/// A key file holding the core-banking private key (its first words; the key is not read).
fn is_core_private_key(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() > 4096 {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let mut words = text.split_whitespace();
    words.next() == Some(PRIVATE_KEY_TAG) && words.nth(1) == Some("core-banking")
}

/// The regular files directly in `dir`.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// Files under `dir` up to `depth` folders down, skipping the bulky folders that hold no keys
/// (documents, outbox, hand-off batches).
fn walk(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut found = files_in(dir);
    if depth == 0 {
        return found;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let skip = path
            .file_name()
            .is_some_and(|n| matches!(n.to_str(), Some("documents" | "outbox" | "handoff")));
        if path.is_dir() && !path.is_symlink() && !skip {
            found.extend(walk(&path, depth - 1));
        }
    }
    found
}
