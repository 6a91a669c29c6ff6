-- Review of applications in the back office (SPEC §5), SQLite dialect. Keep in step with ../postgres/.

-- Four eyes: who marked the application reviewed. A decision (approve, reject) needs it set
-- and made by someone else; the decision's UPDATE checks it, not only the handler.
ALTER TABLE applications ADD COLUMN reviewed_by BLOB;   -- staff id
ALTER TABLE applications ADD COLUMN reviewed_at TEXT;

-- The queue pages newest first by (submitted_at, id) (keyset paging): one index for the whole
-- bank, one per branch scope, one per status filter.
CREATE INDEX applications_recent ON applications (submitted_at, id);
CREATE INDEX applications_branch_recent ON applications (branch_code, submitted_at, id);
CREATE INDEX applications_status_recent ON applications (status, submitted_at, id);

-- Every status change and review mark: operational values only.
CREATE TABLE application_history (
    id             BLOB PRIMARY KEY NOT NULL,
    application_id BLOB NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,     -- staff:<uuid>
    action         TEXT NOT NULL,     -- status | reviewed
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL
);
CREATE INDEX application_history_application ON application_history (application_id, at);

-- Staff notes are personal data (SPEC §6): each is encrypted with its own data key, kept in
-- data_keys with record_id = the note's id (deleting that row shreds the note).
CREATE TABLE application_notes (
    id             BLOB PRIMARY KEY NOT NULL,
    application_id BLOB NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    author         TEXT NOT NULL,     -- staff:<uuid>
    created_at     TEXT NOT NULL,
    body           BLOB NOT NULL      -- encrypted fields (one field, `note`)
);
CREATE INDEX application_notes_application ON application_notes (application_id, created_at);
