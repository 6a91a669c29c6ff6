use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::Notify;

use crate::StoreError;
use crate::group_commit::GroupCommit;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) inner: Inner,
    /// Rung when this process queues an e-mail, so that its outbox worker need not wait for
    /// its next poll (workers of other processes still find it by polling).
    outbox_queued: Arc<Notify>,
}

#[derive(Clone, Debug)]
pub(crate) enum Inner {
    /// SQLite allows one writer at a time. Writes go through a pool of one connection, so that
    /// writers queue in order inside the process instead of polling SQLite's lock with sleeps;
    /// reads use their own read-only connections and are never blocked by a writer (WAL).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        submissions: GroupCommit,
    },
    Postgres(PgPool),
}

/// Runs `$body` once per backend, with `$db` naming the sqlx database type and `$pool` the pool:
/// `read` or `write` (one statement in its own transaction). On PostgreSQL both are the pool.
///
/// This is how one literal SQL text serves both SQLite and PostgreSQL.
macro_rules! with_db {
    ($store:expr, $role:ident, $db:ident, $pool:ident => $body:expr) => {
        match &$store.inner {
            $crate::backend::Inner::Sqlite { $role: $pool, .. } => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::backend::Inner::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_db;

/// Like [`with_db!`], inside a write transaction bound to `$tx` that `$body` must commit.
///
/// SQLite needs `BEGIN IMMEDIATE` so that concurrent writers wait on the busy timeout
/// instead of failing when they upgrade a read lock.
macro_rules! with_write_tx {
    ($store:expr, $db:ident, $tx:ident => $body:expr) => {
        match &$store.inner {
            $crate::backend::Inner::Sqlite { write: pool, .. } => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                #[allow(unused_mut)]
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                $body
            }
            $crate::backend::Inner::Postgres(pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}
pub(crate) use with_write_tx;

impl Store {
    /// Connects to `url`: `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Store {
                inner: Inner::Postgres(pool),
                outbox_queued: Arc::default(),
            })
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged submission survives power loss, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // The writer first: it creates the file and switches it to WAL.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?;
            let submissions = GroupCommit::start(write.clone());
            Ok(Store {
                inner: Inner::Sqlite {
                    read,
                    write,
                    submissions,
                },
                outbox_queued: Arc::default(),
            })
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// Applies the migrations of this backend's dialect.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Inner::Postgres(pool) => {
                let migrator = sqlx::migrate!("./migrations/postgres");
                if !crate::roles::may_migrate(pool).await? {
                    // A least-privilege role: the owner migrated (and chained) before.
                    return crate::roles::check_migrated(pool, &migrator).await;
                }
                migrator.run(pool).await?;
                crate::roles::refresh_grants(pool).await?;
            }
        }
        // Events written before the audit log became a chain join it, once.
        self.chain_audit_backlog().await?;
        Ok(())
    }

    /// Waits until this process queues an e-mail (or returns at once if it did since the last
    /// wait).
    pub async fn outbox_queued(&self) {
        self.outbox_queued.notified().await;
    }

    pub(crate) fn ring_outbox(&self) {
        self.outbox_queued.notify_one();
    }

    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::Sqlite { .. } => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (SQLite checkpoints its write-ahead log).
    pub async fn close(&self) {
        match &self.inner {
            Inner::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Inner::Postgres(pool) => pool.close().await,
        }
    }
}
