-- Least-privilege roles for PostgreSQL (SPEC §9, issue 7), applied by `madoguchi migrate
-- --create-roles` as the tables' owner, and again by every `migrate` once the roles exist
-- (so a new table gets its grants in the same step as its migration). Idempotent.
--
--   madoguchi_public  the public site: writes drafts, applications and bookings; reads the
--                     slot availability, its own drafts and e-mail checks, and an application's
--                     status by receipt number and e-mail blind index. It may NOT read any
--                     personal table (application_personal, application_secrets, notes,
--                     booking_personal, staff, audit, …): grants are per column where a table
--                     mixes operational and personal columns.
--   madoguchi_office  the back office, the outbox worker, the audit checkpoints and (unless
--                     `serve --external-retention`) the retention purge: reads and changes
--                     records, but may only INSERT into the audit log and its checkpoints (no
--                     UPDATE, DELETE or TRUNCATE: grants, and the append-only triggers besides).
--   madoguchi_retention  the retention job (`madoguchi purge`, from a timer): finds what is
--                     due by operational columns (ids, status, dates) and DELETEs personal rows
--                     and data keys — it can delete personal data but never read it: no SELECT
--                     on any personal column. Appends its `purge.run` event to the audit log.
--   madoguchi_audit   the audit verifier (`madoguchi audit verify|checkpoint`, from a timer):
--                     reads the audit log and appends checkpoints (insert only); nothing else.
--
-- Every role that writes the audit log may only INSERT into it.
--
-- Neither role owns anything or may create objects. Give them passwords (`\password
-- madoguchi_public`) or certificates; the roles are created without one.

-- The four roles, each created if missing (two `migrate` runs at once may race: the loser's
-- duplicate is ignored).
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['madoguchi_public', 'madoguchi_office', 'madoguchi_retention',
                             'madoguchi_audit'] LOOP
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
                EXECUTE format('CREATE ROLE %I LOGIN', r);
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END LOOP;
END $$;

-- Nothing for everyone: personal tables are not readable by any other role of the server.
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
        EXECUTE format('REVOKE ALL ON %I FROM PUBLIC, madoguchi_public, madoguchi_office, '
                       'madoguchi_retention, madoguchi_audit', t.tablename);
    END LOOP;
END $$;

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO madoguchi_public, madoguchi_office, '
                   'madoguchi_retention, madoguchi_audit', current_schema());
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, madoguchi_public, madoguchi_office, '
                   'madoguchi_retention, madoguchi_audit', current_schema());
END $$;

-- Both check at start that the schema is current (they never migrate).
GRANT SELECT ON _sqlx_migrations TO madoguchi_public, madoguchi_office, madoguchi_retention,
    madoguchi_audit;

-- The public site ------------------------------------------------------------------------
GRANT SELECT (service, suspended_at, notice, actor) ON service_suspensions TO madoguchi_public;
GRANT SELECT, INSERT, DELETE ON email_checks TO madoguchi_public;
-- The shared limits (code e-mails per recipient): counters of blind indexes, nothing personal.
GRANT SELECT, INSERT, UPDATE ON limit_counters TO madoguchi_public;
GRANT UPDATE (tries_left) ON email_checks TO madoguchi_public;
GRANT SELECT, INSERT, DELETE ON drafts TO madoguchi_public;
GRANT UPDATE (body, updated_at) ON drafts TO madoguchi_public;
GRANT SELECT, INSERT, DELETE ON documents TO madoguchi_public;
GRANT UPDATE (application_id) ON documents TO madoguchi_public;
GRANT SELECT (record_id), INSERT, DELETE ON data_keys TO madoguchi_public;
GRANT SELECT (receipt_number, email_index, product, status, updated_at) ON applications TO madoguchi_public;
GRANT INSERT (id, receipt_number, product, status, branch_code, email_index, email_index_key,
               submitted_at, updated_at)
    ON applications TO madoguchi_public;
GRANT INSERT ON application_personal, application_secrets, booking_personal TO madoguchi_public;
GRANT SELECT (reminder_for), INSERT, DELETE ON outbox TO madoguchi_public;
GRANT SELECT (id, center_id, starts_at, ends_at, consultation, status, contact_sealed, created_at,
              manage_id, request_id, email_index)
    ON bookings TO madoguchi_public;
GRANT INSERT (id, center_id, starts_at, ends_at, consultation, status, manage_id, request_id,
              email_index, email_index_key, contact_sealed, created_at, updated_at)
    ON bookings TO madoguchi_public;
GRANT UPDATE (starts_at, ends_at, updated_at, status, cancelled_at) ON bookings TO madoguchi_public;
GRANT SELECT (email_index, touched_at), INSERT, UPDATE (touched_at) ON booking_holders TO madoguchi_public;
GRANT SELECT (center_id, starts_at, capacity, booked, blocked),
      INSERT (center_id, starts_at, capacity, booked),
      UPDATE (booked, capacity)
    ON reservation_slots TO madoguchi_public;

-- The back office, the worker and the jobs ------------------------------------------------
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema()
             AND tablename NOT IN ('audit_events', 'audit_checkpoints', 'canaries', '_sqlx_migrations')
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO madoguchi_office', t.tablename);
    END LOOP;
END $$;
GRANT SELECT, INSERT ON audit_events, audit_checkpoints TO madoguchi_office;
-- Canaries are planted by the owner (`demo canaries`); the office only asks whether a record is one.
GRANT SELECT ON canaries TO madoguchi_office;

-- The retention job -------------------------------------------------------------------------
-- Only the columns that say what is due (ids, links, status, dates); DELETE of personal rows,
-- data keys, expired checks and drafts; the blanking of a purged row's index and tokens.
GRANT SELECT (session_id, expires_at), DELETE ON email_checks TO madoguchi_retention;
GRANT SELECT (window_start), DELETE ON limit_counters TO madoguchi_retention;
GRANT SELECT (session_id, application_id, expires_at), DELETE ON drafts TO madoguchi_retention;
GRANT SELECT (id, draft_id, application_id, created_at), DELETE ON documents TO madoguchi_retention;
GRANT SELECT (record_id), DELETE ON data_keys TO madoguchi_retention;
GRANT SELECT (id, receipt_number, status, updated_at), UPDATE (email_index)
    ON applications TO madoguchi_retention;
GRANT SELECT (application_id), DELETE ON application_personal, application_secrets TO madoguchi_retention;
GRANT SELECT (id, application_id), DELETE ON application_notes TO madoguchi_retention;
GRANT SELECT (id, status, starts_at, cancelled_at, purged_at, email_index),
      UPDATE (manage_id, email_index, contact_sealed, purged_at)
    ON bookings TO madoguchi_retention;
GRANT SELECT (booking_id), DELETE ON booking_personal TO madoguchi_retention;
GRANT SELECT (reminder_for), DELETE ON outbox TO madoguchi_retention;
GRANT SELECT (email_index), DELETE ON booking_holders TO madoguchi_retention;
GRANT SELECT, INSERT, UPDATE ON job_runs TO madoguchi_retention;
GRANT SELECT, INSERT ON audit_events TO madoguchi_retention;

-- The audit verifier --------------------------------------------------------------------------
GRANT SELECT ON audit_events TO madoguchi_audit;
GRANT SELECT, INSERT ON audit_checkpoints TO madoguchi_audit;
GRANT SELECT, INSERT, UPDATE ON job_runs TO madoguchi_audit;
