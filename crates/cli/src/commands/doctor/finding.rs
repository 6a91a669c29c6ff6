//! What `doctor` reports, in the style of a cloud posture scanner (Prowler): each check has an
//! id, a severity, what is at risk, how to fix it and the standard it comes from; a check
//! passes or fails with findings. The score is the share of checks passed, weighted by
//! severity.

use serde::Serialize;

/// How bad a failed check is. `serve` refuses to start on a high one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// A check's weight in the score.
    fn weight(self) -> u32 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 3,
            Severity::High => 10,
        }
    }
}

/// A check as documented: the same for every deployment.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What is at risk when it fails.
    pub risk: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// ASVS 4.0.3 / CIS reference.
    pub reference: &'static str,
}

/// A check run against this deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub check: Check,
    pub passed: bool,
    /// What was found (names, paths, counts; never a secret), one line each.
    pub findings: Vec<String>,
}

impl Outcome {
    pub fn pass(check: Check) -> Outcome {
        Outcome {
            check,
            passed: true,
            findings: Vec::new(),
        }
    }

    /// Passes when `findings` is empty.
    pub fn from_findings(check: Check, findings: Vec<String>) -> Outcome {
        Outcome {
            check,
            passed: findings.is_empty(),
            findings,
        }
    }
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub score: u32,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub checks: Vec<Outcome>,
}

impl Report {
    pub fn new(checks: Vec<Outcome>) -> Report {
        let total: u32 = checks.iter().map(|c| c.check.severity.weight()).sum();
        let passed: u32 = checks
            .iter()
            .filter(|c| c.passed)
            .map(|c| c.check.severity.weight())
            .sum();
        let score = (passed * 100).checked_div(total).unwrap_or(100);
        let failed = |s: Severity| {
            checks
                .iter()
                .filter(|c| !c.passed && c.check.severity == s)
                .count()
        };
        Report {
            score,
            high: failed(Severity::High),
            medium: failed(Severity::Medium),
            low: failed(Severity::Low),
            checks,
        }
    }

    /// The checks that failed, worst first.
    pub fn failed(&self) -> Vec<&Outcome> {
        let mut failed: Vec<&Outcome> = self.checks.iter().filter(|c| !c.passed).collect();
        failed.sort_by_key(|c| std::cmp::Reverse(c.check.severity));
        failed
    }

    /// As text: the failed checks with their fix, then the count of passed ones and the score.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for outcome in self.failed() {
            let c = &outcome.check;
            out.push_str(&format!(
                "FAIL {:<6} {}  {}\n",
                c.severity.as_str().to_uppercase(),
                c.id,
                c.title
            ));
            for finding in &outcome.findings {
                out.push_str(&format!("       - {finding}\n"));
            }
            out.push_str(&format!("       risk: {}\n", c.risk));
            out.push_str(&format!("       fix:  {}\n", c.fix));
            out.push_str(&format!("       ref:  {}\n", c.reference));
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        out.push_str(&format!(
            "{passed} of {} checks passed; failed: {} high, {} medium, {} low. Score {}/100.\n",
            self.checks.len(),
            self.high,
            self.medium,
            self.low,
            self.score
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIGH: Check = Check {
        id: "T-1",
        severity: Severity::High,
        title: "t",
        risk: "r",
        fix: "f",
        reference: "x",
    };
    const LOW: Check = Check {
        severity: Severity::Low,
        id: "T-2",
        ..HIGH
    };

    #[test]
    fn the_score_weighs_failed_checks_by_severity() {
        let all = Report::new(vec![Outcome::pass(HIGH), Outcome::pass(LOW)]);
        assert_eq!((all.score, all.high, all.low), (100, 0, 0));
        let low_failed = Report::new(vec![
            Outcome::pass(HIGH),
            Outcome::from_findings(LOW, vec!["x".to_owned()]),
        ]);
        assert_eq!((low_failed.score, low_failed.low), (90, 1));
        let high_failed = Report::new(vec![
            Outcome::from_findings(HIGH, vec!["x".to_owned()]),
            Outcome::pass(LOW),
        ]);
        assert_eq!((high_failed.score, high_failed.high), (9, 1));
        assert!(high_failed.to_text().starts_with("FAIL HIGH   T-1"));
    }
}
