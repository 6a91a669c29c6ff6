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

    /// The PKCS#11 library of the token (HSM) that holds the back-office key, e.g.
    /// `/usr/lib/softhsm/libsofthsm2.so`. Without it, the key is the file `keys/office.key`.
    #[arg(long, global = true, env = "MADOGUCHI_PKCS11_MODULE")]
    pub pkcs11_module: Option<PathBuf>,

    /// The label of the token holding the back-office key.
    #[arg(
        long,
        global = true,
        env = "MADOGUCHI_PKCS11_TOKEN",
        default_value = "madoguchi"
    )]
    pub pkcs11_token: String,

    /// A file (mode 0600) whose first line is the token's user PIN.
    #[arg(long, global = true, env = "MADOGUCHI_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// Where identity documents are kept. Default: encrypted files in `<data-dir>/documents`.
    /// `s3://BUCKET/PREFIX` puts the same encrypted bytes in an S3-compatible bucket, one
    /// object per document named by its id; credentials from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY (or the instance's role).
    #[arg(long, global = true, env = "MADOGUCHI_DOCUMENTS")]
    pub documents: Option<String>,

    /// The S3-compatible endpoint of `--documents s3://…`, e.g.
    /// `https://s3.ap-northeast-1.amazonaws.com` or the bank's own object storage. Default:
    /// AWS's for the region.
    #[arg(long, global = true, env = "MADOGUCHI_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// The region of `--documents s3://…`, e.g. `ap-northeast-1` (default: AWS_REGION or
    /// AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, global = true, env = "MADOGUCHI_S3_REGION")]
    pub s3_region: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the public site and the back office.
    Serve(ServeArgs),
    /// Apply database migrations and exit (as the tables' owner).
    Migrate {
        /// PostgreSQL: also create the least-privilege roles `madoguchi_public`,
        /// `madoguchi_office`, `madoguchi_retention` and `madoguchi_audit` and grant each what
        /// its process needs (later `migrate` runs keep the grants up to date).
        #[arg(long)]
        create_roles: bool,
    },
    /// Check the deployment's configuration, host, database and staff (SPEC §8): findings
    /// with severity, risk, fix and reference, then a 0-100 score. Takes `serve`'s options.
    /// Exit code 0 without a high finding, 1 with one, 2 when the checks could not run.
    Doctor(DoctorArgs),
    /// Manage the server's keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage back-office staff accounts. Exit codes: 0 done, 1 error (database, keys),
    /// 2 usage or a value refused (the message names the option and the fix), 3 no such
    /// member of staff, 4 the username is already taken.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Hand approved applications off to core banking, and import its answer.
    #[command(subcommand)]
    Handoff(HandoffCommand),
    /// The core banking side's tool: open a hand-off batch with the core-banking private key.
    #[command(subcommand)]
    Core(CoreCommand),
    /// Delete what the retention policy no longer allows to keep (also run by `serve`
    /// every minute). Exit codes: 0 done, 1 error.
    Purge(PurgeArgs),
    /// The audit log: prove it intact, sign its head, archive it. Exit codes: 0 intact (or
    /// done), 1 error, 3 the log was tampered with (each finding is printed).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Incident response: who lost what.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Synthetic data for trying and measuring (never on a production database).
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Fills the database with N synthetic applications and M audit events of staff reading
    /// them (sessions of 200 reads, each from its own 10.x.y.z address), appended to the real
    /// hash chain.
    History {
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Plants canary records: applications and bookings that look real (sealed like any
    /// other) but that no legitimate work opens. Opening one in the back office raises a
    /// critical alert and holds the member of staff.
    Canaries {
        #[arg(long, default_value_t = 5)]
        applications: usize,
        #[arg(long, default_value_t = 3)]
        bookings: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// From the audit log: the customers whose personal data was read by these actors,
    /// sessions or addresses (any of them; every read when none is given) within the window,
    /// the fields each one lost, first and last access, how to reach them; the fields common
    /// to all and how many customers lost each field.
    Scope(ScopeArgs),
    /// Stop a public service (or both) on every instance within a second: its pages and API
    /// answer 503 with the notice; the back office keeps working; nothing stored is touched.
    Suspend {
        #[arg(long, value_enum)]
        service: ServiceChoice,
        /// A text file with the bank's notice, shown on the service's pages.
        #[arg(long)]
        notice: Option<PathBuf>,
    },
    /// Start a suspended service again.
    Resume {
        #[arg(long, value_enum)]
        service: ServiceChoice,
    },
    /// Which services are running or suspended.
    Status {
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
    /// Record how affected customers were told, and report it (本人対応状況).
    #[command(subcommand)]
    Notify(NotifyCommand),
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Records one attempt for each customer named (as `incident scope` names them).
    Record {
        #[arg(long = "customer", required = true)]
        customers: Vec<String>,
        #[arg(long, value_enum)]
        channel: NotifyChannel,
        #[arg(long, value_enum)]
        outcome: NotifyOutcome,
    },
    /// Customers contacted and reached, per channel and outcome.
    Report {
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
}

/// How a customer was contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NotifyChannel {
    #[value(name = "e-mail")]
    Email,
    Post,
    Phone,
}

impl NotifyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Email => "e-mail",
            NotifyChannel::Post => "post",
            NotifyChannel::Phone => "phone",
        }
    }
}

/// What came of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NotifyOutcome {
    Sent,
    Reached,
    Returned,
}

impl NotifyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOutcome::Sent => "sent",
            NotifyOutcome::Reached => "reached",
            NotifyOutcome::Returned => "returned",
        }
    }
}

/// A public service, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceChoice {
    WebApplication,
    VisitReservation,
    All,
}

#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    /// An actor of the audit log, e.g. `staff:0190…` (repeatable).
    #[arg(long)]
    pub actor: Vec<String>,
    /// A session's audit id, as the audit log shows it (repeatable).
    #[arg(long)]
    pub session: Vec<String>,
    /// A client address or CIDR block, e.g. 203.0.113.7 or 203.0.113.0/24 (repeatable).
    #[arg(long)]
    pub ip: Vec<String>,
    /// Start of the window (inclusive), RFC 3339, e.g. 2026-12-01T00:00:00+09:00.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the window (exclusive), RFC 3339.
    #[arg(long)]
    pub to: Option<String>,
    /// text (a summary), json (complete), csv (the notification list: contact fields opened,
    /// each customer's read audited first), notice (a Japanese draft of the public notice's
    /// scope and of the nine items of the report to the PPC).
    #[arg(long, value_enum, default_value_t = ScopeFormat::Text)]
    pub format: ScopeFormat,
}

/// What `incident scope` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ScopeFormat {
    #[default]
    Text,
    Json,
    Csv,
    Notice,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole hash chain and check it against every signed checkpoint (in the
    /// database and in the external sink); name the first event changed, removed or
    /// reordered, and the checkpoints that disagree.
    Verify {
        /// The external checkpoint sink (default: <data-dir>/audit-checkpoints.log).
        #[arg(long, env = "MADOGUCHI_AUDIT_SINK")]
        sink: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
    /// Sign the chain's head now (serve does it every minute when the log grew) and append
    /// the checkpoint to the sink.
    Checkpoint {
        /// The external checkpoint sink (default: <data-dir>/audit-checkpoints.log).
        #[arg(long, env = "MADOGUCHI_AUDIT_SINK")]
        sink: Option<PathBuf>,
    },
    /// Print the events of a time window as JSON lines, with their hashes, for archiving
    /// and external tools.
    Export {
        /// Start of the window (inclusive), RFC 3339, e.g. 2026-12-01T00:00:00+09:00.
        #[arg(long)]
        from: String,
        /// End of the window (exclusive), RFC 3339.
        #[arg(long)]
        to: String,
        /// The only format: one JSON object per line.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
}

/// The archive format of `audit export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExportFormat {
    #[default]
    Jsonl,
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PrintFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document on standard output, for scripts.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HandoffCommand {
    /// Write ONE batch of every approved application: personal fields decrypted with the
    /// back office's key, sealed secrets copied through unopened, the whole sealed to the
    /// core-banking public key, with a manifest signed by the hand-off signing key. The
    /// applications become handed-off. Exit codes: 0 done (also when nothing was approved),
    /// 1 error (nothing handed off).
    Export {
        /// Where to write `<batch>.batch` and `<batch>.manifest.json` (default
        /// `<data-dir>/handoff`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
    /// Import core banking's answer (JSON: a list of {"receipt_number", "outcome": "opened",
    /// "branch_code", "account_number"} or {"receipt_number", "outcome": "refused",
    /// "reason"}, bare or as {"results": [...]}). Opened → completed (account number stored
    /// encrypted; secrets and identity documents deleted at once); refused → rejected.
    /// Importing twice changes nothing the second time. Exit codes: 0 read (unknown receipt
    /// numbers and unusable results are reported, not fatal), 1 error.
    Import {
        /// The answer file.
        result: PathBuf,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum CoreCommand {
    /// Verify a batch's signed manifest and hash, then decrypt it and open every sealed
    /// secret; print the applications as JSON (fields and secrets in clear) on standard
    /// output. Exit codes: 0 opened, 1 cannot read a file or key, 2 usage, 3 refused (the
    /// manifest or the batch was altered, or signed by another key: nothing decrypted),
    /// 4 the batch or a secret does not open with this key.
    Open {
        /// The core-banking PRIVATE key file (mode 0600). Repeat it after a core key rotation:
        /// the batch and each secret open with the key they were sealed to.
        #[arg(long, required = true)]
        key: Vec<PathBuf>,
        /// The back office's `handoff-signing.pub`: only batches it signed are opened.
        #[arg(long, env = "MADOGUCHI_HANDOFF_SIGNER")]
        signer: Option<PathBuf>,
        /// The manifest (default: `<batch>.manifest.json` beside the batch).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// The `.batch` file.
        batch: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Show what would be deleted (counts, receipt numbers and ids; no personal data) and
    /// delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Use the demo bank's retention periods when no --config is given (development only:
    /// without either, purge refuses rather than guess a bank's periods).
    #[arg(long)]
    pub demo: bool,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
    pub format: PrintFormat,
}

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub serve: ServeArgs,

    /// Another folder to search for a core-banking private key (repeatable); the data folder,
    /// its parent and the profile's folder are always searched.
    #[arg(long)]
    pub search_keys: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
    pub format: PrintFormat,
}

/// Which half of the server a `serve` process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Listener {
    /// Both listeners, the outbox worker and the jobs, in one process.
    #[default]
    All,
    /// The public site only (with the `madoguchi_public` database role: no private key, no
    /// read of personal tables).
    Public,
    /// The back office, the outbox worker, the retention purge and the audit checkpoints.
    Office,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Which half to run: `public` and `office` run as separate processes with separate
    /// database roles; `all` runs both.
    #[arg(long, value_enum, env = "MADOGUCHI_LISTENER", default_value_t = Listener::All)]
    pub listener: Listener,

    /// The TLS-terminating proxy in front of a listener bound off loopback (repeatable).
    /// Without one, `serve` refuses plain HTTP off loopback.
    #[arg(long, env = "MADOGUCHI_TLS_PROXY", value_delimiter = ',')]
    pub tls_proxy: Vec<std::net::IpAddr>,

    /// Address of the public site.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub public_addr: SocketAddr,

    /// Address of the back office. It answers loopback clients and those of `--office-allow`.
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

    /// The back office's address as staff open it, e.g. `https://office.bank.example.jp`:
    /// staff passkeys are bound to it. Default: `http://localhost:PORT` of a loopback
    /// `--office-addr`; without it off loopback, passkeys are off (TOTP codes only).
    #[arg(long, env = "MADOGUCHI_OFFICE_URL")]
    pub office_url: Option<String>,

    /// A file (ideally on another host's append-only storage) where every signed audit
    /// checkpoint is appended besides the database. Default: <data-dir>/audit-checkpoints.log.
    #[arg(long, env = "MADOGUCHI_AUDIT_SINK")]
    pub audit_sink: Option<PathBuf>,

    /// Serve Prometheus metrics (`GET /metrics`: counts only, no personal data) on this
    /// address, e.g. `127.0.0.1:9464`. Default: not served.
    #[arg(long, env = "MADOGUCHI_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Deliver e-mail by SMTP instead of writing it to `<data-dir>/outbox`, e.g.
    /// `smtp://user:pass@mail.example.jp:587?tls=required`.
    #[arg(long, env = "MADOGUCHI_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// A certificate authority (PEM) to trust for the SMTP relay's certificate besides the
    /// public roots, e.g. the bank's internal CA.
    #[arg(long, env = "MADOGUCHI_SMTP_CA")]
    pub smtp_ca: Option<PathBuf>,

    /// A client address besides this machine's that may reach the back office (repeatable),
    /// e.g. a branch terminal's. Default: loopback only.
    #[arg(
        long = "office-allow",
        env = "MADOGUCHI_OFFICE_ALLOW",
        value_delimiter = ','
    )]
    pub office_allow: Vec<std::net::IpAddr>,

    /// The back office does not run the retention purge itself: `madoguchi purge` runs it from
    /// a timer with its own database role (`madoguchi_retention`, which may delete personal
    /// data but never read it). `doctor` reports a purge that has not run for a day.
    #[arg(long, env = "MADOGUCHI_EXTERNAL_RETENTION")]
    pub external_retention: bool,
}

/// Which key `keys rotate` replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RotatedKey {
    /// The back office's key pair (wraps every record's data key).
    Office,
    /// The key that signs audit checkpoints.
    AuditSigning,
    /// The HMAC key of e-mail blind indexes and code MACs.
    BlindIndex,
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
    /// Replace a key without stopping the service. `office` (the default): a new back-office
    /// key pair becomes current (in the token with --pkcs11-module, else a key file); earlier
    /// keys stay until retired, and a running server picks the new key up by itself and moves
    /// old records to it in the background. `audit-signing`: a new checkpoint signing key; the
    /// earlier verifying key is kept so old checkpoints still verify. `blind-index`: a new
    /// e-mail index key; the replaced one stays as blind-index.previous.key (look-ups try
    /// both) while the server re-indexes the stored rows.
    Rotate {
        #[arg(value_enum, default_value_t = RotatedKey::Office)]
        key: RotatedKey,
    },
    /// Move every data key still wrapped to an earlier back-office key to the current one now
    /// (the server also does this in the background).
    Rewrap,
    /// Recompute now every stored e-mail index an earlier blind-index key computed (the server
    /// also does this in the background while blind-index.previous.key exists).
    Reindex,
    /// Delete an earlier back-office key once no data key uses it and the rotation is at least
    /// ten minutes old; `blind-index`: delete blind-index.previous.key once every stored index
    /// is re-computed (a last re-index runs first) and the rotation is ten minutes old.
    Retire {
        /// The key id (16 hexadecimal characters, as `keys status` lists it), or `blind-index`.
        key_id: String,
    },
    /// List the back-office keys (the current one, earlier ones, where each lives and how many
    /// data keys are wrapped to it) and the blind-index keys (how many stored e-mail indexes
    /// each computed).
    Status {
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a member of staff. Prints a one-time password, shown only this once; it must be
    /// changed at the first sign-in, where the authenticator app (TOTP) is also registered.
    Add {
        /// The sign-in name: 3-32 lower-case letters, digits, '.', '-' or '_', starting with a
        /// letter (e.g. tanaka.k).
        #[arg(long)]
        username: String,
        /// operator, supervisor, consultant, auditor or administrator.
        #[arg(long)]
        role: String,
        /// Whose data the role may touch: bank, branches:001,002 or centers:shinjuku.
        #[arg(long)]
        scope: String,
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
    /// Disable a member of staff: their sessions stop working at once.
    Disable {
        /// The username.
        username: String,
    },
    /// Give a member of staff a new one-time password (printed once), clear their
    /// authenticator registration and end their sessions.
    Reset {
        /// The username.
        username: String,
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
    /// List the staff: username, role, scope, state (active, new, locked, disabled).
    List {
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
}
