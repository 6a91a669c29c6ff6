//! `madoguchi incident …`: incident response from the audit log (SPEC §7).
//!
//! - [`scope`]: who lost what — customers, fields, counts (`incident scope`);
//! - [`notification`]: the notification list, decrypted after its audit events (`--format csv`);
//! - [`notice`]: the Japanese draft of the public notice and the regulator's report
//!   (`--format notice`).

pub mod notice;
pub mod notification;
pub mod notify;
pub mod scope;
pub mod suspension;

use std::io::Write as _;

use anyhow::Context;
use madoguchi_store::ScopeFilter;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::connect_store;
use crate::cli::{Cli, ScopeArgs, ScopeFormat};
use crate::data_dir::DataDir;
use scope::{Scope, compute, ip_range};

fn time_arg(
    what: &str,
    value: Option<&str>,
    default: OffsetDateTime,
) -> anyhow::Result<OffsetDateTime> {
    match value {
        None => Ok(default),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339).with_context(|| {
            format!("--{what} {v:?} is not a time: write it as 2026-12-01T00:00:00+09:00")
        }),
    }
}

/// `madoguchi incident scope`.
pub async fn scope(cli: &Cli, args: &ScopeArgs) -> anyhow::Result<()> {
    let ip_ranges = args
        .ip
        .iter()
        .map(|ip| ip_range(ip))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let now = OffsetDateTime::now_utc();
    let filter = ScopeFilter {
        actors: args.actor.clone(),
        sessions: args.session.clone(),
        ip_ranges,
        from: time_arg("from", args.from.as_deref(), OffsetDateTime::UNIX_EPOCH)?,
        to: time_arg("to", args.to.as_deref(), now + time::Duration::days(1))?,
    };
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let result = compute(&store, &filter).await;
    store.close().await;
    let scope = result?;
    match args.format {
        ScopeFormat::Json => println!("{}", serde_json::to_string_pretty(&scope)?),
        ScopeFormat::Text => print_text(&scope),
        ScopeFormat::Notice => print!("{}", notice::draft(&scope, &indicators(args))),
        ScopeFormat::Csv => {
            let keyring = crate::commands::keys::office_key_source(cli, &data)?
                .load()
                .context("cannot load the back office's key (the list opens contact fields)")?;
            let profile = crate::demo::load_profile(cli.config.as_deref())?;
            let store = connect_store(cli.database_url.as_deref(), &data).await?;
            let csv = notification::notification_csv(&store, &keyring, &profile, &scope).await;
            store.close().await;
            std::io::stdout().write_all(&csv?)?;
        }
    }
    Ok(())
}

/// The indicators, as the notice names them.
fn indicators(args: &ScopeArgs) -> String {
    let mut parts = Vec::new();
    parts.extend(args.actor.iter().map(|a| format!("操作者 {a}")));
    parts.extend(args.session.iter().map(|s| format!("セッション {s}")));
    parts.extend(args.ip.iter().map(|i| format!("接続元 {i}")));
    if let Some(from) = &args.from {
        parts.push(format!("{from} 以降"));
    }
    if let Some(to) = &args.to {
        parts.push(format!("{to} より前"));
    }
    if parts.is_empty() {
        "すべての閲覧".to_owned()
    } else {
        parts.join("、")
    }
}

fn print_text(scope: &Scope) {
    println!(
        "affected customers: {} ({} reads of personal data matched)",
        scope.customer_count, scope.events_matched
    );
    let common: Vec<&str> = scope.common_fields.iter().map(String::as_str).collect();
    println!("fields common to all (共通事項): {}", common.join(", "));
    println!("customers per field:");
    for (field, n) in &scope.field_counts {
        println!("  {field:<24} {n}");
    }
    for c in &scope.customers {
        let fields: Vec<&str> = c.fields.iter().map(String::as_str).collect();
        let channels: Vec<&str> = c.channels.iter().copied().collect();
        let subjects: Vec<String> = c
            .subjects
            .iter()
            .map(|s| {
                s.receipt_number
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}", s.kind, s.id))
            })
            .collect();
        println!(
            "{}  {}  first {}  last {}  fields {}  contact {}",
            c.customer,
            subjects.join(" "),
            c.first_access,
            c.last_access,
            fields.join(","),
            channels.join(",")
        );
    }
}
