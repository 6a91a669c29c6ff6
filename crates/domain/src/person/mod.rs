//! The applicant as a person: names, birth date, sex, address, phones, e-mail.
//!
//! Each type can only be built by parsing, so holding one means the value is valid. These
//! values are personal data but not secrets: they implement `Display` for pages, and are
//! encrypted field by field by the storage layer.

mod address;
mod birth;
mod email;
mod name;
mod phone;

pub use address::{Address, AddressBuilding, AddressLine, PostalCode, Prefecture};
pub use birth::BirthDate;
pub use email::EmailAddress;
pub use name::{KanaName, KanjiName};
pub use phone::PhoneNumber;

use crate::macros::choice_enum;

choice_enum! {
    /// Sex as declared on the application (性別). "Not stated" is offered because the bank
    /// does not need it to open an account.
    pub enum Sex {
        /// 男性
        Male => "male",
        /// 女性
        Female => "female",
        /// 回答しない
        NotStated => "not-stated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn sex_parses_stable_names_only() {
        assert_eq!(Sex::parse("male"), Ok(Sex::Male));
        assert_eq!(Sex::parse(" female "), Ok(Sex::Female));
        assert_eq!(Sex::parse("not-stated"), Ok(Sex::NotStated));
        assert_eq!(Sex::parse("Male"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Sex::parse(""), Err(ErrorCode::Required));
        for sex in Sex::ALL {
            assert_eq!(Sex::parse(sex.as_str()), Ok(*sex));
        }
    }
}
