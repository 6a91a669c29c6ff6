-- A key rotation's rewrap and `keys retire` find data keys by the back-office key they are
-- wrapped to.
CREATE INDEX data_keys_key_id ON data_keys (key_id);
