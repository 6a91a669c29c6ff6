//! Audit checkpoints as read back from the database or the external sink (C2SP signed notes):
//! any text is a checkpoint signed by the key, or a refusal — never a panic, and never accepted
//! without a good signature (the fuzzer cannot forge one: every acceptance is a bug).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use madoguchi_audit::{AuditSigningKey, AuditVerifyingKey, Checkpoint};

fn key() -> &'static AuditVerifyingKey {
    static KEY: OnceLock<AuditVerifyingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        AuditSigningKey::generate()
            .expect("randomness")
            .verifying_key()
    })
}

fuzz_target!(|note: &str| {
    if let Ok(checkpoint) = Checkpoint::open(note, key()) {
        panic!("accepted a note this run's key never signed: {checkpoint:?}");
    }
});
