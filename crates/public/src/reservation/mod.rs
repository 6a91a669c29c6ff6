//! The visit reservation service (来店予約サービス, SPEC §4.2): choose a loan centre and a free
//! slot, leave a name and contact, get an e-mail with a link to change or cancel.
//!
//! The public site cannot read a booking back: its personal fields are encrypted to the back
//! office, and the name and address that later e-mails need are encrypted under a key
//! derived from the link's token, which only the customer's e-mail holds.

mod book;
pub(crate) mod format;
mod mail;
mod manage;
pub(crate) mod service;
mod week;

use axum::Router;
use axum::routing::{get, post};

use crate::state::PublicState;

/// The pages of the reservation service, under `/reservations`.
pub fn routes() -> Router<PublicState> {
    Router::new()
        .route("/", get(week::centers))
        .route("/manage", get(manage::show))
        .route(
            "/manage/change",
            get(manage::change_week).post(manage::change),
        )
        .route("/manage/cancel", post(manage::cancel))
        .route("/manage/{token}", get(manage::enter))
        .route("/centers/{center}", get(week::week))
        .route("/centers/{center}/book", get(book::form).post(book::submit))
}

/// The path of a centre's week page.
fn week_path(center_id: &str) -> String {
    format!("/reservations/centers/{center_id}")
}
