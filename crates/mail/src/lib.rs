//! E-mail delivery: the worker that empties the transactional outbox.
//!
//! Messages are queued by the public site sealed to the mail key; only this worker, holding
//! the mail private key, opens them — one at a time, just before handing them to the
//! transport. A message is deleted from the outbox only after the transport accepted it; a
//! failed delivery is retried with backoff, so nothing acknowledged is lost.
//!
//! Transports: a folder of RFC 5322 `.eml` files (the default) or SMTP with TLS.
//! Header injection is impossible by construction: headers are built by `lettre` from parsed
//! mailboxes and a subject it encodes, never by concatenating text.

mod transport;
mod worker;

pub use transport::{MailError, Transport};
pub use worker::{DeliveryReport, OutboxWorker};
