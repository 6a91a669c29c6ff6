use std::process::ExitCode;

use clap::Parser;
use madoguchi::cli::{
    Cli, Command, CoreCommand, DemoCommand, HandoffCommand, IncidentCommand, KeysCommand,
    NotifyCommand,
};
use madoguchi::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    // The core banking side's tool: no database, no runtime, its own exit codes.
    if let Command::Core(CoreCommand::Open { .. }) = &cli.command {
        return commands::core::main(&cli);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Staff accounts: their own exit codes (see `commands::staff`).
    if let Command::Staff(command) = &cli.command {
        return runtime.block_on(commands::staff::main(&cli, command));
    }
    // The deployment's checks: exit code 1 on a high finding.
    if let Command::Doctor(args) = &cli.command {
        return runtime.block_on(commands::doctor::main(&cli, args));
    }
    // The audit log: its own exit codes (3: tampered with).
    if let Command::Audit(command) = &cli.command {
        return runtime.block_on(commands::audit::main(&cli, command));
    }
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Serve(args) => commands::serve::run(&cli, args).await,
            Command::Migrate { create_roles } => commands::migrate::run(&cli, *create_roles).await,
            // Answered above, with its own exit codes.
            Command::Doctor(_) => Ok(()),
            Command::Keys(KeysCommand::Init { core_private_key }) => {
                commands::keys::init(&cli, core_private_key.as_deref())
            }
            Command::Keys(KeysCommand::Rotate { key }) => commands::keys::rotate(&cli, *key).await,
            Command::Keys(KeysCommand::Rewrap) => commands::keys::rewrap(&cli).await,
            Command::Keys(KeysCommand::Reindex) => commands::keys::reindex(&cli).await,
            Command::Keys(KeysCommand::Retire { key_id }) => {
                commands::keys::retire(&cli, key_id).await
            }
            Command::Keys(KeysCommand::Status { format }) => {
                commands::keys::status(&cli, *format).await
            }
            Command::Handoff(HandoffCommand::Export { out, format }) => {
                commands::handoff::export(&cli, out.as_deref(), *format).await
            }
            Command::Handoff(HandoffCommand::Import { result, format }) => {
                commands::handoff::import(&cli, result, *format).await
            }
            // Answered above, before the runtime starts.
            Command::Core(_) => Ok(()),
            Command::Purge(args) => commands::purge::run(&cli, args).await,
            Command::Demo(DemoCommand::History { customers, events }) => {
                commands::demo::history(&cli, *customers, *events).await
            }
            Command::Demo(DemoCommand::Canaries {
                applications,
                bookings,
            }) => commands::canaries::plant(&cli, *applications, *bookings).await,
            Command::Incident(IncidentCommand::Scope(args)) => {
                commands::incident::scope(&cli, args).await
            }
            Command::Incident(IncidentCommand::Suspend { service, notice }) => {
                commands::incident::suspension::suspend(&cli, *service, notice.as_deref()).await
            }
            Command::Incident(IncidentCommand::Resume { service }) => {
                commands::incident::suspension::resume(&cli, *service).await
            }
            Command::Incident(IncidentCommand::Status { format }) => {
                commands::incident::suspension::status(&cli, *format).await
            }
            Command::Incident(IncidentCommand::Notify(NotifyCommand::Record {
                customers,
                channel,
                outcome,
            })) => commands::incident::notify::record(&cli, customers, *channel, *outcome).await,
            Command::Incident(IncidentCommand::Notify(NotifyCommand::Report { format })) => {
                commands::incident::notify::report(&cli, *format).await
            }
            // Answered above, with their own exit codes.
            Command::Staff(_) | Command::Audit(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `MADOGUCHI_LOG` filters them (default `info`), `MADOGUCHI_LOG_FORMAT=json`
/// makes them structured. Nothing personal is ever logged, whatever the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MADOGUCHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("MADOGUCHI_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
