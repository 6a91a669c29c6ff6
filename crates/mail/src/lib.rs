//! E-mail delivery: the worker that empties the transactional outbox.
//!
//! Messages are queued by the public site sealed to the mail key; only this worker, holding
//! the mail private key, opens them — one at a time, just before handing them to the
//! transport. A message is deleted from the outbox only after the transport accepted it; a
//! failed delivery is retried with backoff, so nothing acknowledged is lost. Delivery is at
//! least once: every attempt of a message carries the same `Message-ID`, derived from its
//! outbox id ([`message_id`]), so a copy sent again after a crash can be dropped by the
//! receiver.
//!
//! Transports: a folder of RFC 5322 `.eml` files (the default) or SMTP with TLS.
//! Header injection is impossible by construction: headers are built by `lettre` from parsed
//! mailboxes and a subject it encodes, never by concatenating text.

mod transport;
mod worker;

pub use transport::{MailError, Transport, message_id};
pub use worker::{DeliveryReport, OutboxWorker};
