//! The findings table: one row per route and check, passing when every observation of that
//! check on that route passed; printed as counts, and every failing row listed.

use std::collections::BTreeMap;

/// (route, check) → what failed (empty: passing).
#[derive(Default)]
pub struct Findings {
    rows: BTreeMap<(String, &'static str), Vec<String>>,
}

impl Findings {
    /// Records one observation of `check` on `route`.
    pub fn record(&mut self, route: &str, check: &'static str, outcome: Result<(), String>) {
        let failures = self.rows.entry((route.to_owned(), check)).or_default();
        if let Err(failure) = outcome {
            failures.push(failure);
        }
    }

    /// Whether `route` has a row for `check` (an observation was made).
    pub fn has(&self, route: &str, check: &'static str) -> bool {
        self.rows.contains_key(&(route.to_owned(), check))
    }

    fn routes(&self) -> usize {
        let mut routes: Vec<&str> = self.rows.keys().map(|(r, _)| r.as_str()).collect();
        routes.dedup();
        routes.len()
    }

    fn checks(&self) -> BTreeMap<&'static str, (usize, usize)> {
        let mut checks: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
        for ((_, check), failures) in &self.rows {
            let (passing, total) = checks.entry(check).or_default();
            *total += 1;
            *passing += usize::from(failures.is_empty());
        }
        checks
    }

    /// `N routes × M checks: K of T findings passing`, then one line per check.
    pub fn summary(&self, what: &str) -> String {
        let checks = self.checks();
        let total = self.rows.len();
        let passing = self.rows.values().filter(|f| f.is_empty()).count();
        let mut text = format!(
            "security scan ({what}): {} routes × {} checks: {passing} of {total} findings passing\n",
            self.routes(),
            checks.len()
        );
        for (check, (passing, total)) in checks {
            text.push_str(&format!("  {check:<40} {passing:>4} / {total:<4}\n"));
        }
        text
    }

    /// Prints the summary; fails listing every failing finding.
    pub fn assert_clean(&self, what: &str) {
        println!("{}", self.summary(what));
        let failing: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, failures)| !failures.is_empty())
            .map(|((route, check), failures)| {
                format!("FAIL {route} — {check}: {}", failures.join(" | "))
            })
            .collect();
        assert!(
            failing.is_empty(),
            "{}\n{} failing findings:\n{}",
            self.summary(what),
            failing.len(),
            failing.join("\n")
        );
    }
}
