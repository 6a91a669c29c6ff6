//! `madoguchi demo history`: a synthetic history for trying the incident tools and measuring
//! them — applications, and audit events of staff reading them, in sessions from addresses,
//! appended to the real hash chain in bulk (a history that `audit verify` accepts). Never for
//! a production database: the applications are random bytes that no key opens.

use std::time::Instant;

use madoguchi_store::{AuditEventRow, Store};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::app::connect_store;
use crate::cli::Cli;
use crate::data_dir::DataDir;

/// Events per transaction.
const BATCH: usize = 10_000;
/// Reads per staff session.
const READS_PER_SESSION: usize = 200;
/// Members of staff the history's sessions belong to.
const STAFF: usize = 20;
/// The field lists read, in turn.
const FIELD_SETS: [&str; 5] = [
    "family_name,given_name",
    "family_name,given_name,birth_date",
    "email,phone_mobile",
    "family_name,given_name,postal_code,address_line",
    "family_name,given_name,email,phone_mobile,employer_name",
];

/// The address of synthetic session `s`: 10.x.y.z, 256 sessions per /24.
pub fn session_address(s: usize) -> String {
    format!("10.{}.{}.{}", (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff)
}

/// The audit id of synthetic session `s`.
pub fn session_id(s: usize) -> String {
    format!("syn{s:08x}")
}

/// `madoguchi demo history --customers N --events M`.
pub async fn history(cli: &Cli, customers: usize, events: usize) -> anyhow::Result<()> {
    anyhow::ensure!(customers > 0, "--customers must be at least 1");
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let result = fill(&store, customers, events).await;
    store.close().await;
    result
}

async fn fill(store: &Store, customers: usize, events: usize) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    store
        .insert_synthetic_applications(customers, &["101", "102", "103", "201"], now)
        .await?;
    let ids = store
        .some_application_ids(i64::try_from(customers)?)
        .await?;
    anyhow::ensure!(!ids.is_empty(), "no application to read");
    let written_apps = started.elapsed();
    let staff: Vec<Uuid> = (0..STAFF).map(|_| Uuid::new_v4()).collect();
    let span = Duration::days(90);
    let step_ms = (span.whole_milliseconds() / i128::try_from(events.max(1))?).max(1);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..events {
        let s = i / READS_PER_SESSION;
        let offset = Duration::milliseconds(i64::try_from(step_ms * i128::try_from(i)?)?);
        // Spread the subjects: each session reads its own stretch of customers.
        let subject = ids[(s * 7919 + i * 104_729) % ids.len()];
        batch.push(AuditEventRow {
            id: Uuid::now_v7(),
            at: now - span + offset,
            actor: format!("staff:{}", staff[s % STAFF]),
            actor_address: Some(session_address(s)),
            session: Some(session_id(s)),
            action: "application.reveal".to_owned(),
            subject_kind: Some("application".to_owned()),
            subject_id: Some(subject.to_string()),
            fields: FIELD_SETS[i % FIELD_SETS.len()].to_owned(),
            purpose: Some("review".to_owned()),
            detail: None,
            outcome: "ok".to_owned(),
        });
        if batch.len() == BATCH {
            store.append_audit_events_in_bulk(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.append_audit_events_in_bulk(&batch).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} applications in {:.1} s; {events} audit events in {secs:.1} s ({:.0} events/s)",
        ids.len(),
        written_apps.as_secs_f64(),
        events as f64 / secs.max(f64::EPSILON)
    );
    println!(
        "try: incident scope --session {} ; incident scope --ip {}/24",
        session_id(0),
        session_address(0)
    );
    Ok(())
}
