-- A rejected row carries its import's workspace, as on PostgreSQL (where every key of
-- workspace data starts with it), so the same queries serve both databases.
ALTER TABLE import_rejects ADD COLUMN workspace_id INTEGER NOT NULL DEFAULT 0;
UPDATE import_rejects
SET workspace_id = (SELECT i.workspace_id FROM imports i WHERE i.id = import_rejects.import_id);
