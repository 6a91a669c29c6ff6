//! Checks of the deployment's own settings (addresses, URLs, cookies, mail, logs, routes):
//! pure functions of [`Deployment`], so `serve` runs them before it binds anything.

use std::net::{IpAddr, SocketAddr};

use super::Deployment;
use super::finding::{Check, Outcome, Severity};

pub const OFFICE_ALLOWLIST: Check = Check {
    id: "MDG-NET-01",
    severity: Severity::High,
    title: "The back office is reachable off loopback without an address allowlist",
    risk: "Anyone who can reach the address can try staff passwords and, with one, read customers' data.",
    fix: "Bind --office-addr to 127.0.0.1 behind the proxy, or name the staff terminals with --office-allow.",
    reference: "ASVS 4.0.3 V1.4.4, V14.3; CIS Controls v8 4.4, 13.4",
};

pub const PLAIN_HTTP: Check = Check {
    id: "MDG-NET-02",
    severity: Severity::High,
    title: "A listener serves plain HTTP off loopback with no TLS-terminating proxy declared",
    risk: "Personal data, PINs, passwords and session cookies cross the network in clear.",
    fix: "Bind the listeners to 127.0.0.1 behind the TLS proxy (deploy/nginx), or declare the proxy's address with --tls-proxy.",
    reference: "ASVS 4.0.3 V9.1.1, V9.2.1; CIS Controls v8 3.10",
};

pub const PUBLIC_URL: Check = Check {
    id: "MDG-NET-03",
    severity: Severity::High,
    title: "The public site's address is not https://",
    risk: "Links in e-mails (booking change and cancel tokens) lead to a page served without TLS.",
    fix: "Set --public-url https://apply.bank.example.jp (env MADOGUCHI_PUBLIC_URL).",
    reference: "ASVS 4.0.3 V9.1.1",
};

pub const OFFICE_URL: Check = Check {
    id: "MDG-NET-04",
    severity: Severity::Medium,
    title: "The back office's address is not https://",
    risk: "Staff passkeys are bound to an origin without TLS; sessions could be observed.",
    fix: "Set --office-url https://office.bank.example.jp (env MADOGUCHI_OFFICE_URL).",
    reference: "ASVS 4.0.3 V9.1.1, V2.8",
};

pub const METRICS: Check = Check {
    id: "MDG-NET-05",
    severity: Severity::Medium,
    title: "Metrics are served off loopback",
    risk: "Operational figures (traffic, alerts, queue lengths) help an intruder time an attack.",
    fix: "Bind --metrics-addr to 127.0.0.1 and scrape through the host, or to an internal-only address.",
    reference: "ASVS 4.0.3 V14.3.2; CIS Controls v8 4.4",
};

pub const COOKIES: Check = Check {
    id: "MDG-WEB-01",
    severity: Severity::High,
    title: "Cookies are not Secure (development mode)",
    risk: "Session and form cookies can be sent over plain HTTP and read on the way.",
    fix: "Run without --demo; development mode is for loopback only.",
    reference: "ASVS 4.0.3 V3.4.1, V3.4.4",
};

pub const ROUTES: Check = Check {
    id: "MDG-WEB-02",
    severity: Severity::High,
    title: "A route answers without a session and is not on the allowlist",
    risk: "The guest-user mistake: a page that serves data to anyone who asks.",
    fix: "Give a back-office route a role in crates/office/src/routes.rs; add a public route to doctor's public allowlist only after review (it answers anyone on the internet).",
    reference: "ASVS 4.0.3 V4.1.3, V4.1.5",
};

pub const SMTP_TLS: Check = Check {
    id: "MDG-MAIL-01",
    severity: Severity::High,
    title: "E-mail goes to SMTP without TLS",
    risk: "Applicants' names, e-mail addresses and booking links cross the network in clear.",
    fix: "Use smtps:// or smtp://…?tls=required in --smtp-url.",
    reference: "ASVS 4.0.3 V9.2.1",
};

pub const LOGGING: Check = Check {
    id: "MDG-LOG-01",
    severity: Severity::High,
    title: "Debug or trace logging of requests is on",
    risk: "Request logging at debug/trace level can write form bodies (names, PINs) to the logs.",
    fix: "Set MADOGUCHI_LOG=info (or warn); never debug/trace for tower_http, hyper or axum in production.",
    reference: "ASVS 4.0.3 V7.1.1, V7.1.2",
};

pub const DOCUMENTS_TLS: Check = Check {
    id: "MDG-DOC-01",
    severity: Severity::High,
    title: "Identity documents go to S3-compatible storage over plain HTTP off this machine",
    risk: "The documents are encrypted before upload, but the storage credentials' signatures, the object names and the traffic's pattern cross the network in clear, and a forged answer can hide a failed write.",
    fix: "Use an https:// --s3-endpoint (env MADOGUCHI_S3_ENDPOINT), or a storage server on this machine's loopback address.",
    reference: "ASVS 4.0.3 V9.2.1, V12.5",
};

/// The back-office routes that may answer without a session: the sign-in form, its styles and
/// the passkey script. Anything else unauthenticated is a finding.
pub const UNAUTHENTICATED_ALLOWED: &[(&str, &str)] = &[
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/static/office.css"),
    ("GET", "/static/passkey.js"),
];

/// The public site's routes (all of them answer anyone on the internet), each reviewed: none
/// returns stored personal data. A draft or a running check is read only with the applicant's
/// own session cookie; a booking only with the token from its e-mail; a status only after a
/// fresh e-mail code. A route added to `crates/public/src/routes.rs` is a finding until it is
/// reviewed and named here.
#[rustfmt::skip]
pub const PUBLIC_ALLOWED: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/language"),
    ("GET", "/apply/savings-account"),
    ("POST", "/apply/savings-account/email"),
    ("GET", "/apply/savings-account/verify"),
    ("POST", "/apply/savings-account/verify"),
    ("POST", "/apply/savings-account/restart"),
    ("GET", "/apply/savings-account/identity"),
    ("POST", "/apply/savings-account/identity"),
    ("GET", "/apply/savings-account/{step}"),
    ("POST", "/apply/savings-account/{step}"),
    ("GET", "/apply/savings-account/confirm"),
    ("POST", "/apply/savings-account/submit"),
    ("GET", "/apply/internet-banking"),
    ("POST", "/apply/internet-banking/email"),
    ("GET", "/apply/internet-banking/verify"),
    ("POST", "/apply/internet-banking/verify"),
    ("POST", "/apply/internet-banking/restart"),
    ("GET", "/apply/internet-banking/confirm"),
    ("POST", "/apply/internet-banking/submit"),
    ("GET", "/apply/internet-banking/{step}"),
    ("POST", "/apply/internet-banking/{step}"),
    ("GET", "/apply/debit-card"),
    ("POST", "/apply/debit-card/email"),
    ("GET", "/apply/debit-card/verify"),
    ("POST", "/apply/debit-card/verify"),
    ("POST", "/apply/debit-card/restart"),
    ("GET", "/apply/debit-card/confirm"),
    ("POST", "/apply/debit-card/submit"),
    ("GET", "/apply/debit-card/{step}"),
    ("POST", "/apply/debit-card/{step}"),
    ("GET", "/reservations"),
    ("GET", "/reservations/manage"),
    ("GET", "/reservations/manage/change"),
    ("POST", "/reservations/manage/change"),
    ("POST", "/reservations/manage/cancel"),
    ("GET", "/reservations/manage/{token}"),
    ("GET", "/reservations/centers/{center}"),
    ("GET", "/reservations/centers/{center}/book"),
    ("POST", "/reservations/centers/{center}/book"),
    ("GET", "/status"),
    ("POST", "/status/start"),
    ("GET", "/status/verify"),
    ("POST", "/status/verify"),
    ("GET", "/static/style.css"),
    ("GET", "/healthz"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/email-checks"),
    ("POST", "/api/v1/email-checks/{check_id}/confirm"),
    ("POST", "/api/v1/applications/savings-account"),
    ("POST", "/api/v1/applications/internet-banking"),
    ("POST", "/api/v1/applications/debit-card"),
    ("POST", "/api/v1/status-checks"),
    ("POST", "/api/v1/status-checks/{check_id}/confirm"),
    ("GET", "/api/v1/loan-centers"),
    ("GET", "/api/v1/loan-centers/{center_id}/slots"),
    ("POST", "/api/v1/bookings"),
    ("POST", "/api/v1/bookings/lookup"),
    ("POST", "/api/v1/bookings/change"),
    ("POST", "/api/v1/bookings/cancel"),
];

/// Every configuration check.
pub fn run(deployment: &Deployment) -> Vec<Outcome> {
    vec![
        office_allowlist(deployment),
        plain_http(deployment),
        url_check(PUBLIC_URL, deployment, deployment.public_url.as_deref()),
        url_check(OFFICE_URL, deployment, deployment.office_url.as_deref()),
        metrics(deployment),
        cookies(deployment),
        routes(),
        smtp(deployment),
        logging(deployment),
        documents(deployment),
    ]
}

fn off_loopback(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

fn office_allowlist(d: &Deployment) -> Outcome {
    let mut findings = Vec::new();
    if d.serves_office() && off_loopback(&d.office_addr) && d.office_allow.is_empty() {
        findings.push(format!(
            "--office-addr {} is not loopback and --office-allow is empty",
            d.office_addr
        ));
    }
    if d.office_allow
        .iter()
        .any(|ip| ip.is_unspecified() || is_broad(ip))
    {
        findings.push("--office-allow names an unspecified or broadcast address".to_owned());
    }
    Outcome::from_findings(OFFICE_ALLOWLIST, findings)
}

fn is_broad(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_broadcast(),
        IpAddr::V6(_) => false,
    }
}

fn plain_http(d: &Deployment) -> Outcome {
    if !d.tls_proxies.is_empty() {
        return Outcome::pass(PLAIN_HTTP);
    }
    let mut findings = Vec::new();
    if d.serves_public() && off_loopback(&d.public_addr) {
        findings.push(format!("--public-addr {} serves plain HTTP", d.public_addr));
    }
    if d.serves_office() && off_loopback(&d.office_addr) {
        findings.push(format!("--office-addr {} serves plain HTTP", d.office_addr));
    }
    Outcome::from_findings(PLAIN_HTTP, findings)
}

fn url_check(check: Check, d: &Deployment, url: Option<&str>) -> Outcome {
    if d.demo {
        // Development mode on loopback: http://localhost is what it is.
        return Outcome::pass(check);
    }
    let findings = match url {
        Some(url) if url.starts_with("https://") => Vec::new(),
        Some(url) => vec![format!("{url} is not https://")],
        None => {
            vec!["not set: links and origins default to http:// and the bound address".to_owned()]
        }
    };
    Outcome::from_findings(check, findings)
}

fn metrics(d: &Deployment) -> Outcome {
    let findings = match d.metrics_addr {
        Some(addr) if off_loopback(&addr) => vec![format!("--metrics-addr {addr}")],
        _ => Vec::new(),
    };
    Outcome::from_findings(METRICS, findings)
}

fn cookies(d: &Deployment) -> Outcome {
    let findings = if d.demo {
        vec!["--demo: cookies without Secure and without the __Host- prefix".to_owned()]
    } else {
        Vec::new()
    };
    Outcome::from_findings(COOKIES, findings)
}

fn routes() -> Outcome {
    let public: Vec<(axum::http::Method, String)> = madoguchi_public::route_table()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let mut findings = unlisted(&madoguchi_office::unauthenticated_routes());
    findings.extend(unlisted_public(&public));
    Outcome::from_findings(ROUTES, findings)
}

/// The back-office routes without a session that the allowlist does not name.
fn unlisted(routes: &[(axum::http::Method, &str)]) -> Vec<String> {
    routes
        .iter()
        .filter(|(method, path)| !listed(UNAUTHENTICATED_ALLOWED, method, path))
        .map(|(method, path)| format!("{method} {path}"))
        .collect()
}

/// The public routes that the public allowlist does not name.
fn unlisted_public(routes: &[(axum::http::Method, String)]) -> Vec<String> {
    routes
        .iter()
        .filter(|(method, path)| !listed(PUBLIC_ALLOWED, method, path))
        .map(|(method, path)| format!("public site: {method} {path}"))
        .collect()
}

fn listed(allowlist: &[(&str, &str)], method: &axum::http::Method, path: &str) -> bool {
    allowlist
        .iter()
        .any(|(m, p)| *m == method.as_str() && *p == path)
}

fn smtp(d: &Deployment) -> Outcome {
    let Some(url) = d.smtp_url.as_deref() else {
        // The folder transport: nothing crosses the network.
        return Outcome::pass(SMTP_TLS);
    };
    let tls =
        url.starts_with("smtps://") || (url.starts_with("smtp://") && url.contains("tls=required"));
    let findings = if tls {
        Vec::new()
    } else {
        // The URL may hold a password: name only its scheme and host.
        let host = url
            .split_once("://")
            .map(|(_, rest)| rest.rsplit('@').next().unwrap_or(rest))
            .and_then(|rest| rest.split(['/', '?']).next())
            .unwrap_or("?");
        vec![format!("--smtp-url to {host} without TLS")]
    };
    Outcome::from_findings(SMTP_TLS, findings)
}

fn documents(d: &Deployment) -> Outcome {
    let s3 = d
        .documents
        .as_deref()
        .is_some_and(|u| u.starts_with("s3://"));
    let findings = match d.s3_endpoint.as_deref() {
        Some(endpoint) if s3 && endpoint.starts_with("http://") && !loopback_url(endpoint) => {
            vec![format!("--s3-endpoint {endpoint} is plain HTTP")]
        }
        _ => Vec::new(),
    };
    Outcome::from_findings(DOCUMENTS_TLS, findings)
}

/// Whether an `http://HOST[:PORT]/…` URL names this machine.
fn loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn logging(d: &Deployment) -> Outcome {
    let Some(filter) = d.log_filter.as_deref() else {
        return Outcome::pass(LOGGING);
    };
    let findings = filter
        .split(',')
        .map(str::trim)
        .filter(|directive| {
            let level = directive.rsplit('=').next().unwrap_or(directive);
            let target = directive.split_once('=').map(|(t, _)| t);
            let verbose = matches!(level, "trace" | "debug");
            let http = target.is_none_or(|t| {
                t.starts_with("tower_http") || t.starts_with("hyper") || t.starts_with("axum")
            });
            level == "trace" || (verbose && http)
        })
        .map(|directive| format!("MADOGUCHI_LOG has {directive}"))
        .collect();
    Outcome::from_findings(LOGGING, findings)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use axum::http::Method;

    use super::*;
    use crate::cli::Listener;

    fn deployment() -> Deployment {
        Deployment {
            demo: false,
            listener: Listener::All,
            public_addr: "127.0.0.1:8080".parse().expect("addr"),
            office_addr: "127.0.0.1:8081".parse().expect("addr"),
            office_allow: Vec::new(),
            tls_proxies: Vec::new(),
            public_url: Some("https://apply.bank.example.jp".to_owned()),
            office_url: Some("https://office.bank.example.jp".to_owned()),
            metrics_addr: None,
            smtp_url: None,
            data_dir: PathBuf::from("/var/lib/madoguchi"),
            config: None,
            database_url: None,
            log_filter: None,
            key_search: Vec::new(),
            pkcs11_module: None,
            pkcs11_token: "madoguchi".to_owned(),
            pkcs11_pin_file: None,
            documents: None,
            s3_endpoint: None,
        }
    }

    /// One setting changed from the production ones.
    type Change = Box<dyn Fn(&mut Deployment)>;

    fn failed(deployment: &Deployment) -> Vec<&'static str> {
        run(deployment)
            .into_iter()
            .filter(|o| !o.passed)
            .map(|o| o.check.id)
            .collect()
    }

    #[test]
    fn the_production_settings_pass() {
        assert_eq!(failed(&deployment()), Vec::<&str>::new());
    }

    #[test]
    fn each_setting_that_exposes_something_is_named() {
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|d| d.office_url = Some("http://office.bank.example.jp".into())),
                "MDG-NET-04",
            ),
            (
                Box::new(|d| d.metrics_addr = Some("0.0.0.0:9464".parse().expect("addr"))),
                "MDG-NET-05",
            ),
            (
                Box::new(|d| d.public_addr = "10.0.0.5:8080".parse().expect("addr")),
                "MDG-NET-02",
            ),
            (
                Box::new(|d| d.smtp_url = Some("smtp://user:secret@mail.internal:25".into())),
                "MDG-MAIL-01",
            ),
            (
                Box::new(|d| d.log_filter = Some("debug".into())),
                "MDG-LOG-01",
            ),
            (
                Box::new(|d| d.log_filter = Some("info,madoguchi=trace".into())),
                "MDG-LOG-01",
            ),
            (Box::new(|d| d.demo = true), "MDG-WEB-01"),
            (
                Box::new(|d| {
                    d.documents = Some("s3://documents/madoguchi".into());
                    d.s3_endpoint = Some("http://storage.bank.internal:9000".into());
                }),
                "MDG-DOC-01",
            ),
            (
                Box::new(|d| d.office_allow = vec!["0.0.0.0".parse().expect("ip")]),
                "MDG-NET-01",
            ),
        ];
        for (change, id) in cases {
            let mut d = deployment();
            change(&mut d);
            assert_eq!(failed(&d), vec![id]);
        }
    }

    #[test]
    fn a_declared_tls_proxy_or_quiet_logs_pass() {
        let mut d = deployment();
        d.public_addr = "10.0.0.5:8080".parse().expect("addr");
        d.tls_proxies = vec!["10.0.0.1".parse().expect("ip")];
        d.log_filter = Some("info,madoguchi=debug".into());
        d.smtp_url = Some("smtps://mail.internal".into());
        assert_eq!(failed(&d), Vec::<&str>::new());
    }

    #[test]
    fn documents_over_https_or_on_loopback_pass() {
        for endpoint in [
            "https://s3.ap-northeast-1.amazonaws.com",
            "http://127.0.0.1:9000",
            "http://localhost:9000/",
            "http://[::1]:9000",
        ] {
            let mut d = deployment();
            d.documents = Some("s3://documents".into());
            d.s3_endpoint = Some(endpoint.into());
            assert_eq!(failed(&d), Vec::<&str>::new(), "{endpoint}");
        }
        let mut d = deployment();
        d.s3_endpoint = Some("http://storage.bank.internal:9000".into());
        assert_eq!(
            failed(&d),
            Vec::<&str>::new(),
            "no bucket: nothing goes there"
        );
    }

    #[test]
    fn the_smtp_finding_names_the_host_never_the_password() {
        let mut d = deployment();
        d.smtp_url = Some("smtp://user:secret@mail.internal:25".into());
        let outcome = smtp(&d);
        assert_eq!(
            outcome.findings,
            vec!["--smtp-url to mail.internal:25 without TLS"]
        );
    }

    #[test]
    fn a_route_without_a_session_off_the_allowlist_is_named() {
        assert!(unlisted(&madoguchi_office::unauthenticated_routes()).is_empty());
        let mut routes = madoguchi_office::unauthenticated_routes();
        routes.push((Method::GET, "/applications/export-all"));
        assert_eq!(unlisted(&routes), vec!["GET /applications/export-all"]);
    }

    #[test]
    fn every_public_route_is_reviewed_and_an_added_one_is_named() {
        let mut routes: Vec<(Method, String)> = madoguchi_public::route_table()
            .into_iter()
            .map(|r| (r.method, r.path))
            .collect();
        assert!(unlisted_public(&routes).is_empty());
        assert_eq!(
            routes.len(),
            PUBLIC_ALLOWED.len(),
            "the public allowlist names a route the site no longer serves"
        );
        routes.push((Method::GET, "/api/v1/applications".to_owned()));
        assert_eq!(
            unlisted_public(&routes),
            vec!["public site: GET /api/v1/applications"]
        );
    }
}
