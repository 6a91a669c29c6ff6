//! Checks of how the deployment is run day to day: staff accounts and the scheduled jobs.
//! `doctor` reports them; `serve` does not refuse to start on them (a new deployment has
//! staff still to sign in for the first time, and jobs that never ran).

use madoguchi_store::StaffRow;
use time::{Duration, OffsetDateTime};

use super::finding::{Check, Outcome, Severity};

pub const STAFF_SECOND_FACTOR: Check = Check {
    id: "MDG-STAFF-01",
    severity: Severity::High,
    title: "Staff accounts without a second factor",
    risk: "An account protected by a password alone falls to one phishing e-mail.",
    fix: "Have the member of staff sign in and register the authenticator, or `madoguchi staff disable NAME`.",
    reference: "ASVS 4.0.3 V2.7, V2.8; FISC 安全対策基準 技52",
};

pub const STAFF_ONE_TIME_PASSWORD: Check = Check {
    id: "MDG-STAFF-02",
    severity: Severity::High,
    title: "One-time passwords never changed",
    risk: "A password sent to a new member of staff (and perhaps still in an e-mail) still opens the account.",
    fix: "`madoguchi staff reset NAME` and hand the new one-time password over in person, or disable the account.",
    reference: "ASVS 4.0.3 V2.3.1",
};

pub const STAFF_INACTIVE: Check = Check {
    id: "MDG-STAFF-03",
    severity: Severity::Medium,
    title: "Staff accounts unused for 90 days",
    risk: "Forgotten accounts of people who left or moved are the ones nobody notices being used.",
    fix: "`madoguchi staff disable NAME` for each; re-enable by a reset when needed.",
    reference: "ASVS 4.0.3 V2.1; CIS Controls v8 5.3",
};

pub const RETENTION: Check = Check {
    id: "MDG-OPS-01",
    severity: Severity::High,
    title: "The retention purge has not run in the last day",
    risk: "Personal data, PINs of ended applications and identity documents outlive their period.",
    fix: "Keep a `madoguchi serve` (office or all, without --external-retention) running: it purges every minute; or run `madoguchi purge` from a timer (deploy/systemd/madoguchi-retention.timer, role madoguchi_retention).",
    reference: "APPI Art. 22; ASVS 4.0.3 V8.3.8",
};

pub const AUDIT_TAMPERED: Check = Check {
    id: "MDG-AUDIT-01",
    severity: Severity::High,
    title: "The last audit verification found the log tampered with",
    risk: "Someone changed or removed audit events: an intrusion may be under way.",
    fix: "Run `madoguchi audit verify` to name the events; start the incident procedure (`incident scope`).",
    reference: "ASVS 4.0.3 V7.3.4",
};

pub const AUDIT_VERIFIED: Check = Check {
    id: "MDG-AUDIT-02",
    severity: Severity::Medium,
    title: "The audit chain has not been verified in the last day",
    risk: "A rewritten log goes unnoticed until it is needed.",
    fix: "Run `madoguchi audit verify` daily from a timer (systemd or cron), with the sink at hand.",
    reference: "ASVS 4.0.3 V7.3.4",
};

/// The jobs' last runs, as the store reports them.
pub struct Jobs {
    pub retention: Option<(OffsetDateTime, String)>,
    pub audit_verify: Option<(OffsetDateTime, String)>,
}

const GRACE: Duration = Duration::days(1);
const INACTIVE: Duration = Duration::days(90);

/// Staff and job checks at `now`.
pub fn run(staff: &[StaffRow], jobs: &Jobs, now: OffsetDateTime) -> Vec<Outcome> {
    let enabled: Vec<&StaffRow> = staff.iter().filter(|s| s.disabled_at.is_none()).collect();
    let older = |s: &&&StaffRow| now - s.created_at > GRACE;
    let names = |rows: Vec<&&StaffRow>| -> Vec<String> {
        rows.into_iter().map(|s| s.username.clone()).collect()
    };
    let no_second_factor = names(
        enabled
            .iter()
            .filter(|s| s.totp_enrolled_at.is_none())
            .filter(older)
            .collect(),
    );
    let one_time = names(
        enabled
            .iter()
            .filter(|s| s.must_change_password)
            .filter(older)
            .collect(),
    );
    let inactive = names(
        enabled
            .iter()
            .filter(|s| now - s.last_sign_in_at.unwrap_or(s.created_at) > INACTIVE)
            .collect(),
    );
    let retention = match &jobs.retention {
        Some((at, _)) if now - *at <= GRACE => Vec::new(),
        Some((at, _)) => vec![format!("last pass {}", at.date())],
        None => vec!["never ran".to_owned()],
    };
    let (tampered, verified) = match &jobs.audit_verify {
        Some((at, outcome)) => (
            if outcome == "tampered" {
                vec![format!("`audit verify` on {} found changes", at.date())]
            } else {
                Vec::new()
            },
            if now - *at <= GRACE {
                Vec::new()
            } else {
                vec![format!("last verification {}", at.date())]
            },
        ),
        None => (Vec::new(), vec!["never verified".to_owned()]),
    };
    vec![
        Outcome::from_findings(STAFF_SECOND_FACTOR, no_second_factor),
        Outcome::from_findings(STAFF_ONE_TIME_PASSWORD, one_time),
        Outcome::from_findings(STAFF_INACTIVE, inactive),
        Outcome::from_findings(RETENTION, retention),
        Outcome::from_findings(AUDIT_TAMPERED, tampered),
        Outcome::from_findings(AUDIT_VERIFIED, verified),
    ]
}
