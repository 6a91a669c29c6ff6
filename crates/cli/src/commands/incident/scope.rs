//! `madoguchi incident scope`: who lost what, from the audit log (SPEC §7, issue 6).
//!
//! Indicators — actors, sessions, address ranges, a time window — select the reads of
//! personal data (events with a subject and field names, done); each read subject is tied to
//! its customer by the e-mail blind index (an applicant's application and booking are one
//! customer), and for each customer come the fields read, the first and last access and the
//! contact channels their record holds. Then the fields common to all and how many customers
//! lost each field: the shape of a bank's notice (共通事項 / 一部のお客様に関する事項) and of
//! report item ② and ③ to the Personal Information Protection Commission. Nothing is
//! decrypted: field names are stored in clear beside their ciphertexts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use anyhow::Context;
use madoguchi_seal::EncryptedFields;
use madoguchi_store::{ScopeEvent, ScopeFilter, ScopeSubject, Store, ip_key};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// One affected customer.
#[derive(Debug, Serialize)]
pub struct Customer {
    /// A stable, non-personal name for the customer in this report (from the blind index).
    pub customer: String,
    pub subjects: Vec<Subject>,
    pub fields: BTreeSet<String>,
    pub first_access: String,
    pub last_access: String,
    /// e-mail, phone, post: what the record holds to reach them.
    pub channels: BTreeSet<&'static str>,
    pub reads: usize,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    pub kind: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
}

/// The answer of `incident scope`.
#[derive(Debug, Serialize)]
pub struct Scope {
    pub events_matched: usize,
    pub customer_count: usize,
    pub common_fields: BTreeSet<String>,
    pub field_counts: BTreeMap<String, usize>,
    pub customers: Vec<Customer>,
}

/// Parses `--ip` values: an address (a range of one) or a CIDR block.
pub fn ip_range(text: &str) -> anyhow::Result<([u8; 16], [u8; 16])> {
    let fix = || {
        format!(
            "--ip {text:?} is neither an address nor a CIDR block: write 203.0.113.7 or 203.0.113.0/24"
        )
    };
    let (address, bits) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok().with_context(fix)?)),
        None => (text, None),
    };
    let ip: IpAddr = address.parse().ok().with_context(fix)?;
    let (key, width) = match ip {
        IpAddr::V4(_) => (ip_key(address).with_context(fix)?, 32),
        IpAddr::V6(_) => (ip_key(address).with_context(fix)?, 128),
    };
    let bits = bits.unwrap_or(width);
    anyhow::ensure!(bits <= width, "{}", fix());
    // The prefix in the 128-bit space (IPv4 sits in the last 32 bits of its mapped form).
    let prefix = u32::from(bits) + (128 - u32::from(width));
    let value = u128::from_be_bytes(key);
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    Ok(((value & mask).to_be_bytes(), (value | !mask).to_be_bytes()))
}

/// Computes the scope of `filter`.
pub async fn compute(store: &Store, filter: &ScopeFilter) -> anyhow::Result<Scope> {
    let events = store.scope_events(filter).await?;
    // The applications read, fetched together (a large scope reads thousands).
    let mut application_ids: Vec<Uuid> = events
        .iter()
        .filter(|e| e.subject_kind == "application")
        .filter_map(|e| Uuid::parse_str(&e.subject_id).ok())
        .collect();
    application_ids.sort_unstable();
    application_ids.dedup();
    let mut applications = store.scope_applications(&application_ids).await?;
    let mut customers: BTreeMap<String, Customer> = BTreeMap::new();
    let mut subjects: BTreeMap<(String, String), Resolved> = BTreeMap::new();
    for event in &events {
        let key = (event.subject_kind.clone(), event.subject_id.clone());
        if !subjects.contains_key(&key) {
            let resolved = resolve(store, &mut applications, event).await?;
            subjects.insert(key.clone(), resolved);
        }
        let (customer_key, subject, channels) = &subjects[&key];
        let at = event.at.format(&Rfc3339).unwrap_or_default();
        let entry = customers
            .entry(customer_key.clone())
            .or_insert_with(|| Customer {
                customer: customer_key.clone(),
                subjects: Vec::new(),
                fields: BTreeSet::new(),
                first_access: at.clone(),
                last_access: at.clone(),
                channels: BTreeSet::new(),
                reads: 0,
            });
        entry.reads += 1;
        entry.last_access = at;
        entry.channels.extend(channels.iter().copied());
        entry.fields.extend(
            event
                .fields
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
        );
        if let Some(subject) = subject
            && !entry
                .subjects
                .iter()
                .any(|s| s.kind == subject.kind && s.id == subject.id)
        {
            entry.subjects.push(Subject {
                kind: subject.kind.clone(),
                id: subject.id.clone(),
                receipt_number: subject.receipt_number.clone(),
            });
        }
    }
    let customers: Vec<Customer> = customers.into_values().collect();
    let mut field_counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &customers {
        for f in &c.fields {
            *field_counts.entry(f.clone()).or_default() += 1;
        }
    }
    let common_fields = field_counts
        .iter()
        .filter(|(_, n)| **n == customers.len())
        .map(|(f, _)| f.clone())
        .collect();
    Ok(Scope {
        events_matched: events.len(),
        customer_count: customers.len(),
        common_fields,
        field_counts,
        customers,
    })
}

/// A read subject's customer key, the subject as reported, and its contact channels.
type Resolved = (String, Option<Subject>, BTreeSet<&'static str>);

/// Resolves a read subject (see [`Resolved`]).
async fn resolve(
    store: &Store,
    applications: &mut HashMap<Uuid, ScopeSubject>,
    event: &ScopeEvent,
) -> anyhow::Result<Resolved> {
    let id = Uuid::parse_str(&event.subject_id).ok();
    let (kind, found): (&str, Option<(Uuid, ScopeSubject)>) =
        match (event.subject_kind.as_str(), id) {
            // Fetched already (each subject is resolved once).
            ("application", Some(id)) => ("application", applications.remove(&id).map(|s| (id, s))),
            ("booking", Some(id)) => ("booking", store.scope_booking(id).await?.map(|s| (id, s))),
            ("document", Some(id)) => match store.document_application(id).await? {
                Some(app) => (
                    "application",
                    store.scope_application(app).await?.map(|s| (app, s)),
                ),
                None => ("document", None),
            },
            (other, _) => (
                if other == "booking" {
                    "booking"
                } else {
                    "application"
                },
                None,
            ),
        };
    let Some((id, subject)) = found else {
        // Purged since: the subject itself stands for its customer.
        let key = format!("{}:{}", event.subject_kind, event.subject_id);
        return Ok((key, None, BTreeSet::new()));
    };
    let customer = match &subject.email_index {
        Some(index) => format!("customer:{}", hex::encode(&index[..index.len().min(8)])),
        None => format!("{kind}:{id}"),
    };
    let channels = subject
        .personal_fields
        .as_deref()
        .and_then(|bytes| EncryptedFields::from_bytes(bytes).ok())
        .map(|fields| channels_of(fields.names()))
        .unwrap_or_default();
    let reported = Subject {
        kind: kind.to_owned(),
        id: id.to_string(),
        receipt_number: subject.receipt_number,
    };
    Ok((customer, Some(reported), channels))
}

/// The ways to reach a customer that their record's field names show.
fn channels_of<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<&'static str> {
    let mut channels = BTreeSet::new();
    for name in names {
        match name {
            "email" => {
                channels.insert("e-mail");
            }
            "phone" | "phone_home" | "phone_mobile" => {
                channels.insert("phone");
            }
            "postal_code" | "address" | "address_line" => {
                channels.insert("post");
            }
            _ => {}
        }
    }
    channels
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks_become_inclusive_ranges() {
        let (lo, hi) = ip_range("203.0.113.0/24").unwrap();
        assert_eq!(lo, ip_key("203.0.113.0").unwrap());
        assert_eq!(hi, ip_key("203.0.113.255").unwrap());
        let (lo, hi) = ip_range("198.51.100.7").unwrap();
        assert_eq!(
            (lo, hi),
            (
                ip_key("198.51.100.7").unwrap(),
                ip_key("198.51.100.7").unwrap()
            )
        );
        let (lo, hi) = ip_range("2001:db8::/32").unwrap();
        assert_eq!(lo, ip_key("2001:db8::").unwrap());
        assert_eq!(
            hi,
            ip_key("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff").unwrap()
        );
        assert!(ip_range("203.0.113.0/33").is_err());
        assert!(ip_range("not an address").is_err());
        assert!(ip_range("10.0.0.0/x").is_err());
    }
}
