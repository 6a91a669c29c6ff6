//! The e-mails of a visit booking: confirmation, change, cancellation and the reminder the day
//! before. Each is sealed to the mail worker's key before it is queued, carries the bank's
//! standing warning, and links only to the booking's own change/cancel page (which never asks
//! for a PIN or password).

use madoguchi_domain::OutgoingMail;
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::Slot;
use madoguchi_store::OutboxRow;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::format::visit_time;
use super::service::Refusal;
use crate::mail::{footer, seal};
use crate::state::PublicState;

/// Who a booking's e-mails go to; stored only encrypted under the booking link's key.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Contact {
    pub name: String,
    pub email: String,
}

fn sealed(state: &PublicState, mail: OutgoingMail) -> Result<OutboxRow, Refusal> {
    seal(state, &mail).map_err(Refusal::Failed)
}

fn visit_lines(center: &LoanCenter, starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> String {
    format!(
        "ご来店日時：{}\nご来店場所：{}\n所在地：{}",
        visit_time(starts_at, ends_at),
        center.name(),
        center.address()
    )
}

fn manage_lines(state: &PublicState, link: &str) -> String {
    let hours = state.profile.reservations().change_cutoff_hours();
    format!(
        "ご予約の変更・キャンセルは、ご来店の{hours}時間前まで次のページから承ります。\n{link}\n\
         このページで暗証番号やパスワードをお尋ねすることはありません。"
    )
}

/// The confirmation of a new booking, with its change/cancel link.
pub fn booked(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
) -> Result<OutboxRow, Refusal> {
    sealed(
        state,
        OutgoingMail {
            to: contact.email.clone(),
            subject: format!("【{}】ご来店予約を承りました", state.layout.bank_name),
            body: format!(
                "{} 様\n\n{}へのご来店予約を承りました。\n\n{}\n\n{}{}",
                contact.name,
                center.name(),
                visit_lines(center, slot.starts_at(), slot.ends_at()),
                manage_lines(state, link),
                footer(state)
            ),
        },
    )
}

/// The notice of a changed booking.
pub fn changed(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
) -> Result<OutboxRow, Refusal> {
    sealed(
        state,
        OutgoingMail {
            to: contact.email.clone(),
            subject: format!("【{}】ご来店予約を変更しました", state.layout.bank_name),
            body: format!(
                "{} 様\n\nご来店予約を次のとおり変更しました。\n\n{}\n\n{}{}",
                contact.name,
                visit_lines(center, slot.starts_at(), slot.ends_at()),
                manage_lines(state, link),
                footer(state)
            ),
        },
    )
}

/// The notice of a cancelled booking.
pub fn cancelled(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
) -> Result<OutboxRow, Refusal> {
    sealed(
        state,
        OutgoingMail {
            to: contact.email.clone(),
            subject: format!(
                "【{}】ご来店予約をキャンセルしました",
                state.layout.bank_name
            ),
            body: format!(
                "{} 様\n\n次のご来店予約をキャンセルしました。\n\n{}\n\n\
                 またのご予約をお待ちしております。{}",
                contact.name,
                visit_lines(center, starts_at, ends_at),
                footer(state)
            ),
        },
    )
}

/// The reminder sent the day before the visit (queued with the booking, due later).
pub fn reminder(
    state: &PublicState,
    contact: &Contact,
    center: &LoanCenter,
    slot: &Slot,
    link: &str,
) -> Result<OutboxRow, Refusal> {
    sealed(
        state,
        OutgoingMail {
            to: contact.email.clone(),
            subject: format!("【{}】明日のご来店予約のお知らせ", state.layout.bank_name),
            body: format!(
                "{} 様\n\n明日のご来店予約のお知らせです。\n\n{}\n\n\
                 ご本人確認書類をお持ちください。\n\n{}{}",
                contact.name,
                visit_lines(center, slot.starts_at(), slot.ends_at()),
                manage_lines(state, link),
                footer(state)
            ),
        },
    )
}
