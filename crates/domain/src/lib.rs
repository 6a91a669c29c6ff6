//! # madoguchi-domain
//!
//! The bank's own vocabulary for the madoguchi application site: what an applicant may
//! enter, what a valid application is, and what the bank profile says. Every other crate
//! (web, storage, sealing, back office, core-banking hand-off) speaks in these types.
//!
//! Invariants:
//! - **Parse, don't validate.** Each value type is built only by parsing untrusted input
//!   (or deserializing, which parses again); holding one means it is valid. Fields are
//!   private.
//! - **No I/O.** No files, network, clock or environment: the caller passes `today` (or
//!   `now`) and the profile text; the holiday table is compiled in. The only system call is
//!   the operating system's random generator behind [`receipt::ReceiptNumber::generate`] and
//!   [`verification::VerificationCode::generate`].
//! - **Knows nothing of HTTP, SQL, templates or keys.** Forms arrive through the small
//!   [`savings::FormInput`] trait; encryption of personal fields is the storage layer's job,
//!   which this crate helps by listing them ([`savings::PersonalStep::personal_fields`]).
//! - **Language-neutral.** A refusal is a field name plus an [`error::ErrorCode`]; the web
//!   layer writes the Japanese or English sentence. Only [`profile::ProfileError`], read by
//!   operators at start-up, is a sentence (in English).
//! - **Secrets stay secret.** [`pin::Pin`] cannot be printed, serialized, cloned or compared
//!   and is wiped on drop; [`verification::VerificationCode`] hides itself from `Debug`.

pub mod account;
pub mod calendar;
pub mod customer;
pub mod debit_card;
pub mod era;
pub mod error;
pub mod internet_banking;
mod macros;
pub mod mask;
pub mod password;
pub mod person;
pub mod pin;
pub mod product;
pub mod profile;
pub mod receipt;
pub mod reservation;
pub mod romaji;
pub mod savings;
pub mod staff;
pub mod text;
pub mod verification;

pub use calendar::HolidayCalendar;
pub use error::{ErrorCode, FieldError, FieldErrors, ForField};
pub use person::{
    Address, BirthDate, EmailAddress, KanaName, KanjiName, PhoneNumber, PostalCode, Prefecture, Sex,
};
pub use pin::{Pin, PinContext, PinFields};
pub use product::{ApplicationStatus, Product, Service};
pub use profile::{BankProfile, ProfileError};
pub use receipt::{RandomnessUnavailable, ReceiptNumber};
pub use reservation::{BookingWindow, JST, Slot, SlotRefusal};
pub use savings::FormInput;
pub use verification::{OutgoingMail, VerificationCode};
