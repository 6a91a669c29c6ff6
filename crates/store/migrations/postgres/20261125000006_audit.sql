-- The interim audit log (SPEC §7; the audit issue adds the hash chain and checkpoints).
-- One row per event: who did what to which record, the exact field names read or changed,
-- the purpose given and the outcome. Never a value of a personal field.
CREATE TABLE audit_events (
    seq           BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    id            UUID NOT NULL UNIQUE,
    at            TIMESTAMPTZ NOT NULL,
    actor         TEXT NOT NULL,      -- staff:<uuid>, system:<job>, cli:<command>
    actor_address TEXT,               -- the client address, when there is one
    session       TEXT,               -- a short, non-secret id of the staff session
    action        TEXT NOT NULL,      -- e.g. application.reveal, staff.add, purge.run
    subject_kind  TEXT,               -- application | booking | document | staff | batch | ...
    subject_id    TEXT,
    fields        TEXT NOT NULL,      -- the field names read or changed, comma-separated
    purpose       TEXT,
    detail        TEXT,               -- counts or codes (e.g. purge counts), never content
    outcome       TEXT NOT NULL       -- ok | denied | failed
);
CREATE INDEX audit_events_subject ON audit_events (subject_kind, subject_id);
CREATE INDEX audit_events_actor ON audit_events (actor, at);
