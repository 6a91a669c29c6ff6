//! Command-line interface (SPEC §10).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "madoguchi",
    version,
    about = "Secure online application and visit reservation for Japanese banks",
    long_about = "madoguchi runs a bank's online application site and its back office.\n\
                  Start with `madoguchi serve --demo` to try it with a fictional bank."
)]
pub struct Cli {
    /// The bank profile (TOML). Without it, the fictional demo bank is used.
    #[arg(long, global = true, env = "MADOGUCHI_CONFIG")]
    pub config: Option<PathBuf>,

    /// The data folder: SQLite database, server keys, outbox, documents.
    #[arg(
        long,
        global = true,
        env = "MADOGUCHI_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://…` selects PostgreSQL; default is SQLite in the data folder.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the public site and the back office.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage the server's keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address of the public site.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub public_addr: SocketAddr,

    /// Address of the back office (loopback only).
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub office_addr: SocketAddr,

    /// Development mode: creates keys and the demo bank on first run, serves plain HTTP, and
    /// binds to loopback addresses only.
    #[arg(long)]
    pub demo: bool,

    /// Sender address of the e-mails.
    #[arg(
        long,
        env = "MADOGUCHI_MAIL_FROM",
        default_value = "no-reply@madoguchi.invalid"
    )]
    pub mail_from: String,

    /// Per client address and minute: e-mail checks started (each sends an e-mail).
    #[arg(long, env = "MADOGUCHI_LIMIT_EMAIL_CHECKS", default_value = "30")]
    pub limit_email_checks: NonZeroU32,

    /// Per client address and minute: verification codes tried.
    #[arg(long, env = "MADOGUCHI_LIMIT_CODE_TRIES", default_value = "60")]
    pub limit_code_tries: NonZeroU32,

    /// Per client address and minute: applications submitted.
    #[arg(long, env = "MADOGUCHI_LIMIT_SUBMISSIONS", default_value = "30")]
    pub limit_submissions: NonZeroU32,

    /// Per client address and minute: visit bookings made, changed or cancelled.
    #[arg(long, env = "MADOGUCHI_LIMIT_BOOKINGS", default_value = "20")]
    pub limit_bookings: NonZeroU32,

    /// The public site's address as customers reach it, for links in e-mails, e.g.
    /// `https://apply.bank.example`. Default: `http://` and the public listener's address.
    #[arg(long, env = "MADOGUCHI_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Deliver e-mail by SMTP instead of writing it to `<data-dir>/outbox`, e.g.
    /// `smtp://user:pass@mail.example.jp:587?tls=required`.
    #[arg(long, env = "MADOGUCHI_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// A client address besides this machine's that may reach the back office (repeatable),
    /// e.g. a branch terminal's. Default: loopback only.
    #[arg(long = "office-allow", env = "MADOGUCHI_OFFICE_ALLOW", value_delimiter = ',')]
    pub office_allow: Vec<std::net::IpAddr>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create the server's keys (kept if they exist) and a development core-banking key pair.
    Init {
        /// Where to write the core-banking PRIVATE key. It must be outside the data folder:
        /// in production it belongs to the core banking system, never to this server.
        #[arg(long)]
        core_private_key: Option<PathBuf>,
    },
}
