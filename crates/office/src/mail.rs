//! E-mails the back office sends (to applicants, to the security contact): sealed to the mail
//! worker's key and queued in the outbox, in the caller's flow.

use madoguchi_domain::OutgoingMail;
use madoguchi_store::OutboxRow;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::OfficeState;
use crate::error::OfficeError;

/// `mail` sealed as an outbox row (not yet queued).
pub(crate) fn seal(state: &OfficeState, mail: &OutgoingMail) -> Result<OutboxRow, OfficeError> {
    let id = Uuid::now_v7();
    let plain = Zeroizing::new(
        serde_json::to_vec(mail).map_err(|e| OfficeError::Internal(format!("mail encode: {e}")))?,
    );
    let sealed = state
        .inner
        .keys
        .mail_sealer()
        .seal(&id, &plain)
        .map_err(|e| OfficeError::Internal(format!("mail seal: {e}")))?;
    Ok(OutboxRow::now(
        id,
        sealed.key_id().to_string(),
        sealed.as_bytes().to_vec(),
        OffsetDateTime::now_utc(),
    ))
}
