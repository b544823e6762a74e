-- Workspaces own all data; users belong to exactly one workspace.
CREATE TABLE workspaces (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    default_country TEXT    NOT NULL CHECK (length(default_country) = 2),
    created_at      INTEGER NOT NULL DEFAULT (unixepoch())
);

-- Email is the sign-in name, so it is unique across the install (stored lower-case).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at    INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX users_by_workspace ON users (workspace_id, email);

-- Only a SHA-256 of the session token is stored: a copy of the database signs nobody in.
CREATE TABLE sessions (
    token_hash   BLOB    PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
