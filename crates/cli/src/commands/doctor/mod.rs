//! `madoguchi doctor`: checks the deployment as it will run — the same flags and environment
//! as `serve` — and prints findings with their severity, risk, fix and reference, then a score
//! (SPEC §8). Exit code 0 with no high finding, 1 otherwise. `serve` runs the configuration,
//! host and database checks before it binds anything and refuses to start on a high one,
//! except in development mode (loopback only), where it prints them as a warning.

mod config;
mod database;
pub mod finding;
mod host;
mod office_key;
mod operations;

/// The routes reviewed to answer without a staff session (MDG-WEB-02); the security scan
/// (`tests/security_scan`) holds the running server to the same lists.
pub use config::{PUBLIC_ALLOWED, UNAUTHENTICATED_ALLOWED};

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use madoguchi_store::Store;
use time::OffsetDateTime;

use crate::app::connect_store;
use crate::cli::{Cli, DoctorArgs, Listener, PrintFormat, ServeArgs};
use crate::data_dir::DataDir;
use finding::{Outcome, Report, Severity};

/// The deployment as `serve` would run it.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub demo: bool,
    pub listener: Listener,
    pub public_addr: SocketAddr,
    pub office_addr: SocketAddr,
    pub office_allow: Vec<IpAddr>,
    pub tls_proxies: Vec<IpAddr>,
    pub public_url: Option<String>,
    pub office_url: Option<String>,
    pub metrics_addr: Option<SocketAddr>,
    pub smtp_url: Option<String>,
    pub data_dir: PathBuf,
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
    /// `MADOGUCHI_LOG`.
    pub log_filter: Option<String>,
    /// More folders to search for a core-banking private key.
    pub key_search: Vec<PathBuf>,
    /// The token holding the back-office key (`--pkcs11-*`).
    pub pkcs11_module: Option<PathBuf>,
    pub pkcs11_token: String,
    pub pkcs11_pin_file: Option<PathBuf>,
    /// `--documents` (`s3://…`; `None`: the data folder).
    pub documents: Option<String>,
    /// `--s3-endpoint`.
    pub s3_endpoint: Option<String>,
}

impl Deployment {
    pub fn new(cli: &Cli, args: &ServeArgs) -> Deployment {
        Deployment {
            demo: args.demo,
            listener: args.listener,
            public_addr: args.public_addr,
            office_addr: args.office_addr,
            office_allow: args.office_allow.clone(),
            tls_proxies: args.tls_proxy.clone(),
            public_url: args.public_url.clone(),
            office_url: args.office_url.clone(),
            metrics_addr: args.metrics_addr,
            smtp_url: args.smtp_url.clone(),
            data_dir: cli.data_dir.clone(),
            config: cli.config.clone(),
            database_url: cli.database_url.clone(),
            log_filter: std::env::var("MADOGUCHI_LOG").ok(),
            key_search: Vec::new(),
            pkcs11_module: cli.pkcs11_module.clone(),
            pkcs11_token: cli.pkcs11_token.clone(),
            pkcs11_pin_file: cli.pkcs11_pin_file.clone(),
            documents: cli.documents.clone(),
            s3_endpoint: cli.s3_endpoint.clone(),
        }
    }

    pub fn serves_public(&self) -> bool {
        matches!(self.listener, Listener::All | Listener::Public)
    }

    pub fn serves_office(&self) -> bool {
        matches!(self.listener, Listener::All | Listener::Office)
    }
}

/// The checks `serve` runs at start: configuration, host and database (not the day-to-day
/// ones: a new deployment has staff still to sign in and jobs that never ran).
pub async fn start_checks(deployment: &Deployment, store: &Store) -> anyhow::Result<Report> {
    let mut outcomes = config::run(deployment);
    outcomes.extend(host::run(deployment));
    outcomes.extend(office_key::run(deployment));
    let posture = store.database_posture().await?;
    outcomes.extend(database::run(deployment, posture.as_ref()));
    Ok(Report::new(outcomes))
}

/// Every check.
pub async fn all_checks(deployment: &Deployment, store: &Store) -> anyhow::Result<Report> {
    let mut outcomes: Vec<Outcome> = start_checks(deployment, store).await?.checks;
    if !deployment.serves_office() {
        // Staff and the jobs are the office's: the public role may not read them.
        return Ok(Report::new(outcomes));
    }
    let jobs = operations::Jobs {
        retention: store.last_job_run("retention").await?,
        audit_verify: store.last_job_run("audit-verify").await?,
    };
    let staff = store.list_staff().await?;
    outcomes.extend(operations::run(&staff, &jobs, OffsetDateTime::now_utc()));
    let blind_index = madoguchi_seal::BlindIndexKeys::load(&deployment.data_dir.join("keys"));
    let stale_indexes = match blind_index {
        Ok(keys) if keys.previous_key_id().is_some() => {
            store
                .stale_email_indexes(&keys.current_key_id().to_string())
                .await?
        }
        _ => 0,
    };
    outcomes.push(office_key::rotation(
        deployment,
        &store.data_key_counts().await?,
        stale_indexes,
    ));
    Ok(Report::new(outcomes))
}

/// `madoguchi doctor`.
pub async fn main(cli: &Cli, args: &DoctorArgs) -> ExitCode {
    match run(cli, args).await {
        Ok(report) => {
            if report.high == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: &Cli, args: &DoctorArgs) -> anyhow::Result<Report> {
    let mut deployment = Deployment::new(cli, &args.serve);
    deployment.key_search = args.search_keys.clone();
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let report = all_checks(&deployment, &store).await;
    store.close().await;
    let report = report?;
    match args.format {
        PrintFormat::Text => print!("{}", report.to_text()),
        PrintFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(report)
}

/// Whether `report` has a finding of `severity` or worse.
pub fn has_at_least(report: &Report, severity: Severity) -> bool {
    report
        .checks
        .iter()
        .any(|c| !c.passed && c.check.severity >= severity)
}
