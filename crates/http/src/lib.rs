//! HTTP plumbing shared by the public site and the back office: security headers, cookies,
//! request limits.
//!
//! Invariants: this crate holds no handler and no route, knows no key and no stored data.
//! The public router (`madoguchi-public`) and the back-office router (`madoguchi-office`)
//! share only what is here.

mod client;
mod cookies;
mod headers;
mod limits;

pub use client::{ConnectionPeer, client_address};
pub use cookies::{
    CookiePolicy, read_cookie, remove_cookie, remove_strict_cookie, set_cookie, set_strict_cookie,
};
pub use headers::security_headers;
pub use limits::{HEADER_READ_TIMEOUT, MAX_FORM_BODY_BYTES, REQUEST_TIMEOUT, Timeouts, body_limit};
