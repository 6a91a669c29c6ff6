//! `madoguchi incident notify`: records how each affected customer was told — the channel and
//! the outcome (sent, reached, returned) — and reports it per channel, for the report item
//! ⑥ 本人対応状況. Customers are named as `incident scope` names them, never by a personal value.

use std::collections::{BTreeMap, BTreeSet};

use madoguchi_store::{NotificationRow, Store};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::connect_store;
use crate::cli::{Cli, NotifyChannel, NotifyOutcome, PrintFormat};
use crate::data_dir::DataDir;

const ACTOR: &str = "cli:incident";

async fn open(cli: &Cli) -> anyhow::Result<Store> {
    let data = DataDir::open(&cli.data_dir)?;
    connect_store(cli.database_url.as_deref(), &data).await
}

/// `madoguchi incident notify record --customer KEY --channel C --outcome O`.
pub async fn record(
    cli: &Cli,
    customers: &[String],
    channel: NotifyChannel,
    outcome: NotifyOutcome,
) -> anyhow::Result<()> {
    for customer in customers {
        let known = ["customer:", "application:", "booking:", "document:"]
            .iter()
            .any(|p| customer.starts_with(p));
        anyhow::ensure!(
            known,
            "--customer {customer:?}: use the name `incident scope` gives (customer:…, application:…, booking:…)"
        );
    }
    let store = open(cli).await?;
    let result: anyhow::Result<()> = async {
        for customer in customers {
            store
                .record_notification(&NotificationRow {
                    id: Uuid::now_v7(),
                    customer: customer.clone(),
                    channel: channel.as_str().to_owned(),
                    outcome: outcome.as_str().to_owned(),
                    at: OffsetDateTime::now_utc(),
                    actor: ACTOR.to_owned(),
                })
                .await?;
        }
        Ok(())
    }
    .await;
    store.close().await;
    result?;
    println!(
        "{} customer(s): {} by {}",
        customers.len(),
        outcome.as_str(),
        channel.as_str()
    );
    Ok(())
}

/// `madoguchi incident notify report`: per channel and outcome, the customers; and how many
/// were reached by any channel.
pub async fn report(cli: &Cli, format: PrintFormat) -> anyhow::Result<()> {
    let store = open(cli).await?;
    let rows = store.notifications().await;
    store.close().await;
    let rows = rows?;
    let mut by: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut customers = BTreeSet::new();
    let mut reached = BTreeSet::new();
    for row in &rows {
        by.entry((row.channel.clone(), row.outcome.clone()))
            .or_default()
            .insert(row.customer.clone());
        customers.insert(row.customer.clone());
        if row.outcome == "reached" {
            reached.insert(row.customer.clone());
        }
    }
    match format {
        PrintFormat::Json => {
            let counts: Vec<_> = by
                .iter()
                .map(|((channel, outcome), set)| {
                    serde_json::json!({"channel": channel, "outcome": outcome, "customers": set.len()})
                })
                .collect();
            let json = serde_json::json!({
                "customers_contacted": customers.len(),
                "customers_reached": reached.len(),
                "not_reached": customers.difference(&reached).collect::<Vec<_>>(),
                "by_channel": counts,
            });
            println!("{json}");
        }
        PrintFormat::Text => {
            println!(
                "customers contacted: {}, reached: {}",
                customers.len(),
                reached.len()
            );
            for ((channel, outcome), set) in &by {
                println!("  {channel:<8} {outcome:<9} {}", set.len());
            }
        }
    }
    Ok(())
}
