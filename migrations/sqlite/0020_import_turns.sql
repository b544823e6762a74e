-- When a running import last gave way to another workspace's upload (or was handed
-- back by a stopping server): the queue is taken in order of this, or of the upload's
-- arrival if it never gave way, so a long import lets the uploads queued before it gave
-- way go first, then goes on.
ALTER TABLE imports ADD COLUMN yielded_at INTEGER;
