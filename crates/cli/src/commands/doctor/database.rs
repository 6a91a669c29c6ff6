//! Checks of the database connection as this process will use it (PostgreSQL; SQLite is a
//! file, covered by the host's checks).

use madoguchi_store::DatabasePosture;

use super::Deployment;
use super::finding::{Check, Outcome, Severity};

pub const PG_TLS: Check = Check {
    id: "MDG-PG-01",
    severity: Severity::High,
    title: "The database connection is not encrypted off loopback",
    risk: "Sealed records, blind indexes and staff sessions cross the network in clear; a man in the middle can change them.",
    fix: "Add sslmode=verify-full (and sslrootcert=…) to --database-url; enable ssl on the server.",
    reference: "ASVS 4.0.3 V9.2.2; CIS PostgreSQL 16 Benchmark 6.7",
};

pub const PG_PRIVILEGED: Check = Check {
    id: "MDG-PG-02",
    severity: Severity::High,
    title: "The application's database role is a superuser or owns the tables",
    risk: "A SQL injection or a stolen credential can read everything, drop the audit triggers and rewrite the log.",
    fix: "Run `madoguchi migrate --create-roles` as the owner and serve with the madoguchi_public / madoguchi_office roles.",
    reference: "ASVS 4.0.3 V1.4.3; CIS PostgreSQL 16 Benchmark 4.2, 4.3",
};

pub const PG_PUBLIC_GRANTS: Check = Check {
    id: "MDG-PG-03",
    severity: Severity::High,
    title: "Every database role (PUBLIC) may read personal tables",
    risk: "Any account on the database server — a report tool, a monitoring agent — reads customers' data.",
    fix: "REVOKE ALL ON <table> FROM PUBLIC (migrate --create-roles does it).",
    reference: "ASVS 4.0.3 V4.1.3; CIS PostgreSQL 16 Benchmark 4.7",
};

pub const PG_PUBLIC_ROLE: Check = Check {
    id: "MDG-PG-04",
    severity: Severity::High,
    title: "The public process's role can read personal tables",
    risk: "A flaw in the public site becomes a leak of every application: the 2021 incident.",
    fix: "Serve the public listener (--listener public) with the madoguchi_public role from `migrate --create-roles`.",
    reference: "ASVS 4.0.3 V1.4.3, V4.1.3; SPEC §9",
};

pub const PG_AUDIT: Check = Check {
    id: "MDG-PG-05",
    severity: Severity::High,
    title: "The application's role may change or delete audit events",
    risk: "Whoever takes over the application can erase their tracks (the chain still shows it, too late).",
    fix: "Grant only INSERT and SELECT on audit_events (migrate --create-roles).",
    reference: "ASVS 4.0.3 V7.3.3, V7.3.4",
};

pub const PG_PGAUDIT: Check = Check {
    id: "MDG-PG-06",
    severity: Severity::Medium,
    title: "pgaudit logs statement parameters",
    risk: "Blind indexes, sealed values and tokens land in the database server's logs.",
    fix: "ALTER SYSTEM SET pgaudit.log_parameter = off; SELECT pg_reload_conf();",
    reference: "ASVS 4.0.3 V7.1.1",
};

pub const PG_SCRAM: Check = Check {
    id: "MDG-PG-07",
    severity: Severity::High,
    title: "Database passwords are not hashed with SCRAM",
    risk: "MD5 password hashes are replayable and cheap to crack.",
    fix: "ALTER SYSTEM SET password_encryption = 'scram-sha-256'; reset the roles' passwords; use scram-sha-256 in pg_hba.conf.",
    reference: "CIS PostgreSQL 16 Benchmark 3.1.2; ASVS 4.0.3 V2.4.1",
};

/// The database checks; none on SQLite.
pub fn run(deployment: &Deployment, posture: Option<&DatabasePosture>) -> Vec<Outcome> {
    let Some(p) = posture else {
        return Vec::new();
    };
    let mut privileged = Vec::new();
    if p.superuser {
        privileged.push(format!("role {} is a superuser", p.role));
    }
    if !p.owned_tables.is_empty() {
        privileged.push(format!(
            "role {} owns {} tables (e.g. {})",
            p.role,
            p.owned_tables.len(),
            p.owned_tables[0]
        ));
    }
    let tls = if p.ssl || !remote(deployment.database_url.as_deref()) {
        Vec::new()
    } else {
        vec!["the connection to a remote server is not encrypted".to_owned()]
    };
    let public_role = if deployment.serves_office() {
        // The back office reads personal tables by design; this check is the public process's.
        Vec::new()
    } else {
        p.role_can_select
            .iter()
            .map(|t| format!("role {} may SELECT {t}", p.role))
            .collect()
    };
    let pgaudit = match p.pgaudit_log_parameter.as_deref() {
        Some(v) if v.eq_ignore_ascii_case("on") => vec!["pgaudit.log_parameter = on".to_owned()],
        _ => Vec::new(),
    };
    let scram = if p.password_encryption == "scram-sha-256" {
        Vec::new()
    } else {
        vec![format!("password_encryption = {}", p.password_encryption)]
    };
    vec![
        Outcome::from_findings(PG_TLS, tls),
        Outcome::from_findings(PG_PRIVILEGED, privileged),
        Outcome::from_findings(
            PG_PUBLIC_GRANTS,
            p.public_can_select
                .iter()
                .map(|t| format!("PUBLIC may SELECT {t}"))
                .collect(),
        ),
        Outcome::from_findings(PG_PUBLIC_ROLE, public_role),
        Outcome::from_findings(
            PG_AUDIT,
            p.audit_rewrite
                .iter()
                .map(|privilege| format!("role {} has {privilege} on audit_events", p.role))
                .collect(),
        ),
        Outcome::from_findings(PG_PGAUDIT, pgaudit),
        Outcome::from_findings(PG_SCRAM, scram),
    ]
}

/// Whether the URL's host is another machine (not loopback, not a Unix socket).
fn remote(url: Option<&str>) -> bool {
    let Some(url) = url else {
        return false;
    };
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() || host == "localhost" || host.starts_with('/') {
        return false;
    }
    host.parse::<std::net::IpAddr>()
        .map_or(true, |ip| !ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::remote;

    #[test]
    fn remote_hosts_are_told_from_local_ones() {
        assert!(!remote(Some("postgres://u@127.0.0.1:5432/db")));
        assert!(!remote(Some("postgres://u:p@localhost/db")));
        assert!(!remote(Some("postgres://u@[::1]:5432/db")));
        assert!(!remote(Some("postgres:///db?host=/run/postgresql")));
        assert!(remote(Some("postgres://u:p@db.internal:5432/db")));
        assert!(remote(Some("postgres://u@10.0.0.5/db?sslmode=disable")));
    }
}
