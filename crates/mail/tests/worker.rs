//! The outbox worker against a real store: a failed delivery is kept and retried, a delivered
//! message is removed.

use madoguchi_domain::OutgoingMail;
use madoguchi_keyring::{MailKeyring, init_keys};
use madoguchi_mail::{OutboxWorker, Transport};
use madoguchi_seal::{MailSealer, PublicKey};
use madoguchi_store::{OutboxRow, Store};
use time::OffsetDateTime;
use uuid::Uuid;

#[tokio::test]
async fn an_undeliverable_message_waits_and_is_delivered_later() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let keys = data.join("keys");
    std::fs::create_dir_all(&data).expect("data dir");
    init_keys(&keys, &data, &tmp.path().join("core.key")).expect("keys");
    let store = Store::connect(&format!("sqlite://{}", data.join("db.sqlite3").display()))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");

    let mail = OutgoingMail {
        to: "taro@example.jp".to_owned(),
        subject: "件名".to_owned(),
        body: "本文".to_owned(),
    };
    let id = Uuid::now_v7();
    let sealer = MailSealer::new(PublicKey::load(&keys.join("mail.pub")).expect("mail.pub"));
    let sealed = sealer
        .seal(&id, &serde_json::to_vec(&mail).expect("json"))
        .expect("seal");
    let row = OutboxRow::now(
        id,
        sealed.key_id().to_string(),
        sealed.into_bytes(),
        OffsetDateTime::now_utc(),
    );
    store.enqueue(&row).await.expect("enqueue");

    let from = "no-reply@bank.example".parse().expect("from");
    // Port 1 on loopback: nothing listens, the connection is refused.
    let down = Transport::smtp("smtp://127.0.0.1:1").expect("smtp url");
    let worker = OutboxWorker::new(
        store.clone(),
        MailKeyring::load(&keys).expect("mail key"),
        from,
        down,
    );
    let report = worker.deliver_due().await.expect("pass");
    assert_eq!((report.delivered, report.deferred), (0, 1));
    assert_eq!(
        store.outbox_len().await.expect("len"),
        1,
        "kept for a retry"
    );

    // Due again (as after its backoff), now with a transport that works.
    store
        .retry_later(id, OffsetDateTime::now_utc())
        .await
        .expect("due");
    let outbox = tmp.path().join("outbox");
    let from = "no-reply@bank.example".parse().expect("from");
    let worker = OutboxWorker::new(
        store.clone(),
        MailKeyring::load(&keys).expect("mail key"),
        from,
        Transport::Folder(outbox.clone()),
    );
    let report = worker.deliver_due().await.expect("pass");
    assert_eq!((report.delivered, report.deferred), (1, 0));
    assert_eq!(
        store.outbox_len().await.expect("len"),
        0,
        "removed once delivered"
    );
    assert!(outbox.join(format!("{id}.eml")).exists());
}
