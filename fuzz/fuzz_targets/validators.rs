//! Every validator of what applicants and staff type: never a panic, and a value accepted once
//! is accepted again as it is stored (parsing is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use madoguchi_domain::account::AccountNumber;
use madoguchi_domain::debit_card::EmbossedName;
use madoguchi_domain::person::{
    AddressLine, BirthDate, EmailAddress, KanaName, KanjiName, PhoneNumber, PostalCode, Prefecture,
};
use madoguchi_domain::profile::BranchCode;
use madoguchi_domain::reservation::booking::Consultation;
use madoguchi_domain::staff::{Scope, Username};
use madoguchi_domain::ReceiptNumber;

macro_rules! idempotent {
    ($ty:ty, $input:expr) => {
        if let Ok(value) = <$ty>::parse($input) {
            let stored = String::from(value);
            let again = <$ty>::parse(&stored).unwrap_or_else(|e| {
                panic!("{} refused its own {stored:?}: {e:?}", stringify!($ty))
            });
            assert_eq!(String::from(again), stored, "{}", stringify!($ty));
        }
    };
}

fuzz_target!(|input: &str| {
    idempotent!(EmailAddress, input);
    idempotent!(PhoneNumber, input);
    idempotent!(PostalCode, input);
    idempotent!(KanjiName, input);
    idempotent!(KanaName, input);
    idempotent!(ReceiptNumber, input);
    if let Ok(name) = Username::parse(input) {
        let again = Username::parse(name.as_str()).expect("a username parses again");
        assert_eq!(again.as_str(), name.as_str());
    }
    idempotent!(BranchCode, input);
    idempotent!(AccountNumber, input);
    idempotent!(EmbossedName, input);
    let _ = AddressLine::parse(input);
    let _ = BirthDate::parse(input);
    let _ = Prefecture::parse(input);
    let _ = Scope::parse(input);
    let _ = Consultation::parse(input);
    let _ = madoguchi_domain::romaji::spellings(input);
});
