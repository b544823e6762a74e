-- Contacts of a workspace. The mobile number is stored in E.164 and is unique per
-- workspace when present; `mobile_national` (the number without its country code) and
-- `sort_name` are derived by the data layer for search and sorting.
CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    first_name      TEXT    NOT NULL DEFAULT '',
    last_name       TEXT    NOT NULL DEFAULT '',
    sort_name       TEXT    NOT NULL DEFAULT '',
    mobile          TEXT,
    mobile_national TEXT,
    country         TEXT    NOT NULL CHECK (length(country) = 2),
    email           TEXT,
    external_id     TEXT,
    whatsapp        TEXT,
    viber           TEXT,
    line_id         TEXT,
    wechat_id       TEXT,
    messenger_id    TEXT,
    -- Custom attributes: a JSON array of [key, value] pairs, in the user's order.
    attributes      TEXT    NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at      INTEGER NOT NULL DEFAULT (unixepoch())
);
-- Newest/oldest first: ids grow with creation, so (workspace_id, id) serves both.
CREATE INDEX contacts_by_workspace ON contacts (workspace_id);
CREATE INDEX contacts_by_name ON contacts (workspace_id, sort_name, id);
CREATE UNIQUE INDEX contacts_mobile_unique ON contacts (workspace_id, mobile) WHERE mobile IS NOT NULL;

-- Search terms: every prefix search (name, email, phone digits) is a range scan here.
-- Terms are lower case: `sort_name` is "first last" lower-cased (Unicode) by the data
-- layer, the last name is its tail, emails are stored lower-case, numbers are digits.
-- Kept in step with `contacts` by the triggers below, whichever code path writes.
CREATE TABLE contact_terms (
    workspace_id INTEGER NOT NULL,
    term         TEXT    NOT NULL,
    contact_id   INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (workspace_id, term, contact_id)
) WITHOUT ROWID;
CREATE INDEX contact_terms_by_contact ON contact_terms (contact_id, term);

CREATE TRIGGER contacts_terms_insert AFTER INSERT ON contacts BEGIN
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, t.term, NEW.id
    FROM (
        SELECT NEW.sort_name AS term
        UNION SELECT CASE WHEN NEW.first_name <> '' AND NEW.last_name <> ''
                     THEN substr(NEW.sort_name, length(NEW.first_name) + 2) END
        UNION SELECT NEW.email
        UNION SELECT substr(NEW.mobile, 2)
        UNION SELECT NEW.mobile_national
    ) AS t
    WHERE t.term IS NOT NULL AND t.term <> '';
END;

CREATE TRIGGER contacts_terms_update AFTER UPDATE OF first_name, last_name, sort_name, email, mobile, mobile_national ON contacts BEGIN
    DELETE FROM contact_terms WHERE contact_id = OLD.id;
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, t.term, NEW.id
    FROM (
        SELECT NEW.sort_name AS term
        UNION SELECT CASE WHEN NEW.first_name <> '' AND NEW.last_name <> ''
                     THEN substr(NEW.sort_name, length(NEW.first_name) + 2) END
        UNION SELECT NEW.email
        UNION SELECT substr(NEW.mobile, 2)
        UNION SELECT NEW.mobile_national
    ) AS t
    WHERE t.term IS NOT NULL AND t.term <> '';
END;
