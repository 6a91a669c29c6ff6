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

use crate::routes::Route;

/// The pages of the reservation service, to mount under `/reservations`.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/", "reservations: the loan centres", week::centers),
        Route::get(
            "/manage",
            "reservations: one's booking (token in the session)",
            manage::show,
        ),
        Route::get(
            "/manage/change",
            "reservations: free slots to move to",
            manage::change_week,
        ),
        Route::post(
            "/manage/change",
            "reservations: move the booking",
            manage::change,
        ),
        Route::post(
            "/manage/cancel",
            "reservations: cancel the booking",
            manage::cancel,
        ),
        Route::get(
            "/manage/{token}",
            "reservations: the e-mail's link (token into the session)",
            manage::enter,
        ),
        Route::get(
            "/centers/{center}",
            "reservations: a centre's week",
            week::week,
        ),
        Route::get(
            "/centers/{center}/book",
            "reservations: booking form",
            book::form,
        ),
        Route::post(
            "/centers/{center}/book",
            "reservations: book a slot",
            book::submit,
        ),
    ]
}

/// The path of a centre's week page.
fn week_path(center_id: &str) -> String {
    format!("/reservations/centers/{center_id}")
}
