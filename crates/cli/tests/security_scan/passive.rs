//! The passive checks of a scanner (ZAP baseline rules, anchors §5) on one answer: framing,
//! nosniff, HSTS, CSP, caching, version banners, error details, cookie flags.

use reqwest::header::HeaderMap;

use super::findings::Findings;

pub const FRAMING: &str = "framing refused (ZAP 10020)";
pub const NOSNIFF: &str = "nosniff (ZAP 10021)";
pub const HSTS: &str = "HSTS (ZAP 10035)";
pub const CSP: &str = "strict CSP (ZAP 10038)";
pub const NO_STORE: &str = "no-store (ZAP 10015)";
pub const BANNER: &str = "no version banner (ZAP 10036/10037)";
pub const ERRORS: &str = "no stack trace or SQL (ZAP 90022)";
pub const COOKIES: &str = "cookie flags (ZAP 10010/10011/10054)";

/// One answer as the scanner saw it.
pub struct Seen {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub async fn of(response: reqwest::Response) -> Seen {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Seen {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_default()
    }

    fn cookies(&self) -> Vec<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

/// What gives away the server's insides in a body (lower case).
const ERROR_MARKERS: &[&str] = &[
    "panicked at",
    "stack backtrace",
    "rust_backtrace",
    "sqlx",
    "sqlstate",
    "syntax error",
    "no such table",
    "no such column",
    "constraint failed",
    "duplicate key value",
    "database error",
    "select * from",
    "insert into",
    "delete from",
    "src/",
    ".rs:",
    "traceback",
];

/// Records every passive check of `seen` on `route` (its path `path`). `secure_cookies`: the
/// server runs with production cookies, which must then be `Secure` and `__Host-`.
pub fn check(findings: &mut Findings, route: &str, path: &str, seen: &Seen, secure_cookies: bool) {
    let at = |what: String| format!("{} {path}: {what}", seen.status);
    let csp = seen.header("content-security-policy").unwrap_or_default();
    let frame_ancestors =
        csp.contains("frame-ancestors 'none'") || csp.contains("frame-ancestors 'self'");
    let xfo = seen
        .header("x-frame-options")
        .is_some_and(|v| v.eq_ignore_ascii_case("deny") || v.eq_ignore_ascii_case("sameorigin"));
    findings.record(
        route,
        FRAMING,
        ok(xfo || frame_ancestors, || {
            at("neither X-Frame-Options nor frame-ancestors".into())
        }),
    );
    findings.record(
        route,
        NOSNIFF,
        ok(
            seen.header("x-content-type-options") == Some("nosniff"),
            || at("no X-Content-Type-Options: nosniff".into()),
        ),
    );
    let hsts = seen.header("strict-transport-security").unwrap_or_default();
    let max_age = hsts
        .split(';')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    findings.record(
        route,
        HSTS,
        ok(max_age >= 31_536_000, || {
            at(format!("Strict-Transport-Security {hsts:?}"))
        }),
    );
    let strict_csp = csp.contains("default-src 'none'")
        && !csp.contains("unsafe-inline")
        && !csp.contains("unsafe-eval")
        && !csp
            .split(';')
            .any(|d| d.split_whitespace().skip(1).any(|s| s == "*"));
    findings.record(route, CSP, ok(strict_csp, || at(format!("CSP {csp:?}"))));
    let cache = seen.header("cache-control").unwrap_or_default();
    let asset = path.starts_with("/static/");
    let cached_ok = if asset {
        seen.cookies().is_empty()
    } else {
        cache.split(',').any(|d| d.trim() == "no-store")
    };
    findings.record(
        route,
        NO_STORE,
        ok(cached_ok, || {
            at(format!("Cache-Control {cache:?} (asset: {asset})"))
        }),
    );
    let banners: Vec<&str> = ["server", "x-powered-by", "x-aspnet-version", "x-runtime"]
        .into_iter()
        .filter(|h| seen.headers.contains_key(*h))
        .collect();
    findings.record(
        route,
        BANNER,
        ok(banners.is_empty(), || at(format!("{banners:?}"))),
    );
    let body = seen.body.to_lowercase();
    let leaks: Vec<&str> = if asset {
        Vec::new()
    } else {
        ERROR_MARKERS
            .iter()
            .copied()
            .filter(|m| body.contains(m))
            .collect()
    };
    findings.record(
        route,
        ERRORS,
        ok(leaks.is_empty(), || at(format!("body shows {leaks:?}"))),
    );
    for cookie in seen.cookies() {
        findings.record(
            route,
            COOKIES,
            cookie_flags(cookie, secure_cookies).map_err(at),
        );
    }
}

/// HttpOnly and SameSite always; Secure and the `__Host-` prefix (no Domain, Path=/) in
/// production.
fn cookie_flags(cookie: &str, secure: bool) -> Result<(), String> {
    let attributes: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    let has = |a: &str| attributes.iter().any(|x| x == a);
    let same_site = has("samesite=strict") || has("samesite=lax");
    let name = cookie.split('=').next().unwrap_or_default();
    let host_only = name.starts_with("__Host-")
        && has("path=/")
        && !attributes.iter().any(|a| a.starts_with("domain="));
    let good = has("httponly") && same_site && (!secure || (has("secure") && host_only));
    ok(good, || format!("cookie {name}: {}", attributes.join("; ")))
}

fn ok(pass: bool, failure: impl FnOnce() -> String) -> Result<(), String> {
    if pass { Ok(()) } else { Err(failure()) }
}
