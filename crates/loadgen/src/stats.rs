//! Latency percentiles, and where the CPU went during a phase (Linux `/proc`).

use std::time::Duration;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Nearest-rank percentiles of `samples`; zeros when there are none.
    pub fn of(samples: &mut [Duration]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            let index = rank.clamp(1, samples.len()) - 1;
            ms(samples[index])
        };
        Latency {
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: ms(samples[samples.len() - 1]),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "p50_ms": round2(self.p50),
            "p90_ms": round2(self.p90),
            "p99_ms": round2(self.p99),
            "max_ms": round2(self.max),
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// CPU counters at one instant, in clock ticks: the whole machine's, this process's and,
/// if given, the server's.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    cores: usize,
    total: u64,
    idle: u64,
    iowait: u64,
    me: u64,
    server: Option<u64>,
}

/// How many of the machine's cores each party kept busy between two samples.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    pub cores: usize,
    pub busy: f64,
    pub iowait: f64,
    pub load_generator: f64,
    pub server: Option<f64>,
}

impl CpuSample {
    /// `None` where `/proc` cannot be read (not Linux).
    pub fn now(server_pid: Option<u32>) -> Option<CpuSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let mut lines = stat.lines();
        let all: Vec<u64> = lines
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let cores = lines.filter(|l| l.starts_with("cpu")).count();
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let total = all.iter().take(8).sum();
        Some(CpuSample {
            cores,
            total,
            idle: *all.get(3)?,
            iowait: *all.get(4)?,
            me: process_ticks("self")?,
            server: server_pid.and_then(|pid| process_ticks(&pid.to_string())),
        })
    }

    pub fn since(self, earlier: CpuSample) -> CpuUse {
        let span = self.total.saturating_sub(earlier.total).max(1) as f64;
        let cores = self.cores as f64;
        let share = |now: u64, then: u64| now.saturating_sub(then) as f64 / span * cores;
        CpuUse {
            cores: self.cores,
            busy: share(
                self.total - self.idle - self.iowait,
                earlier.total - earlier.idle - earlier.iowait,
            ),
            iowait: share(self.iowait, earlier.iowait),
            load_generator: share(self.me, earlier.me),
            server: match (self.server, earlier.server) {
                (Some(now), Some(then)) => Some(share(now, then)),
                _ => None,
            },
        }
    }
}

impl CpuUse {
    pub fn describe(&self) -> String {
        let server = self
            .server
            .map(|s| format!("server {s:.2}, "))
            .unwrap_or_default();
        format!(
            "CPU (cores busy): {server}load generator {:.2}, whole machine {:.2} of {}; iowait {:.2}",
            self.load_generator, self.busy, self.cores, self.iowait
        )
    }

    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "cores": self.cores,
            "machine_busy_cores": round2(self.busy),
            "iowait_cores": round2(self.iowait),
            "load_generator_cores": round2(self.load_generator),
            "server_cores": self.server.map(round2),
        })
    }
}

/// utime + stime of a process, from `/proc/<pid>/stat` (fields 14 and 15; the command name
/// in field 2 may hold spaces, so count from its closing parenthesis).
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(&mut samples);
        assert_eq!((l.p50, l.p90, l.p99, l.max), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(Latency::of(&mut []), Latency::default());
    }

    #[test]
    fn reads_this_process() {
        if let Some(sample) = CpuSample::now(Some(std::process::id())) {
            assert!(sample.cores >= 1);
            assert!(sample.server.is_some());
        }
    }
}
