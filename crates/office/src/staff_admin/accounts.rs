//! Staff accounts: add, disable, reset, list — the one implementation behind both
//! `madoguchi staff …` and the administrator's pages.
//!
//! A new or reset account gets a one-time password, shown once to whoever created it and
//! never stored but hashed; it must be changed at the next sign-in, and a reset also clears
//! the TOTP enrolment and ends every session, so a lost phone or a leaked password is handled
//! by one command.

use std::fmt;

use madoguchi_domain::ErrorCode;
use madoguchi_domain::staff::{Role, Scope, Username};
use madoguchi_store::{AuditEventRow, NewStaff, StaffRow, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::sign_in::password::hash_blocking;

/// Why an account could not be added or changed. The text names the field and the fix.
#[derive(Debug)]
pub enum AccountError {
    Username(ErrorCode),
    Role,
    Scope(ErrorCode),
    /// The scope does not fit the role.
    ScopeForRole(Role),
    Taken(String),
    NotFound(String),
    Store(StoreError),
    Internal(String),
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountError::Username(ErrorCode::Required) => {
                f.write_str("--username is empty: give the member of staff's sign-in name")
            }
            AccountError::Username(ErrorCode::TooLong) => {
                f.write_str("--username is too long: use at most 32 characters")
            }
            AccountError::Username(_) => f.write_str(
                "--username is not valid: use 3-32 lower-case letters, digits, '.', '-' or '_', \
                 starting with a letter (e.g. tanaka.k)",
            ),
            AccountError::Role => f.write_str(
                "--role is not valid: use operator, supervisor, consultant, auditor or \
                 administrator",
            ),
            AccountError::Scope(_) => f.write_str(
                "--scope is not valid: use bank, branches:CODE[,CODE…] (3-digit branch codes) \
                 or centers:ID[,ID…] (loan centre ids of the bank profile)",
            ),
            AccountError::ScopeForRole(role) => write!(
                f,
                "--scope does not fit --role {role}: {}",
                scope_hint(*role)
            ),
            AccountError::Taken(name) => write!(
                f,
                "--username {name:?} is already taken: choose another (see `madoguchi staff list`)"
            ),
            AccountError::NotFound(name) => write!(
                f,
                "no member of staff is called {name:?}: check the name with `madoguchi staff list`"
            ),
            AccountError::Store(e) => write!(f, "{e}"),
            AccountError::Internal(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for AccountError {}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        AccountError::Store(e)
    }
}

/// Which scopes a role may have.
fn scope_hint(role: Role) -> &'static str {
    match role {
        Role::Operator | Role::Supervisor => "use branches:CODE[,CODE…] or bank",
        Role::Consultant => "use centers:ID[,ID…] or bank",
        Role::Auditor | Role::Administrator => "use bank (this role sees no one branch's data)",
    }
}

fn scope_fits(role: Role, scope: &Scope) -> bool {
    matches!(
        (role, scope),
        (_, Scope::Bank)
            | (Role::Operator | Role::Supervisor, Scope::Branches(_))
            | (Role::Consultant, Scope::LoanCenters(_))
    )
}

/// A new (or reset) account and its one-time password, to be shown once.
pub struct Issued {
    pub id: Uuid,
    pub username: String,
    pub one_time_password: Zeroizing<String>,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Checks the three inputs of a new account.
pub fn parse_account(
    username: &str,
    role: &str,
    scope: &str,
) -> Result<(Username, Role, Scope), AccountError> {
    let username = Username::parse(username).map_err(AccountError::Username)?;
    let role = Role::parse(role.trim()).map_err(|_| AccountError::Role)?;
    let scope = Scope::parse(scope).map_err(AccountError::Scope)?;
    if !scope_fits(role, &scope) {
        return Err(AccountError::ScopeForRole(role));
    }
    Ok((username, role, scope))
}

/// Adds a member of staff with a one-time password.
pub async fn add(
    store: &Store,
    username: &str,
    role: &str,
    scope: &str,
) -> Result<Issued, AccountError> {
    let (username, role, scope) = parse_account(username, role, scope)?;
    let one_time_password = one_time_password()?;
    let hash = hash_blocking(one_time_password.clone())
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))?;
    let id = Uuid::now_v7();
    let scope = scope.to_string();
    let inserted = store
        .insert_staff(&NewStaff {
            id,
            username: username.as_str(),
            role: role.as_str(),
            scope: &scope,
            password_hash: &hash,
            at: OffsetDateTime::now_utc(),
        })
        .await;
    match inserted {
        Ok(()) => Ok(Issued {
            id,
            username: username.to_string(),
            one_time_password,
        }),
        Err(e) if e.is_unique_violation() => Err(AccountError::Taken(username.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// The member of staff called `username`.
pub async fn find(store: &Store, username: &str) -> Result<StaffRow, AccountError> {
    let name = Username::parse(username).map_err(AccountError::Username)?;
    store
        .staff_by_username(name.as_str())
        .await?
        .ok_or_else(|| AccountError::NotFound(name.to_string()))
}

/// Disables a member of staff: their sessions stop working at once. Returns whether it
/// changed anything (`false`: disabled already).
pub async fn disable(store: &Store, id: Uuid) -> Result<bool, AccountError> {
    Ok(store.disable_staff(id, OffsetDateTime::now_utc()).await?)
}

/// Gives a member of staff a new one-time password, clears their TOTP enrolment and ends
/// their sessions.
pub async fn reset(store: &Store, row: &StaffRow) -> Result<Issued, AccountError> {
    let one_time_password = one_time_password()?;
    let hash = hash_blocking(one_time_password.clone())
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))?;
    if !store
        .reset_staff(row.id, &hash, OffsetDateTime::now_utc())
        .await?
    {
        return Err(AccountError::NotFound(row.username.clone()));
    }
    Ok(Issued {
        id: row.id,
        username: row.username.clone(),
        one_time_password,
    })
}

/// Every member of staff, by username.
pub async fn list(store: &Store) -> Result<Vec<StaffRow>, AccountError> {
    Ok(store.list_staff().await?)
}

/// An account's state in a word: `disabled`, `held` (by detection, until a reset), `locked`,
/// `new` (one-time password not yet changed or no second factor), or `active`.
pub fn state_of(row: &StaffRow, now: OffsetDateTime) -> &'static str {
    if row.disabled_at.is_some() {
        "disabled"
    } else if row.held_at.is_some() {
        "held"
    } else if row.locked_until.is_some_and(|t| t > now) {
        "locked"
    } else if row.must_change_password || row.totp_enrolled_at.is_none() {
        "new"
    } else {
        "active"
    }
}

/// Records a change made from the command line in the audit log (actor `cli:staff`).
pub async fn audit_cli(store: &Store, action: &str, staff_id: Uuid) -> Result<(), AccountError> {
    store
        .insert_audit_event(&AuditEventRow {
            id: Uuid::now_v7(),
            at: OffsetDateTime::now_utc(),
            actor: "cli:staff".to_owned(),
            actor_address: None,
            session: None,
            action: action.to_owned(),
            subject_kind: Some("staff".to_owned()),
            subject_id: Some(staff_id.to_string()),
            fields: fields_of(action).join(","),
            purpose: None,
            detail: None,
            outcome: "ok".to_owned(),
        })
        .await?;
    Ok(())
}

/// The fields each change writes (names only).
pub(crate) fn fields_of(action: &str) -> &'static [&'static str] {
    match action {
        "staff.add" => &["username", "role", "scope", "password_hash"],
        "staff.disable" => &["disabled_at"],
        "staff.reset" => &["password_hash", "totp_secret"],
        _ => &[],
    }
}

/// 16 characters from 31 that cannot be mistaken for each other (no 0/o, 1/l/i), in groups
/// of four: about 79 bits, so it needs no strength check of its own.
fn one_time_password() -> Result<Zeroizing<String>, AccountError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = Zeroizing::new(String::with_capacity(19));
    let mut taken = 0;
    while taken < 16 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..])
            .map_err(|e| AccountError::Internal(format!("no randomness: {e}")))?;
        for &b in bytes.iter() {
            // 248 = 8 × 31: a byte at or above it would favour the first letters.
            if b >= 248 || taken == 16 {
                continue;
            }
            if taken > 0 && taken % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            taken += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_long_random_and_unambiguous() {
        let a = one_time_password().unwrap();
        let b = one_time_password().unwrap();
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 19);
        assert!(
            a.chars()
                .all(|c| c == '-' || "abcdefghjkmnpqrstuvwxyz23456789".contains(c))
        );
        assert_eq!(a.matches('-').count(), 3);
    }

    #[test]
    fn roles_take_scopes_that_fit_them() {
        assert!(parse_account("tanaka", "operator", "branches:001").is_ok());
        assert!(parse_account("tanaka", "consultant", "centers:shinjuku").is_ok());
        assert!(parse_account("tanaka", "administrator", "bank").is_ok());
        assert!(matches!(
            parse_account("tanaka", "administrator", "branches:001"),
            Err(AccountError::ScopeForRole(Role::Administrator))
        ));
        assert!(matches!(
            parse_account("tanaka", "consultant", "branches:001"),
            Err(AccountError::ScopeForRole(Role::Consultant))
        ));
        assert!(matches!(
            parse_account("tanaka", "boss", "bank"),
            Err(AccountError::Role)
        ));
        assert!(matches!(
            parse_account("x", "operator", "bank"),
            Err(AccountError::Username(_))
        ));
        let e = parse_account("tanaka", "operator", "branches:1").unwrap_err();
        assert!(e.to_string().starts_with("--scope"), "{e}");
    }
}
