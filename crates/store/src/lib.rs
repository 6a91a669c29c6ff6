//! Storage for madoguchi: the only crate that writes SQL.
//!
//! One [`Store`] API over two backends: SQLite (the embedded default, a file in the data
//! folder) and PostgreSQL (production, selected by a `postgres://` URL). Every query is a
//! string literal written once with `$1..$N` placeholders (SQLite accepts them too) and
//! expanded for both backends by `with_db!`; migrations are kept per dialect in
//! `migrations/sqlite` and `migrations/postgres`.
//!
//! Invariants:
//! - every SQL string is a literal; no value is ever formatted into SQL;
//! - the store holds ciphertext it cannot read: it knows no key and depends only on the byte
//!   formats of `madoguchi-seal`;
//! - a public-site operation that changes several rows does it in one transaction, including
//!   the outbox message that announces it (transactional outbox).
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps the map.)
//!
//! Identity documents (`documents.rs`): one row per file (`draft_id`, `application_id` NULL until
//! the submission's transaction sets it, kind, type, size), its key in `data_keys`; every deleting
//! function returns the ids whose files the caller removes. `UNIQUE (draft_id, kind)`: one document
//! of each kind per draft.
//!
//! For the back office: `staff.rs` and `staff_session.rs` (accounts, failure counts and locks, the
//! last TOTP time step used, sessions under the SHA-256 of their token), `scope.rs` (a subject's
//! branch or loan centre, for the authorization middleware), `review.rs` (the queue, whose query
//! carries the scope; status moves applied only from the status they were judged from, and a
//! decision only `WHERE reviewed_by IS NOT NULL AND reviewed_by <> decider`: four eyes is the
//! database's condition), `handoff.rs`, `calendar.rs` (slot blocks: a flag on the slot's row, which
//! the booking's capacity upsert refuses in the same statement), `audit.rs` (the chained audit log and its checkpoints)
//! and `retention.rs` (what is due, and its deletion, at most 1,000 records a transaction).
//!
//! PostgreSQL roles (`roles.rs`, `roles/postgres.sql`): `madoguchi_public` gets exactly what the
//! public site's statements need, per column where a table mixes operational and personal columns,
//! and no SELECT on any personal table; `madoguchi_office` gets DML on the records and only SELECT
//! and INSERT on the audit log and its checkpoints; `madoguchi_retention` (the `purge` job) gets
//! SELECT on the columns that say what is due and DELETE on personal rows — it erases personal data
//! it cannot read; `madoguchi_audit` (the verifier) reads the log and appends checkpoints. Every
//! role that writes the audit log may only INSERT into it.
//!
//! **A database that went away** (`StoreError::is_unavailable`: I/O, pool timeout, TLS, SQLSTATE
//! class 08 or 57P, a failed commit) is answered 503 with `Retry-After` by the public site (pages
//! and API code `unavailable`) and logged as a warning; any other store error stays a 500. The
//! pool needs nothing special to come back: sqlx tests a connection before handing it out.

mod api_check;
mod audit;
mod backend;
mod booking;
mod calendar;
mod clock;
mod data_keys;
mod detection;
mod documents;
mod draft;
mod email_check;
mod error;
mod group_commit;
mod handoff;
mod incident;
mod limits;
mod notification;
mod outbox;
mod passkey;
mod posture;
mod reindex;
mod retention;
mod review;
mod roles;
mod scope;
mod staff;
mod staff_session;
mod status;
mod submission;
mod suspension;
mod synthetic_audit;

pub use audit::{AuditChainRow, AuditCheckpointRow, AuditEventRow, AuditLink};
pub use backend::{Backend, Store};
pub use booking::{BookingChange, BookingPurge, BookingRow, NewBooking, SlotCount, SlotRef};
pub use calendar::{CenterBooking, SlotState, VisitOutcome};
pub use clock::db_time;
pub use data_keys::WrappedDataKey;
pub use detection::{ActorTally, CanaryBooking, TallyWindows};
pub use documents::{DocumentKey, DocumentRow, NewDocument};
pub use draft::DraftRow;
pub use email_check::{CodeAttempt, EmailCheckRow};
pub use error::StoreError;
pub use handoff::{
    HandoffAnswered, HandoffBatchRow, HandoffCandidate, HandoffRecorded, HandoffTarget,
};
pub use incident::{ScopeEvent, ScopeFilter, ScopeSubject, ip_key};
pub use limits::LimitClaim;
pub use notification::NotificationRow;
pub use outbox::{OutboxClaim, OutboxMessage, OutboxRow, OutboxSummary};
pub use passkey::{NewPasskey, PasskeyRow};
pub use posture::{DatabasePosture, PERSONAL_TABLES};
pub use reindex::{IndexMove, IndexedRecord, IndexedRecords};
pub use retention::{RETENTION_BATCH, ShredCandidate, ShredOutcome};
pub use review::{
    AuditPageRow, HistoryRow, NewNote, NoteRow, QueueCursor, QueueQuery, QueueRow, ReviewRow,
    StatusMove,
};
pub use roles::{OFFICE_ROLE, PUBLIC_ROLE};
pub use staff::{NewStaff, StaffRow, StaffTotpRow};
pub use staff_session::{NewStaffSession, StaffSessionRow};
pub use status::ApplicationStatusRow;
pub use submission::{EncryptedRecord, NewApplication, SealedSecretRow};
pub use suspension::SuspensionRow;
