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
    title: "A back-office route answers without a session and is not on the allowlist",
    risk: "The guest-user mistake: a page that serves data to anyone who asks.",
    fix: "Give the route a role in crates/office/src/routes.rs, or add it to doctor's allowlist after review.",
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

/// The back-office routes that may answer without a session: the sign-in form, its styles and
/// the passkey script. Anything else unauthenticated is a finding.
pub const UNAUTHENTICATED_ALLOWED: &[(&str, &str)] = &[
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/static/office.css"),
    ("GET", "/static/passkey.js"),
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
    let findings = madoguchi_office::unauthenticated_routes()
        .into_iter()
        .filter(|(method, path)| {
            !UNAUTHENTICATED_ALLOWED
                .iter()
                .any(|(m, p)| *m == method.as_str() && p == path)
        })
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    Outcome::from_findings(ROUTES, findings)
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
