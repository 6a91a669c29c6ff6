//! Bank staff in the back office (SPEC §2): a role and a scope each.
//!
//! The role says what kind of work a person does; the scope says whose data that work may
//! touch. Both are checked for every request by the back office's one authorization table.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::ErrorCode;
use crate::macros::choice_enum;
use crate::profile::BranchCode;

choice_enum! {
    /// What a member of staff does in the back office.
    pub enum Role {
        /// 受付担当: reviews the applications of their branches, asks for more information.
        Operator => "operator",
        /// 承認者: approves or rejects (never an application they reviewed: four eyes).
        Supervisor => "supervisor",
        /// ローンセンター相談員: the reservations of their loan centres.
        Consultant => "consultant",
        /// 監査担当: the audit log and the incident tools; no personal data unless revealed
        /// with a purpose.
        Auditor => "auditor",
        /// システム管理者: staff accounts and settings; never any personal data.
        Administrator => "administrator",
    }
}

/// Whose records a member of staff may work on.
///
/// Stored as text: `bank`, `branches:001,002` or `centers:shinjuku,umeda`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole bank (auditors and administrators: their roles show no personal data by
    /// themselves).
    Bank,
    /// These branches' applications.
    Branches(BTreeSet<BranchCode>),
    /// These loan centres' reservations (centre ids of the bank profile).
    LoanCenters(BTreeSet<String>),
}

impl Scope {
    /// Parses the stored text form. Blank is `required`; anything else malformed is
    /// `invalid-choice`. Empty lists are refused: a scope that covers nothing is a mistake.
    pub fn parse(input: &str) -> Result<Scope, ErrorCode> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ErrorCode::Required);
        }
        if input == "bank" {
            return Ok(Scope::Bank);
        }
        let (kind, list) = input.split_once(':').ok_or(ErrorCode::InvalidChoice)?;
        let items = list.split(',').map(str::trim).filter(|s| !s.is_empty());
        match kind {
            "branches" => {
                let set = items
                    .map(BranchCode::parse)
                    .collect::<Result<BTreeSet<_>, _>>()
                    .map_err(|_| ErrorCode::InvalidChoice)?;
                non_empty(set).map(Scope::Branches)
            }
            "centers" => {
                let set = items
                    .map(|id| {
                        if id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                            Ok(id.to_owned())
                        } else {
                            Err(ErrorCode::InvalidChoice)
                        }
                    })
                    .collect::<Result<BTreeSet<_>, _>>()?;
                non_empty(set).map(Scope::LoanCenters)
            }
            _ => Err(ErrorCode::InvalidChoice),
        }
    }

    /// Whether an application of `branch` is in scope.
    pub fn covers_branch(&self, branch: &str) -> bool {
        match self {
            Scope::Bank => true,
            Scope::Branches(set) => set.iter().any(|b| b.as_str() == branch),
            Scope::LoanCenters(_) => false,
        }
    }

    /// Whether a booking at loan centre `center` is in scope.
    pub fn covers_center(&self, center: &str) -> bool {
        match self {
            Scope::Bank => true,
            Scope::LoanCenters(set) => set.contains(center),
            Scope::Branches(_) => false,
        }
    }

    /// The branches in scope, or `None` for the whole bank (and an empty list for a centre
    /// scope): what a queue query filters on.
    pub fn branch_filter(&self) -> Option<Vec<String>> {
        match self {
            Scope::Bank => None,
            Scope::Branches(set) => Some(set.iter().map(|b| b.as_str().to_owned()).collect()),
            Scope::LoanCenters(_) => Some(Vec::new()),
        }
    }
}

fn non_empty<T>(set: BTreeSet<T>) -> Result<BTreeSet<T>, ErrorCode> {
    if set.is_empty() {
        Err(ErrorCode::Required)
    } else {
        Ok(set)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Bank => f.write_str("bank"),
            Scope::Branches(set) => {
                let list: Vec<&str> = set.iter().map(BranchCode::as_str).collect();
                write!(f, "branches:{}", list.join(","))
            }
            Scope::LoanCenters(set) => {
                let list: Vec<&str> = set.iter().map(String::as_str).collect();
                write!(f, "centers:{}", list.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_text() {
        for text in ["bank", "branches:001,123", "centers:shinjuku,umeda-2"] {
            let scope = Scope::parse(text).expect(text);
            assert_eq!(scope.to_string(), text);
        }
    }

    #[test]
    fn malformed_scopes_are_refused() {
        assert_eq!(Scope::parse(""), Err(ErrorCode::Required));
        assert_eq!(Scope::parse("branches:"), Err(ErrorCode::Required));
        assert_eq!(Scope::parse("branches:12"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Scope::parse("centers:a b"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Scope::parse("everything"), Err(ErrorCode::InvalidChoice));
    }

    #[test]
    fn a_scope_covers_only_its_own_records() {
        let branches = Scope::parse("branches:001").expect("scope");
        assert!(branches.covers_branch("001"));
        assert!(!branches.covers_branch("002"));
        assert!(!branches.covers_center("shinjuku"));
        let centers = Scope::parse("centers:shinjuku").expect("scope");
        assert!(centers.covers_center("shinjuku"));
        assert!(!centers.covers_center("umeda"));
        assert!(!centers.covers_branch("001"));
        assert_eq!(centers.branch_filter(), Some(vec![]));
        assert!(Scope::Bank.covers_branch("999") && Scope::Bank.covers_center("x"));
    }
}
