-- Hand-off to core banking (SPEC §5), PostgreSQL dialect. Keep in step with ../sqlite/.

-- One row per batch written to <data-dir>/handoff/: nothing personal (the batch is ciphertext
-- sealed to the core-banking key; its SHA-256 is the one its signed manifest names).
CREATE TABLE handoff_batches (
    id          UUID PRIMARY KEY NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    count       BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    core_key_id TEXT NOT NULL,
    created_by  TEXT NOT NULL          -- staff:<uuid> or cli:handoff-export
);
CREATE INDEX handoff_batches_created ON handoff_batches (created_at);

-- Which batch carried an application, and what core banking answered.
CREATE TABLE handoff_items (
    application_id UUID PRIMARY KEY NOT NULL REFERENCES applications (id),
    batch_id       UUID NOT NULL REFERENCES handoff_batches (id),
    outcome        TEXT,               -- NULL until the answer: opened | refused
    answered_at    TIMESTAMPTZ
);
CREATE INDEX handoff_items_batch ON handoff_items (batch_id);
-- Retention finds ended and completed applications by status and age.
CREATE INDEX applications_status_updated ON applications (status, updated_at);
