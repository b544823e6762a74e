//! Contacts: create, change, delete, and the table's keyset-paged queries.
//!
//! Paging never uses OFFSET: each page starts after (or before) the sort key and id of
//! a row, so page 10,000 costs what page 1 costs. A search is prefix ranges of indexes
//! of `contacts`: the sort name, the last name and the email for text, the unique number
//! index for phone digits.

use crate::error::AppError;
use crate::model::contact::{
    ContactFilter, ContactSort, Cursor, PageRequest, SearchTerm, Selection,
};
pub use crate::normalize::ContactRecord;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

/// A stored contact with its id and timestamps.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredContact {
    /// The id.
    pub id: i64,
    /// The values.
    #[sqlx(flatten)]
    pub record: ContactRecord,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// Last changed, seconds since the epoch.
    pub updated_at: i64,
}

/// A row of the table as stored (the API formats the number for display).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ListedContact {
    /// The id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Mobile, E.164.
    pub mobile: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// The row's position in the order (name or matched term; empty for date orders).
    pub sort_key: String,
}

/// One page of rows with the cursors around it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedPage {
    /// The rows in display order.
    pub rows: Vec<ListedContact>,
    /// Cursor of the first row, when an earlier page exists.
    pub previous: Option<Cursor>,
    /// Cursor of the last row, when a later page exists.
    pub next: Option<Cursor>,
}

const COLUMNS: &str = "c.id, c.first_name, c.last_name, c.mobile, c.mobile_national, c.country, \
    c.email, c.external_id, c.whatsapp, c.viber, c.line_id, c.wechat_id, c.messenger_id, \
    c.attributes, c.created_at, c.updated_at";

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds `?1` (the workspace) and `?2`…`?15` (the record's columns, in table order).
fn bind_record<'q>(
    query: SqliteQuery<'q>,
    workspace_id: i64,
    record: &'q ContactRecord,
) -> SqliteQuery<'q> {
    query
        .bind(workspace_id)
        .bind(&record.first_name)
        .bind(&record.last_name)
        .bind(crate::model::contact::sort_name(
            &record.first_name,
            &record.last_name,
        ))
        .bind(&record.mobile)
        .bind(&record.mobile_national)
        .bind(&record.country)
        .bind(&record.email)
        .bind(&record.external_id)
        .bind(&record.whatsapp)
        .bind(&record.viber)
        .bind(&record.line_id)
        .bind(&record.wechat_id)
        .bind(&record.messenger_id)
        .bind(&record.attributes)
}

/// Adds a contact; a mobile number already in the workspace becomes a field error that
/// names the contact who has it.
pub async fn create(
    pool: &SqlitePool,
    workspace_id: i64,
    record: &ContactRecord,
) -> Result<i64, AppError> {
    insert(&mut *pool.acquire().await?, workspace_id, record).await
}

/// [`create`] on the caller's connection (or transaction).
pub async fn insert(
    conn: &mut SqliteConnection,
    workspace_id: i64,
    record: &ContactRecord,
) -> Result<i64, AppError> {
    let query = sqlx::query(
        "INSERT INTO contacts (workspace_id, first_name, last_name, sort_name, mobile, mobile_national,
             country, email, external_id, whatsapp, viber, line_id, wechat_id, messenger_id, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         RETURNING id",
    );
    let result = bind_record(query, workspace_id, record)
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get::<i64, _>(0));
    match result {
        Ok(id) => Ok(id),
        Err(e) if super::is_unique_violation(&e) => {
            Err(mobile_taken(conn, workspace_id, record).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes a contact of the workspace, on the caller's connection (or transaction).
pub async fn update(
    conn: &mut SqliteConnection,
    workspace_id: i64,
    id: i64,
    record: &ContactRecord,
) -> Result<(), AppError> {
    let query = sqlx::query(
        "UPDATE contacts SET first_name = ?2, last_name = ?3, sort_name = ?4, mobile = ?5,
             mobile_national = ?6, country = ?7, email = ?8, external_id = ?9, whatsapp = ?10,
             viber = ?11, line_id = ?12, wechat_id = ?13, messenger_id = ?14, attributes = ?15,
             updated_at = unixepoch()
         WHERE workspace_id = ?1 AND id = ?16",
    );
    let result = bind_record(query, workspace_id, record)
        .bind(id)
        .execute(&mut *conn)
        .await;
    match result {
        Ok(done) if done.rows_affected() == 0 => Err(not_found()),
        Ok(_) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => {
            Err(mobile_taken(conn, workspace_id, record).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates a contact (no `id`) or changes one, and makes its groups exactly the chosen
/// ones plus those named in `new_groups` (created if no group has the name): one
/// transaction, so a failure (a number taken, a chosen group deleted meanwhile) leaves
/// nothing behind. Returns the contact's id.
pub async fn save_with_groups(
    pool: &SqlitePool,
    workspace_id: i64,
    id: Option<i64>,
    record: &ContactRecord,
    group_ids: &[i64],
    new_groups: &[String],
) -> Result<i64, AppError> {
    let mut tx = super::begin_write(pool).await?;
    let id = match id {
        None => insert(&mut tx, workspace_id, record).await?,
        Some(id) => {
            update(&mut tx, workspace_id, id, record).await?;
            id
        }
    };
    let groups =
        super::groups::chosen_and_new(&mut tx, workspace_id, group_ids, new_groups).await?;
    super::groups::set_groups_of_contact(&mut tx, workspace_id, id, &groups).await?;
    tx.commit().await?;
    Ok(id)
}

fn not_found() -> AppError {
    AppError::NotFound("This contact no longer exists. It may have been deleted.".into())
}

async fn mobile_taken(
    conn: &mut SqliteConnection,
    workspace_id: i64,
    record: &ContactRecord,
) -> AppError {
    let owner: Result<Option<(String, String)>, _> = sqlx::query_as(
        "SELECT first_name, last_name FROM contacts WHERE workspace_id = ?1 AND mobile = ?2",
    )
    .bind(workspace_id)
    .bind(&record.mobile)
    .fetch_optional(conn)
    .await;
    let name = match owner {
        Ok(Some((first, last))) => {
            let name = format!("{first} {last}").trim().to_string();
            if name.is_empty() {
                "a contact without a name".to_string()
            } else {
                name
            }
        }
        Ok(None) => "another contact".to_string(),
        Err(e) => return e.into(),
    };
    AppError::invalid("mobile", format!("This number already belongs to {name}."))
}

/// One contact of the workspace.
pub async fn get(pool: &SqlitePool, workspace_id: i64, id: i64) -> Result<StoredContact, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM contacts c WHERE c.workspace_id = ?1 AND c.id = ?2");
    sqlx::query_as(&sql)
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(not_found)
}

/// Sorts after every digit: `+65` … `+65:` spans the numbers starting `+65`.
const DIGITS_END: char = ':';

/// Sorts after every character: `ann` … `ann\u{10FFFF}` spans the text starting `ann`.
const TEXT_END: char = '\u{10FFFF}';

/// The last name as searched: the sort name after the first name (lower case); the
/// expression of the `contacts_by_last_name` index.
const LAST_NAME: &str = "substr(c.sort_name, length(c.first_name) + 2)";

/// Which contacts have a last name to search: the WHERE of `contacts_by_last_name`
/// (without both names, the sort name has no last-name part).
const HAS_LAST_NAME: &str = "c.first_name <> '' AND c.last_name <> ''";

/// One way a contact can match a search: a prefix range of one index of `contacts`
/// (alias `c`). Matches are listed by the matched text (the term), then id.
struct Head {
    /// The indexed expression the range runs on.
    ranged: &'static str,
    /// What its values hold before the term (`+` and a calling code, for numbers).
    lead: String,
    /// The term: the ranged value after the lead.
    term: String,
    /// This head's term of any contact ('' if it has none), to tell whether a contact
    /// another head found matches here with a smaller term.
    any_term: String,
    /// The WHERE of the partial index the range runs on (` AND …`, or empty).
    condition: String,
}

/// A search as index ranges: every head's values that start with its lead and `text`.
struct Ranges {
    heads: Vec<Head>,
    text: String,
    end: char,
}

impl Ranges {
    /// Names and emails: the sort name ("first last"), the last name, the email.
    fn text(text: &str) -> Ranges {
        let head = |ranged: &'static str, any_term: String, condition: String| Head {
            ranged,
            lead: String::new(),
            term: ranged.to_string(),
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
            text: text.to_string(),
            end: TEXT_END,
        }
    }

    /// Phone digits: the international digits, and the national digits behind each
    /// calling code of the workspace; all in the unique number index.
    fn digits(digits: &str, codes: &[String]) -> Ranges {
        let international = Head {
            ranged: "c.mobile",
            lead: "+".into(),
            term: "substr(c.mobile, 2)".into(),
            any_term: "coalesce(substr(c.mobile, 2), '')".into(),
            condition: String::new(),
        };
        let national = codes.iter().map(|code| Head {
            ranged: "c.mobile",
            lead: format!("+{code}"),
            term: format!("substr(c.mobile, {})", code.len() + 2),
            any_term: "coalesce(c.mobile_national, '')".into(),
            condition: String::new(),
        });
        Ranges {
            heads: std::iter::once(international).chain(national).collect(),
            text: digits.to_string(),
            end: DIGITS_END,
        }
    }

    /// Appends `AND c.id IN (…every head's range…)`.
    fn push_ids(&self, q: &mut QueryBuilder<'_, Sqlite>, workspace_id: i64) {
        q.push(" AND c.id IN (");
        for (i, head) in self.heads.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT c.id FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id);
            self.push_range(q, head, None, false);
        }
        q.push(")");
    }

    /// Appends the head's range, narrowed to the cursor's side (one bound each way, so
    /// SQLite seeks straight to it).
    fn push_range(
        &self,
        q: &mut QueryBuilder<'_, Sqlite>,
        head: &Head,
        cursor: Option<&Cursor>,
        descending: bool,
    ) {
        let Head { ranged, lead, .. } = head;
        let (mut low, mut high) = (
            (">=", format!("{lead}{}", self.text)),
            ("<", format!("{lead}{}{}", self.text, self.end)),
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

    /// Whether the search's range, `text` up to `text` + `end`, holds `term`: it starts
    /// with `text`, and what follows sorts before `end` (UTF-8 bytes sort as characters).
    fn holds(&self, term: &str) -> bool {
        term.strip_prefix(self.text.as_str())
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| c < self.end))
    }
}

/// A head's rows in order, fetched a page at a time as the merge needs them.
struct Stream {
    rows: std::collections::VecDeque<(ListedContact, Vec<String>)>,
    /// The last row fetched, where the next page starts.
    after: Option<Cursor>,
    done: bool,
}

/// Where the rows of a filtered query come from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Contacts matching a search: ranges of the name, email and number indexes.
    Search,
    /// The members of one group, in id order (alias `gm`).
    Group,
    /// All contacts of the workspace.
    All,
}

/// Appends `FROM … WHERE …` for the filter, contacts aliased `c`; returns the source.
pub(crate) fn push_from(
    q: &mut QueryBuilder<'_, Sqlite>,
    workspace_id: i64,
    filter: &ContactFilter,
    order_by_id: bool,
) -> Source {
    let search = SearchTerm::parse(&filter.search);
    let source = match (&search, filter.group) {
        (SearchTerm::Digits(digits), _) => {
            q.push(" FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND c.id IN (SELECT e.id FROM contacts e WHERE e.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND e.mobile >= ")
                .push_bind(format!("+{digits}"))
                .push(" AND e.mobile < ")
                .push_bind(format!("+{digits}{DIGITS_END}"))
                .push(" UNION ALL SELECT n.id FROM (");
            push_calling_codes(q, workspace_id);
            q.push(") AS k JOIN contacts n ON n.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND n.mobile >= '+' || k.code || ")
                .push_bind(digits.clone())
                .push(" AND n.mobile < '+' || k.code || ")
                .push_bind(format!("{digits}{DIGITS_END}"))
                .push(")");
            push_group(q, filter.group);
            Source::Search
        }
        (SearchTerm::Text(text), _) => {
            q.push(" FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id);
            Ranges::text(text).push_ids(q, workspace_id);
            push_group(q, filter.group);
            Source::Search
        }
        (SearchTerm::None, Some(group)) => {
            q.push(
                " FROM memberships gm JOIN contacts c ON c.id = gm.contact_id WHERE gm.group_id = ",
            )
            .push_bind(group)
            .push(" AND c.workspace_id = ")
            .push_bind(workspace_id);
            Source::Group
        }
        (SearchTerm::None, None) => {
            // Without SQLite's STAT4 the planner guesses that a workspace is half the
            // table and may scan it in id order from the end, through every newer row of
            // other workspaces; the (workspace_id, id) index is always right for id order.
            q.push(if order_by_id {
                " FROM contacts c INDEXED BY contacts_by_workspace WHERE c.workspace_id = "
            } else {
                " FROM contacts c WHERE c.workspace_id = "
            })
            .push_bind(workspace_id);
            Source::All
        }
    };
    push_blacklisted(q, filter.blacklisted);
    source
}

/// Appends the "member of this group" condition on contacts aliased `c`.
fn push_group(q: &mut QueryBuilder<'_, Sqlite>, group: Option<i64>) {
    if let Some(group) = group {
        q.push(" AND EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = ")
            .push_bind(group)
            .push(" AND m.contact_id = c.id)");
    }
}

/// Appends the blacklisted / not blacklisted condition on contacts aliased `c`.
fn push_blacklisted(q: &mut QueryBuilder<'_, Sqlite>, blacklisted: Option<bool>) {
    if let Some(flag) = blacklisted {
        q.push(if flag {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        })
        .push(
            " (SELECT 1 FROM memberships bm JOIN groups bg ON bg.id = bm.group_id
               WHERE bm.contact_id = c.id AND bg.blacklisted = 1)",
        );
    }
}

/// The cursor comparison and the ORDER BY direction of a page query.
fn direction(descending: bool) -> (&'static str, &'static str) {
    if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    }
}

/// Appends a query of the workspace's calling codes (one column, `code`): a skip-scan
/// of the number index, one seek per code, since codes are prefix-free and each stored
/// number is `+`, its code, then `mobile_national`.
fn push_calling_codes(q: &mut QueryBuilder<'_, Sqlite>, workspace_id: i64) {
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
async fn calling_codes(pool: &SqlitePool, workspace_id: i64) -> Result<Vec<String>, AppError> {
    let mut q = QueryBuilder::new("");
    push_calling_codes(&mut q, workspace_id);
    Ok(q.build_query_scalar().fetch_all(pool).await?)
}

/// A page of a search being read: the heads' queries and the page's direction and size.
struct SearchPage<'a> {
    pool: &'a SqlitePool,
    workspace_id: i64,
    filter: &'a ContactFilter,
    ranges: &'a Ranges,
    descending: bool,
    limit: i64,
}

impl SearchPage<'_> {
    /// Up to `limit` rows in (term, id) order from the cursor: one query per head, each
    /// a range of its index, merged here. A contact matching several heads is listed
    /// once, at its smallest term (on a tie, the first head's); the merge reads each head
    /// only as far as the page reaches, so a head whose matches are all listed elsewhere
    /// (emails that start like their owners' names) costs a page, not its whole range.
    async fn rows(&self, cursor: Option<&Cursor>) -> Result<Vec<ListedContact>, AppError> {
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
            let listed_elsewhere = others[i].iter().zip(&terms).any(|(&(j, _), term)| {
                self.ranges.holds(term)
                    && (*term < row.sort_key || (*term == row.sort_key && j < i))
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
        let (cmp, ord) = direction(self.descending);
        let head = &self.ranges.heads[i];
        let ranged = head.ranged;
        let mut q = QueryBuilder::new(format!(
            "SELECT c.id, c.first_name, c.last_name, c.mobile, c.email, c.created_at, \
             {} AS sort_key",
            head.term
        ));
        for (_, any) in others {
            q.push(format!(", {any}"));
        }
        q.push(" FROM contacts c WHERE c.workspace_id = ")
            .push_bind(self.workspace_id);
        self.ranges
            .push_range(&mut q, head, cursor, self.descending);
        push_group(&mut q, self.filter.group);
        push_blacklisted(&mut q, self.filter.blacklisted);
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
        let found = q.build().fetch_all(self.pool).await?;
        let columns = 7; // the listed contact's, then the other heads' terms
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
    }
}

/// One page of the table, in the filter's order, before or after a cursor.
pub async fn page(
    pool: &SqlitePool,
    workspace_id: i64,
    filter: &ContactFilter,
    request: &PageRequest,
    size: u32,
) -> Result<ListedPage, AppError> {
    let search = SearchTerm::parse(&filter.search);
    // A search lists matches in term order; otherwise the chosen sort applies.
    let display_descending = search == SearchTerm::None
        && matches!(filter.sort, ContactSort::Newest | ContactSort::NameDesc);
    let (cursor, backwards) = match request {
        PageRequest::First => (None, false),
        PageRequest::After(c) => (Some(c), false),
        PageRequest::Before(c) => (Some(c), true),
    };
    let descending = display_descending != backwards;
    let limit = i64::from(size) + 1;
    let ranges = match &search {
        SearchTerm::Digits(digits) => Some(Ranges::digits(
            digits,
            &calling_codes(pool, workspace_id).await?,
        )),
        SearchTerm::Text(text) => Some(Ranges::text(text)),
        SearchTerm::None => None,
    };
    let mut rows = match &ranges {
        Some(ranges) => {
            let search = SearchPage {
                pool,
                workspace_id,
                filter,
                ranges,
                descending,
                limit,
            };
            search.rows(cursor).await?
        }
        None => table_rows(pool, workspace_id, filter, cursor, descending, limit).await?,
    };
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    if backwards {
        rows.reverse();
    }
    let cursor_of = |row: &ListedContact| Cursor {
        key: row.sort_key.clone(),
        id: row.id,
    };
    let (has_previous, has_next) = match request {
        PageRequest::First => (false, more),
        PageRequest::After(_) => (true, more),
        PageRequest::Before(_) => (more, true),
    };
    Ok(ListedPage {
        previous: rows.first().filter(|_| has_previous).map(cursor_of),
        next: rows.last().filter(|_| has_next).map(cursor_of),
        rows,
    })
}

/// Rows of the table without a search, `limit` in the filter's order from the cursor.
async fn table_rows(
    pool: &SqlitePool,
    workspace_id: i64,
    filter: &ContactFilter,
    cursor: Option<&Cursor>,
    descending: bool,
    limit: i64,
) -> Result<Vec<ListedContact>, AppError> {
    let (cmp, ord) = direction(descending);
    let by_name = matches!(filter.sort, ContactSort::NameAsc | ContactSort::NameDesc);
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT c.id, c.first_name, c.last_name, c.mobile, c.email, c.created_at, ",
    );
    q.push(if by_name { "c.sort_name" } else { "''" });
    q.push(" AS sort_key");
    let source = push_from(&mut q, workspace_id, filter, !by_name);
    // The key the order runs on: the name, or the id (ids grow with creation, so the id
    // is the date order; for a group, its membership key).
    let (key, id) = match (source, by_name) {
        (_, true) => (Some("c.sort_name"), "c.id"),
        (Source::Group, false) => (None, "gm.contact_id"),
        (Source::All | Source::Search, false) => (None, "c.id"),
    };
    if let Some(c) = cursor {
        match key {
            Some(key) => {
                q.push(format!(" AND ({key}, {id}) {cmp} ("))
                    .push_bind(c.key.clone())
                    .push(", ")
                    .push_bind(c.id)
                    .push(")");
            }
            None => {
                q.push(format!(" AND {id} {cmp} ")).push_bind(c.id);
            }
        }
    }
    match key {
        Some(key) => q.push(format!(" ORDER BY {key} {ord}, {id} {ord}")),
        None => q.push(format!(" ORDER BY {id} {ord}")),
    };
    q.push(" LIMIT ").push_bind(limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The group, when the filter is only "members of this group".
pub(crate) fn group_only(filter: &ContactFilter) -> Option<i64> {
    let plain =
        SearchTerm::parse(&filter.search).prefix().is_none() && filter.blacklisted.is_none();
    filter.group.filter(|_| plain)
}

/// How many contacts match the filter.
pub async fn count(
    pool: &SqlitePool,
    workspace_id: i64,
    filter: &ContactFilter,
) -> Result<i64, AppError> {
    if let Some(group) = group_only(filter) {
        // Memberships carry their contact's workspace: the count reads no contact row.
        return Ok(sqlx::query_scalar(
            "SELECT count(*) FROM memberships WHERE group_id = ?1 AND workspace_id = ?2",
        )
        .bind(group)
        .bind(workspace_id)
        .fetch_one(pool)
        .await?);
    }
    let mut q = QueryBuilder::new("SELECT count(*)");
    push_from(&mut q, workspace_id, filter, false);
    Ok(q.build_query_scalar().fetch_one(pool).await?)
}

/// Appends `AND c.id IN (…the selection…)` for contacts aliased `c`.
pub(crate) fn push_selection(
    q: &mut QueryBuilder<'_, Sqlite>,
    workspace_id: i64,
    selection: &Selection,
) -> Result<(), AppError> {
    match selection {
        Selection::Ids(ids) => {
            let json =
                serde_json::to_string(ids).map_err(|e| AppError::internal("selection", e))?;
            q.push(" AND c.id IN (SELECT value FROM json_each(")
                .push_bind(json)
                .push("))");
        }
        Selection::AllMatching(filter) => {
            let unfiltered = SearchTerm::parse(&filter.search).prefix().is_none()
                && filter.group.is_none()
                && filter.blacklisted.is_none();
            if !unfiltered {
                q.push(" AND c.id IN (SELECT c.id");
                push_from(q, workspace_id, filter, false);
                q.push(")");
            }
        }
    }
    Ok(())
}

/// How many contacts of the workspace a selection holds.
pub async fn count_selection(
    pool: &SqlitePool,
    workspace_id: i64,
    selection: &Selection,
) -> Result<i64, AppError> {
    match selection {
        Selection::AllMatching(filter) => count(pool, workspace_id, filter).await,
        Selection::Ids(_) => {
            let mut q =
                QueryBuilder::new("SELECT count(*) FROM contacts c WHERE c.workspace_id = ");
            q.push_bind(workspace_id);
            push_selection(&mut q, workspace_id, selection)?;
            Ok(q.build_query_scalar().fetch_one(pool).await?)
        }
    }
}

/// Deletes the selected contacts of the workspace; returns how many.
pub async fn delete(
    pool: &SqlitePool,
    workspace_id: i64,
    selection: &Selection,
) -> Result<u64, AppError> {
    let mut q = QueryBuilder::new("DELETE FROM contacts AS c WHERE c.workspace_id = ");
    q.push_bind(workspace_id);
    push_selection(&mut q, workspace_id, selection)?;
    Ok(q.build().execute(pool).await?.rows_affected())
}

/// Up to `limit` selected contacts with every field, after id `after_id`, in id order:
/// export reads the selection batch by batch, so memory stays flat for any size.
pub async fn export_batch(
    pool: &SqlitePool,
    workspace_id: i64,
    selection: &Selection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<StoredContact>, AppError> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM contacts c WHERE c.workspace_id = "
    ));
    q.push_bind(workspace_id);
    q.push(" AND c.id > ").push_bind(after_id);
    push_selection(&mut q, workspace_id, selection)?;
    q.push(" ORDER BY c.id LIMIT ").push_bind(limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::workspaces;

    fn person(first: &str, last: &str, mobile: Option<(&str, &str)>) -> ContactRecord {
        ContactRecord {
            first_name: first.into(),
            last_name: last.into(),
            mobile: mobile.map(|(e164, _)| e164.to_string()),
            mobile_national: mobile.map(|(_, national)| national.to_string()),
            country: "SG".into(),
            attributes: "[]".into(),
            ..Default::default()
        }
    }

    async fn workspace(pool: &SqlitePool) -> i64 {
        workspaces::create(pool, "Acme", "SG").await.unwrap()
    }

    fn names(page: &ListedPage) -> Vec<String> {
        page.rows
            .iter()
            .map(|r| {
                format!("{} {}", r.first_name, r.last_name)
                    .trim()
                    .to_string()
            })
            .collect()
    }

    fn filter(search: &str, sort: ContactSort) -> ContactFilter {
        ContactFilter {
            search: search.into(),
            sort,
            ..Default::default()
        }
    }

    /// Walks every page forward, then back, and returns the ids in order.
    async fn walk(
        pool: &SqlitePool,
        ws: i64,
        filter: &ContactFilter,
        size: u32,
    ) -> (Vec<i64>, Vec<i64>) {
        let mut forward = Vec::new();
        let mut request = PageRequest::First;
        let mut last;
        loop {
            let page = page(pool, ws, filter, &request, size).await.unwrap();
            forward.extend(page.rows.iter().map(|r| r.id));
            last = page.clone();
            match page.next {
                Some(c) => request = PageRequest::After(c),
                None => break,
            }
        }
        let mut backward: Vec<i64> = last.rows.iter().rev().map(|r| r.id).collect();
        let mut previous = last.previous;
        while let Some(c) = previous {
            let page = page(pool, ws, filter, &PageRequest::Before(c), size)
                .await
                .unwrap();
            backward.extend(page.rows.iter().rev().map(|r| r.id));
            previous = page.previous;
        }
        backward.reverse();
        (forward, backward)
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn create_get_update_delete(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        let id = create(
            &pool,
            ws,
            &person("Ann", "Lee", Some(("+6581234567", "81234567"))),
        )
        .await
        .unwrap();
        let stored = get(&pool, ws, id).await.unwrap();
        assert_eq!(stored.record.first_name, "Ann");
        assert_eq!(stored.record.mobile.as_deref(), Some("+6581234567"));

        let mut changed = stored.record.clone();
        changed.last_name = "Tan".into();
        update(&mut pool.acquire().await.unwrap(), ws, id, &changed)
            .await
            .unwrap();
        assert_eq!(get(&pool, ws, id).await.unwrap().record.last_name, "Tan");
        // Search follows the change.
        let found = page(
            &pool,
            ws,
            &filter("tan", ContactSort::Newest),
            &PageRequest::First,
            50,
        )
        .await
        .unwrap();
        assert_eq!(names(&found), ["Ann Tan"]);
        let gone = page(
            &pool,
            ws,
            &filter("lee", ContactSort::Newest),
            &PageRequest::First,
            50,
        )
        .await
        .unwrap();
        assert!(gone.rows.is_empty());

        assert_eq!(
            delete(&pool, ws, &Selection::Ids(vec![id])).await.unwrap(),
            1
        );
        assert!(matches!(
            get(&pool, ws, id).await,
            Err(AppError::NotFound(_))
        ));
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn a_number_belongs_to_one_contact_per_workspace(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        let other = workspaces::create(&pool, "Other", "SG").await.unwrap();
        let number = Some(("+6581234567", "81234567"));
        create(&pool, ws, &person("Ann", "Lee", number))
            .await
            .unwrap();
        let again = create(&pool, ws, &person("Bob", "Ng", number))
            .await
            .unwrap_err();
        assert_eq!(
            again.field_message("mobile").as_deref(),
            Some("This number already belongs to Ann Lee.")
        );
        // Another workspace may hold the same number.
        create(&pool, other, &person("Cat", "Ong", number))
            .await
            .unwrap();
        // Contacts without numbers do not clash.
        create(&pool, ws, &person("Dan", "", None)).await.unwrap();
        create(&pool, ws, &person("Eve", "", None)).await.unwrap();
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn another_workspace_cannot_read_change_or_delete(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        let other = workspaces::create(&pool, "Other", "SG").await.unwrap();
        let id = create(&pool, ws, &person("Ann", "Lee", None))
            .await
            .unwrap();
        assert!(matches!(
            get(&pool, other, id).await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            update(
                &mut pool.acquire().await.unwrap(),
                other,
                id,
                &person("X", "Y", None)
            )
            .await,
            Err(AppError::NotFound(_))
        ));
        assert_eq!(
            delete(&pool, other, &Selection::Ids(vec![id]))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            delete(
                &pool,
                other,
                &Selection::AllMatching(ContactFilter::default())
            )
            .await
            .unwrap(),
            0
        );
        assert_eq!(
            count(&pool, other, &ContactFilter::default())
                .await
                .unwrap(),
            0
        );
        assert!(
            page(
                &pool,
                other,
                &ContactFilter::default(),
                &PageRequest::First,
                50
            )
            .await
            .unwrap()
            .rows
            .is_empty()
        );
        assert_eq!(get(&pool, ws, id).await.unwrap().record.first_name, "Ann");
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn paging_never_skips_or_repeats_even_with_equal_names(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        let mut ids = Vec::new();
        for i in 0..23 {
            // Many contacts share a name, so only the id tells them apart.
            let first = ["Ann", "Bob", "ann", "Cat"][i % 4];
            ids.push(
                create(&pool, ws, &person(first, "Lee", None))
                    .await
                    .unwrap(),
            );
        }
        for sort in ContactSort::ALL {
            let (forward, backward) = walk(&pool, ws, &filter("", sort), 5).await;
            let mut sorted = forward.clone();
            sorted.sort_unstable();
            let mut expected = ids.clone();
            expected.sort_unstable();
            assert_eq!(sorted, expected, "{sort:?}: every contact exactly once");
            assert_eq!(forward, backward, "{sort:?}: Previous retraces Next");
        }
        let (newest, _) = walk(&pool, ws, &filter("", ContactSort::Newest), 7).await;
        assert_eq!(newest, ids.iter().rev().copied().collect::<Vec<_>>());
        let first = page(
            &pool,
            ws,
            &filter("", ContactSort::NameAsc),
            &PageRequest::First,
            50,
        )
        .await
        .unwrap();
        assert!(
            names(&first)
                .windows(2)
                .all(|w| w[0].to_lowercase() <= w[1].to_lowercase())
        );
        assert!(first.previous.is_none() && first.next.is_none());
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn search_by_name_email_and_phone_digits(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        create(
            &pool,
            ws,
            &person("Ann", "Smith", Some(("+6581234567", "81234567"))),
        )
        .await
        .unwrap();
        create(
            &pool,
            ws,
            &person("Annabel", "Ng", Some(("+6591234567", "91234567"))),
        )
        .await
        .unwrap();
        create(&pool, ws, &person("Bob", "Annan", None))
            .await
            .unwrap();
        let mut with_email = person("Zed", "Zhu", None);
        with_email.email = Some("ann.z@example.com".into());
        create(&pool, ws, &with_email).await.unwrap();
        create(&pool, ws, &person("Émile", "Zola", None))
            .await
            .unwrap();
        // Its email equals its sort name: two heads match with the same term.
        let mut quill = person("", "Quill", None);
        quill.email = Some("quill".into());
        create(&pool, ws, &quill).await.unwrap();

        let search = |q: &str| {
            let pool = pool.clone();
            let q = q.to_string();
            async move {
                let f = filter(&q, ContactSort::Newest);
                let page = page(&pool, ws, &f, &PageRequest::First, 50).await.unwrap();
                let count = count(&pool, ws, &f).await.unwrap();
                assert_eq!(
                    count as usize,
                    page.rows.len(),
                    "count agrees with rows for {q:?}"
                );
                let mut names = names(&page);
                names.sort();
                names
            }
        };
        // First name, last name and email prefixes, each contact once.
        assert_eq!(
            search("ann").await,
            ["Ann Smith", "Annabel Ng", "Bob Annan", "Zed Zhu"]
        );
        assert_eq!(search("SMI").await, ["Ann Smith"]);
        assert_eq!(search("ann s").await, ["Ann Smith"]);
        // Local digits and international digits.
        assert_eq!(search("8123").await, ["Ann Smith"]);
        assert_eq!(search("+65 9123").await, ["Annabel Ng"]);
        assert_eq!(search("65").await, ["Ann Smith", "Annabel Ng"]);
        // Unicode names are matched case-insensitively.
        assert_eq!(search("émi").await, ["Émile Zola"]);
        assert_eq!(search("ÉMI").await, ["Émile Zola"]);
        assert!(search("xyz").await.is_empty());
        // Prefix only: "nna" is inside "Ann" but starts nothing.
        assert!(search("nna").await.is_empty());
        // A last name alone is the whole name: found once, and only from its start.
        // (Quill is found once although its email and sort name are the same.)
        assert_eq!(search("qui").await, ["Quill"]);
        assert!(search("uill").await.is_empty());
        assert_eq!(search("zo").await, ["Émile Zola"]);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn search_pages_list_each_match_once(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        for i in 0..17 {
            let mut p = person("Ann", &format!("Anders{i:02}"), None);
            p.email = Some(format!("ann{i}@example.com"));
            create(&pool, ws, &p).await.unwrap();
        }
        create(&pool, ws, &person("Bob", "Brown", None))
            .await
            .unwrap();
        let (forward, backward) = walk(&pool, ws, &filter("an", ContactSort::Newest), 4).await;
        assert_eq!(forward.len(), 17);
        let unique: std::collections::BTreeSet<_> = forward.iter().collect();
        assert_eq!(unique.len(), 17);
        assert_eq!(forward, backward);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn a_search_reads_past_matches_listed_under_another_term(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        // Each Mara's email also starts with "mar", after her name: listed by name only,
        // so the email range holds 30 rows to pass over before Mary's.
        for i in 0..30 {
            let mut p = person("Mara", &format!("X{i:02}"), None);
            p.email = Some(format!("mara.x{i:02}@example.com"));
            create(&pool, ws, &p).await.unwrap();
        }
        create(&pool, ws, &person("Zed", "Marley", None))
            .await
            .unwrap();
        let mut mary = person("Bob", "Quinn", None);
        mary.email = Some("mary@example.com".into());
        let mary = create(&pool, ws, &mary).await.unwrap();
        let search = filter("mar", ContactSort::Newest);
        let (forward, backward) = walk(&pool, ws, &search, 5).await;
        assert_eq!(forward.len(), 32);
        assert_eq!(forward.last(), Some(&mary), "the email match comes last");
        assert_eq!(forward, backward);
        assert_eq!(count(&pool, ws, &search).await.unwrap(), 32);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn phone_search_pages_list_each_match_once_across_countries(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        let numbers = [
            // International and national digits both start with 65.
            ("+6565000001", "65000001"),
            ("+6565000002", "65000002"),
            ("+6565000003", "65000003"),
            // Only the international digits do.
            ("+6581000001", "81000001"),
            ("+6581000002", "81000002"),
            // Only the national digits, behind another code.
            ("+16505550123", "6505550123"),
            // Neither.
            ("+447911123456", "7911123456"),
            ("+12025550123", "2025550123"),
        ];
        let mut ids = Vec::new();
        for (i, number) in numbers.iter().enumerate() {
            let p = person("Ann", &format!("Lee{i}"), Some(*number));
            ids.push(create(&pool, ws, &p).await.unwrap());
        }
        let other = workspaces::create(&pool, "B", "SG").await.unwrap();
        create(
            &pool,
            other,
            &person("Not", "Mine", Some(("+6565000009", "65000009"))),
        )
        .await
        .unwrap();

        let f = filter("65", ContactSort::Newest);
        let (forward, backward) = walk(&pool, ws, &f, 2).await;
        assert_eq!(forward, backward);
        let mut found = forward.clone();
        found.sort();
        assert_eq!(
            found,
            ids[..6].to_vec(),
            "each match once, no other workspace"
        );
        assert_eq!(count(&pool, ws, &f).await.unwrap(), 6);
        // In term order: national "65000001…" before "6505550123", then "6581…".
        assert_eq!(forward, [ids[0], ids[1], ids[2], ids[5], ids[3], ids[4]]);
        // National digits of another country, and international ones with the code.
        let us = filter("650", ContactSort::Newest);
        assert_eq!(count(&pool, ws, &us).await.unwrap(), 4);
        let gb = filter("+44 7911", ContactSort::Newest);
        let rows = page(&pool, ws, &gb, &PageRequest::First, 10).await.unwrap();
        assert_eq!(rows.rows.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[6]]);
        let selection = Selection::AllMatching(f);
        assert_eq!(count_selection(&pool, ws, &selection).await.unwrap(), 6);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn delete_all_matching_spares_the_rest(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        for name in ["Ann", "Anna", "Bob"] {
            create(&pool, ws, &person(name, "", None)).await.unwrap();
        }
        let matching = Selection::AllMatching(filter("ann", ContactSort::Newest));
        assert_eq!(delete(&pool, ws, &matching).await.unwrap(), 2);
        assert_eq!(
            count(&pool, ws, &ContactFilter::default()).await.unwrap(),
            1
        );
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn export_reads_the_selection_in_batches(pool: SqlitePool) {
        let ws = workspace(&pool).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                create(&pool, ws, &person(&format!("P{i}"), "", None))
                    .await
                    .unwrap(),
            );
        }
        let all = Selection::AllMatching(ContactFilter::default());
        let first = export_batch(&pool, ws, &all, 0, 3).await.unwrap();
        let rest = export_batch(&pool, ws, &all, first.last().unwrap().id, 3)
            .await
            .unwrap();
        assert_eq!(first.len() + rest.len(), 5);
        let picked = export_batch(&pool, ws, &Selection::Ids(vec![ids[1], ids[3]]), 0, 100)
            .await
            .unwrap();
        assert_eq!(
            picked.iter().map(|c| c.id).collect::<Vec<_>>(),
            [ids[1], ids[3]]
        );
    }
}
