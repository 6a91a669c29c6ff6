//! Uploads: content sniffing, inspection and cleaning (re-encoding without metadata, PDF
//! checks). Never a panic; what is accepted comes out as the type it was taken for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madoguchi_documents::{inspect, sanitize, sniff};

fuzz_target!(|bytes: &[u8]| {
    let sniffed = sniff(bytes);
    let _ = inspect(bytes);
    if let Ok(clean) = sanitize(bytes) {
        assert!(sniffed.is_some(), "accepted what sniffing did not recognise");
        assert_eq!(sniff(&clean.bytes), Some(clean.content_type), "cleaned into another type");
    }
});
