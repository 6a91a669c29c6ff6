//! Staff administration (SPEC §5 "Staff and settings"): the administrator's pages and the
//! account operations that `madoguchi staff` shares with them ([`accounts`]).
//!
//! Administrators see usernames, roles and scopes — account data, not customer data — and
//! nothing personal. Every change is audited before its result is shown.

pub mod accounts;
mod pages;

pub(crate) use pages::{create, disable, list, new_form, reset};
