-- A server running an import (or its undo) holds a lease on it: a random token and a
-- time (seconds) it renews every few seconds. Another server takes over an import whose
-- lease has run out (its server died), and every write of a batch names the token, so a
-- server that lost its lease writes nothing more. Imports running before this had no
-- lease: theirs ran out long ago.
ALTER TABLE imports ADD COLUMN lease TEXT;
ALTER TABLE imports ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
