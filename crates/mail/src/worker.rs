use std::time::Duration;

use lettre::message::Mailbox;
use madoguchi_domain::OutgoingMail;
use madoguchi_keyring::MailKeyring;
use madoguchi_seal::SealedMessage;
use madoguchi_store::{OutboxMessage, Store};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{MailError, Transport};

/// How often an idle worker looks for messages queued by other processes (those of its own
/// process wake it at once).
const IDLE_POLL: Duration = Duration::from_millis(200);
/// How long a claimed message is hidden from other workers while this one delivers it.
const LEASE: time::Duration = time::Duration::minutes(2);
const BATCH: i64 = 32;

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub deferred: usize,
}

/// Delivers queued messages. Several workers (one per `serve` process) may run against one
/// database: a message is claimed with a lease before it is sent.
pub struct OutboxWorker {
    store: Store,
    keyring: MailKeyring,
    from: Mailbox,
    transport: Transport,
}

impl OutboxWorker {
    pub fn new(store: Store, keyring: MailKeyring, from: Mailbox, transport: Transport) -> Self {
        OutboxWorker {
            store,
            keyring,
            from,
            transport,
        }
    }

    /// Delivers every message that is due now.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, madoguchi_store::StoreError> {
        let mut report = DeliveryReport::default();
        loop {
            let claim = self
                .store
                .claim_outbox(OffsetDateTime::now_utc(), LEASE, BATCH)
                .await?;
            if claim.messages.is_empty() {
                return Ok(report);
            }
            for message in &claim.messages {
                match self.deliver(message).await {
                    Ok(()) => report.delivered += 1,
                    Err(e) => {
                        // The error names no recipient: addresses stay out of logs.
                        tracing::warn!(message = %message.id, attempts = message.attempts, error = %e, "delivery deferred");
                        let at = OffsetDateTime::now_utc() + backoff(message.attempts);
                        self.store.retry_later(message.id, at).await?;
                        report.deferred += 1;
                    }
                }
            }
            // A crash before this line re-sends the batch after its lease: at least once,
            // never lost.
            self.store.remove_delivered(claim.token).await?;
        }
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), MailError> {
        let sealed = SealedMessage::from_stored(message.sealed.clone())
            .map_err(|e| MailError::Permanent(format!("sealed message: {e}")))?;
        let plain = self
            .keyring
            .open(&message.id, &sealed)
            .map_err(|e| MailError::Permanent(format!("cannot open: {e}")))?;
        let mail: OutgoingMail = serde_json::from_slice(&plain)
            .map_err(|e| MailError::Permanent(format!("message body: {e}")))?;
        self.transport
            .send(&message.id.to_string(), &self.from, &mail)
            .await
    }

    /// Runs until `shutdown` turns true, delivering what is due.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::error!(error = %e, "outbox pass failed");
            }
            tokio::select! {
                _ = self.store.outbox_queued() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}

/// 30 s, 1 min, 2 min, … up to an hour between attempts.
fn backoff(attempts: i64) -> time::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    time::Duration::seconds((30_i64 << exponent).min(3600))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_is_capped_at_an_hour() {
        assert_eq!(backoff(1), time::Duration::seconds(30));
        assert_eq!(backoff(2), time::Duration::seconds(60));
        assert_eq!(backoff(8), time::Duration::seconds(3600));
        assert_eq!(backoff(50), time::Duration::seconds(3600));
    }
}
