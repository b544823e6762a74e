-- Ids of contacts, groups and imports are never given out twice: integrations keep
-- them, and a deleted group's id handed to the next new group would send people to the
-- wrong group. Without AUTOINCREMENT, SQLite gives a new row the id after the largest
-- one *left*, so deleting the newest row let its id come back. A column cannot gain
-- AUTOINCREMENT in place, so each table is rebuilt by SQLite's own procedure (create,
-- copy, drop, rename), which relies on the migrations' connection having foreign keys
-- off (`Db::migrate`): dropping the old table then deletes no membership.

CREATE TABLE contacts_rebuilt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    first_name      TEXT    NOT NULL DEFAULT '',
    last_name       TEXT    NOT NULL DEFAULT '',
    sort_name       TEXT    NOT NULL DEFAULT '',
    mobile          TEXT,
    mobile_national TEXT,
    country         TEXT    NOT NULL CHECK (length(country) = 2),
    email           TEXT,
    external_id     TEXT,
    whatsapp        TEXT,
    viber           TEXT,
    line_id         TEXT,
    wechat_id       TEXT,
    messenger_id    TEXT,
    -- Custom attributes: a JSON array of [key, value] pairs, in the user's order.
    attributes      TEXT    NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at      INTEGER NOT NULL DEFAULT (unixepoch())
);
INSERT INTO contacts_rebuilt
    (id, workspace_id, first_name, last_name, sort_name, mobile, mobile_national, country,
     email, external_id, whatsapp, viber, line_id, wechat_id, messenger_id, attributes,
     created_at, updated_at)
SELECT id, workspace_id, first_name, last_name, sort_name, mobile, mobile_national, country,
     email, external_id, whatsapp, viber, line_id, wechat_id, messenger_id, attributes,
     created_at, updated_at
FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;
CREATE INDEX contacts_by_workspace ON contacts (workspace_id);
CREATE INDEX contacts_by_name ON contacts (workspace_id, sort_name, id);
CREATE UNIQUE INDEX contacts_mobile_unique ON contacts (workspace_id, mobile) WHERE mobile IS NOT NULL;
CREATE INDEX contacts_by_last_name
    ON contacts (workspace_id, substr(sort_name, length(first_name) + 2), id)
    WHERE first_name <> '' AND last_name <> '';
CREATE INDEX contacts_by_email ON contacts (workspace_id, email, id) WHERE email IS NOT NULL;

CREATE TABLE groups_rebuilt (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    blacklisted  INTEGER NOT NULL DEFAULT 0 CHECK (blacklisted IN (0, 1)),
    created_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at   INTEGER NOT NULL DEFAULT (unixepoch())
);
INSERT INTO groups_rebuilt
    (id, workspace_id, name, name_key, description, blacklisted, created_at, updated_at)
SELECT id, workspace_id, name, name_key, description, blacklisted, created_at, updated_at
FROM groups;
DROP TABLE groups;
ALTER TABLE groups_rebuilt RENAME TO groups;
CREATE UNIQUE INDEX groups_name_unique ON groups (workspace_id, name_key);
CREATE INDEX groups_blacklisted ON groups (workspace_id, blacklisted);

CREATE TABLE imports_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    file_name      TEXT    NOT NULL,
    file_size      INTEGER NOT NULL,
    -- How to read the file: the JSON of `ImportOptions`.
    options        TEXT    NOT NULL,
    group_id       INTEGER REFERENCES groups (id) ON DELETE SET NULL,
    status         TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
    error          TEXT,
    rows_read      INTEGER NOT NULL DEFAULT 0,
    created        INTEGER NOT NULL DEFAULT 0,
    matched        INTEGER NOT NULL DEFAULT 0,
    duplicates     INTEGER NOT NULL DEFAULT 0,
    invalid        INTEGER NOT NULL DEFAULT 0,
    bytes_done     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    started_at     INTEGER,
    finished_at    INTEGER,
    rows_at_start  INTEGER NOT NULL DEFAULT 0,
    stalls         INTEGER NOT NULL DEFAULT 0,
    rejects_purged INTEGER NOT NULL DEFAULT 0 CHECK (rejects_purged IN (0, 1))
);
INSERT INTO imports_rebuilt
    (id, workspace_id, user_id, file_name, file_size, options, group_id, status, error,
     rows_read, created, matched, duplicates, invalid, bytes_done, created_at, started_at,
     finished_at, rows_at_start, stalls, rejects_purged)
SELECT id, workspace_id, user_id, file_name, file_size, options, group_id, status, error,
     rows_read, created, matched, duplicates, invalid, bytes_done, created_at, started_at,
     finished_at, rows_at_start, stalls, rejects_purged
FROM imports;
DROP TABLE imports;
ALTER TABLE imports_rebuilt RENAME TO imports;
CREATE INDEX imports_by_workspace ON imports (workspace_id, id);
CREATE INDEX imports_by_status ON imports (status, id);
CREATE INDEX imports_by_finish ON imports (finished_at) WHERE rejects_purged = 0;

-- Nothing may refer to a row that is gone (the rebuild kept every id, so nothing does);
-- if something did, this insert fails its check and the change is not committed.
CREATE TEMP TABLE foreign_keys_hold (broken INTEGER CHECK (broken = 0));
INSERT INTO foreign_keys_hold SELECT count(*) FROM pragma_foreign_key_check;
DROP TABLE foreign_keys_hold;
