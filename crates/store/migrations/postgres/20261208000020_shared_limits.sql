-- Limits shared by every instance (issue 16). A counter per (limit, key) over a fixed window,
-- claimed atomically *before* the work it limits (a password check, an e-mail), so that
-- parallel requests cannot all pass a check that counts only what is already done.
CREATE TABLE limit_counters (
    name         TEXT NOT NULL,        -- sign-in-address | code-mail-recipient | ...
    key          BYTEA NOT NULL,       -- an address key or a blind index, never clear text
    window_start TIMESTAMPTZ NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (name, key)
);

-- Lock-outs escalate: each one in a row without a complete sign-in doubles the next.
ALTER TABLE staff ADD COLUMN lockouts BIGINT NOT NULL DEFAULT 0;

-- Attempts claimed and not yet found right or wrong: the claim that would make failures and
-- attempts in flight exceed the allowance is refused, so a burst is checked no more often
-- than one attempt at a time would be.
ALTER TABLE staff ADD COLUMN sign_ins_in_flight BIGINT NOT NULL DEFAULT 0;
