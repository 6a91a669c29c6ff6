//! Queue and review of applications (SPEC §5): the queue, an application's page with every
//! personal field masked, audited reveals and document views, encrypted notes, status moves
//! under four eyes, and the CSV export.
//!
//! The rule of this module: personal data is decrypted only by [`open_fields`],
//! [`open_notes`] and `documents::open`, which take a [`Recorded`] — the proof that the
//! audit event naming the exact fields and the purpose was written first. No event, no data.

pub(crate) mod detail;
pub(crate) mod documents;
pub(crate) mod export;
pub(crate) mod notes;
pub(crate) mod queue;
pub(crate) mod reveal;
pub(crate) mod status;

use std::net::SocketAddr;

use madoguchi_domain::{ApplicationStatus, JST, Product};
use madoguchi_seal::{EncryptedFields, WrappedKey};
use madoguchi_store::{EncryptedRecord, NoteRow};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::StaffSession;

/// The pseudo-field that stands for an application's staff notes in reveals and audit events.
pub(crate) const NOTES: &str = "notes";

/// The field of a note's encrypted record.
pub(crate) const NOTE_FIELD: &str = "note";

/// Why a member of staff opens personal data: (code kept in the audit log, label).
pub(crate) const PURPOSES: &[(&str, &str)] = &[
    ("identity-check", "本人確認"),
    ("review", "申込内容の審査"),
    ("customer-inquiry", "お客様からの問い合わせ対応"),
    ("deficiency", "不備の確認"),
];

/// Every personal field an application may hold, in the order pages show them, with its
/// label. The names are those the public site encrypts (`personal_fields()` of each product,
/// and `email`).
pub(crate) const FIELDS: &[(&str, &str)] = &[
    ("family_name", "氏名（姓）"),
    ("given_name", "氏名（名）"),
    ("family_name_kana", "フリガナ（セイ）"),
    ("given_name_kana", "フリガナ（メイ）"),
    ("birth_date", "生年月日"),
    ("sex", "性別"),
    ("email", "メールアドレス"),
    ("phone", "電話番号"),
    ("phone_mobile", "携帯電話番号"),
    ("phone_home", "自宅電話番号"),
    ("postal_code", "郵便番号"),
    ("prefecture", "都道府県"),
    ("address_line", "市区町村・番地"),
    ("address_building", "建物名・部屋番号"),
    ("occupation", "職業"),
    ("employer_name", "勤務先名"),
    ("employer_phone", "勤務先電話番号"),
    ("purposes", "取引目的"),
    ("purpose_other", "取引目的（その他）"),
    ("nationality", "国籍"),
    ("nationality_country", "国籍（日本以外）"),
    ("tax_residence", "税務上の居住地"),
    ("tax_countries", "居住地国"),
    ("foreign_tin", "外国の納税者番号"),
    ("us_person", "米国人（FATCA）"),
    ("foreign_pep", "外国PEPs"),
    ("anti_social_declaration", "反社会的勢力でないことの表明"),
    ("consent_terms", "規定への同意"),
    ("consent_privacy", "個人情報の取扱いへの同意"),
    ("branch_code", "店番"),
    ("account_type", "預金種目"),
    ("account_number", "口座番号"),
    ("embossed_name", "カード表記名"),
];

/// A field's label; an unknown name is shown as it is (names are not personal).
pub(crate) fn field_label(name: &str) -> &str {
    if name == NOTES {
        return "メモ";
    }
    FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, label)| label)
}

/// A purpose's label, if `code` is one of [`PURPOSES`].
pub(crate) fn purpose_label(code: &str) -> Option<&'static str> {
    PURPOSES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, label)| *label)
}

pub(crate) fn product_label(code: &str) -> &str {
    match Product::parse(code) {
        Ok(Product::SavingsAccount) => "普通預金口座開設",
        Ok(Product::InternetBanking) => "インターネットバンキング",
        Ok(Product::DebitCard) => "Visaデビットカード",
        Err(_) => code,
    }
}

pub(crate) fn status_label(code: &str) -> &str {
    match ApplicationStatus::parse(code) {
        Ok(status) => status_name(status),
        Err(_) => code,
    }
}

pub(crate) fn status_name(status: ApplicationStatus) -> &'static str {
    use ApplicationStatus::*;
    match status {
        Submitted => "受付済",
        InReview => "審査中",
        MoreInformationNeeded => "追加情報依頼中",
        Approved => "承認済",
        HandedOff => "勘定系連携済",
        Completed => "完了",
        Rejected => "謝絶",
        Withdrawn => "取下げ",
        Expired => "期限切れ",
    }
}

/// A branch as staff know it: `101 本店営業部`.
pub(crate) fn branch_label(state: &OfficeState, code: &str) -> String {
    state
        .profile()
        .branches()
        .iter()
        .find(|b| b.code().as_str() == code)
        .map_or_else(|| code.to_owned(), |b| format!("{code} {}", b.name()))
}

/// A time in Japan, to the minute.
pub(crate) fn jst(t: OffsetDateTime) -> String {
    let t = t.to_offset(JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The pairs of a form body (repeated names kept, as checkboxes send them).
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `name` in a form.
pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The proof that an audit event was written: the only way to get one is [`record`], and
/// every function that decrypts asks for one.
pub(crate) struct Recorded(());

/// Writes `event` for `staff` first; the caller may decrypt only with the proof it returns.
pub(crate) async fn record(
    state: &OfficeState,
    staff: &StaffSession,
    client: SocketAddr,
    event: Event<'_>,
) -> Result<Recorded, OfficeError> {
    record_all(state, staff, client, vec![event]).await
}

/// Writes the events of one request (an export's rows) for `staff`, screened as one.
pub(crate) async fn record_all(
    state: &OfficeState,
    staff: &StaffSession,
    client: SocketAddr,
    events: Vec<Event<'_>>,
) -> Result<Recorded, OfficeError> {
    audit::record_all(state, Some(staff), Some(client.ip().to_string()), events).await?;
    Ok(Recorded(()))
}

/// The names of the personal fields an application holds (stored in clear beside their
/// ciphertexts: no decryption), in page order; names unknown to [`FIELDS`] come last.
pub(crate) fn field_names(record: &EncryptedRecord) -> Result<Vec<String>, OfficeError> {
    let fields = EncryptedFields::from_bytes(&record.fields)
        .map_err(|e| OfficeError::Internal(format!("stored fields: {e}")))?;
    let mut names: Vec<String> = FIELDS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| fields.get(n).is_some())
        .map(str::to_owned)
        .collect();
    names.extend(
        fields
            .names()
            .filter(|n| !FIELDS.iter().any(|(f, _)| f == n))
            .map(str::to_owned),
    );
    Ok(names)
}

/// Decrypts exactly `names` of the record `id` (those it holds), after the audit event.
pub(crate) fn open_fields(
    state: &OfficeState,
    _proof: &Recorded,
    id: Uuid,
    record: &EncryptedRecord,
    names: &[&str],
) -> Result<Vec<(String, Zeroizing<String>)>, OfficeError> {
    let fields = EncryptedFields::from_bytes(&record.fields)
        .map_err(|e| OfficeError::Internal(format!("stored fields: {e}")))?;
    let wrapped = WrappedKey::from_stored(record.wrapped.clone())
        .map_err(|e| OfficeError::Internal(format!("stored key: {e}")))?;
    let decryptor = state.inner.keyring.open_record(&id, &wrapped)?;
    let mut opened = Vec::with_capacity(names.len());
    for name in names {
        if let Some(ciphertext) = fields.get(name) {
            let plain = decryptor.decrypt_field(name, ciphertext)?;
            opened.push(((*name).to_owned(), text_of(&plain)));
        }
    }
    Ok(opened)
}

/// A staff note, opened.
pub(crate) struct OpenedNote {
    pub author: String,
    pub created_at: String,
    pub text: Zeroizing<String>,
}

/// Decrypts an application's notes (each with its own data key), after the audit event.
pub(crate) fn open_notes(
    state: &OfficeState,
    _proof: &Recorded,
    notes: &[NoteRow],
) -> Result<Vec<OpenedNote>, OfficeError> {
    notes
        .iter()
        .map(|note| {
            let fields = EncryptedFields::from_bytes(&note.body)
                .map_err(|e| OfficeError::Internal(format!("stored note: {e}")))?;
            let wrapped = WrappedKey::from_stored(note.wrapped.clone())
                .map_err(|e| OfficeError::Internal(format!("stored key: {e}")))?;
            let decryptor = state.inner.keyring.open_record(&note.id, &wrapped)?;
            let ciphertext = fields
                .get(NOTE_FIELD)
                .ok_or_else(|| OfficeError::Internal("a note without its field".to_owned()))?;
            let plain = decryptor.decrypt_field(NOTE_FIELD, ciphertext)?;
            Ok(OpenedNote {
                author: note.author.clone(),
                created_at: jst(note.created_at),
                text: text_of(&plain),
            })
        })
        .collect()
}

fn text_of(plain: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(String::from_utf8_lossy(plain).into_owned())
}

/// The audit actor text of a member of staff, as history rows name them.
pub(crate) fn actor_of(staff: &StaffSession) -> String {
    format!("staff:{}", staff.staff_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_label_and_purposes_are_known() {
        for (i, (name, _)) in FIELDS.iter().enumerate() {
            assert!(
                !FIELDS[i + 1..].iter().any(|(n, _)| n == name),
                "{name} twice"
            );
            assert_ne!(field_label(name), *name);
        }
        assert_eq!(purpose_label("review"), Some("申込内容の審査"));
        assert_eq!(purpose_label("curiosity"), None);
        for status in ApplicationStatus::ALL {
            assert_ne!(status_label(status.as_str()), status.as_str());
        }
    }

    #[test]
    fn times_are_shown_in_japan() {
        let t = time::macros::datetime!(2026-11-25 15:30:00 UTC);
        assert_eq!(jst(t), "2026-11-26 00:30");
    }
}
