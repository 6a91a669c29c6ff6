use std::net::SocketAddr;

use anyhow::bail;
use madoguchi_mail::Transport;
use madoguchi_public::RateLimitSettings;

use crate::app::{self, AppConfig, connect_store};
use crate::cli::{Cli, ServeArgs};
use crate::commands::doctor::{self, Deployment, finding::Severity};
use crate::data_dir::DataDir;
use crate::demo::load_profile;

/// `madoguchi serve`.
pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    check_addresses(args)?;
    let documents_bucket = crate::documents::bucket(cli)?;
    if cli.config.is_none() && !args.demo {
        bail!(
            "no bank profile: pass --config FILE (see config/demo-bank.toml), or --demo to try the fictional demo bank"
        );
    }
    let profile = load_profile(cli.config.as_deref())?;
    let data = DataDir::open(&cli.data_dir)?;
    if args.demo {
        let core_out = data.default_core_private_key();
        let report = madoguchi_keyring::init_keys(&data.keys(), data.root(), &core_out)?;
        if report.created_any() {
            println!("{report}");
        }
    }
    let transport = match &args.smtp_url {
        Some(url) => {
            let ca = match &args.smtp_ca {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!("cannot read --smtp-ca {}: {e}", path.display())
                })?),
                None => None,
            };
            Transport::smtp_trusting(url, ca.as_deref())?
        }
        None => Transport::Folder(data.outbox()),
    };
    gate(cli, args, &data).await?;
    let config = AppConfig {
        listener: args.listener,
        profile,
        data: data.clone(),
        database_url: cli.database_url.clone(),
        public_addr: args.public_addr,
        office_addr: args.office_addr,
        cookie_secure: !args.demo,
        mail_from: args.mail_from.clone(),
        transport,
        rate_limits: RateLimitSettings {
            email_checks_per_minute: args.limit_email_checks,
            code_tries_per_minute: args.limit_code_tries,
            submissions_per_minute: args.limit_submissions,
            bookings_per_minute: args.limit_bookings,
        },
        public_url: args.public_url.clone(),
        office_url: args.office_url.clone(),
        audit_sink: args.audit_sink.clone(),
        metrics_addr: args.metrics_addr,
        office_allowed_clients: args.office_allow.clone(),
        office_token: crate::commands::keys::token_config(cli)?,
        timeouts: madoguchi_http::Timeouts::default(),
        trusted_proxies: args.tls_proxy.clone(),
        documents_bucket,
        external_retention: args.external_retention,
    };
    let mut running = app::start(config).await?;
    if args.demo {
        println!("madoguchi is running in DEVELOPMENT mode (plain HTTP, loopback only).");
    }
    if let Some(addr) = running.public_addr {
        println!("public site:  http://{addr}/");
    }
    if let Some(addr) = running.office_addr {
        println!("back office:  http://{addr}/");
    }
    if let Some(addr) = running.metrics_addr {
        println!("metrics:      http://{addr}/metrics");
    }
    if args.smtp_url.is_none() {
        println!("e-mail goes to: {}", data.outbox().display());
    }
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down"),
        _ = running.wait() => tracing::error!("a server task ended unexpectedly"),
    }
    running.stop().await;
    Ok(())
}

/// `doctor`'s configuration, host and database checks, before anything is bound: a high
/// finding stops the start, except in development mode (loopback only), which shows them.
async fn gate(cli: &Cli, args: &ServeArgs, data: &DataDir) -> anyhow::Result<()> {
    let deployment = Deployment::new(cli, args);
    let store = connect_store(cli.database_url.as_deref(), data).await?;
    let report = doctor::start_checks(&deployment, &store).await;
    store.close().await;
    let report = report?;
    if !doctor::has_at_least(&report, Severity::High) {
        return Ok(());
    }
    if args.demo {
        println!("DEVELOPMENT mode: not for customers' data. `madoguchi doctor` reports:");
        for failed in report.failed() {
            println!(
                "  {} {}: {}",
                failed.check.severity.as_str(),
                failed.check.id,
                failed.check.title
            );
        }
        return Ok(());
    }
    eprint!("{}", report.to_text());
    bail!(
        "refusing to start: {} high finding(s) above; fix them, or run with --demo on loopback to try the software",
        report.high
    )
}

/// The back office listens on loopback unless an explicit client allowlist says who else may
/// reach it (and never in the development mode); the development mode is loopback-only entirely.
fn check_addresses(args: &ServeArgs) -> anyhow::Result<()> {
    if !args.office_addr.ip().is_loopback() && (args.office_allow.is_empty() || args.demo) {
        bail!(
            "--office-addr {} is not a loopback address: the back office must not be reachable from outside this machine (use 127.0.0.1:PORT, or name the staff terminals that may reach it with --office-allow ADDRESS; never with --demo)",
            args.office_addr
        );
    }
    if args.demo && !is_loopback(args.public_addr) {
        bail!(
            "--demo serves plain HTTP and is allowed on loopback only; --public-addr {} is not (use 127.0.0.1:PORT)",
            args.public_addr
        );
    }
    Ok(())
}

fn is_loopback(addr: SocketAddr) -> bool {
    addr.ip().is_loopback()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
