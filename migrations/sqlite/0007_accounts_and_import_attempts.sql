-- A password an admin set is temporary: its user must choose their own at first sign-in.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- Each start of an import records the rows it had committed; a stop of the server that
-- interrupts it before it commits any more is a stall. An import stalled by two stops in
-- a row (say, the server ran out of memory on it) is failed instead of started again,
-- while one that makes progress between stops resumes however often the server stops.
ALTER TABLE imports ADD COLUMN rows_at_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN stalls INTEGER NOT NULL DEFAULT 0;

-- Rejected-row reports are deleted some time after their import ends; the uploads list
-- then says so instead of offering an empty download.
ALTER TABLE imports ADD COLUMN rejects_purged INTEGER NOT NULL DEFAULT 0
    CHECK (rejects_purged IN (0, 1));
CREATE INDEX imports_by_finish ON imports (finished_at) WHERE rejects_purged = 0;
