-- What an import met (`import_created`, `import_matched`) now carries its workspace and
-- keeps only what PostgreSQL keeps (one schema): the runs of contacts it created, and the
-- existing contacts it matched. The `created` flag of 0015 was never set here.
CREATE TABLE import_created_with_workspace (
    workspace_id INTEGER NOT NULL,
    import_id    INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    -- The first id of the run; the run has one id per line below.
    first_id     INTEGER NOT NULL,
    -- The line of each contact created, in id order: 4 bytes each, little-endian.
    lines        BLOB    NOT NULL,
    PRIMARY KEY (workspace_id, import_id, first_id)
) WITHOUT ROWID;
INSERT INTO import_created_with_workspace (workspace_id, import_id, first_id, lines)
    SELECT i.workspace_id, c.import_id, c.first_id, c.lines
    FROM import_created c JOIN imports i ON i.id = c.import_id;
DROP TABLE import_created;
ALTER TABLE import_created_with_workspace RENAME TO import_created;

CREATE TABLE import_matched_with_workspace (
    workspace_id INTEGER NOT NULL,
    import_id    INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL,
    line         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, import_id, contact_id)
) WITHOUT ROWID;
INSERT INTO import_matched_with_workspace (workspace_id, import_id, contact_id, line)
    SELECT i.workspace_id, m.import_id, m.contact_id, m.line
    FROM import_matched m JOIN imports i ON i.id = m.import_id;
DROP TABLE import_matched;
ALTER TABLE import_matched_with_workspace RENAME TO import_matched;
