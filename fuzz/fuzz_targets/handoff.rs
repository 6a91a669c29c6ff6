//! Hand-off files from outside the server: a batch manifest and a decrypted batch payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madoguchi_handoff::{BatchPayload, Manifest};

fuzz_target!(|bytes: &[u8]| {
    let _ = Manifest::parse(bytes);
    if let Ok(payload) = BatchPayload::from_json(bytes) {
        // What parses serialises and parses back.
        let json = payload.to_json().expect("serialise");
        BatchPayload::from_json(&json).expect("parse back");
    }
});
