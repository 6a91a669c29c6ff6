//! `madoguchi incident suspend | resume | status`: stopping the public services at once, on
//! every instance (they read the state from the database every half second), with a notice;
//! the back office keeps working. Each change is audited (`incident.suspend`,
//! `incident.resume`, actor `cli:incident`).

use std::path::Path;

use anyhow::Context;
use madoguchi_store::{AuditEventRow, Store, SuspensionRow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::app::connect_store;
use crate::cli::{Cli, PrintFormat, ServiceChoice};
use crate::data_dir::DataDir;

const ACTOR: &str = "cli:incident";
/// The longest notice accepted (it is shown on every page of the service).
const MAX_NOTICE: usize = 4000;

fn services(choice: ServiceChoice) -> &'static [&'static str] {
    match choice {
        ServiceChoice::WebApplication => &["web-application"],
        ServiceChoice::VisitReservation => &["visit-reservation"],
        ServiceChoice::All => &["web-application", "visit-reservation"],
    }
}

async fn open(cli: &Cli) -> anyhow::Result<Store> {
    let data = DataDir::open(&cli.data_dir)?;
    connect_store(cli.database_url.as_deref(), &data).await
}

async fn audit(store: &Store, action: &str, service: &str) -> anyhow::Result<()> {
    store
        .insert_audit_event(&AuditEventRow {
            id: Uuid::now_v7(),
            at: OffsetDateTime::now_utc(),
            actor: ACTOR.to_owned(),
            actor_address: None,
            session: None,
            action: action.to_owned(),
            subject_kind: Some("service".to_owned()),
            subject_id: Some(service.to_owned()),
            fields: String::new(),
            purpose: None,
            detail: None,
            outcome: "ok".to_owned(),
        })
        .await
        .map(|_| ())
        .context("cannot write the audit event")
}

/// `madoguchi incident suspend --service S [--notice FILE]`.
pub async fn suspend(
    cli: &Cli,
    choice: ServiceChoice,
    notice: Option<&Path>,
) -> anyhow::Result<()> {
    let notice = match notice {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("--notice {}: cannot read it as UTF-8 text", path.display())
            })?;
            anyhow::ensure!(
                text.chars().count() <= MAX_NOTICE,
                "--notice {}: at most {MAX_NOTICE} characters are shown",
                path.display()
            );
            Some(text.trim().to_owned())
        }
    };
    let store = open(cli).await?;
    let result: anyhow::Result<()> = async {
        for service in services(choice) {
            audit(&store, "incident.suspend", service).await?;
            store
                .suspend_service(&SuspensionRow {
                    service: (*service).to_owned(),
                    suspended_at: OffsetDateTime::now_utc(),
                    notice: notice.clone(),
                    actor: ACTOR.to_owned(),
                })
                .await?;
            println!("{service}: suspended (every instance within a second)");
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

/// `madoguchi incident resume --service S`.
pub async fn resume(cli: &Cli, choice: ServiceChoice) -> anyhow::Result<()> {
    let store = open(cli).await?;
    let result: anyhow::Result<()> = async {
        for service in services(choice) {
            audit(&store, "incident.resume", service).await?;
            if store.resume_service(service).await? {
                println!("{service}: resumed");
            } else {
                println!("{service}: was not suspended");
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

/// `madoguchi incident status`.
pub async fn status(cli: &Cli, format: PrintFormat) -> anyhow::Result<()> {
    let store = open(cli).await?;
    let rows = store.suspended_services().await;
    store.close().await;
    let rows = rows?;
    match format {
        PrintFormat::Json => {
            let list: Vec<_> = ["web-application", "visit-reservation"]
                .iter()
                .map(|service| {
                    let row = rows.iter().find(|r| r.service == *service);
                    serde_json::json!({
                        "service": service,
                        "suspended": row.is_some(),
                        "since": row.and_then(|r| r.suspended_at.format(&Rfc3339).ok()),
                        "notice": row.and_then(|r| r.notice.clone()),
                    })
                })
                .collect();
            println!("{}", serde_json::json!({ "services": list }));
        }
        PrintFormat::Text => {
            for service in ["web-application", "visit-reservation"] {
                match rows.iter().find(|r| r.service == service) {
                    Some(r) => println!(
                        "{service}: SUSPENDED since {}",
                        r.suspended_at.format(&Rfc3339).unwrap_or_default()
                    ),
                    None => println!("{service}: running"),
                }
            }
        }
    }
    Ok(())
}
