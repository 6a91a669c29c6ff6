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
