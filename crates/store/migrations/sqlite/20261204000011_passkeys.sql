-- Staff passkeys (WebAuthn), the second factor besides TOTP (SPEC §5).
-- A passkey row is public material: the credential id and public key (webauthn-rs's `Passkey`
-- as JSON, with its signature counter) let the back office check a signature, never make one.
CREATE TABLE staff_passkeys (
    id            BLOB PRIMARY KEY NOT NULL,
    staff_id      BLOB NOT NULL REFERENCES staff (id),
    credential_id BLOB NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX staff_passkeys_staff ON staff_passkeys (staff_id);

-- A WebAuthn ceremony in progress (its challenge), kept with the session that started it and
-- taken (read and cleared) by the answer: a challenge is answered once.
ALTER TABLE staff_sessions ADD COLUMN ceremony TEXT;
