-- Imports (and undos) that a server of a version before leases was running when the
-- install was upgraded have no lease (0), so the first new server would take them over
-- at once while the old one may still be writing their batches. They get five minutes,
-- time for a rolling upgrade to replace the old servers; then a new server resumes them
-- after their last committed batch. (SQLite has one server per file: a restarted server
-- ends the old leases itself.)
UPDATE imports
SET lease_until = CAST(floor(EXTRACT(EPOCH FROM clock_timestamp())) AS BIGINT) + 300
WHERE (status = 'processing' OR undo_status = 'running') AND lease_until = 0;
