//! Step 3: the branch (取引店), and the cash-card PIN parsed at the moment it is sealed.

use super::field::{BRANCH_CODE, CASH_CARD_PIN, CASH_CARD_PIN_CONFIRM};
use super::{FormInput, PersonalStep, required};
use crate::error::{ErrorCode, FieldError, FieldErrors};
use crate::pin::{Pin, PinFields};
use crate::profile::{BankProfile, Branch, BranchCode};

/// The branch chosen for the account. Holds no PIN, so it may be kept in a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BranchStep {
    branch_code: BranchCode,
}

impl BranchStep {
    /// Parses the branch code; `unknown-branch` unless it is one of `profile`'s branches.
    pub fn parse(form: &dyn FormInput, profile: &BankProfile) -> Result<Self, FieldErrors> {
        let code = BranchCode::parse(required(form, BRANCH_CODE))
            .and_then(|code| {
                profile
                    .branch(&code)
                    .map(|_| code)
                    .ok_or(ErrorCode::UnknownBranch)
            })
            .map_err(|code| FieldError::new(BRANCH_CODE, code))?;
        Ok(Self { branch_code: code })
    }

    /// The branch code.
    pub fn branch_code(&self) -> BranchCode {
        self.branch_code
    }

    /// The branch in `profile` (`None` only if the profile changed since the draft).
    pub fn branch<'p>(&self, profile: &'p BankProfile) -> Option<&'p Branch> {
        profile.branch(&self.branch_code)
    }

    /// `branch_code` as (form field name, plaintext).
    pub fn personal_fields(&self) -> Vec<(&'static str, String)> {
        vec![(BRANCH_CODE, self.branch_code.to_string())]
    }
}

/// Reads `cash_card_pin` and `cash_card_pin_confirm` from `form` and parses them against
/// what the applicant gave in `personal` (birth date, phones, address digits). Call it only
/// where the PIN is sealed, and drop the form right after.
pub fn parse_cash_card_pin(
    form: &dyn FormInput,
    personal: &PersonalStep,
) -> Result<Pin, FieldError> {
    Pin::parse_fields(
        PinFields {
            pin: CASH_CARD_PIN,
            confirmation: CASH_CARD_PIN_CONFIRM,
        },
        required(form, CASH_CARD_PIN),
        required(form, CASH_CARD_PIN_CONFIRM),
        &personal.pin_context(),
    )
}
