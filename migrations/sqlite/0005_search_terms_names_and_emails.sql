-- Search terms are now names and emails only. Phone digits are searched through the
-- unique number index (the international digits, and the national digits behind each
-- calling code of the workspace), so they are no longer terms: those were two randomly
-- placed index entries per contact, most of what an import of new numbers wrote. The
-- triggers also use one INSERT per kind of term instead of one over a UNION, which built
-- and searched a temporary b-tree for every contact written.
DROP TRIGGER contacts_terms_insert;
DROP TRIGGER contacts_terms_update;

DELETE FROM contact_terms
WHERE EXISTS (
    SELECT 1 FROM contacts c
    WHERE c.id = contact_terms.contact_id
      AND (contact_terms.term = substr(c.mobile, 2) OR contact_terms.term = c.mobile_national)
      AND contact_terms.term NOT IN (c.sort_name, coalesce(c.email, ''),
          substr(c.sort_name, length(c.first_name) + 2))
);

CREATE TRIGGER contacts_terms_insert AFTER INSERT ON contacts BEGIN
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.sort_name, NEW.id WHERE NEW.sort_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, substr(NEW.sort_name, length(NEW.first_name) + 2), NEW.id
    WHERE NEW.first_name <> '' AND NEW.last_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.email, NEW.id WHERE NEW.email <> '';
END;

CREATE TRIGGER contacts_terms_update AFTER UPDATE OF first_name, last_name, sort_name, email ON contacts BEGIN
    DELETE FROM contact_terms WHERE contact_id = OLD.id;
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.sort_name, NEW.id WHERE NEW.sort_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, substr(NEW.sort_name, length(NEW.first_name) + 2), NEW.id
    WHERE NEW.first_name <> '' AND NEW.last_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.email, NEW.id WHERE NEW.email <> '';
END;
