//! Reading the audit log for an incident (`madoguchi incident scope`): the reads of personal
//! data that match the indicators, and what the bank knows of each subject read — whose it is
//! (the blind index of the e-mail address, so one customer's application and booking count
//! once) and which contact fields its record holds. Never a value: the caller decides what to
//! decrypt, and audits it.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::{Inner, with_db};
use crate::{Store, StoreError, db_time};

/// Which events an incident covers: any of the actors, sessions or address ranges (all
/// events when none is given), within `[from, to)`.
#[derive(Debug, Clone)]
pub struct ScopeFilter {
    pub actors: Vec<String>,
    pub sessions: Vec<String>,
    /// Inclusive ranges of 16-byte addresses (IPv4 as IPv4-mapped IPv6).
    pub ip_ranges: Vec<([u8; 16], [u8; 16])>,
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

/// A read of personal data by a matching actor, session or address.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScopeEvent {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    /// Comma-separated field names.
    pub fields: String,
}

/// What is known of one subject read (no personal value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSubject {
    /// The customer's key: the e-mail blind index, when the record still holds it.
    pub email_index: Option<Vec<u8>>,
    /// The application's receipt number (applications only).
    pub receipt_number: Option<String>,
    /// The sealed record (field names in clear, values encrypted), when still there.
    pub personal_fields: Option<Vec<u8>>,
}

/// An application as a scope reads it: id, e-mail blind index, receipt number, sealed record.
type ApplicationRead = (Uuid, Option<Vec<u8>>, String, Option<Vec<u8>>);

/// The address as the 16 bytes `actor_ip` is compared on (IPv4 mapped into IPv6).
pub fn ip_key(address: &str) -> Option<[u8; 16]> {
    let ip: std::net::IpAddr = address.parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    })
}

/// The events that read personal data (a subject and at least one field, done). Written as
/// `subject_kind || ''` wherever it stands, so that no planner uses the `(subject_kind,
/// subject_id)` index for a condition nearly every event meets: without statistics (a freshly
/// loaded table) PostgreSQL AND-ed it with the selective index and read it whole.
const READ: &str = "outcome = 'ok' AND fields <> '' AND subject_kind || '' IN ('application', 'booking', 'document')";

impl Store {
    /// The reads of personal data matching `filter`, in log order, each once.
    pub async fn scope_events(&self, filter: &ScopeFilter) -> Result<Vec<ScopeEvent>, StoreError> {
        let (from, to) = (db_time(filter.from), db_time(filter.to));
        let mut events = Vec::new();
        let none =
            filter.actors.is_empty() && filter.sessions.is_empty() && filter.ip_ranges.is_empty();
        with_db!(self, read, Db, pool => {
            let _ = READ;
            if none {
                events.extend(sqlx::query_as::<Db, ScopeEvent>(
                    "SELECT seq, at, action, subject_kind, subject_id, fields FROM audit_events \
                     WHERE at >= $1 AND at < $2 AND outcome = 'ok' AND fields <> '' \
                     AND subject_kind || '' IN ('application', 'booking', 'document')",
                )
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?);
            }
            for session in &filter.sessions {
                events.extend(sqlx::query_as::<Db, ScopeEvent>(
                    "SELECT seq, at, action, subject_kind, subject_id, fields FROM audit_events \
                     WHERE session = $1 AND at >= $2 AND at < $3 AND outcome = 'ok' \
                     AND fields <> '' AND subject_kind || '' IN ('application', 'booking', 'document')",
                )
                .bind(session)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?);
            }
            for actor in &filter.actors {
                events.extend(sqlx::query_as::<Db, ScopeEvent>(
                    "SELECT seq, at, action, subject_kind, subject_id, fields FROM audit_events \
                     WHERE actor = $1 AND at >= $2 AND at < $3 AND outcome = 'ok' \
                     AND fields <> '' AND subject_kind || '' IN ('application', 'booking', 'document')",
                )
                .bind(actor)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?);
            }
            // An address range is one range read of the (actor_ip, at) index: with the
            // condition on subject_kind kept off every index (see `READ`), both planners take
            // it (a whole-log read, 45 s at ten million events, before).
            for (low, high) in &filter.ip_ranges {
                events.extend(sqlx::query_as::<Db, ScopeEvent>(
                    "SELECT seq, at, action, subject_kind, subject_id, fields FROM audit_events \
                     WHERE actor_ip >= $1 AND actor_ip <= $2 AND at >= $3 AND at < $4 \
                     AND outcome = 'ok' AND fields <> '' \
                     AND subject_kind || '' IN ('application', 'booking', 'document')",
                )
                .bind(&low[..])
                .bind(&high[..])
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?);
            }
        });
        events.sort_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        Ok(events)
    }

    /// What is known of each of these applications (absent: no such application), read 1,000
    /// at a time: a scope of 50,000 reads is a few queries, not 50,000.
    pub async fn scope_applications(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ScopeSubject>, StoreError> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let rows: Vec<ApplicationRead> = match &self.inner {
                Inner::Sqlite { read, .. } => {
                    let list: Vec<String> =
                        chunk.iter().map(|id| id.simple().to_string()).collect();
                    sqlx::query_as::<sqlx::Sqlite, ApplicationRead>(
                        "SELECT a.id, a.email_index, a.receipt_number, p.fields FROM applications a \
                         LEFT JOIN application_personal p ON p.application_id = a.id \
                         WHERE a.id IN (SELECT unhex(value) FROM json_each($1))",
                    )
                    .bind(serde_json::Value::from(list).to_string())
                    .fetch_all(read)
                    .await?
                }
                Inner::Postgres(pool) => sqlx::query_as::<
                    sqlx::Postgres,
                    (Uuid, Option<Vec<u8>>, String, Option<Vec<u8>>),
                >(
                    "SELECT a.id, a.email_index, a.receipt_number, p.fields FROM applications a \
                         LEFT JOIN application_personal p ON p.application_id = a.id \
                         WHERE a.id = ANY($1)",
                )
                .bind(chunk)
                .fetch_all(pool)
                .await?,
            };
            for (id, email_index, receipt, fields) in rows {
                found.insert(
                    id,
                    ScopeSubject {
                        email_index,
                        receipt_number: Some(receipt),
                        personal_fields: fields,
                    },
                );
            }
        }
        Ok(found)
    }

    /// What is known of an application that was read (`None`: no such application).
    pub async fn scope_application(&self, id: Uuid) -> Result<Option<ScopeSubject>, StoreError> {
        with_db!(self, read, Db, pool => {
            let row = sqlx::query_as::<Db, (Option<Vec<u8>>, String, Option<Vec<u8>>)>(
                "SELECT a.email_index, a.receipt_number, p.fields FROM applications a \
                 LEFT JOIN application_personal p ON p.application_id = a.id WHERE a.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(email_index, receipt, fields)| ScopeSubject {
                email_index,
                receipt_number: Some(receipt),
                personal_fields: fields,
            }))
        })
    }

    /// What is known of a booking that was read (`None`: no such booking).
    pub async fn scope_booking(&self, id: Uuid) -> Result<Option<ScopeSubject>, StoreError> {
        with_db!(self, read, Db, pool => {
            let row = sqlx::query_as::<Db, (Option<Vec<u8>>, Option<Vec<u8>>)>(
                "SELECT b.email_index, p.fields FROM bookings b \
                 LEFT JOIN booking_personal p ON p.booking_id = b.id WHERE b.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(email_index, fields)| ScopeSubject {
                email_index,
                receipt_number: None,
                personal_fields: fields,
            }))
        })
    }
}
