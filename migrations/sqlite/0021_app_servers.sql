-- The app servers running on this database, each with the last time it said it was
-- alive (every few seconds): a limit the install enforces per key, such as the API's
-- requests per second, is shared out among the servers alive.
CREATE TABLE app_servers (
    id TEXT NOT NULL PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
