-- Failed sign-ins per client address (`a:` and the address) and per account (`u:` and
-- the SHA-256 of its email), in the database so that every app server counts the same
-- attempts (they were in each server's memory: N servers gave a guesser N times the
-- attempts). A row older than the throttle's window counts for nothing and is purged
-- hourly.
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL PRIMARY KEY,
    count INTEGER NOT NULL,
    -- Unix time of the last failure, in milliseconds.
    last_at INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_last_at ON sign_in_failures (last_at);
