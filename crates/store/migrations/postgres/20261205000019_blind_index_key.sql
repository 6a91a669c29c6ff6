-- Which blind-index key computed each stored e-mail index (its key id), so a rotation of that
-- key re-indexes exactly the rows still under the earlier key. NULL: written before ids were
-- kept, by the key that was current then.
ALTER TABLE applications ADD COLUMN email_index_key TEXT;
ALTER TABLE bookings ADD COLUMN email_index_key TEXT;
-- A status check started during a rotation looks its application up by both indexes.
ALTER TABLE email_checks ADD COLUMN email_index_previous BYTEA;
