//! Search: what the user typed becomes prefix ranges of indexes of `contacts`, each read
//! in order a page at a time and merged, so a search costs a few index seeks however
//! many contacts the workspace holds.
//!
//! A prefix is a range: every value that starts with "ann s" sorts at or after
//! `ann s` and before `ann s` + [`TEXT_END`] (U+10FFFF, after every character), and
//! every number that starts with `+658123` sorts between `+658123` and `+658123:`
//! ([`DIGITS_END`], after `9`). Each way a contact can match (a [`Head`]) is one such
//! range of one index.
//!
//! Worked example: the workspace holds Ann Smith (+65 8123 4567, ann@example.com),
//! Bob Annan and Gwen Jones (+44 7911 123456).
//!
//! - "Ann S" is text (`SearchTerm::parse` folds it to `ann s`). Three heads:
//!   the sort name (`contacts_by_name`: `sort_name >= 'ann s' AND sort_name <
//!   'ann s\u{10FFFF}'`) finds "ann smith"; the last name (`contacts_by_last_name`,
//!   over `substr(sort_name, length(first_name) + 2)`, i.e. "smith", "annan", "jones")
//!   finds nobody; the email (`contacts_by_email`) finds nobody. "ann" alone: the sort
//!   name finds Ann Smith, the last name finds Bob Annan, the email finds Ann Smith again
//!   (term `ann@example.com`); the merge lists Ann once, at her smaller term `ann smith`.
//! - "8123" is digits. The international head is `mobile >= '+8123' AND mobile <
//!   '+8123:'` in the unique number index (nobody); then one national head per calling
//!   code of the workspace (found by a skip-scan of the same index,
//!   [`push_calling_codes`]): `+65` gives `mobile >= '+658123' AND mobile < '+658123:'`
//!   (Ann), `+44` gives `+448123…` (nobody).
//! - "07911 123456" is digits with a trunk zero: the national heads also search
//!   `7911123456` ([`national_digits`]), so `+44` gives `+447911123456…` (Gwen).
//!
//! [`SearchPage::rows`] reads each head in (term, id) order, a page at a time, and
//! merges them: a contact found by two heads is listed once, at its smaller term, and a
//! page reads each head only as far as the page reaches.

use super::ListedContact;
use super::filter::{direction, push_group, push_status};
use crate::db::{Builder, Db, on};
use crate::error::AppError;
use crate::model::contact::{ContactFilter, Cursor};
use sqlx::{QueryBuilder, Row};

/// Sorts after every digit: `+65` … `+65:` spans the numbers starting `+65`.
pub(super) const DIGITS_END: char = ':';

/// Sorts after every character: `ann` … `ann\u{10FFFF}` spans the text starting `ann`.
const TEXT_END: char = '\u{10FFFF}';

/// The last name as searched: the sort name after the first name (lower case); the
/// expression of the `contacts_by_last_name` index.
const LAST_NAME: &str = "substr(c.sort_name, length(c.first_name) + 2)";

/// Which contacts have a last name to search: the WHERE of `contacts_by_last_name`
/// (without both names, the sort name has no last-name part).
const HAS_LAST_NAME: &str = "c.first_name <> '' AND c.last_name <> ''";

/// The national digits a phone search may mean: as typed, and when they start with a
/// trunk zero, without it ("07911 123456" is +44 7911 123456 written the way people in
/// the UK write it; stored national digits carry no trunk prefix, except in the few
/// countries whose numbers keep their leading zero, which the digits as typed find).
pub(super) fn national_digits(digits: &str) -> Vec<&str> {
    match digits.strip_prefix('0') {
        Some(rest) if !rest.is_empty() => vec![digits, rest],
        _ => vec![digits],
    }
}

/// One way a contact can match a search: a prefix range of one index of `contacts`
/// (alias `c`). Matches are listed by the matched text (the term), then id.
struct Head {
    /// The indexed expression the range runs on.
    ranged: &'static str,
    /// What its values hold before the term (`+` and a calling code, for numbers).
    lead: String,
    /// The term: the ranged value after the lead.
    term: String,
    /// What the term starts with: the search's text.
    text: String,
    /// This head's term of any contact ('' if it has none), to tell whether a contact
    /// another head found matches here with a smaller term.
    any_term: String,
    /// The WHERE of the partial index the range runs on (` AND …`, or empty).
    condition: String,
}

/// A search as index ranges: every head's values that start with its lead and text.
pub(super) struct Ranges {
    heads: Vec<Head>,
    end: char,
}

impl Ranges {
    /// Names and emails: the sort name ("first last"), the last name, the email.
    pub(super) fn text(text: &str) -> Ranges {
        let head = |ranged: &'static str, any_term: String, condition: String| Head {
            ranged,
            lead: String::new(),
            term: ranged.to_string(),
            text: text.to_string(),
            any_term,
            condition,
        };
        Ranges {
            heads: vec![
                head("c.sort_name", "c.sort_name".into(), String::new()),
                head(
                    LAST_NAME,
                    format!("CASE WHEN {HAS_LAST_NAME} THEN {LAST_NAME} ELSE '' END"),
                    format!(" AND {HAS_LAST_NAME}"),
                ),
                head("c.email", "coalesce(c.email, '')".into(), String::new()),
            ],
            end: TEXT_END,
        }
    }

    /// Phone digits: the international digits, and the national digits behind each
    /// calling code of the workspace (as typed, and without a trunk zero: see
    /// [`national_digits`]); all in the unique number index.
    pub(super) fn digits(digits: &str, codes: &[String]) -> Ranges {
        let international = Head {
            ranged: "c.mobile",
            lead: "+".into(),
            term: "substr(c.mobile, 2)".into(),
            text: digits.to_string(),
            any_term: "coalesce(substr(c.mobile, 2), '')".into(),
            condition: String::new(),
        };
        let national = national_digits(digits).into_iter().flat_map(|text| {
            codes.iter().map(move |code| Head {
                ranged: "c.mobile",
                lead: format!("+{code}"),
                term: format!("substr(c.mobile, {})", code.len() + 2),
                text: text.to_string(),
                any_term: "coalesce(c.mobile_national, '')".into(),
                condition: String::new(),
            })
        });
        Ranges {
            heads: std::iter::once(international).chain(national).collect(),
            end: DIGITS_END,
        }
    }

    /// Appends `AND c.id IN (…every head's range…)`.
    pub(super) fn push_ids(&self, q: &mut impl Builder, workspace_id: i64) {
        q.push(" AND c.id IN (");
        self.push_union(q, workspace_id);
        q.push(")");
    }

    /// Appends `SELECT c.id … UNION ALL …`, every head's range: a contact is in it once
    /// for each head it matches, so at most [`Ranges::len`] times.
    pub(super) fn push_union(&self, q: &mut impl Builder, workspace_id: i64) {
        for (i, head) in self.heads.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT c.id FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id);
            self.push_range(q, head, None, false);
        }
    }

    /// How many heads (ways to match) the search has.
    pub(super) fn len(&self) -> usize {
        self.heads.len()
    }

    /// Appends the head's range, narrowed to the cursor's side (one bound each way, so
    /// SQLite seeks straight to it).
    fn push_range(
        &self,
        q: &mut impl Builder,
        head: &Head,
        cursor: Option<&Cursor>,
        descending: bool,
    ) {
        let Head { ranged, lead, .. } = head;
        let (mut low, mut high) = (
            (">=", format!("{lead}{}", head.text)),
            ("<", format!("{lead}{}{}", head.text, self.end)),
        );
        match cursor.map(|c| format!("{lead}{}", c.key)) {
            Some(from) if !descending && from > low.1 => low = (">=", from),
            Some(from) if descending && from < high.1 => high = ("<=", from),
            _ => {}
        }
        q.push(format!(" AND {ranged} {} ", low.0))
            .push_bind(low.1)
            .push(format!(" AND {ranged} {} ", high.0))
            .push_bind(high.1)
            .push(&head.condition);
    }

    /// The heads to check a row of the `i`th head against, each with its term
    /// expression: one per distinct expression other than the head's own (national
    /// digits behind different calling codes are one expression; a number has one code).
    fn others(&self, i: usize) -> Vec<(usize, &str)> {
        let mut checked = vec![self.heads[i].any_term.as_str()];
        let mut others = Vec::new();
        for (j, other) in self.heads.iter().enumerate() {
            let any = other.any_term.as_str();
            if !checked.contains(&any) {
                checked.push(any);
                others.push((j, any));
            }
        }
        others
    }

    /// The first head with the term expression `any` whose range (its text, up to its
    /// text and `end`) holds `term`: the term starts with the text, and what follows
    /// sorts before `end` (UTF-8 bytes sort as characters).
    fn holding(&self, any: &str, term: &str) -> Option<usize> {
        self.heads.iter().position(|head| {
            head.any_term == any
                && term
                    .strip_prefix(head.text.as_str())
                    .is_some_and(|rest| rest.chars().next().is_none_or(|c| c < self.end))
        })
    }
}

/// A head's rows in order, fetched a page at a time as the merge needs them.
struct Stream {
    rows: std::collections::VecDeque<(ListedContact, Vec<String>)>,
    /// The last row fetched, where the next page starts.
    after: Option<Cursor>,
    done: bool,
}

/// Appends a query of the workspace's calling codes (one column, `code`): a skip-scan
/// of the number index, one seek per code, since codes are prefix-free and each stored
/// number is `+`, its code, then `mobile_national`.
pub(super) fn push_calling_codes(q: &mut impl Builder, workspace_id: i64) {
    const CODE: &str = "substr(m.mobile, 2, length(m.mobile) - 1 - length(m.mobile_national))";
    q.push(format!(
        "WITH RECURSIVE codes(code) AS (SELECT (SELECT {CODE} FROM contacts m WHERE m.workspace_id = "
    ))
    .push_bind(workspace_id)
    .push(format!(
        " AND m.mobile IS NOT NULL ORDER BY m.mobile LIMIT 1) UNION ALL SELECT (SELECT {CODE} \
         FROM contacts m WHERE m.workspace_id = "
    ))
    .push_bind(workspace_id)
    .push(format!(
        " AND m.mobile > '+' || codes.code || '{DIGITS_END}' ORDER BY m.mobile LIMIT 1) \
         FROM codes WHERE codes.code <> '') SELECT code FROM codes WHERE code <> ''"
    ));
}

/// The calling codes of the workspace's numbers.
pub(super) async fn calling_codes(db: &Db, workspace_id: i64) -> Result<Vec<String>, AppError> {
    Ok(on!(db, pool => {
        let mut q = QueryBuilder::new("");
        push_calling_codes(&mut q, workspace_id);
        q.build_query_scalar().fetch_all(pool).await?
    }))
}

/// A page of a search being read: the heads' queries and the page's direction and size.
pub(super) struct SearchPage<'a> {
    pub(super) db: &'a Db,
    pub(super) workspace_id: i64,
    pub(super) filter: &'a ContactFilter,
    pub(super) ranges: &'a Ranges,
    pub(super) descending: bool,
    pub(super) limit: i64,
}

impl SearchPage<'_> {
    /// Up to `limit` rows in (term, id) order from the cursor: one query per head, each
    /// a range of its index, merged here. A contact matching several heads is listed
    /// once, at its smallest term (on a tie, the first head's); the merge reads each head
    /// only as far as the page reaches, so a head whose matches are all listed elsewhere
    /// (emails that start like their owners' names) costs a page, not its whole range.
    pub(super) async fn rows(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<Vec<ListedContact>, AppError> {
        let heads = self.ranges.heads.len();
        let others: Vec<_> = (0..heads).map(|i| self.ranges.others(i)).collect();
        let mut streams: Vec<Stream> = (0..heads)
            .map(|_| Stream {
                rows: Default::default(),
                after: cursor.cloned(),
                done: false,
            })
            .collect();
        let mut rows = Vec::new();
        while (rows.len() as i64) < self.limit {
            for (i, stream) in streams.iter_mut().enumerate() {
                if stream.rows.is_empty() && !stream.done {
                    let page = self.head_page(i, &others[i], stream.after.as_ref()).await?;
                    stream.done = (page.len() as i64) < self.limit;
                    stream.after = page.last().map(|(row, _)| Cursor {
                        key: row.sort_key.clone(),
                        id: row.id,
                    });
                    stream.rows.extend(page);
                }
            }
            let next = streams
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.rows.front().map(|(row, _)| (i, (&row.sort_key, row.id))))
                .reduce(|a, b| if (b.1 < a.1) != self.descending { b } else { a });
            let Some((i, _)) = next else { break };
            let Some((row, terms)) = streams[i].rows.pop_front() else {
                break;
            };
            let listed_elsewhere = others[i].iter().zip(&terms).any(|(&(_, any), term)| {
                self.ranges
                    .holding(any, term)
                    .is_some_and(|j| *term < row.sort_key || (*term == row.sort_key && j < i))
            });
            if !listed_elsewhere {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// Up to `limit` rows of the `i`th head after the cursor, each with its terms of the
    /// `others` heads.
    async fn head_page(
        &self,
        i: usize,
        others: &[(usize, &str)],
        cursor: Option<&Cursor>,
    ) -> Result<Vec<(ListedContact, Vec<String>)>, AppError> {
        let head = &self.ranges.heads[i];
        let select = format!(
            "SELECT c.id, c.first_name, c.last_name, c.mobile, c.email, c.created_at, \
             {} AS sort_key",
            head.term
        );
        let columns = 7; // the listed contact's, then the other heads' terms
        on!(self.db, pool => {
            let mut q = QueryBuilder::new(select);
            self.push_head_page(&mut q, head, others, cursor);
            let found = q.build().fetch_all(pool).await?;
            found
                .iter()
                .map(|row| {
                    let listed = <ListedContact as sqlx::FromRow<_>>::from_row(row)?;
                    let terms = (0..others.len())
                        .map(|k| row.try_get::<String, _>(columns + k))
                        .collect::<Result<_, _>>()?;
                    Ok((listed, terms))
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(Into::into)
        })
    }

    /// The rest of [`SearchPage::head_page`]'s query after its first columns.
    fn push_head_page(
        &self,
        q: &mut impl Builder,
        head: &Head,
        others: &[(usize, &str)],
        cursor: Option<&Cursor>,
    ) {
        let (cmp, ord) = direction(self.descending);
        let ranged = head.ranged;
        for (_, any) in others {
            q.push(format!(", {any}"));
        }
        q.push(" FROM contacts c WHERE c.workspace_id = ")
            .push_bind(self.workspace_id);
        self.ranges.push_range(q, head, cursor, self.descending);
        push_group(q, self.filter.group);
        push_status(q, self.filter);
        if let Some(c) = cursor {
            // The same lead before both sides keeps their order; the id settles a tie.
            q.push(format!(" AND ({ranged}, c.id) {cmp} ("))
                .push_bind(format!("{}{}", head.lead, c.key))
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        q.push(format!(" ORDER BY {ranged} {ord}, c.id {ord} LIMIT "))
            .push_bind(self.limit);
    }
}
