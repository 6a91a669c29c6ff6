//! The notification list (`incident scope --format csv`): one row per affected customer with
//! what the bank needs to reach them — name, e-mail, phone, postal address — and the fields
//! they lost. It is itself a read of personal data, so it is audited like any other: for each
//! customer, the event naming the exact fields opened is written first (`incident.notify-list`,
//! actor `cli:incident-scope`, purpose `incident-notification`), and only then are those
//! fields decrypted. When an event cannot be written, the command fails and prints nothing.
//! The profile exempts the list from detection's limits (`exempt_commands`, audited as
//! `exempt=profile`) or it counts like a member of staff's reads, and stops at a limit.

use anyhow::Context;
use madoguchi_domain::BankProfile;
use madoguchi_domain::profile::CommandRead;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_office::csv::{UTF8_BOM, cell};
use madoguchi_office::detection::command::append_command_reads;
use madoguchi_seal::{EncryptedFields, WrappedKey};
use madoguchi_store::{AuditEventRow, EncryptedRecord, Store};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::scope::{Customer, Scope};

/// The actor of the list's audit events.
pub const ACTOR: &str = "cli:incident-scope";

/// The contact fields, in the list's column order; a record holds some of them.
const CONTACT: [&str; 8] = [
    "family_name",
    "given_name",
    "email",
    "phone_mobile",
    "phone_home",
    "phone",
    "postal_code",
    "address_line",
];

/// The list as CSV (UTF-8 with a byte-order mark, for spreadsheets used in Japan).
pub async fn notification_csv(
    store: &Store,
    keyring: &OfficeKeyring,
    profile: &BankProfile,
    scope: &Scope,
) -> anyhow::Result<Vec<u8>> {
    let mut writer = ::csv::Writer::from_writer(UTF8_BOM.to_vec());
    writer.write_record([
        "お客さま",
        "受付番号・予約",
        "氏名",
        "メールアドレス",
        "電話番号",
        "郵便番号",
        "住所",
        "漏えいのおそれがある項目",
        "最初の閲覧",
        "最後の閲覧",
    ])?;
    for customer in &scope.customers {
        let contact = open_contact(store, keyring, profile, customer).await?;
        let get = |name: &str| {
            contact
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let name = format!("{} {}", get("family_name"), get("given_name"));
        let phone = [get("phone_mobile"), get("phone_home"), get("phone")]
            .into_iter()
            .find(|p| !p.is_empty())
            .unwrap_or("");
        let subjects: Vec<String> = customer
            .subjects
            .iter()
            .map(|s| {
                s.receipt_number
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}", s.kind, s.id))
            })
            .collect();
        let lost: Vec<&str> = customer
            .fields
            .iter()
            .map(|f| madoguchi_office::field_label(f))
            .collect();
        let row = [
            customer.customer.as_str(),
            &subjects.join(" "),
            name.trim(),
            get("email"),
            phone,
            get("postal_code"),
            get("address_line"),
            &lost.join("、"),
            &customer.first_access,
            &customer.last_access,
        ];
        writer.write_record(row.iter().map(|v| cell(v).into_owned()))?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the CSV: {e}"))
}

/// The customer's contact fields, opened after their audit event.
async fn open_contact(
    store: &Store,
    keyring: &OfficeKeyring,
    profile: &BankProfile,
    customer: &Customer,
) -> anyhow::Result<Vec<(String, Zeroizing<String>)>> {
    // The first subject whose record is still there: an application, else a booking.
    for subject in &customer.subjects {
        let Ok(id) = Uuid::parse_str(&subject.id) else {
            continue;
        };
        let record = match subject.kind.as_str() {
            "application" => store.encrypted_personal_record(id).await?,
            "booking" => store.encrypted_booking_record(id).await?,
            _ => None,
        };
        if let Some(record) = record {
            return open(store, keyring, profile, &subject.kind, id, &record).await;
        }
    }
    Ok(Vec::new())
}

async fn open(
    store: &Store,
    keyring: &OfficeKeyring,
    profile: &BankProfile,
    kind: &str,
    id: Uuid,
    record: &EncryptedRecord,
) -> anyhow::Result<Vec<(String, Zeroizing<String>)>> {
    let fields = EncryptedFields::from_bytes(&record.fields).context("a stored record")?;
    let names: Vec<&str> = CONTACT
        .into_iter()
        .filter(|n| fields.get(n).is_some())
        .collect();
    // The event first (exempt by the profile, or screened by detection): no event, no data.
    let row = AuditEventRow {
        id: Uuid::now_v7(),
        at: OffsetDateTime::now_utc(),
        actor: ACTOR.to_owned(),
        actor_address: None,
        session: None,
        action: "incident.notify-list".to_owned(),
        subject_kind: Some(kind.to_owned()),
        subject_id: Some(id.to_string()),
        fields: names.join(","),
        purpose: Some("incident-notification".to_owned()),
        detail: None,
        outcome: "ok".to_owned(),
    };
    append_command_reads(store, profile, CommandRead::IncidentNotifyList, vec![row])
        .await
        .context("the notification list's read was not recorded: nothing is shown")?;
    let wrapped = WrappedKey::from_stored(record.wrapped.clone()).context("a stored key")?;
    let decryptor = keyring.open_record(&id, &wrapped)?;
    let mut opened = Vec::with_capacity(names.len());
    for name in names {
        if let Some(ciphertext) = fields.get(name) {
            let plain = Zeroizing::new(decryptor.decrypt_field(name, ciphertext)?);
            opened.push((
                name.to_owned(),
                Zeroizing::new(String::from_utf8_lossy(&plain).into_owned()),
            ));
        }
    }
    Ok(opened)
}
