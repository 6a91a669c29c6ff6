-- How each affected customer was told (`madoguchi incident notify`), for the report item
-- 本人対応状況: the customer as `incident scope` names them (never a personal value), the channel,
-- the outcome, when and by whom.
CREATE TABLE incident_notifications (
    id       UUID PRIMARY KEY NOT NULL,
    customer TEXT NOT NULL,        -- customer:<blind-index prefix> | application:<id> | booking:<id>
    channel  TEXT NOT NULL,        -- e-mail | post | phone
    outcome  TEXT NOT NULL,        -- sent | reached | returned
    at       TIMESTAMPTZ NOT NULL,
    actor    TEXT NOT NULL
);
CREATE INDEX incident_notifications_customer ON incident_notifications (customer, at);
