-- Signed webhooks (#22). An endpoint is a URL a workspace's admins add, with the events
-- it wants and the secret its deliveries are signed with (kept as is: an HMAC key is
-- needed to sign, so it cannot be hashed; it is shown once and never read back out).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    events          TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    -- Set when deliveries stopped for good (the endpoint answered 410 Gone).
    disabled_at     INTEGER,
    disabled_reason TEXT
);
CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace_id);

-- The outbox: one message per event and endpoint, written in the transaction of the
-- change, so a change and its event are never one without the other. The body is made
-- from `event_type`, `created_at` and `data` the same way at every attempt, so retries
-- carry the same `webhook-id` and body. `next_attempt_at` is when it is due (a worker
-- that takes it pushes it past its timeout, so a server killed mid-delivery leaves it
-- due again); NULL once delivered or given up.
CREATE TABLE webhook_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type      TEXT    NOT NULL,
    contact_id      INTEGER,
    data            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_messages_by_endpoint ON webhook_messages (workspace_id, endpoint_id, id);
CREATE INDEX webhook_messages_by_contact ON webhook_messages (workspace_id, contact_id)
    WHERE contact_id IS NOT NULL;
