-- The audit log becomes a hash chain (SPEC §7): each event's `hash` commits to the event
-- before it (`madoguchi_audit::link`). Rows written before are chained at the next start
-- (`Store::chain_audit_backlog`), in order, once. The sequence number is now given by the
-- appender, under the log's advisory lock, so that it is the chain's order.
ALTER TABLE audit_events ADD COLUMN hash BYTEA;
-- The client address as 16 bytes (IPv4 mapped into IPv6), so that `incident scope --ip CIDR`
-- is one range read of an index. Derived from `actor_address`, which the hash covers.
ALTER TABLE audit_events ADD COLUMN actor_ip BYTEA;
CREATE INDEX audit_events_ip ON audit_events (actor_ip, at);
CREATE INDEX audit_events_session ON audit_events (session, at);
ALTER TABLE audit_events ALTER COLUMN seq DROP IDENTITY;

-- Signed checkpoints of the chain: its size and head, as a C2SP signed note.
CREATE TABLE audit_checkpoints (
    size       BIGINT PRIMARY KEY NOT NULL,
    head       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Append-only, whatever the role: no UPDATE (but the one that chains a row written before
-- the chain), no DELETE, no TRUNCATE. The least-privilege roles (issue 7) also get no
-- UPDATE, DELETE or TRUNCATE privilege on these tables.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_events' AND OLD.hash IS NULL
       AND NEW.hash IS NOT NULL
       AND (NEW.seq, NEW.id, NEW.at, NEW.actor, NEW.actor_address, NEW.session, NEW.action,
            NEW.subject_kind, NEW.subject_id, NEW.fields, NEW.purpose, NEW.detail, NEW.outcome)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.id, OLD.at, OLD.actor, OLD.actor_address, OLD.session, OLD.action,
            OLD.subject_kind, OLD.subject_id, OLD.fields, OLD.purpose, OLD.detail, OLD.outcome)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% on %)', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
