//! The loan centres' reservations calendar (SPEC §5 "Reservations"), for consultants: a
//! centre's week of slots with its bookings masked, a booking's fields shown on purpose and
//! audited, the visit's outcome, and blocking or freeing a slot.
//!
//! Which centres and bookings a consultant may touch is decided by the route table
//! (`Subject::Center`, `Subject::Booking`) before a handler runs; the handlers check nothing.

pub(crate) mod block;
pub(crate) mod booking;
pub(crate) mod week;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_domain::profile::LoanCenter;
use madoguchi_domain::reservation::JST;
use madoguchi_domain::reservation::booking::{Consultation, field};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Weekday};

use crate::OfficeState;
use crate::error::status_page;
use crate::session::StaffSession;
use crate::view::Layout;

/// What replaces a personal field that has not been revealed.
pub(crate) const MASK: &str = "＊＊＊＊";

/// The personal fields of a booking, in the order pages list them, with their labels.
pub(crate) const PERSONAL_FIELDS: &[(&str, &str)] = &[
    (field::FAMILY_NAME, "氏名（姓）"),
    (field::GIVEN_NAME, "氏名（名）"),
    (field::FAMILY_NAME_KANA, "フリガナ（セイ）"),
    (field::GIVEN_NAME_KANA, "フリガナ（メイ）"),
    (field::PHONE, "電話番号"),
    (field::EMAIL, "メールアドレス"),
    (field::EXISTING_CUSTOMER, "当行とのお取引"),
    (field::NOTE, "ご相談内容の補足"),
];

/// The fields the week page names, masked, for each booking.
pub(crate) const WEEK_FIELDS: &[&str] = &[field::FAMILY_NAME, field::PHONE, field::EMAIL];

/// Why a consultant may show a booking's fields: the only purposes accepted (code, label).
pub(crate) const PURPOSES: &[(&str, &str)] = &[
    ("visit", "来店対応"),
    ("booking-check", "予約内容の確認"),
    ("contact-customer", "お客様への連絡"),
];

/// The label of a personal field.
pub(crate) fn field_label(name: &str) -> &'static str {
    PERSONAL_FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, label)| label)
}

/// A booking's status as consultants say it.
pub(crate) fn status_label(status: &str) -> &'static str {
    match status {
        "booked" => "予約中",
        "cancelled" => "キャンセル済み",
        "visited" => "来店済み",
        "no_show" => "来店なし",
        _ => "不明",
    }
}

/// A consultation type's name.
pub(crate) fn consultation_label(code: &str) -> &'static str {
    match Consultation::parse(code) {
        Ok(Consultation::HousingLoan) => "住宅ローン",
        Ok(Consultation::Refinancing) => "住宅ローンの借り換え",
        Ok(Consultation::CarLoan) => "マイカーローン",
        Ok(Consultation::EducationLoan) => "教育ローン",
        Ok(Consultation::FreeLoan) => "フリーローン",
        Ok(Consultation::Other) | Err(_) => "その他",
    }
}

fn weekday_ja(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "月",
        Weekday::Tuesday => "火",
        Weekday::Wednesday => "水",
        Weekday::Thursday => "木",
        Weekday::Friday => "金",
        Weekday::Saturday => "土",
        Weekday::Sunday => "日",
    }
}

/// `2026年12月1日（火）`.
pub(crate) fn day_label(day: Date) -> String {
    format!(
        "{}年{}月{}日（{}）",
        day.year(),
        u8::from(day.month()),
        day.day(),
        weekday_ja(day.weekday())
    )
}

/// `9:00〜9:30`, Japan time.
pub(crate) fn time_range(starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> String {
    let (s, e) = (starts_at.to_offset(JST), ends_at.to_offset(JST));
    format!(
        "{}:{:02}〜{}:{:02}",
        s.hour(),
        s.minute(),
        e.hour(),
        e.minute()
    )
}

/// `2026年12月1日（火） 9:00〜9:30`.
pub(crate) fn visit_label(starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> String {
    format!(
        "{} {}",
        day_label(starts_at.to_offset(JST).date()),
        time_range(starts_at, ends_at)
    )
}

/// `YYYY-MM-DD`, as the `week` parameter carries it.
pub(crate) fn date_param(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// Parses a `week` parameter.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// The Monday of the week holding `day`: weeks are shown Monday to Sunday.
pub(crate) fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().number_days_from_monday());
    day.saturating_sub(Duration::days(back))
}

/// The week page of `center_id` holding `at`.
pub(crate) fn week_path(center_id: &str, at: OffsetDateTime) -> String {
    format!(
        "/reservations/{center_id}?week={}",
        date_param(monday_of(at.to_offset(JST).date()))
    )
}

/// The loan centre `id` of the bank profile (the route table has checked it is in scope).
pub(crate) fn center<'a>(state: &'a OfficeState, id: &str) -> Option<&'a LoanCenter> {
    state.profile().loan_center(id)
}

/// A short page that says why an action was not done, with the way back.
#[derive(Template, WebTemplate)]
#[template(path = "calendar_message.html")]
pub(crate) struct MessagePage {
    layout: Layout,
    message: String,
    back: String,
}

/// Answers `status` with a page saying `message` and linking to `back`.
pub(crate) fn message(
    state: &OfficeState,
    staff: &StaffSession,
    status: StatusCode,
    message: &str,
    back: String,
) -> Response {
    let title = if status.is_client_error() {
        "操作を完了できませんでした"
    } else {
        "お知らせ"
    };
    (
        status,
        MessagePage {
            layout: Layout::new(state, Some(staff), title),
            message: message.to_owned(),
            back,
        },
    )
        .into_response()
}

/// A 404 page for a centre or booking that the profile or the database does not know.
pub(crate) fn not_found() -> Response {
    status_page(StatusCode::NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(monday_of(date!(2026 - 12 - 03)), date!(2026 - 11 - 30));
        assert_eq!(monday_of(date!(2026 - 11 - 30)), date!(2026 - 11 - 30));
        assert_eq!(monday_of(date!(2026 - 12 - 06)), date!(2026 - 11 - 30));
    }

    #[test]
    fn the_week_of_a_visit_is_taken_in_japan() {
        // Sunday 23:30 UTC is already Monday in Japan.
        assert_eq!(
            week_path("naha", datetime!(2026-12-06 15:30 UTC)),
            "/reservations/naha?week=2026-12-07"
        );
    }

    #[test]
    fn labels_are_japanese() {
        assert_eq!(day_label(date!(2026 - 12 - 01)), "2026年12月1日（火）");
        assert_eq!(
            time_range(
                datetime!(2026-12-01 00:00 UTC),
                datetime!(2026-12-01 00:30 UTC)
            ),
            "9:00〜9:30"
        );
        assert_eq!(status_label("no_show"), "来店なし");
        assert_eq!(consultation_label("car-loan"), "マイカーローン");
        assert_eq!(field_label("phone"), "電話番号");
    }
}
