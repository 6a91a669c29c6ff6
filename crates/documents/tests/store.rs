//! The documents folder: encrypted under a fresh data key per document, written atomically
//! and privately under its id, opened only by the back office's keyring.

mod support;

use std::os::unix::fs::PermissionsExt;

use madoguchi_documents::{DOCUMENT_FIELD, DocumentStore, sanitize};
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::{EnvelopeWriter, PublicKeySet, WrappedKey};
use support::*;
use uuid::Uuid;

struct Keys {
    _tmp: tempfile::TempDir,
    keys: std::path::PathBuf,
}

fn keys() -> Keys {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).expect("data");
    let keys = data.join("keys");
    madoguchi_keyring::init_keys(&keys, &data, &tmp.path().join("core.key")).expect("keys");
    Keys { _tmp: tmp, keys }
}

#[tokio::test]
async fn a_document_is_encrypted_to_the_office_and_opens_only_with_its_own_id() {
    let keys = keys();
    let public = PublicKeySet::load(&keys.keys).expect("public keys");
    let dir = tempfile::tempdir().expect("tmp");
    let store = DocumentStore::open(
        &dir.path().join("documents"),
        EnvelopeWriter::new(public.office),
    )
    .expect("folder");
    let folder = store.folder().expect("a folder").clone();
    assert!(folder.is_private().expect("mode"), "created with mode 0700");

    let document = sanitize(&jpeg_with_gps(120, 80, 1)).expect("accepted");
    let id = Uuid::now_v7();
    let sealed_document = store.seal(&id, &document).expect("sealed");
    let bytes = sealed_document.bytes().to_vec();
    let stored = store.write(sealed_document).await.expect("stored");
    let path = folder.path(&id);
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some(id.hyphenated().to_string().as_str())
    );
    assert_eq!(
        std::fs::metadata(&path).expect("file").permissions().mode() & 0o777,
        0o600
    );
    let names: Vec<String> = std::fs::read_dir(folder.dir())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [id.hyphenated().to_string()],
        "no temporary file is left"
    );
    let raw = std::fs::read(&path).expect("read");
    assert_eq!(raw.len() as u64, stored.stored_bytes);
    assert_eq!(raw, bytes, "the file holds exactly the sealed bytes");
    assert!(
        !contains(&raw, &document.bytes[..64]),
        "the file is not plaintext"
    );

    let office = OfficeKeyring::load(&keys.keys).expect("office key");
    let wrapped = WrappedKey::from_stored(stored.wrapped_key.clone()).expect("wrapped key");
    let sealed = store
        .read_sealed(&id)
        .await
        .expect("read")
        .expect("present");
    let plain = office
        .open_record(&id, &wrapped)
        .expect("unwraps")
        .decrypt_field(DOCUMENT_FIELD, &sealed)
        .expect("decrypts");
    assert_eq!(plain.as_slice(), &document.bytes[..]);
    assert!(
        office.open_record(&Uuid::now_v7(), &wrapped).is_err(),
        "the data key is bound to its document"
    );

    // A second document has its own key: the first's cannot open it.
    let other_id = Uuid::now_v7();
    let other = store
        .write(store.seal(&other_id, &document).expect("sealed"))
        .await
        .expect("stored");
    assert_ne!(other.wrapped_key, stored.wrapped_key);
    let other_sealed = store
        .read_sealed(&other_id)
        .await
        .expect("read")
        .expect("present");
    assert!(
        office
            .open_record(&id, &wrapped)
            .expect("unwraps")
            .decrypt_field(DOCUMENT_FIELD, &other_sealed)
            .is_err()
    );
    assert!(
        store
            .write(store.seal(&id, &document).expect("sealed"))
            .await
            .is_err(),
        "an id is never overwritten"
    );

    assert!(store.delete(&id).await.expect("delete"));
    assert!(!store.delete(&id).await.expect("delete again"));
    assert!(store.read_sealed(&id).await.expect("read").is_none());
    let listed = store.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, other_id);
    assert!(!listed[0].temporary);
}
