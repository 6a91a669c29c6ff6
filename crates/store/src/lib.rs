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
