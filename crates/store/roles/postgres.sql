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
--   madoguchi_office  the back office, the outbox worker, the retention purge and the audit
--                     checkpoints: reads and changes records, but may only INSERT into the
--                     audit log and its checkpoints (no UPDATE, DELETE or TRUNCATE: grants,
--                     and the append-only triggers besides).
--
-- Neither role owns anything or may create objects. Give them passwords (`\password
-- madoguchi_public`) or certificates; the roles are created without one.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'madoguchi_public') THEN
        CREATE ROLE madoguchi_public LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'madoguchi_office') THEN
        CREATE ROLE madoguchi_office LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- Nothing for everyone: personal tables are not readable by any other role of the server.
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
        EXECUTE format('REVOKE ALL ON %I FROM PUBLIC, madoguchi_public, madoguchi_office', t.tablename);
    END LOOP;
END $$;

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO madoguchi_public, madoguchi_office', current_schema());
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, madoguchi_public, madoguchi_office', current_schema());
END $$;

-- Both check at start that the schema is current (they never migrate).
GRANT SELECT ON _sqlx_migrations TO madoguchi_public, madoguchi_office;

-- The public site ------------------------------------------------------------------------
GRANT SELECT (service, suspended_at, notice, actor) ON service_suspensions TO madoguchi_public;
GRANT SELECT, INSERT, DELETE ON email_checks TO madoguchi_public;
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
              manage_id, email_index)
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
