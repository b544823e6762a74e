-- Contact groups. `name_key` is the name lower-cased (Unicode) by the data layer, so
-- names are unique per workspace ignoring case.
CREATE TABLE groups (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    blacklisted  INTEGER NOT NULL DEFAULT 0 CHECK (blacklisted IN (0, 1)),
    created_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at   INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE UNIQUE INDEX groups_name_unique ON groups (workspace_id, name_key);
CREATE INDEX groups_blacklisted ON groups (workspace_id, blacklisted);

-- Who is in which group. Deleting a group or a contact deletes its memberships only.
-- A contact is blacklisted while one of its groups is: the flag lives on the group, so
-- toggling it changes no contact row.
CREATE TABLE memberships (
    group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL,
    added_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    -- The import that added it, if any (imports arrive with the upload feature).
    import_id    INTEGER,
    PRIMARY KEY (group_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_contact ON memberships (contact_id, group_id);
