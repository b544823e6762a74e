-- The search-term triggers, one INSERT per kind of term instead of one over a UNION: the
-- UNION built and searched a temporary b-tree for every contact written, which was most
-- of an import's time in the triggers. Same terms as before (OR IGNORE drops repeats).
DROP TRIGGER contacts_terms_insert;
DROP TRIGGER contacts_terms_update;

CREATE TRIGGER contacts_terms_insert AFTER INSERT ON contacts BEGIN
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.sort_name, NEW.id WHERE NEW.sort_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, substr(NEW.sort_name, length(NEW.first_name) + 2), NEW.id
    WHERE NEW.first_name <> '' AND NEW.last_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.email, NEW.id WHERE NEW.email <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, substr(NEW.mobile, 2), NEW.id WHERE NEW.mobile <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.mobile_national, NEW.id WHERE NEW.mobile_national <> '';
END;

CREATE TRIGGER contacts_terms_update AFTER UPDATE OF first_name, last_name, sort_name, email, mobile, mobile_national ON contacts BEGIN
    DELETE FROM contact_terms WHERE contact_id = OLD.id;
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.sort_name, NEW.id WHERE NEW.sort_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, substr(NEW.sort_name, length(NEW.first_name) + 2), NEW.id
    WHERE NEW.first_name <> '' AND NEW.last_name <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.email, NEW.id WHERE NEW.email <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, substr(NEW.mobile, 2), NEW.id WHERE NEW.mobile <> '';
    INSERT OR IGNORE INTO contact_terms (workspace_id, term, contact_id)
    SELECT NEW.workspace_id, NEW.mobile_national, NEW.id WHERE NEW.mobile_national <> '';
END;
