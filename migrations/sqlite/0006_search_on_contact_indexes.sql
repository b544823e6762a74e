-- Name and email searches run on indexes of `contacts` itself instead of a table of
-- terms kept by triggers: the sort name ("first last") already has one, the last name
-- (the sort name after the first name) and the email get theirs. A contact written costs
-- one index entry for its names instead of four (two terms, each in two indexes) and no
-- trigger runs: most of what an import of new contacts wrote.
DROP TRIGGER contacts_terms_insert;
DROP TRIGGER contacts_terms_update;
DROP TABLE contact_terms;

CREATE INDEX contacts_by_last_name
    ON contacts (workspace_id, substr(sort_name, length(first_name) + 2), id)
    WHERE first_name <> '' AND last_name <> '';
CREATE INDEX contacts_by_email ON contacts (workspace_id, email, id) WHERE email IS NOT NULL;
