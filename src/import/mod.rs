//! CSV imports: the file sniffing and column tagging that the browser's preview and the
//! server's importer share, and the import's options and status as they cross the wire.

pub mod columns;
pub mod encoding;
#[cfg(feature = "ssr")]
pub mod pipeline;
pub mod preview;
pub mod records;
#[cfg(feature = "ssr")]
pub mod rule;
pub mod sheet;
pub mod sniff;

use crate::error::AppError;
use crate::model::country::normalize_country;
use columns::Columns;
use encoding::Encoding;
use serde::{Deserialize, Serialize};
use sniff::Delimiter;

/// File name endings of CSV text the upload accepts.
pub const TEXT_EXTENSIONS: [&str; 3] = ["csv", "tsv", "txt"];

/// File name endings of the spreadsheets the upload accepts.
pub const SPREADSHEET_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

fn has_ending(name: &str, endings: &[&str]) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| endings.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// Whether a file name has an ending the upload accepts.
pub fn accepted_file_name(name: &str) -> bool {
    has_ending(name, &TEXT_EXTENSIONS) || is_spreadsheet_name(name)
}

/// Whether a file name says the file is a spreadsheet.
pub fn is_spreadsheet_name(name: &str) -> bool {
    has_ending(name, &SPREADSHEET_EXTENSIONS)
}

/// The message for a file whose name says it is neither CSV text nor a spreadsheet.
pub fn not_csv_message(name: &str) -> String {
    format!(
        "\"{name}\" is neither a CSV file nor a spreadsheet. Upload a .csv, .tsv or .txt \
         file, or an .xlsx, .xlsm, .xlsb, .xls or .ods spreadsheet."
    )
}

/// How to read a file, as the user confirmed it in the preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// The text encoding.
    pub encoding: Encoding,
    /// The field delimiter.
    pub delimiter: Delimiter,
    /// Whether the first row names the columns (and is not imported).
    pub has_header: bool,
    /// The tagged columns; the mobile column is required.
    pub columns: Columns,
    /// Country for numbers written without a country code.
    pub country: String,
    /// A group to add every imported contact to: an existing group's name or a new one.
    pub group: Option<String>,
    /// Whether the file's values replace those of contacts that already exist (every
    /// mapped field with a value; custom fields merge by key). Otherwise they are kept.
    #[serde(alias = "update_names")]
    pub update_existing: bool,
    /// For a spreadsheet, the sheet to read (the encoding and delimiter then do not
    /// apply); `None` for a CSV file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

impl ImportOptions {
    /// The settings as the importer may use them (the country code normalised), or what
    /// is wrong with them: the checks the preview makes before it offers "Start
    /// processing", made again on the server for settings that did not come from it.
    pub fn checked(mut self) -> Result<ImportOptions, AppError> {
        if self.columns.get(columns::Field::Mobile).is_none() {
            return Err(AppError::invalid(
                "mobile",
                "Tag the column that holds the mobile number.",
            ));
        }
        if let Some(problem) = self.columns.problem() {
            return Err(AppError::invalid("columns", problem));
        }
        self.country = normalize_country(&self.country)
            .ok_or_else(|| AppError::invalid("country", "Choose a default country."))?
            .to_string();
        Ok(self)
    }

    /// A UTF-8, comma-separated file with a header row, read with `country` as the default
    /// country; no group, names of existing contacts kept.
    pub fn csv_with_header(columns: Columns, country: &str) -> Self {
        ImportOptions {
            encoding: Encoding::Utf8,
            delimiter: Delimiter::Comma,
            has_header: true,
            columns,
            country: country.to_string(),
            group: None,
            update_existing: false,
            sheet: None,
        }
    }
}

/// Where an import is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    /// Waiting for the import before it to finish.
    Queued,
    /// Being read.
    Processing,
    /// Done; the counts are final.
    Completed,
    /// Stopped; `error` says why.
    Failed,
}

impl ImportStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Processing => "processing",
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        [
            ImportStatus::Queued,
            ImportStatus::Processing,
            ImportStatus::Completed,
            ImportStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the import may still change.
    pub fn is_active(self) -> bool {
        matches!(self, ImportStatus::Queued | ImportStatus::Processing)
    }

    /// The word shown to users.
    pub fn label(self) -> &'static str {
        match self {
            ImportStatus::Queued => "Queued",
            ImportStatus::Processing => "Processing",
            ImportStatus::Completed => "Completed",
            ImportStatus::Failed => "Failed",
        }
    }
}

/// What an import did: `created + matched + duplicates + invalid == rows_read`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Data rows read so far (the header row is not counted).
    pub rows_read: i64,
    /// New contacts.
    pub created: i64,
    /// Rows whose number already belonged to a contact of the workspace.
    pub matched: i64,
    /// Rows whose number appeared earlier in the same file.
    pub duplicates: i64,
    /// Rows refused (bad or missing number, wrong number of fields, ...).
    pub invalid: i64,
}

/// One upload as the uploads list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The import's id.
    pub id: i64,
    /// The uploaded file's name.
    pub file_name: String,
    /// Its size in bytes.
    pub file_size: i64,
    /// Who uploaded it (empty if that user was removed).
    pub user_email: String,
    /// When it was uploaded (seconds since the epoch).
    pub created_at: i64,
    /// Where it is.
    pub status: ImportStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// The counts so far.
    pub counts: ImportCounts,
    /// Bytes of the file read so far, for the progress bar.
    pub bytes_done: i64,
    /// The group contacts are added to, if any (and if it still exists).
    pub group_name: Option<String>,
    /// Whether its rejected-row report was deleted (some time after the import ended).
    pub report_deleted: bool,
    /// When it ended (seconds since the epoch), if it has.
    pub finished_at: Option<i64>,
    /// Its undo, if one was asked for.
    pub undo: Option<UndoProgress>,
}

/// A contact an undo left as it is, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptContact {
    /// The contact.
    pub contact_id: i64,
    /// Why: what changed since the upload.
    pub reason: String,
}

/// Where an upload's undo stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoProgress {
    /// `queued`, `running`, `completed` or `failed`.
    pub status: String,
    /// Contacts the upload created that were removed.
    pub removed: i64,
    /// Contacts the upload changed that are as they were before it.
    pub restored: i64,
    /// Contacts left as they are because they changed since (listed with the reason).
    pub kept: i64,
    /// When it finished (seconds since the epoch).
    pub finished_at: Option<i64>,
}

impl UndoProgress {
    /// Whether it waits or runs (not completed or failed).
    pub fn is_running(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }
}

impl ImportSummary {
    /// How far along the import is, from 0 to 1.
    pub fn progress(&self) -> f64 {
        match self.status {
            ImportStatus::Completed => 1.0,
            _ if self.file_size > 0 => (self.bytes_done as f64 / self.file_size as f64).min(1.0),
            _ => 0.0,
        }
    }
}

/// What the import will do with a row, as the preview shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowVerdict {
    /// A contact with this number (E.164): created, or matched to one that exists.
    Contact(String),
    /// The same number as the row on this line: counted once.
    Duplicate(u64),
    /// Refused, with the reason.
    Invalid(String),
}

/// `1.5 MB` for a byte count.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_file_names() {
        for name in [
            "a.csv", "B.CSV", "list.tsv", "x.y.txt", "a.xlsx", "B.ODS", "old.xls",
        ] {
            assert!(accepted_file_name(name), "{name}");
        }
        for name in ["csv", "photo.png", "a.csv.zip", "xlsx"] {
            assert!(!accepted_file_name(name), "{name}");
        }
        assert!(is_spreadsheet_name("list.XLSB"));
        assert!(!is_spreadsheet_name("list.csv"));
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(format_size(512), "512 bytes");
        assert_eq!(format_size(1536), "1.5 KB");
        assert_eq!(format_size(20 * 1024 * 1024), "20 MB");
        assert_eq!(format_size(1024 * 1024 * 1024), "1.0 GB");
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            ImportStatus::Queued,
            ImportStatus::Processing,
            ImportStatus::Completed,
            ImportStatus::Failed,
        ] {
            assert_eq!(ImportStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ImportStatus::parse("nope"), None);
    }
}
