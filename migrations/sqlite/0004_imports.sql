-- CSV uploads. The file waits in the data folder while the import is queued or running;
-- each committed batch advances `rows_read` and the counts in the same transaction as its
-- contacts, so after a crash the import resumes exactly after its last batch.
CREATE TABLE imports (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    file_name    TEXT    NOT NULL,
    file_size    INTEGER NOT NULL,
    -- How to read the file (encoding, delimiter, header, columns, country, update names):
    -- the JSON of `ImportOptions`.
    options      TEXT    NOT NULL,
    group_id     INTEGER REFERENCES groups (id) ON DELETE SET NULL,
    status       TEXT    NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
    error        TEXT,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    matched      INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    invalid      INTEGER NOT NULL DEFAULT 0,
    bytes_done   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX imports_by_workspace ON imports (workspace_id, id);
CREATE INDEX imports_by_status ON imports (status, id);

-- The rows an import refused or found twice, with the reason, for the download.
CREATE TABLE import_rejects (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    raw       TEXT    NOT NULL,
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;
