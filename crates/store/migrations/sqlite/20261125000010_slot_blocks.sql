-- Blocking slots from the back office's reservations calendar, SQLite dialect. Keep in step
-- with ../postgres/.

-- A blocked slot takes no new booking: the booking's capacity upsert refuses it in the same
-- statement (`AND NOT blocked`); the single writer serializes a block and a booking. Bookings
-- already made stay.
ALTER TABLE reservation_slots ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1));
