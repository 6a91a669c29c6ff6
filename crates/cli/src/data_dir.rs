//! The data folder: the SQLite database, the server's keys, the outbox folder, documents.

use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (and creates, mode 0700) the data folder.
    pub fn open(root: &Path) -> anyhow::Result<DataDir> {
        create_private_dir(root)
            .with_context(|| format!("cannot create the data folder {}", root.display()))?;
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// Identity documents, each encrypted with its own data key (`madoguchi-documents`).
    pub fn documents(&self) -> PathBuf {
        self.root.join("documents")
    }

    /// `sqlite://<data>/madoguchi.sqlite3`, the embedded default database.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.root.join("madoguchi.sqlite3").display())
    }

    /// Where `keys init --demo` puts the development core-banking private key: beside the data
    /// folder, never inside it (the server must not hold it).
    pub fn default_core_private_key(&self) -> PathBuf {
        let parent = self
            .root
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        parent.join("core-banking-private.key")
    }
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}
