//! The audit log's tamper evidence (SPEC §7): a hash chain over every event, checkpoints of
//! its head signed with Ed25519 in the C2SP `tlog-checkpoint` / `signed-note` text format,
//! and the walk that `madoguchi audit verify` runs.
//!
//! - [`chain`]: each event commits to the one before it: `hash = SHA-256(v1 tag || previous
//!   hash || the event's canonical encoding)`. Changing, removing or reordering an event
//!   breaks the chain at that event.
//! - [`checkpoint`]: every so often the head (log size and hash) is signed and kept, in the
//!   database and in an external append-only sink, so that rewriting the whole chain after a
//!   change — or cutting its tail — disagrees with a signature only the server's key makes.
//! - [`verify`]: walks events in order and names the first broken one, and the checkpoints
//!   that disagree.
//!
//! No I/O here besides reading key files: the store feeds events, the command line prints.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! The store computes each hash in the transaction that appends the event, after reading the last
//! one under the log's lock (SQLite's one writer; on PostgreSQL `pg_advisory_xact_lock`, so several
//! instances append in one order); rows written before the chain existed are chained once at start
//! (`chain_audit_backlog`). Triggers refuse UPDATE and DELETE of a chained row (and TRUNCATE on
//! PostgreSQL) whoever asks; an owner who drops them is still caught by `audit verify`. `serve`
//! signs the head every 1,000 events or each minute the log grew (`checkpoint_audit_log`), keeps the
//! note in `audit_checkpoints` and appends it to the sink (`--audit-sink`, default
//! `<data-dir>/audit-checkpoints.log`; put it on another host's append-only storage). `madoguchi
//! audit verify` walks the chain in pages of 20,000 against every checkpoint of the database and
//! the sink (exit 0 intact, 3 tampered with, 1 error); `audit checkpoint` signs now; `audit export
//! --from --to` prints JSON lines with hashes.

pub mod chain;
pub mod checkpoint;
pub mod keys;
pub mod verify;

pub use chain::{EventContent, GENESIS, Hash, link};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use keys::{
    AuditSigningKey, AuditVerifyingKey, CheckpointSigner, SIGNING_KEY_FILE, SignError,
    VERIFYING_KEY_FILE, earlier_verifying_key_file, trusted_verifying_keys,
};
pub use verify::{Finding, Walk};
