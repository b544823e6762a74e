-- What an import has met so far, so that a number repeated in the file is found without
-- a set in memory that grows with the file: the contacts it created (a run of ids per
-- batch, with the line of each) and the existing contacts it matched (with the line). A
-- number met again is a duplicate of that line. Written in the same transaction as the
-- batch, so a resumed import knows exactly what it met; emptied when the import ends.
CREATE TABLE import_created (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    -- The first id of the run; the run has one id per line below.
    first_id  INTEGER NOT NULL,
    -- The line of each contact created, in id order: 4 bytes each, little-endian.
    lines     BLOB    NOT NULL,
    PRIMARY KEY (import_id, first_id)
) WITHOUT ROWID;

CREATE TABLE import_matched (
    import_id  INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL,
    line       INTEGER NOT NULL,
    PRIMARY KEY (import_id, contact_id)
) WITHOUT ROWID;
