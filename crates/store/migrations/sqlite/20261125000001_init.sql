-- madoguchi schema, SQLite dialect. Keep in step with ../postgres/.
-- Classes of data (SPEC §6): columns named *_sealed / *_fields / wrapped hold ciphertext only;
-- everything else is operational (status, product, branch, timestamps).

-- An e-mail check in progress, bound to one browser session (session_id = hash of the cookie secret).
CREATE TABLE email_checks (
    session_id   BLOB PRIMARY KEY NOT NULL,
    product      TEXT NOT NULL,
    email_index  BLOB NOT NULL,          -- keyed blind index (HMAC) of the normalized address
    email_sealed BLOB NOT NULL,          -- the address, encrypted with the browser-held draft key
    code_mac     BLOB NOT NULL,          -- HMAC of the 6-digit code; never the code
    tries_left   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX email_checks_expires ON email_checks (expires_at);

-- An unfinished application, readable only with the key in the applicant's cookie.
CREATE TABLE drafts (
    session_id     BLOB PRIMARY KEY NOT NULL,
    product        TEXT NOT NULL,
    application_id BLOB NOT NULL,
    body           BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX drafts_expires ON drafts (expires_at);

CREATE TABLE applications (
    id             BLOB PRIMARY KEY NOT NULL,
    receipt_number TEXT NOT NULL UNIQUE,
    product        TEXT NOT NULL,
    status         TEXT NOT NULL,
    branch_code    TEXT NOT NULL,
    email_index    BLOB NOT NULL,
    submitted_at   TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX applications_email_index ON applications (email_index);
CREATE INDEX applications_queue ON applications (product, status, branch_code, submitted_at);

-- Personal fields, each encrypted with the record's data key.
CREATE TABLE application_personal (
    application_id BLOB PRIMARY KEY NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    fields         BLOB NOT NULL
);

-- Per-record data keys, wrapped to the back office's public key. Deleting a row shreds the record.
CREATE TABLE data_keys (
    record_id  BLOB PRIMARY KEY NOT NULL,
    key_id     TEXT NOT NULL,
    wrapped    BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- PINs and passwords, sealed to the core-banking public key. No madoguchi process can open them.
CREATE TABLE application_secrets (
    application_id BLOB NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    sealed         BLOB NOT NULL,
    PRIMARY KEY (application_id, kind)
);

-- Transactional outbox: messages sealed to the mail worker's key, deleted once delivered.
CREATE TABLE outbox (
    id              BLOB PRIMARY KEY NOT NULL,
    key_id          TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
