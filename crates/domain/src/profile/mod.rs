//! The bank profile (SPEC §3): one TOML file describing the bank, so that nothing
//! bank-specific lives in code. Loaded once at start; a broken file is refused with
//! `FILE:LINE:COL: reason`.
//!
//! The profile's structs are read through accessors (templates refer to them by name, e.g.
//! `bank.finance_code()`); only the loader can build one, so every value has been checked.

mod bank;
mod detection;
mod error;
mod load;
mod loan_center;
mod raw;
mod rules;
mod source;

use crate::calendar::HolidayCalendar;

pub use bank::{Bank, Branch, BranchCode};
pub use detection::{CommandRead, Detection};
pub use error::ProfileError;
pub use loan_center::{LoanCenter, OpeningHours, WeeklyHours};
pub use rules::{ApplicationRules, Products, ReservationWindow, Retention, Support};

/// A validated bank profile.
#[derive(Debug, Clone)]
pub struct BankProfile {
    bank: Bank,
    branches: Vec<Branch>,
    loan_centers: Vec<LoanCenter>,
    support: Support,
    products: Products,
    applications: ApplicationRules,
    reservations: ReservationWindow,
    retention: Retention,
    calendar: HolidayCalendar,
    detection: Detection,
    core_banking_key: Option<String>,
}

impl BankProfile {
    /// Parses and checks a profile. `source_name` (usually the file path) only labels
    /// errors; this function reads nothing.
    pub fn from_toml_str(source_name: &str, text: &str) -> Result<BankProfile, ProfileError> {
        load::load(source_name, text)
    }

    /// The bank's names and codes.
    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    /// The branches (取引店) in file order; never empty.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// The branch with this code.
    pub fn branch(&self, code: &BranchCode) -> Option<&Branch> {
        self.branches.iter().find(|b| b.code == *code)
    }

    /// The loan centres in file order (may be empty if visits are not offered).
    pub fn loan_centers(&self) -> &[LoanCenter] {
        &self.loan_centers
    }

    /// The loan centre with this id.
    pub fn loan_center(&self, id: &str) -> Option<&LoanCenter> {
        self.loan_centers.iter().find(|c| c.id == id)
    }

    /// Customer-support contact.
    pub fn support(&self) -> &Support {
        &self.support
    }

    /// Product switches.
    pub fn products(&self) -> &Products {
        &self.products
    }

    /// Limits of the application forms.
    pub fn applications(&self) -> &ApplicationRules {
        &self.applications
    }

    /// Booking window of visit reservations.
    pub fn reservations(&self) -> &ReservationWindow {
        &self.reservations
    }

    /// How long records are kept.
    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// Japanese public holidays with the corrections of `[holidays]` applied; with the
    /// year-end closure, the days no loan centre opens.
    pub fn calendar(&self) -> &HolidayCalendar {
        &self.calendar
    }

    /// `[core_banking] public_key`: the core-banking public key line secrets are sealed to, when
    /// the bank sets it here (its rotation is a profile change); `None`: `keys/core-banking.pub`.
    /// Only its shape is checked here; the key itself when the keys are loaded.
    pub fn core_banking_key(&self) -> Option<&str> {
        self.core_banking_key.as_deref()
    }

    /// Intrusion-detection limits and the security contact.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }
}

#[cfg(test)]
mod tests;
