-- What an import created is kept as on SQLite (one schema): runs of consecutive ids in
-- `import_created`, with the line of each (4 bytes each, little-endian), instead of a row
-- per contact in `import_matched` marked `created`. `import_matched` keeps the existing
-- contacts an import matched. Runs: ids minus their rank are equal within a run.
-- The lock keeps a batch of a server not yet upgraded from noting created contacts
-- between the copy and the drop.
LOCK TABLE import_matched IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO import_created (workspace_id, import_id, first_id, lines)
SELECT workspace_id, import_id, min(contact_id),
       string_agg(decode(lpad(to_hex(line & 255), 2, '0')
                         || lpad(to_hex((line >> 8) & 255), 2, '0')
                         || lpad(to_hex((line >> 16) & 255), 2, '0')
                         || lpad(to_hex((line >> 24) & 255), 2, '0'), 'hex'),
                  ''::BYTEA ORDER BY contact_id)
FROM (SELECT workspace_id, import_id, contact_id, line,
             contact_id - row_number() OVER (PARTITION BY workspace_id, import_id
                                             ORDER BY contact_id) AS run
      FROM import_matched WHERE created) AS m
GROUP BY workspace_id, import_id, run;

DELETE FROM import_matched WHERE created;
ALTER TABLE import_matched DROP COLUMN created;
