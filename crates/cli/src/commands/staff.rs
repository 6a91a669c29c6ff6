//! `madoguchi staff add | disable | reset | list`: back-office staff accounts.
//!
//! The same operations as the administrator's pages (`madoguchi_office::staff_admin`), for
//! the first administrator (who has no page to sign in to yet) and for scripts. Exit codes:
//! 0 done, 1 error (database, configuration), 2 a value refused (the message names the option
//! and the fix; clap also uses 2 for usage errors), 3 no such member of staff, 4 the
//! username is already taken.

use std::process::ExitCode;

use madoguchi_office::staff_admin::accounts::{self, AccountError, Issued};
use madoguchi_store::{StaffRow, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::connect_store;
use crate::cli::{Cli, PrintFormat, StaffCommand};
use crate::data_dir::DataDir;

/// Exit code: a value was refused.
pub const EXIT_INVALID: u8 = 2;
/// Exit code: no such member of staff.
pub const EXIT_NOT_FOUND: u8 = 3;
/// Exit code: the username is already taken.
pub const EXIT_TAKEN: u8 = 4;

/// Runs the command and answers with its exit code.
pub async fn main(cli: &Cli, command: &StaffCommand) -> ExitCode {
    let store = match open(cli).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = run(&store, command).await;
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

async fn open(cli: &Cli) -> anyhow::Result<Store> {
    let data = DataDir::open(&cli.data_dir)?;
    connect_store(cli.database_url.as_deref(), &data).await
}

/// The exit code of a refusal.
pub fn exit_code(e: &AccountError) -> u8 {
    match e {
        AccountError::Username(_)
        | AccountError::Role
        | AccountError::Scope(_)
        | AccountError::ScopeForRole(_) => EXIT_INVALID,
        AccountError::NotFound(_) => EXIT_NOT_FOUND,
        AccountError::Taken(_) => EXIT_TAKEN,
        AccountError::Store(_) | AccountError::Internal(_) => 1,
    }
}

/// The command's work on an open store (the tests call it too).
pub async fn run(store: &Store, command: &StaffCommand) -> Result<(), AccountError> {
    match command {
        StaffCommand::Add {
            username,
            role,
            scope,
            format,
        } => {
            let issued = accounts::add(store, username, role, scope).await?;
            accounts::audit_cli(store, "staff.add", issued.id).await?;
            print_issued(&issued, *format, "added");
        }
        StaffCommand::Disable { username } => {
            let row = accounts::find(store, username).await?;
            if accounts::disable(store, row.id).await? {
                accounts::audit_cli(store, "staff.disable", row.id).await?;
                println!("{} disabled; their sessions have ended", row.username);
            } else {
                println!("{} was already disabled", row.username);
            }
        }
        StaffCommand::Reset { username, format } => {
            let row = accounts::find(store, username).await?;
            let issued = accounts::reset(store, &row).await?;
            accounts::audit_cli(store, "staff.reset", issued.id).await?;
            print_issued(&issued, *format, "reset");
        }
        StaffCommand::List { format } => {
            let rows = accounts::list(store).await?;
            print_list(&rows, *format);
        }
    }
    Ok(())
}

fn print_issued(issued: &Issued, format: PrintFormat, what: &str) {
    match format {
        PrintFormat::Json => println!(
            "{}",
            serde_json::json!({
                "id": issued.id,
                "username": issued.username,
                "one_time_password": issued.one_time_password.as_str(),
                "must_change_password": true,
            })
        ),
        PrintFormat::Text => {
            println!("{} {what}", issued.username);
            println!("one-time password: {}", issued.one_time_password.as_str());
            println!(
                "It is shown only now. Hand it over in person; it must be changed at the first \
                 sign-in, where the authenticator app is also registered."
            );
        }
    }
}

fn timestamp(t: Option<OffsetDateTime>) -> Option<String> {
    t.and_then(|t| t.format(&Rfc3339).ok())
}

fn print_list(rows: &[StaffRow], format: PrintFormat) {
    let now = OffsetDateTime::now_utc();
    match format {
        PrintFormat::Json => {
            let staff: Vec<serde_json::Value> = rows
                .iter()
                .map(|row| {
                    serde_json::json!({
                        "id": row.id,
                        "username": row.username,
                        "role": row.role,
                        "scope": row.scope,
                        "state": accounts::state_of(row, now),
                        "must_change_password": row.must_change_password,
                        "second_factor": row.totp_enrolled_at.is_some(),
                        "created_at": timestamp(Some(row.created_at)),
                        "last_sign_in_at": timestamp(row.last_sign_in_at),
                        "disabled_at": timestamp(row.disabled_at),
                    })
                })
                .collect();
            println!("{}", serde_json::json!({ "staff": staff }));
        }
        PrintFormat::Text => {
            println!(
                "{:<24} {:<14} {:<28} {:<9} last sign-in",
                "username", "role", "scope", "state"
            );
            for row in rows {
                println!(
                    "{:<24} {:<14} {:<28} {:<9} {}",
                    row.username,
                    row.role,
                    row.scope,
                    accounts::state_of(row, now),
                    timestamp(row.last_sign_in_at).unwrap_or_else(|| "-".to_owned())
                );
            }
        }
    }
}
