-- A contact's WhatsApp number is its mobile number unless another is given, so an index
-- of every WhatsApp number repeated the mobile index: each contact an upload created
-- paid for a second entry, and each an undo removed for deleting it. Only numbers that
-- differ from the mobile are indexed now; a lookup by WhatsApp number finds the others
-- through the mobile index (`db::contacts::holders_sql`).
DROP INDEX contacts_by_whatsapp;
CREATE INDEX contacts_by_whatsapp ON contacts (workspace_id, whatsapp)
    WHERE whatsapp IS NOT NULL AND (mobile IS NULL OR whatsapp <> mobile);
