-- The integration API: keys, the responses kept for retried requests, and the install's
-- own secrets.

-- API keys act inside their workspace with their role. Only a SHA-256 of the secret is
-- kept (it is 238 random bits, so a fast hash is enough); `prefix` is its first
-- characters, shown in the list so people can tell keys apart.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('editor', 'viewer')),
    prefix       TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, id);

-- The first response to a POST with an `Idempotency-Key`, replayed to its retries for
-- 24 hours. `status` is null while the first request is still running.
CREATE TABLE idempotent_requests (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    api_key_id      INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    idempotency_key TEXT    NOT NULL,
    -- SHA-256 of the method, path and body of the first request (null while it runs).
    fingerprint     BLOB,
    status          INTEGER,
    -- The response's headers that matter to a client, as JSON [[name, value], ...].
    headers         TEXT,
    body            BLOB,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX idempotent_requests_by_age ON idempotent_requests (created_at);

-- Secrets of the install, made at first use and shared by every server (e.g. the key
-- that signs list cursors).
CREATE TABLE install_secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);
