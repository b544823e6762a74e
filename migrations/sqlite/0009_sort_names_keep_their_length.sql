-- Sort names were lower-cased with İ (U+0130) becoming "i" and a combining dot (U+0307),
-- one character longer than the name, so the last-name index (which reads the sort name
-- from length(first_name) + 2) cut one character into the last name: "İlker Smith" was
-- not found by "smi". Sort names now fold İ to a plain "i" (model::contact::fold_case).
UPDATE contacts
SET sort_name = replace(sort_name, 'i' || char(775), 'i')
WHERE instr(first_name || last_name, char(304)) > 0;
