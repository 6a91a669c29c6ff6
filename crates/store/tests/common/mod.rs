//! Test databases shared by the storage tests: a SQLite file in a temporary folder, or a
//! PostgreSQL database created for the test and dropped after it.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use madoguchi_store::Store;
use sqlx::Connection;
use uuid::Uuid;

pub struct TestDb {
    pub store: Store,
    /// The URL `store` was opened with: more handles (instances) can connect to it.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// Closes the store; the PostgreSQL test database is dropped with the value.
    pub async fn finish(self) {
        self.store.close().await;
    }
}

/// Drops a PostgreSQL test database, also when a test panicked (with `psql`: no runtime here).
impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = self.pg.take() {
            let _ = std::process::Command::new("psql")
                .arg(format!("{base}/postgres"))
                .args([
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    TestDb {
        store,
        url,
        _dir: Some(dir),
        pg: None,
    }
}

/// A fresh PostgreSQL database; `None` (the test is skipped) when none is reachable, except
/// when `CI=true`, where PostgreSQL is required.
pub async fn postgres() -> Option<TestDb> {
    let base = std::env::var("MADOGUCHI_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let mut admin = match sqlx::PgConnection::connect(&format!("{base}/postgres")).await {
        Ok(conn) => conn,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("PostgreSQL required when CI=true: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: PostgreSQL unreachable: {e}");
            return None;
        }
    };
    let name = format!("mdg_store_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create db");
    let url = format!("{base}/{name}");
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    Some(TestDb {
        store,
        url,
        _dir: None,
        pg: Some((base, name)),
    })
}
