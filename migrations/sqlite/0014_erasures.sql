-- Erasing a person (#22) keeps one line per contact erased, without personal data: who
-- erased which contact id, when and how (in the app or through the API).
CREATE TABLE erasures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('ui', 'api')),
    user_id      INTEGER,
    api_key_id   INTEGER
);
CREATE INDEX erasures_by_workspace ON erasures (workspace_id, id);
