//! Opt-outs: a person's "do not message me here", kept per channel and address with why
//! and where it came from, and the inbound keywords that give or take one back.
//!
//! An opt-out belongs to an address on a channel (a number for SMS, an email for email),
//! not to a contact row: one given by a number no contact has yet holds for the contact
//! that later gets it, and a contact whose number changes is reachable on the new one.

use crate::model::channel::Channel;
use serde::{Deserialize, Serialize};

/// Why someone may not be messaged on a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptOutReason {
    /// They asked to stop (a link, a form, a conversation).
    Unsubscribed,
    /// They complained (marked a message as spam).
    Complaint,
    /// Messages to the address do not arrive.
    Bounced,
    /// Someone of the business decided so.
    Manual,
    /// They replied with an opt-out keyword (STOP, …).
    Keyword,
}

impl OptOutReason {
    /// Every reason, in the order the dialog lists them.
    pub const ALL: [OptOutReason; 5] = [
        OptOutReason::Unsubscribed,
        OptOutReason::Complaint,
        OptOutReason::Bounced,
        OptOutReason::Manual,
        OptOutReason::Keyword,
    ];

    /// Its name in the API and the database.
    pub fn key(self) -> &'static str {
        match self {
            OptOutReason::Unsubscribed => "unsubscribed",
            OptOutReason::Complaint => "complaint",
            OptOutReason::Bounced => "bounced",
            OptOutReason::Manual => "manual",
            OptOutReason::Keyword => "keyword",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            OptOutReason::Unsubscribed => "Unsubscribed",
            OptOutReason::Complaint => "Complaint",
            OptOutReason::Bounced => "Bounced",
            OptOutReason::Manual => "Set by hand",
            OptOutReason::Keyword => "Replied with a keyword",
        }
    }

    /// The reason of this name.
    pub fn parse(key: &str) -> Option<OptOutReason> {
        OptOutReason::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// Where a change to a contact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A user, in the app.
    Ui,
    /// An integration, through the API.
    Api,
    /// An upload.
    Import,
    /// An inbound message's keyword.
    Keyword,
    /// An upload's undo.
    Undo,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 5] = [
        Source::Ui,
        Source::Api,
        Source::Import,
        Source::Keyword,
        Source::Undo,
    ];

    /// Its name in the API and the database.
    pub fn key(self) -> &'static str {
        match self {
            Source::Ui => "ui",
            Source::Api => "api",
            Source::Import => "import",
            Source::Keyword => "keyword",
            Source::Undo => "undo",
        }
    }

    /// The source of this name.
    pub fn parse(key: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.key() == key)
    }

    /// How a change came, for people ("in the app").
    pub fn label(self) -> &'static str {
        match self {
            Source::Ui => "in the app",
            Source::Api => "through the API",
            Source::Import => "by an upload",
            Source::Keyword => "by a reply with a keyword",
            Source::Undo => "by undoing an upload",
        }
    }
}

/// A contact's opt-out of one channel, as the app shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    /// The channel.
    pub channel: Channel,
    /// Why.
    pub reason: OptOutReason,
    /// Where it came from.
    pub source: Source,
    /// Who gave it, for people: a user's email, an API key's name, an upload's file.
    pub by: String,
    /// When (seconds since the epoch).
    pub at: i64,
}

/// What an inbound message's first word asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// Stop messaging me on this channel.
    OptOut,
    /// Message me again.
    OptIn,
}

/// The words that opt the sender out, as carriers and Twilio read them.
const OPT_OUT_WORDS: [&str; 8] = [
    "STOP",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "STOPALL",
    "REVOKE",
    "OPTOUT",
    "CANCEL",
];

/// The words that opt the sender back in.
const OPT_IN_WORDS: [&str; 3] = ["START", "YES", "UNSTOP"];

/// The keyword of a message: its first word, whatever its case and the spaces and
/// punctuation around it ("  Stop. " opts out; "stop it" too; "please stop" does not).
pub fn keyword(text: &str) -> Option<Keyword> {
    let first = text.split_whitespace().next()?;
    let word = first
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_uppercase();
    if OPT_OUT_WORDS.contains(&word.as_str()) {
        Some(Keyword::OptOut)
    } else if OPT_IN_WORDS.contains(&word.as_str()) {
        Some(Keyword::OptIn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_is_the_keyword_whatever_its_case() {
        for text in [
            "STOP",
            "stop",
            "  Stop. ",
            "stop it please",
            "Unsubscribe!",
            "\tcancel\n",
        ] {
            assert_eq!(keyword(text), Some(Keyword::OptOut), "{text:?}");
        }
        for text in ["START", "yes", "Unstop"] {
            assert_eq!(keyword(text), Some(Keyword::OptIn), "{text:?}");
        }
        for text in ["", "   ", "please stop", "stopping", "yesterday", "🛑"] {
            assert_eq!(keyword(text), None, "{text:?}");
        }
    }

    #[test]
    fn reasons_and_sources_read_back_their_names() {
        for reason in OptOutReason::ALL {
            assert_eq!(OptOutReason::parse(reason.key()), Some(reason));
            assert_eq!(
                serde_json::to_string(&reason).unwrap(),
                format!("\"{}\"", reason.key())
            );
        }
        for source in Source::ALL {
            assert_eq!(Source::parse(source.key()), Some(source));
            assert_eq!(
                serde_json::to_string(&source).unwrap(),
                format!("\"{}\"", source.key())
            );
        }
        assert_eq!(OptOutReason::parse("bored"), None);
    }
}
