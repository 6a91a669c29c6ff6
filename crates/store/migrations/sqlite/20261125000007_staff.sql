-- Bank staff of the back office (SPEC §2, §5) and their sign-in sessions.
-- A password is kept only as an Argon2id PHC string (its parameters inside). The TOTP seed is
-- field `totp_secret` of record <staff id>, encrypted under a data key in `data_keys` wrapped
-- to the back office's public key: a database dump alone gives no second factor.
CREATE TABLE staff (
    id                   BLOB PRIMARY KEY NOT NULL,
    username             TEXT NOT NULL UNIQUE,
    role                 TEXT NOT NULL,          -- operator | supervisor | consultant | auditor | administrator
    scope                TEXT NOT NULL,          -- bank | branches:001,002 | centers:shinjuku
    password_hash        TEXT NOT NULL,          -- Argon2id PHC string
    must_change_password INTEGER NOT NULL,       -- 1 after `staff add` / `staff reset`
    totp_secret          BLOB,                   -- ciphertext; NULL until enrolment starts
    totp_enrolled_at     TEXT,                   -- NULL until a first code confirmed it
    totp_last_step       INTEGER,                -- the last time step used: never accepted again
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    disabled_at          TEXT,
    created_at           TEXT NOT NULL,
    last_sign_in_at      TEXT,
    password_changed_at  TEXT
);

-- One row per sign-in. The id is the SHA-256 of the cookie's random token, never the token.
CREATE TABLE staff_sessions (
    id               BLOB PRIMARY KEY NOT NULL,
    staff_id         BLOB NOT NULL REFERENCES staff (id),
    stage            TEXT NOT NULL,              -- second-factor | enroll-totp | change-password | active
    created_at       TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    authenticated_at TEXT NOT NULL,              -- last password (+ second factor) typed
    ended_at         TEXT
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
