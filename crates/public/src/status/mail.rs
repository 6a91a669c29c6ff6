//! The e-mail of the status check: the code, and nothing of the application (not even its
//! receipt number or status: the status is shown only on the page, after the code).

use madoguchi_domain::OutgoingMail;

use crate::state::PublicState;

/// The e-mail that carries a status check's code.
pub fn status_code(state: &PublicState, to: &str, code: &str, ttl_minutes: u32) -> OutgoingMail {
    let minutes = ttl_minutes.to_string();
    crate::mail::compose(
        state,
        to,
        "status-code",
        &[("code", code), ("minutes", &minutes)],
    )
}
