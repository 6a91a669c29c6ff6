-- Blocking slots from the back office's reservations calendar, PostgreSQL dialect. Keep in
-- step with ../sqlite/.

-- A blocked slot takes no new booking: the booking's capacity upsert refuses it in the same
-- statement (`AND NOT blocked`), so a block and a concurrent booking queue on the slot row's
-- lock and no booking slips in after the block committed. Bookings already made stay.
ALTER TABLE reservation_slots ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT FALSE;
