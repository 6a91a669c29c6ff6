//! What opening one record's data key costs the back office: with the key file (HPKE/X25519)
//! and with the key in a PKCS#11 token (ECDH-ES/P-256, the ECDH done by SoftHSM2). Also the
//! public site's side of a token key: wrapping a data key to a P-256 key.
//!
//! Needs Debian's SoftHSM2 (`/usr/lib/softhsm/libsofthsm2.so`); it makes a token of its own and
//! deletes it afterwards. Run: `cargo bench -p madoguchi-keyring --bench unwrap`.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use madoguchi_keyring::{OfficeKeyring, PrivateKey, Token, TokenConfig};
use madoguchi_seal::EnvelopeWriter;
use uuid::Uuid;

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn bench(c: &mut Criterion) {
    let record = Uuid::from_u128(0x0123_4567_89ab_cdef);

    let file_key = PrivateKey::generate().unwrap();
    let writer = EnvelopeWriter::new(file_key.public_key().clone());
    let wrapped = writer.begin(&record).unwrap().wrapped_key().clone();
    let ring = OfficeKeyring::from_keys([file_key]);
    c.bench_function("unwrap_data_key_file_x25519", |b| {
        b.iter(|| ring.unwrap(black_box(&record), &wrapped).unwrap())
    });

    if !std::path::Path::new(SOFTHSM).exists() {
        eprintln!("SoftHSM2 is not installed: the token figures are skipped");
        return;
    }
    let label = format!("bench-{}", &Uuid::new_v4().simple().to_string()[..12]);
    let dir = tempfile::tempdir().unwrap();
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, "246810\n").unwrap();
    let made = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", &label])
        .args(["--pin", "246810", "--so-pin", "246810"])
        .output()
        .unwrap();
    assert!(made.status.success(), "softhsm2-util --init-token");
    let config = TokenConfig::with_pin_file(SOFTHSM.into(), label.clone(), &pin_file).unwrap();
    let token = Token::open(&config).unwrap();
    let public = token.generate_office_key().unwrap();
    let writer = EnvelopeWriter::new(public);
    c.bench_function("wrap_data_key_to_token_p256", |b| {
        b.iter(|| writer.begin(black_box(&record)).unwrap())
    });
    let wrapped = writer.begin(&record).unwrap().wrapped_key().clone();
    let ring = OfficeKeyring::from_keys(token.office_keys().unwrap());
    c.bench_function("unwrap_data_key_token_p256_softhsm2", |b| {
        b.iter(|| ring.unwrap(black_box(&record), &wrapped).unwrap())
    });
    drop(ring);
    drop(token);
    let _ = Command::new("softhsm2-util")
        .args(["--delete-token", "--token", &label])
        .output();
}

criterion_group!(benches, bench);
criterion_main!(benches);
