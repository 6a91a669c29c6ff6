//! The re-index after a blind-index key rotation (`madoguchi_office::reindex::reindex_all`):
//! the time of one pass over stored applications, per row — each row's data key opened with
//! the key file, its `email` field decrypted, the new HMAC computed and the row swapped
//! compare-and-set. On SQLite (a temporary file) and on PostgreSQL (a database of its own on
//! `MADOGUCHI_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`, dropped afterwards; skipped
//! when unreachable).
//!
//! Each iteration flips the current key between two, so every row is stale again.
//! Run: `cargo bench -p madoguchi-office --bench reindex`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use madoguchi_keyring::{OfficeKeyring, PrivateKey};
use madoguchi_office::reindex::reindex_all;
use madoguchi_seal::{BlindIndexKey, BlindIndexKeys, EncryptedFields, EnvelopeWriter};
use madoguchi_store::{NewApplication, Store};
use sqlx::Connection as _;
use time::OffsetDateTime;
use uuid::Uuid;

/// Applications in the table.
const ROWS: usize = 2_000;

/// The two keys a rotation moves between.
fn keys(current: u8) -> BlindIndexKeys {
    let other = 3 - current;
    BlindIndexKeys::new(
        BlindIndexKey::from_bytes([current; 32]),
        Some(BlindIndexKey::from_bytes([other; 32])),
    )
}

/// `ROWS` applications sealed as the public site seals them, indexed with key 1.
async fn seed(store: &Store, writer: &EnvelopeWriter) {
    let indexing = keys(1);
    let now = OffsetDateTime::now_utc();
    for i in 0..ROWS {
        let id = Uuid::now_v7();
        let email = format!("applicant{i}@example.jp");
        let envelope = writer.begin(&id).unwrap();
        let mut fields = EncryptedFields::new();
        envelope
            .encrypt_into(&mut fields, "email", email.as_bytes())
            .unwrap();
        envelope
            .encrypt_into(&mut fields, "family_name", "山田".as_bytes())
            .unwrap();
        let index = indexing.email_index(&email);
        // Stored as a submission is: record, data key, personal fields (no draft needed).
        store
            .plant_canary_application(
                &NewApplication {
                    id,
                    receipt_number: format!("BNCH-{:04}-{:04}", i / 10_000, i % 10_000),
                    product: "savings-account".to_owned(),
                    branch_code: "101".to_owned(),
                    email_index: index.index.as_bytes().to_vec(),
                    email_index_key: index.key_id.to_string(),
                    personal_fields: fields.to_bytes(),
                    data_key_id: envelope.wrapped_key().key_id().to_string(),
                    wrapped_data_key: envelope.wrapped_key().as_bytes().to_vec(),
                    secrets: Vec::new(),
                    submitted_at: now,
                },
                "submitted",
                now,
            )
            .await
            .unwrap();
    }
}

fn bench_store(c: &mut Criterion, name: &str, url: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let file_key = PrivateKey::generate().unwrap();
    let writer = EnvelopeWriter::new(file_key.public_key().clone());
    let ring = OfficeKeyring::from_keys([file_key]);
    let store = runtime.block_on(async {
        let store = Store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        seed(&store, &writer).await;
        store
    });
    let mut current = 1u8;
    let mut group = c.benchmark_group("reindex");
    group.sample_size(10);
    group.bench_function(format!("{name}_pass_of_{ROWS}_applications"), |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                current = 3 - current;
                let keys = keys(current);
                let started = Instant::now();
                let pass = runtime.block_on(reindex_all(&store, &ring, &keys)).unwrap();
                spent += started.elapsed();
                assert_eq!(pass.moved, ROWS as u64);
            }
            spent
        })
    });
    group.finish();
    runtime.block_on(store.close());
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.sqlite3").display());
    bench_store(c, "sqlite", &sqlite);

    let server = std::env::var("MADOGUCHI_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let database = format!("mdg_bench_reindex_{}", Uuid::new_v4().simple());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let admin = runtime.block_on(sqlx::PgConnection::connect(&format!("{server}/postgres")));
    let Ok(mut admin) = admin else {
        eprintln!("PostgreSQL is not reachable at {server}: its figure is skipped");
        return;
    };
    runtime
        .block_on(
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .execute(&mut admin),
        )
        .unwrap();
    bench_store(c, "postgres", &format!("{server}/{database}"));
    runtime
        .block_on(
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {database} WITH (FORCE)"
            )))
            .execute(&mut admin),
        )
        .unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
