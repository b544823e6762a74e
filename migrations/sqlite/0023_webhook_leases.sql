-- A delivery worker that takes a message sets its lease in a column of its own, in no
-- index, instead of pushing `next_attempt_at` (a key of the due index) past it, so
-- taking a message rewrites no index entry (as on PostgreSQL, where it also lets the
-- update be made in place).
ALTER TABLE webhook_messages ADD COLUMN leased_until INTEGER;
