//! The bank profile's loader: any text is a profile or a refusal naming a line of that text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madoguchi_domain::BankProfile;

fuzz_target!(|text: &str| {
    if let Err(e) = BankProfile::from_toml_str("fuzz.toml", text) {
        let lines = text.lines().count().max(1);
        assert!(e.line() <= lines + 1, "line {} of {lines}: {e}", e.line());
    }
});
