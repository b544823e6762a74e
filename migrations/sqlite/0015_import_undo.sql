-- Undoing an upload (#22). What an import met (`import_created`, `import_matched`) now
-- stays until the undo window has passed; the undo runs in batches like an import, its
-- phase and cursor saved with each, so a stop resumes it.
ALTER TABLE imports ADD COLUMN undo_status TEXT
    CHECK (undo_status IN ('queued', 'running', 'completed', 'failed'));
ALTER TABLE imports ADD COLUMN undo_error TEXT;
-- 0: restoring the fields it changed, 1: removing the memberships it added to contacts
-- it matched, 2: removing the contacts it created; the cursor is the last id done.
ALTER TABLE imports ADD COLUMN undo_phase INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_cursor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_removed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_restored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_kept INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_finished_at INTEGER;
ALTER TABLE imports ADD COLUMN undo_user_id INTEGER;
ALTER TABLE imports ADD COLUMN undo_api_key_id INTEGER;

-- PostgreSQL notes every contact an import met in import_matched and marks those it
-- created; SQLite notes those in import_created, so this stays 0 here (one schema).
ALTER TABLE import_matched ADD COLUMN created INTEGER NOT NULL DEFAULT 0
    CHECK (created IN (0, 1));

-- What an undo left, and why (changed since the upload).
CREATE TABLE import_undo_kept (
    workspace_id INTEGER NOT NULL,
    import_id    INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    PRIMARY KEY (import_id, contact_id)
) WITHOUT ROWID;

-- An undo reads the entries of what its upload changed.
CREATE INDEX contact_history_by_import ON contact_history (import_id, id)
    WHERE import_id IS NOT NULL;
