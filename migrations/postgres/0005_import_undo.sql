-- Undoing an upload (#22); see migrations/sqlite/0015_import_undo.sql.
ALTER TABLE imports ADD COLUMN undo_status TEXT
    CHECK (undo_status IN ('queued', 'running', 'completed', 'failed'));
ALTER TABLE imports ADD COLUMN undo_error TEXT;
ALTER TABLE imports ADD COLUMN undo_phase BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_cursor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_removed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_restored BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_kept BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN undo_finished_at BIGINT;
ALTER TABLE imports ADD COLUMN undo_user_id BIGINT;
ALTER TABLE imports ADD COLUMN undo_api_key_id BIGINT;

-- PostgreSQL notes every contact an import met in import_matched; which it created.
ALTER TABLE import_matched ADD COLUMN created BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE import_undo_kept (
    workspace_id BIGINT NOT NULL,
    import_id    BIGINT NOT NULL,
    contact_id   BIGINT NOT NULL,
    reason       TEXT   NOT NULL,
    PRIMARY KEY (workspace_id, import_id, contact_id),
    FOREIGN KEY (workspace_id, import_id) REFERENCES imports (workspace_id, id)
        ON DELETE CASCADE
);

-- An undo reads the entries of what its upload changed.
CREATE INDEX contact_history_by_import ON contact_history (workspace_id, import_id, id)
    WHERE import_id IS NOT NULL;
