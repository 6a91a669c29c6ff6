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
                        if id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        {
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

/// A member of staff's sign-in name: 3–32 characters, lower-case ASCII letters, digits, `.`,
/// `-` and `_`, starting with a letter. Not personal data: it names an account, and the
/// administrator who sees no personal data manages it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    /// Fewest characters.
    pub const MIN_CHARS: usize = 3;
    /// Most characters.
    pub const MAX_CHARS: usize = 32;

    /// Parses a username as typed: surrounding spaces are dropped and capitals lowered (so
    /// `Tanaka` and `tanaka` are one account). Blank is `required`; too long `too-long`;
    /// anything else malformed `invalid-choice`.
    pub fn parse(input: &str) -> Result<Username, ErrorCode> {
        let name = input.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(ErrorCode::Required);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ErrorCode::TooLong);
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
        let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if name.len() < Self::MIN_CHARS || !starts_with_letter || !name.chars().all(allowed) {
            return Err(ErrorCode::InvalidChoice);
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a staff password was refused (the web layer and the CLI word it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffPasswordRefusal {
    /// Fewer than [`STAFF_PASSWORD_MIN_CHARS`] characters.
    TooShort,
    /// More than [`STAFF_PASSWORD_MAX_CHARS`] characters.
    TooLong,
    /// The password is (or contains) the username.
    ContainsUsername,
    /// zxcvbn estimates fewer than [`STAFF_PASSWORD_MIN_GUESSES`] guesses: a common or
    /// breached password, a word, a date or a keyboard pattern.
    TooCommon,
}

impl StaffPasswordRefusal {
    /// A stable code for logs and scripts.
    pub const fn code(self) -> &'static str {
        match self {
            StaffPasswordRefusal::TooShort => "password-too-short",
            StaffPasswordRefusal::TooLong => "password-too-long",
            StaffPasswordRefusal::ContainsUsername => "password-contains-username",
            StaffPasswordRefusal::TooCommon => "password-weak",
        }
    }
}

/// Fewest characters of a staff password (NIST SP 800-63B asks 8; the back office opens
/// personal data of many customers, so 12).
pub const STAFF_PASSWORD_MIN_CHARS: usize = 12;
/// Most characters: long passphrases are welcome, unbounded input to Argon2 is not.
pub const STAFF_PASSWORD_MAX_CHARS: usize = 128;
/// Fewest guesses zxcvbn must estimate: 10¹⁰ is its "very unguessable" score 4, the bar
/// against offline guessing should the password hashes leak. Its dictionaries hold the common
/// and breached password lists, which therefore count as a handful of guesses.
pub const STAFF_PASSWORD_MIN_GUESSES: u64 = 10_000_000_000;

/// Checks a new staff password: length, not the username, not common (no composition rules,
/// as NIST SP 800-63B advises). Characters are counted as Unicode scalar values.
pub fn check_staff_password(password: &str, username: &str) -> Result<(), StaffPasswordRefusal> {
    let chars = password.chars().count();
    if chars < STAFF_PASSWORD_MIN_CHARS {
        return Err(StaffPasswordRefusal::TooShort);
    }
    if chars > STAFF_PASSWORD_MAX_CHARS {
        return Err(StaffPasswordRefusal::TooLong);
    }
    let lowered = password.to_lowercase();
    let name = username.trim().to_lowercase();
    if !name.is_empty() && lowered.contains(&name) {
        return Err(StaffPasswordRefusal::ContainsUsername);
    }
    if zxcvbn::zxcvbn(password, &[username]).guesses() < STAFF_PASSWORD_MIN_GUESSES {
        return Err(StaffPasswordRefusal::TooCommon);
    }
    Ok(())
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

    #[test]
    fn usernames_are_lowered_and_restricted() {
        assert_eq!(
            Username::parse(" Tanaka.K ").map(|u| u.to_string()),
            Ok("tanaka.k".to_owned())
        );
        assert_eq!(Username::parse(""), Err(ErrorCode::Required));
        assert_eq!(Username::parse("ab"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Username::parse("1abc"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Username::parse("田中"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Username::parse("a b c"), Err(ErrorCode::InvalidChoice));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(ErrorCode::TooLong));
    }

    #[test]
    fn staff_passwords_are_long_uncommon_and_not_the_username() {
        use StaffPasswordRefusal::*;
        assert_eq!(check_staff_password("short-pw", "tanaka"), Err(TooShort));
        assert_eq!(
            check_staff_password(&"x".repeat(129), "tanaka"),
            Err(TooLong)
        );
        assert_eq!(
            check_staff_password("tanaka-tanaka-2026", "tanaka"),
            Err(ContainsUsername)
        );
        assert_eq!(
            check_staff_password("TANAKA-suzuki-9", "tanaka"),
            Err(ContainsUsername)
        );
        // On every common-password list, or a keyboard walk, or a word and a year.
        for weak in [
            "password1234",
            "qwertyuiop123",
            "123456789012",
            "iloveyou2024!",
            "Password123!",
        ] {
            assert_eq!(
                check_staff_password(weak, "tanaka"),
                Err(TooCommon),
                "{weak}"
            );
        }
        // No composition rules: a long passphrase of lower-case words passes.
        assert_eq!(
            check_staff_password("correct horse battery staple", "tanaka"),
            Ok(())
        );
        assert_eq!(check_staff_password("mK7#qp2!Vx9z", "tanaka"), Ok(()));
        // 12 characters are counted, not bytes.
        assert_eq!(
            check_staff_password("あいうえおかきくけこさ", "tanaka"),
            Err(TooShort)
        );
    }
}
