//! Applications written straight into the database, sealed exactly as the public site seals
//! them (envelope per record, `EncryptedFields`, blind index of the e-mail), through the
//! store's own public calls (an e-mail check, a draft, the submission): values the public
//! validation would refuse (markup in a name) can be planted where the back office shows them.
#![allow(dead_code)]

use madoguchi::data_dir::DataDir;
use madoguchi_domain::{OutgoingMail, ReceiptNumber};
use madoguchi_seal::{EncryptedFields, PublicKeySet};
use madoguchi_store::{DraftRow, EmailCheckRow, NewApplication, OutboxRow};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::common::TestApp;

/// A planted application.
pub struct Planted {
    pub id: Uuid,
    pub receipt_number: String,
}

/// Stores a `product` application of `branch` with these personal fields (`email` among
/// them, or a default address).
pub async fn plant(app: &TestApp, branch: &str, fields: &[(&str, &str)]) -> Planted {
    let keys = PublicKeySet::load(&DataDir::open(&app.data).expect("data dir").keys())
        .expect("public keys");
    let id = Uuid::now_v7();
    let now = OffsetDateTime::now_utc();
    let email = fields
        .iter()
        .find(|(k, _)| *k == "email")
        .map_or("planted@example.jp", |(_, v)| v)
        .to_owned();
    let envelope = keys.envelope_writer().begin(&id).expect("data key");
    let mut encrypted = EncryptedFields::new();
    for (name, value) in fields {
        envelope
            .encrypt_into(&mut encrypted, name, value.as_bytes())
            .expect("encrypt");
    }
    if !fields.iter().any(|(k, _)| *k == "email") {
        envelope
            .encrypt_into(&mut encrypted, "email", email.as_bytes())
            .expect("encrypt");
    }
    let indexed = keys.blind_index().email_index(&email.to_lowercase());
    let email_index = indexed.index.as_bytes().to_vec();
    let session_id = Uuid::new_v4().as_bytes().to_vec();
    let store = app.store();
    store
        .start_status_check(
            &EmailCheckRow {
                session_id: session_id.clone(),
                product: "savings-account".to_owned(),
                email_index: email_index.clone(),
                email_sealed: vec![0; 40],
                code_mac: vec![0; 32],
                tries_left: 5,
                created_at: now,
                expires_at: now + Duration::minutes(10),
                email_index_previous: None,
            },
            None,
        )
        .await
        .expect("e-mail check");
    store
        .start_draft(&DraftRow {
            session_id: session_id.clone(),
            product: "savings-account".to_owned(),
            application_id: id,
            body: vec![0; 16],
            created_at: now,
            updated_at: now,
            expires_at: now + Duration::hours(1),
        })
        .await
        .expect("draft");
    let receipt_number = ReceiptNumber::generate()
        .expect("randomness")
        .as_str()
        .to_owned();
    let mail = OutgoingMail {
        to: email.clone(),
        subject: "受付".to_owned(),
        body: "planted".to_owned(),
    };
    let mail_id = Uuid::now_v7();
    let sealed = keys
        .mail_sealer()
        .seal(&mail_id, &serde_json::to_vec(&mail).expect("json"))
        .expect("seal mail");
    store
        .submit_application(
            &session_id,
            &NewApplication {
                id,
                receipt_number: receipt_number.clone(),
                product: "savings-account".to_owned(),
                branch_code: branch.to_owned(),
                email_index,
                email_index_key: indexed.key_id.to_string(),
                personal_fields: encrypted.to_bytes(),
                data_key_id: envelope.wrapped_key().key_id().to_string(),
                wrapped_data_key: envelope.wrapped_key().as_bytes().to_vec(),
                secrets: Vec::new(),
                submitted_at: now,
            },
            &OutboxRow::now(
                mail_id,
                sealed.key_id().to_string(),
                sealed.as_bytes().to_vec(),
                now,
            ),
        )
        .await
        .expect("submission");
    Planted { id, receipt_number }
}
