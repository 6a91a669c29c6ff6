-- Visit reservations (SPEC §4.2), SQLite dialect. Keep in step with ../postgres/.

-- The capacity guarantee: one row per slot that has ever been booked, counting its bookings.
-- A booking increments `booked` with an upsert whose WHERE refuses to pass the capacity, and
-- the CHECK makes any other path that would overbook fail.
CREATE TABLE reservation_slots (
    center_id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    capacity  INTEGER NOT NULL,
    booked    INTEGER NOT NULL,
    PRIMARY KEY (center_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
);

CREATE TABLE bookings (
    id             BLOB PRIMARY KEY NOT NULL,
    center_id      TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    consultation   TEXT NOT NULL,
    status         TEXT NOT NULL,     -- booked | cancelled | visited | no_show
    manage_id      BLOB UNIQUE,       -- SHA-256 of the change/cancel token (never the token); NULL once purged
    request_id     BLOB NOT NULL UNIQUE, -- hash of the booking form's one-time nonce: a double submit is refused
    email_index    BLOB,              -- keyed blind index of the e-mail address; NULL once purged
    contact_sealed BLOB,              -- name and address for e-mails, encrypted with a key derived from the token; NULL once purged
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    cancelled_at   TEXT,
    purged_at      TEXT
);
CREATE INDEX bookings_center ON bookings (center_id, starts_at);
CREATE INDEX bookings_email ON bookings (email_index, status, starts_at);

-- A booking's personal fields, each encrypted with its data key (in data_keys, record_id = booking id).
CREATE TABLE booking_personal (
    booking_id BLOB PRIMARY KEY NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    fields     BLOB NOT NULL
);

-- One row per e-mail address (blind index) that books: a booking locks its row first, so the
-- per-address limit of future bookings holds under concurrency.
CREATE TABLE booking_holders (
    email_index BLOB PRIMARY KEY NOT NULL,
    touched_at  TEXT NOT NULL
);

-- A reminder is queued with the booking, due the day before the visit; this column lets a
-- change or a cancellation withdraw it in the same transaction.
ALTER TABLE outbox ADD COLUMN reminder_for BLOB;
CREATE INDEX outbox_reminder_for ON outbox (reminder_for);
