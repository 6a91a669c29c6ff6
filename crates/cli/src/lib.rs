//! The `madoguchi` command: assembles the crates into one program.
//!
//! It owns the process's wiring (paths, keys, listeners, workers) and nothing of the product's
//! rules. Library form so that the integration tests start exactly what `serve` starts.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! `serve --listener public|office` runs one half: the public process loads no private key and
//! starts no worker; the office process runs the back office, the outbox worker, the retention
//! purge and the audit checkpoints. Before binding, `serve` runs `doctor`'s configuration, host and
//! database checks (`commands/doctor/`: `config.rs` listeners, URLs, cookies, the office routes
//! without a session against an allowlist, SMTP, logging; `host.rs` key files' modes and owners and
//! any core-banking private key near the data; `database.rs` the role's privileges and server
//! settings, from `Store::database_posture`; `operations.rs` staff and the last runs of the
//! retention and `audit verify`, recorded in `job_runs`) and refuses to start on a high finding
//! outside `--demo`.
//!
//! Connections (`listener.rs`): every listener is served by hyper's HTTP/1 server directly rather
//! than `axum::serve`, which cannot bound how long a client takes to send a request's header. A
//! header must be in within 10 s (`madoguchi_http::HEADER_READ_TIMEOUT`, slowloris), and a request —
//! its body's upload included — is answered 408 after 30 s (`REQUEST_TIMEOUT`; the 408 carries the
//! security headers too). `AppConfig::timeouts` sets both (the tests shorten them). Ambiguous
//! framing is refused with 400: hyper refuses two Content-Lengths, a Transfer-Encoding other than
//! chunked and the like itself, but reads a request with both Content-Length and Transfer-Encoding
//! by its chunks (RFC 9112 §6.1 allows it). `listener/framing.rs` follows the message boundaries
//! of what each client sends (heads held back until complete, bodies by length or by chunks) and
//! hands hyper an unparsable line instead of such a head, so it is answered 400 and the connection
//! closed before anything reaches a handler.
//!
//! The other commands: `keys init`, `migrate [--create-roles]`; `staff add|disable|reset|list` (the administrator's
//! operations, for the first administrator and for scripts; audited as `cli:staff`); `handoff
//! export|import` (`madoguchi_office::handoff`; audited as `cli:handoff-export`,
//! `cli:handoff-import`); `core open` (the core banking side's; answered before the async runtime
//! starts, with no database); `purge [--dry-run]` (needs `--config`, or `--demo` for the demo bank's
//! periods; a dry run lists receipt numbers and ids and deletes nothing); `audit verify|checkpoint|
//! export` (`commands/audit.rs`); `incident suspend|resume|status` (`commands/incident/suspension.rs`, audited); `incident notify
//! record|report` (`commands/incident/notify.rs`: channel and outcome per customer, as
//! `incident_notifications` rows naming the customer as the scope does, no personal value);
//! `demo history` (`commands/demo.rs`: synthetic applications and staff reads appended to the chain
//! in batches of 10,000 under the log's lock, `Store::append_audit_events_in_bulk`);
//! `incident scope` (`commands/incident/`: the reads of personal
//! data — events with a subject and field names, done — that match any actor, session or address
//! range (`audit_events.actor_ip`, 16 bytes, indexed, so a CIDR block is one range read) in a
//! window; each subject tied to its customer by the e-mail blind index, its contact channels read
//! from the field names stored in clear; nothing decrypted — except `--format csv`, the notification
//! list, which writes one `incident.notify-list` event per customer naming the contact fields
//! before opening them with the back office's key; `--format notice` drafts the Japanese notice and
//! the PPC report's nine items from the figures). `staff`, `audit` and `core open` have exit codes of their own,
//! listed in their `--help`.

pub mod app;
pub mod cli;
pub mod commands;
pub mod data_dir;
pub mod demo;
pub mod documents;
pub mod listener;
pub mod metrics;
