-- Detection (SPEC §7). A member of staff whose activity broke a rule is held: every session
-- ends and sign-in is refused until an administrator resets the account (`staff reset`).
ALTER TABLE staff ADD COLUMN held_at TIMESTAMPTZ;
ALTER TABLE staff ADD COLUMN held_rule TEXT;   -- customers-read | off-hours-reveals | exported-rows | canary

-- Canary records: applications and bookings that look real and that no legitimate work
-- opens (`madoguchi demo canaries`). Reading one raises a critical alert at once. Kept apart
-- from the records so that nothing in a record's row tells it from a real one.
CREATE TABLE canaries (
    subject_kind TEXT NOT NULL,   -- application | booking
    subject_id   TEXT NOT NULL,
    planted_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);
