-- Identity documents (SPEC §6 class "document"). The files live in the documents folder,
-- each encrypted with its own data key; the key, wrapped to the back office's public key, is
-- the row of `data_keys` whose record_id is the document's id (deleting it shreds the file).
-- Nothing here is personal: which upload it is, its type and size, and whose it is.
CREATE TABLE documents (
    id             BLOB PRIMARY KEY NOT NULL,
    -- The application id of the draft it was uploaded in (drafts.application_id).
    draft_id       BLOB NOT NULL,
    -- NULL until the application is submitted; then the same id, linked in the submission's
    -- transaction. An application with documents cannot be deleted before its documents.
    application_id BLOB REFERENCES applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('front', 'back', 'selfie')),
    content_type   TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes     INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    -- One document of each kind per draft: a new upload replaces the previous one.
    UNIQUE (draft_id, kind)
);
CREATE INDEX documents_unsubmitted ON documents (draft_id) WHERE application_id IS NULL;
CREATE INDEX documents_application ON documents (application_id);
-- Finding a document's draft (is it still live?) without scanning the drafts.
CREATE INDEX drafts_application ON drafts (application_id);
