-- madoguchi schema, PostgreSQL dialect. Keep in step with ../sqlite/.
-- Classes of data (SPEC §6): columns named *_sealed / *_fields / wrapped hold ciphertext only;
-- everything else is operational (status, product, branch, timestamps).

-- An e-mail check in progress, bound to one browser session (session_id = hash of the cookie secret).
CREATE TABLE email_checks (
    session_id   BYTEA PRIMARY KEY NOT NULL,
    product      TEXT NOT NULL,
    email_index  BYTEA NOT NULL,          -- keyed blind index (HMAC) of the normalized address
    email_sealed BYTEA NOT NULL,          -- the address, encrypted with the browser-held draft key
    code_mac     BYTEA NOT NULL,          -- HMAC of the 6-digit code; never the code
    tries_left   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX email_checks_expires ON email_checks (expires_at);

-- An unfinished application, readable only with the key in the applicant's cookie.
CREATE TABLE drafts (
    session_id     BYTEA PRIMARY KEY NOT NULL,
    product        TEXT NOT NULL,
    application_id UUID NOT NULL,
    body           BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX drafts_expires ON drafts (expires_at);

CREATE TABLE applications (
    id             UUID PRIMARY KEY NOT NULL,
    receipt_number TEXT NOT NULL UNIQUE,
    product        TEXT NOT NULL,
    status         TEXT NOT NULL,
    branch_code    TEXT NOT NULL,
    email_index    BYTEA NOT NULL,
    submitted_at   TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX applications_email_index ON applications (email_index);
CREATE INDEX applications_queue ON applications (product, status, branch_code, submitted_at);

-- Personal fields, each encrypted with the record's data key.
CREATE TABLE application_personal (
    application_id UUID PRIMARY KEY NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    fields         BYTEA NOT NULL
);

-- Per-record data keys, wrapped to the back office's public key. Deleting a row shreds the record.
CREATE TABLE data_keys (
    record_id  UUID PRIMARY KEY NOT NULL,
    key_id     TEXT NOT NULL,
    wrapped    BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- PINs and passwords, sealed to the core-banking public key. No madoguchi process can open them.
CREATE TABLE application_secrets (
    application_id UUID NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    sealed         BYTEA NOT NULL,
    PRIMARY KEY (application_id, kind)
);

-- Transactional outbox: messages sealed to the mail worker's key, deleted once delivered.
CREATE TABLE outbox (
    id              UUID PRIMARY KEY NOT NULL,
    key_id          TEXT NOT NULL,
    sealed          BYTEA NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
