//! One booking: its page (fields masked), showing chosen fields for a purpose (audited first,
//! then decrypted), and recording the visit's outcome.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::reservation::booking::field;
use madoguchi_seal::{EncryptedFields, WrappedKey};
use madoguchi_store::{CenterBooking, StoreError, VisitOutcome};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{
    MASK, PERSONAL_FIELDS, PURPOSES, consultation_label, status_label, visit_label, week_path,
};
use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession};
use crate::view::Layout;

/// A check box of the reveal form.
pub(crate) struct FieldChoice {
    name: &'static str,
    label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "booking.html")]
pub(crate) struct BookingPage {
    layout: Layout,
    id: String,
    center_name: String,
    visit: String,
    consultation: &'static str,
    status: &'static str,
    back: String,
    purged: bool,
    masked: Vec<(&'static str, &'static str)>,
    fields: Vec<FieldChoice>,
    purposes: &'static [(&'static str, &'static str)],
    /// The outcome may be recorded: still booked and the visit's time has come.
    outcome_open: bool,
    error: Option<&'static str>,
}

/// A field shown: its label and value (wiped from memory with the page).
pub(crate) struct Revealed {
    label: &'static str,
    value: Zeroizing<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "booking_revealed.html")]
pub(crate) struct RevealedPage {
    layout: Layout,
    center_name: String,
    visit: String,
    purpose: &'static str,
    revealed: Vec<Revealed>,
    back: String,
}

fn page(
    state: &OfficeState,
    staff: &StaffSession,
    booking: &CenterBooking,
    error: Option<&'static str>,
) -> BookingPage {
    let now = OffsetDateTime::now_utc();
    let center_name = super::center(state, &booking.center_id)
        .map_or_else(|| booking.center_id.clone(), |c| c.name().to_owned());
    BookingPage {
        layout: Layout::new(state, Some(staff), "予約の詳細"),
        id: booking.id.to_string(),
        center_name,
        visit: visit_label(booking.starts_at, booking.ends_at),
        consultation: consultation_label(&booking.consultation),
        status: status_label(&booking.status),
        back: week_path(&booking.center_id, booking.starts_at),
        purged: booking.purged_at.is_some(),
        masked: PERSONAL_FIELDS
            .iter()
            .map(|(_, label)| (*label, MASK))
            .collect(),
        fields: PERSONAL_FIELDS
            .iter()
            .map(|(name, label)| FieldChoice { name, label })
            .collect(),
        purposes: PURPOSES,
        outcome_open: booking.status == "booked" && booking.starts_at <= now,
        error,
    }
}

async fn load(state: &OfficeState, id: Uuid) -> Result<Option<CenterBooking>, OfficeError> {
    Ok(state.store().center_booking(id).await?)
}

/// `GET /bookings/{booking}`: the booking with its personal fields masked, the form that shows
/// some of them for a purpose, and the outcome buttons.
pub(crate) async fn show(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
) -> Result<Response, OfficeError> {
    let Some(booking) = load(&state, id).await? else {
        return Ok(super::not_found());
    };
    crate::detection::tripwire(&state, &staff, client.ip(), "booking", id).await?;
    Ok(page(&state, &staff, &booking, None).into_response())
}

/// The reveal form, as sent: one purpose, the fields checked.
struct RevealForm {
    purpose: Option<(&'static str, &'static str)>,
    /// Known field names in the page's order, each once.
    fields: Vec<&'static str>,
    /// A field name that is not one of the booking's.
    unknown: bool,
}

fn parse_reveal(body: &[u8]) -> RevealForm {
    let mut purpose = None;
    let mut asked: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "purpose" => purpose = PURPOSES.iter().find(|(code, _)| *code == value).copied(),
            "fields" => asked.push(value.into_owned()),
            _ => {}
        }
    }
    let unknown = asked
        .iter()
        .any(|a| !PERSONAL_FIELDS.iter().any(|(name, _)| name == a));
    let fields = PERSONAL_FIELDS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| asked.iter().any(|a| a == name))
        .collect();
    RevealForm {
        purpose,
        fields,
        unknown,
    }
}

/// `POST /bookings/{booking}/reveal` (fresh sign-in required): records who shows which fields
/// for which purpose, and only then decrypts those fields.
pub(crate) async fn reveal(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let Some(booking) = load(&state, id).await? else {
        return Ok(super::not_found());
    };
    let form = parse_reveal(&body);
    let error = match (&form.purpose, form.fields.is_empty(), form.unknown) {
        (None, _, _) => Some("表示する目的を選んでください。"),
        (_, true, _) | (_, _, true) => Some("表示する項目を選んでください。"),
        _ => None,
    };
    let (Some((purpose, purpose_label)), None) = (form.purpose, error) else {
        let page = page(&state, &staff, &booking, error);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    // Retention may have deleted the fields and their key: nothing to show, nothing read.
    let Some(record) = state.store().encrypted_booking_record(id).await? else {
        return Ok(super::message(
            &state,
            &staff,
            StatusCode::GONE,
            "この予約の個人情報は保存期間を過ぎたため削除されています。",
            format!("/bookings/{id}"),
        ));
    };
    // The event first: when it cannot be written, the error ends the request here and
    // nothing is decrypted.
    audit::record(
        &state,
        Some(&staff),
        None,
        Event {
            action: "booking.reveal",
            subject_kind: Some("booking"),
            subject_id: Some(id.to_string()),
            fields: &form.fields,
            purpose: Some(purpose),
            detail: None,
            outcome: "ok",
        },
    )
    .await?;
    let wrapped = WrappedKey::from_stored(record.wrapped)
        .map_err(|e| OfficeError::Internal(format!("booking data key: {e}")))?;
    let fields = EncryptedFields::from_bytes(&record.fields)
        .map_err(|e| OfficeError::Internal(format!("booking fields: {e}")))?;
    let decryptor = state.inner.keyring.open_record(&id, &wrapped)?;
    let mut revealed = Vec::with_capacity(form.fields.len());
    for name in &form.fields {
        let value = match fields.get(name) {
            Some(ciphertext) => {
                let plain = decryptor.decrypt_field(name, ciphertext)?;
                Zeroizing::new(shown_value(name, &String::from_utf8_lossy(&plain)))
            }
            None => Zeroizing::new("（入力なし）".to_owned()),
        };
        revealed.push(Revealed {
            label: super::field_label(name),
            value,
        });
    }
    let center_name = super::center(&state, &booking.center_id)
        .map_or_else(|| booking.center_id.clone(), |c| c.name().to_owned());
    Ok(RevealedPage {
        layout: Layout::new(&state, Some(&staff), "予約の個人情報"),
        center_name,
        visit: visit_label(booking.starts_at, booking.ends_at),
        purpose: purpose_label,
        revealed,
        back: format!("/bookings/{id}"),
    }
    .into_response())
}

/// A stored value as staff read it (the yes/no of 当行とのお取引 in words).
fn shown_value(name: &str, value: &str) -> String {
    if name == field::EXISTING_CUSTOMER {
        match value {
            "yes" => return "あり".to_owned(),
            "no" => return "なし".to_owned(),
            _ => {}
        }
    }
    value.to_owned()
}

/// `POST /bookings/{booking}/outcome` with `outcome` = `visited` | `no-show`: only for a
/// booking still booked whose visit time has come.
pub(crate) async fn outcome(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let Some(booking) = load(&state, id).await? else {
        return Ok(super::not_found());
    };
    let back = format!("/bookings/{id}");
    let asked = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "outcome")
        .map(|(_, v)| v.into_owned());
    let outcome = match asked.as_deref() {
        Some("visited") => VisitOutcome::Visited,
        Some("no-show") => VisitOutcome::NoShow,
        _ => {
            let page = page(&state, &staff, &booking, Some("来店結果を選んでください。"));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = OffsetDateTime::now_utc();
    if booking.status != "booked" {
        return Ok(super::message(
            &state,
            &staff,
            StatusCode::CONFLICT,
            "この予約は予約中ではないため、来店結果を記録できません。",
            back,
        ));
    }
    if booking.starts_at > now {
        return Ok(super::message(
            &state,
            &staff,
            StatusCode::CONFLICT,
            "来店予定時刻の前のため、来店結果はまだ記録できません。",
            back,
        ));
    }
    let event = |outcome_code: &'static str| Event {
        action: "booking.outcome",
        subject_kind: Some("booking"),
        subject_id: Some(id.to_string()),
        fields: &["status"],
        purpose: None,
        detail: Some(outcome.status().to_owned()),
        outcome: outcome_code,
    };
    // Recorded before the change, so that no change is ever unaudited; a change lost to a
    // concurrent one is recorded again as failed.
    audit::record(&state, Some(&staff), None, event("ok")).await?;
    match state.store().record_visit_outcome(id, outcome, now).await {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(StoreError::BookingChanged) => {
            audit::record(&state, Some(&staff), None, event("failed")).await?;
            Ok(super::message(
                &state,
                &staff,
                StatusCode::CONFLICT,
                "この予約は他の操作で変更されたため、来店結果を記録できませんでした。",
                back,
            ))
        }
        Err(e) => {
            if let Err(audit_error) =
                audit::record(&state, Some(&staff), None, event("failed")).await
            {
                tracing::error!(error = %audit_error, "the failed outcome could not be audited");
            }
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reveal_form_keeps_known_fields_in_order_and_once() {
        let form =
            parse_reveal(b"csrf=x&purpose=visit&fields=phone&fields=family_name&fields=phone");
        assert_eq!(form.purpose.map(|p| p.0), Some("visit"));
        assert_eq!(form.fields, vec!["family_name", "phone"]);
        assert!(!form.unknown);
    }

    #[test]
    fn an_unknown_purpose_or_field_is_refused() {
        let form = parse_reveal(b"purpose=curiosity&fields=password");
        assert!(form.purpose.is_none());
        assert!(form.fields.is_empty());
        assert!(form.unknown);
    }
}
