//! The e-mails of the public site. They carry no personal data beyond the applicant's name and
//! receipt number, never a link that asks for a PIN or password, and always the bank's
//! standing warning. They are sealed to the mail worker's key before they are queued.
//!
//! Every text comes from the `[mail]` section of the catalogue of the request's language: an
//! e-mail goes out in the language of the page the applicant used.

use madoguchi_domain::OutgoingMail;
use madoguchi_store::OutboxRow;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::PublicError;
use crate::state::PublicState;

/// The end of every e-mail: the standing warning, the bank and its support contact.
pub(crate) fn footer(state: &PublicState) -> String {
    let layout = state.layout();
    state
        .catalog()
        .mail("footer")
        .arg("bank", &layout.bank_name)
        .arg("phone", &layout.support_phone)
        .arg("hours", &layout.support_hours)
        .to_string()
}

/// An e-mail whose subject and body are the catalogue's `{key}.subject` and `{key}.body`,
/// with the bank's name and the footer filled in and the given placeholders.
pub(crate) fn compose(
    state: &PublicState,
    to: &str,
    key: &str,
    args: &[(&str, &str)],
) -> OutgoingMail {
    let catalog = state.catalog();
    let layout = state.layout();
    let footer = footer(state);
    let filled = |part: &str| {
        let name = format!("{key}.{part}");
        let mut text = catalog
            .mail(&name)
            .arg("bank", &layout.bank_name)
            .arg("footer", &footer);
        for (name, value) in args {
            text = text.arg(name, value);
        }
        text.to_string()
    };
    OutgoingMail {
        to: to.to_owned(),
        subject: filled("subject"),
        body: filled("body"),
    }
}

/// The e-mail that carries a verification code.
pub fn verification_code(
    state: &PublicState,
    to: &str,
    code: &str,
    ttl_minutes: u32,
) -> OutgoingMail {
    let minutes = ttl_minutes.to_string();
    compose(
        state,
        to,
        "verification-code",
        &[("code", code), ("minutes", &minutes)],
    )
}

/// The e-mail that confirms a submitted application; `product` is its code
/// (`savings-account`, …).
pub fn application_received(
    state: &PublicState,
    to: &str,
    name: &str,
    product: &str,
    receipt_number: &str,
) -> OutgoingMail {
    let product = state.catalog().choice("product", product).to_owned();
    compose(
        state,
        to,
        "application-received",
        &[
            ("name", name),
            ("product", &product),
            ("receipt_number", receipt_number),
        ],
    )
}

/// Seals a message to the mail worker's key, ready to queue.
pub fn seal(state: &PublicState, mail: &OutgoingMail) -> Result<OutboxRow, PublicError> {
    let id = Uuid::now_v7();
    let plain = Zeroizing::new(
        serde_json::to_vec(mail).map_err(|e| PublicError::Internal(format!("mail encode: {e}")))?,
    );
    let sealed = state
        .crypto
        .mail
        .seal(&id, &plain)
        .map_err(|e| PublicError::Internal(format!("mail seal: {e}")))?;
    Ok(OutboxRow::now(
        id,
        sealed.key_id().to_string(),
        sealed.as_bytes().to_vec(),
        OffsetDateTime::now_utc(),
    ))
}
