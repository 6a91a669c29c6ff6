-- Stopped public services (`madoguchi incident suspend`): every instance polls this table and
-- answers the service's pages and API with a notice (503) while its row is here.
CREATE TABLE service_suspensions (
    service      TEXT PRIMARY KEY NOT NULL,   -- web-application | visit-reservation
    suspended_at TEXT NOT NULL,
    notice       TEXT,                        -- the bank's notice, plain text
    actor        TEXT NOT NULL
);
