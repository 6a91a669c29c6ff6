-- A worker marks the messages it claims with a token of its own, so that it can remove the
-- delivered ones in one statement without touching a message another worker re-claimed.
ALTER TABLE outbox ADD COLUMN claim_token BLOB;
