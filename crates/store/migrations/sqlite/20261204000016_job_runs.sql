-- When each scheduled job last ran, for `madoguchi doctor` (SPEC §8): the retention purge
-- (every pass, whether or not it deleted anything) and `audit verify` (intact or tampered).
CREATE TABLE job_runs (
    job         TEXT PRIMARY KEY NOT NULL,   -- retention | audit-verify
    last_run_at TEXT NOT NULL,
    outcome     TEXT NOT NULL                -- ok | failed | intact | tampered
);
