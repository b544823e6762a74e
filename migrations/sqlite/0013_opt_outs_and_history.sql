-- Every change on record (#22): per-channel opt-outs, and each contact's history.

-- An opt-out belongs to an address on a channel (E.164 for sms, whatsapp and viber; the
-- lower-cased email; the channel's user id), not to a contact row: one given by a sender
-- no contact has yet holds for the contact that later gets the address. Who gave it is
-- a user, an API key or an upload (at most one of them; none for an inbound keyword).
CREATE TABLE opt_outs (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,
    channel      TEXT    NOT NULL
                 CHECK (channel IN ('sms', 'email', 'whatsapp', 'viber', 'line', 'wechat', 'messenger')),
    reason       TEXT    NOT NULL
                 CHECK (reason IN ('unsubscribed', 'complaint', 'bounced', 'manual', 'keyword')),
    source       TEXT    NOT NULL CHECK (source IN ('ui', 'api', 'import', 'keyword', 'undo')),
    user_id      INTEGER,
    api_key_id   INTEGER,
    import_id    INTEGER,
    at           INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, address, channel)
) WITHOUT ROWID;

-- Inbound keywords and the sendable rule find contacts by their address on any channel.
CREATE INDEX contacts_by_whatsapp ON contacts (workspace_id, whatsapp) WHERE whatsapp IS NOT NULL;
CREATE INDEX contacts_by_viber ON contacts (workspace_id, viber) WHERE viber IS NOT NULL;
CREATE INDEX contacts_by_line ON contacts (workspace_id, line_id) WHERE line_id IS NOT NULL;
CREATE INDEX contacts_by_wechat ON contacts (workspace_id, wechat_id) WHERE wechat_id IS NOT NULL;
CREATE INDEX contacts_by_messenger ON contacts (workspace_id, messenger_id)
    WHERE messenger_id IS NOT NULL;

-- What happened to each contact, newest last: created, updated (each field's before and
-- after), joined or left a group, opted out or in, deleted. `detail` is JSON (see
-- db::history). The rows outlive the contact (the history says it was deleted) until
-- they are purged by age or the person is erased. An upload does not write a row per
-- contact it creates: the upload says which contacts it created.
CREATE TABLE contact_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    kind         TEXT    NOT NULL
                 CHECK (kind IN ('created', 'updated', 'deleted', 'joined', 'left', 'opted_out', 'opted_in')),
    source       TEXT    NOT NULL CHECK (source IN ('ui', 'api', 'import', 'keyword', 'undo')),
    user_id      INTEGER,
    api_key_id   INTEGER,
    import_id    INTEGER,
    detail       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX contact_history_by_contact ON contact_history (workspace_id, contact_id, id);
CREATE INDEX contact_history_by_age ON contact_history (at);
