//! A PostgreSQL cluster of the test's own, for tests that restart the database: `initdb` into
//! a temporary folder, `pg_ctl start` on a free loopback port (trust authentication, socket in
//! the folder). The shared server on 5432 is never touched. As root (CI), the cluster runs as
//! the `postgres` user (`runuser`), since PostgreSQL refuses to run as root. With CI=true a
//! missing PostgreSQL server package fails the test; elsewhere the test is skipped, saying so.

use std::path::PathBuf;

use tokio::process::Command;

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The newest `/usr/lib/postgresql/*/bin` with `initdb` (or `MADOGUCHI_TEST_PG_BIN`).
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MADOGUCHI_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

impl PgCluster {
    /// Creates and starts the cluster; `None` only outside CI when PostgreSQL's server
    /// programs are not installed.
    pub async fn start() -> Option<PgCluster> {
        let Some(bin) = bin_dir() else {
            assert!(
                !super::in_ci(),
                "initdb is required when CI=true (Debian package postgresql): none under /usr/lib/postgresql"
            );
            eprintln!("SKIPPED: no initdb under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let as_postgres = is_root();
        if as_postgres {
            let chown = Command::new("chown")
                .args(["postgres:", dir.path().to_str().expect("path")])
                .status()
                .await
                .expect("chown");
            assert!(chown.success(), "chown postgres: the cluster's folder");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let cluster = PgCluster {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = cluster.data();
        cluster
            .run(
                "initdb",
                &[
                    "-D",
                    &data,
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
            .await;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=60",
            cluster.dir.path().display()
        );
        let log = cluster.dir.path().join("server.log");
        cluster
            .run(
                "pg_ctl",
                &[
                    "-D",
                    &data,
                    "-l",
                    log.to_str().expect("path"),
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            )
            .await;
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart -m MODE` (`fast`: every session is disconnected, a checkpoint is
    /// written; `immediate`: the server is killed and recovers from its WAL), waiting until it
    /// accepts connections again.
    pub async fn restart(&self, mode: &str) {
        let data = self.data();
        // With the log file again: without it the server would write to (and hold open)
        // pg_ctl's output.
        let log = self.dir.path().join("server.log");
        let log = log.to_str().expect("path");
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", log, "-m", mode, "-w", "-t", "60", "restart",
            ],
        )
        .await;
    }

    /// The server's log (for a failed test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    async fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = match self.as_postgres {
            true => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&path);
                c
            }
            false => Command::new(&path),
        };
        // pg_ctl's server inherits the standard streams: give it none, so that the test's
        // output is not held open.
        let out = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

/// Stops the server (immediately: the folder goes with it).
impl Drop for PgCluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = match self.as_postgres {
            true => std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&pg_ctl)
                .args(args)
                .output(),
            false => std::process::Command::new(&pg_ctl).args(args).output(),
        };
    }
}
