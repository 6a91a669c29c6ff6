use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// How cookies are flagged. `secure` is off only in the loopback development mode, where the
/// site is served over plain HTTP.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    /// The cookie name, with the `__Host-` prefix whenever the cookie is Secure (the browser
    /// then refuses it from any other origin or path).
    pub fn name(&self, base: &'static str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }
}

/// Reads a cookie set with [`set_cookie`].
pub fn read_cookie(
    headers: &HeaderMap,
    policy: CookiePolicy,
    base: &'static str,
) -> Option<String> {
    let wanted = policy.name(base);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == wanted)
        .map(|c| c.value().to_owned())
}

/// Adds a session cookie: HttpOnly, SameSite=Lax (the e-mail link must work), path `/`,
/// Secure when the policy says so. It lasts `max_age_seconds` (so that a draft survives a
/// closed browser) or, without it, ends with the browser session.
pub fn set_cookie(
    headers: &mut HeaderMap,
    policy: CookiePolicy,
    base: &'static str,
    value: &str,
    max_age_seconds: Option<i64>,
) {
    let mut cookie = Cookie::build((policy.name(base), value.to_owned()))
        .http_only(true)
        .secure(policy.secure)
        .same_site(SameSite::Lax)
        .path("/")
        .build();
    if let Some(seconds) = max_age_seconds {
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    append(headers, &cookie);
}

/// Removes a cookie set with [`set_cookie`].
pub fn remove_cookie(headers: &mut HeaderMap, policy: CookiePolicy, base: &'static str) {
    let mut cookie = Cookie::build((policy.name(base), ""))
        .http_only(true)
        .secure(policy.secure)
        .same_site(SameSite::Lax)
        .path("/")
        .build();
    cookie.make_removal();
    append(headers, &cookie);
}

/// Adds a cookie that the browser sends only with requests started from this site itself:
/// HttpOnly, SameSite=Strict, path `/`, Secure when the policy says so, ending with the
/// browser session. For the back office's sign-in session, which no link from elsewhere needs.
pub fn set_strict_cookie(
    headers: &mut HeaderMap,
    policy: CookiePolicy,
    base: &'static str,
    value: &str,
) {
    let cookie = Cookie::build((policy.name(base), value.to_owned()))
        .http_only(true)
        .secure(policy.secure)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    append(headers, &cookie);
}

/// Removes a cookie set with [`set_strict_cookie`].
pub fn remove_strict_cookie(headers: &mut HeaderMap, policy: CookiePolicy, base: &'static str) {
    let mut cookie = Cookie::build((policy.name(base), ""))
        .http_only(true)
        .secure(policy.secure)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    cookie.make_removal();
    append(headers, &cookie);
}

fn append(headers: &mut HeaderMap, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}
