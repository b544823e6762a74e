//! Which column holds what: the user's tags, and suggestions from header names.

use serde::{Deserialize, Serialize};

/// The fields an import reads from a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tag {
    /// The mobile number (required).
    Mobile,
    /// The first name.
    FirstName,
    /// The last name.
    LastName,
}

impl Tag {
    /// Every tag, in menu order.
    pub const ALL: [Tag; 3] = [Tag::Mobile, Tag::FirstName, Tag::LastName];

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Tag::Mobile => "Mobile number",
            Tag::FirstName => "First name",
            Tag::LastName => "Last name",
        }
    }
}

/// The columns (0-based) the user tagged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    /// The mobile number's column; required before processing.
    pub mobile: Option<usize>,
    /// The first name's column.
    pub first_name: Option<usize>,
    /// The last name's column.
    pub last_name: Option<usize>,
}

impl Columns {
    /// The tag on column `index`, if any.
    pub fn tag_of(&self, index: usize) -> Option<Tag> {
        Tag::ALL
            .into_iter()
            .find(|&tag| self.get(tag) == Some(index))
    }

    /// The column tagged `tag`.
    pub fn get(&self, tag: Tag) -> Option<usize> {
        match tag {
            Tag::Mobile => self.mobile,
            Tag::FirstName => self.first_name,
            Tag::LastName => self.last_name,
        }
    }

    /// Tags column `index` as `tag` (or untags it with `None`); a tag is on one column only.
    pub fn set(&mut self, index: usize, tag: Option<Tag>) {
        for slot in [&mut self.mobile, &mut self.first_name, &mut self.last_name] {
            if *slot == Some(index) {
                *slot = None;
            }
        }
        if let Some(tag) = tag {
            *match tag {
                Tag::Mobile => &mut self.mobile,
                Tag::FirstName => &mut self.first_name,
                Tag::LastName => &mut self.last_name,
            } = Some(index);
        }
    }

    /// The highest column any tag points at.
    pub fn widest(&self) -> Option<usize> {
        [self.mobile, self.first_name, self.last_name]
            .into_iter()
            .flatten()
            .max()
    }
}

/// Tags suggested for header cells: the first header matching each tag wins.
pub fn suggest(headers: &[String]) -> Columns {
    let mut columns = Columns::default();
    for (index, header) in headers.iter().enumerate() {
        if let Some(tag) = suggest_tag(header)
            && columns.get(tag).is_none()
        {
            columns.set(index, Some(tag));
        }
    }
    columns
}

/// The tag a header name suggests: case, spaces and punctuation do not matter.
pub fn suggest_tag(header: &str) -> Option<Tag> {
    let key: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    const MOBILE: [&str; 12] = [
        "mobile",
        "mobilenumber",
        "mobileno",
        "phone",
        "phonenumber",
        "phoneno",
        "msisdn",
        "cell",
        "cellphone",
        "cellnumber",
        "number",
        "telephone",
    ];
    const FIRST: [&str; 5] = ["firstname", "givenname", "first", "forename", "fname"];
    const LAST: [&str; 6] = [
        "lastname",
        "surname",
        "familyname",
        "last",
        "lname",
        "name2",
    ];
    if MOBILE.contains(&key.as_str()) {
        Some(Tag::Mobile)
    } else if FIRST.contains(&key.as_str()) {
        Some(Tag::FirstName)
    } else if LAST.contains(&key.as_str()) {
        Some(Tag::LastName)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn header_names_suggest_tags_ignoring_case_and_punctuation() {
        for name in [
            "Mobile",
            "PHONE",
            "msisdn",
            "Cell",
            "Mobile Number",
            "phone_number",
            "Number",
        ] {
            assert_eq!(suggest_tag(name), Some(Tag::Mobile), "{name}");
        }
        for name in ["First Name", "first_name", "Given name", "FIRSTNAME"] {
            assert_eq!(suggest_tag(name), Some(Tag::FirstName), "{name}");
        }
        for name in ["Last Name", "surname", "Family-Name", "last_name"] {
            assert_eq!(suggest_tag(name), Some(Tag::LastName), "{name}");
        }
        for name in ["email", "company", "", "notes"] {
            assert_eq!(suggest_tag(name), None, "{name}");
        }
    }

    #[test]
    fn suggestions_take_the_first_matching_column() {
        let columns = suggest(&headers(&[
            "Email",
            "Given name",
            "Surname",
            "Phone",
            "Cell",
        ]));
        assert_eq!(
            columns,
            Columns {
                mobile: Some(3),
                first_name: Some(1),
                last_name: Some(2),
            }
        );
        assert_eq!(columns.tag_of(3), Some(Tag::Mobile));
        assert_eq!(columns.tag_of(4), None);
        assert_eq!(columns.widest(), Some(3));
    }

    #[test]
    fn a_tag_moves_and_a_column_holds_one_tag() {
        let mut columns = Columns::default();
        columns.set(0, Some(Tag::Mobile));
        columns.set(2, Some(Tag::Mobile));
        assert_eq!(columns.mobile, Some(2));
        columns.set(2, Some(Tag::FirstName));
        assert_eq!((columns.mobile, columns.first_name), (None, Some(2)));
        columns.set(2, None);
        assert_eq!(columns, Columns::default());
    }
}
