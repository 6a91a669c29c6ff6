-- The audit log becomes a hash chain (SPEC §7): each event's `hash` commits to the event
-- before it (`madoguchi_audit::link`). Rows written before are chained at the next start
-- (`Store::chain_audit_backlog`), in order, once.
ALTER TABLE audit_events ADD COLUMN hash BLOB;
-- The client address as 16 bytes (IPv4 mapped into IPv6), so that `incident scope --ip CIDR`
-- is one range read of an index. Derived from `actor_address`, which the hash covers.
ALTER TABLE audit_events ADD COLUMN actor_ip BLOB;
CREATE INDEX audit_events_ip ON audit_events (actor_ip, at);
CREATE INDEX audit_events_session ON audit_events (session, at);

-- Signed checkpoints of the chain: its size and head, as a C2SP signed note.
CREATE TABLE audit_checkpoints (
    size       INTEGER PRIMARY KEY NOT NULL,
    head       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Append-only: a row is never changed once chained, never deleted; nor is a checkpoint.
-- (Whoever holds the file can drop these triggers; `audit verify` still names the change.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN OLD.hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
