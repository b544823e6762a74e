//! Server configuration from environment variables, with defaults that work out of the box.

use std::path::PathBuf;

/// When the session cookie carries the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecurity {
    /// Secure when the request came over https (directly or per `X-Forwarded-Proto`).
    Auto,
    /// Always Secure (the app is only reachable over https).
    Always,
    /// Never Secure (plain http, e.g. local development).
    Never,
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the SQLite database and uploads (`CONTACTS_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// Largest accepted upload in bytes (`CONTACTS_MAX_UPLOAD_MB`, default 1024 MB).
    pub max_upload_bytes: u64,
    /// How long a sign-in lasts (`CONTACTS_SESSION_DAYS`, default 30).
    pub session_days: i64,
    /// `CONTACTS_SECURE_COOKIE`: `auto` (default), `always` or `never`.
    pub cookie_security: CookieSecurity,
}

/// A variable was set to something unusable.
#[derive(Debug, thiserror::Error)]
#[error("{name} must be {expected}, not {value:?}")]
pub struct ConfigError {
    name: &'static str,
    expected: &'static str,
    value: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(value) => {
                    value
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(ConfigError {
                            name,
                            expected: "a positive whole number",
                            value,
                        })
                }
            }
        };
        let cookie_security = match lookup("CONTACTS_SECURE_COOKIE").as_deref().map(str::trim) {
            None | Some("auto") => CookieSecurity::Auto,
            Some("always") => CookieSecurity::Always,
            Some("never") => CookieSecurity::Never,
            Some(other) => {
                return Err(ConfigError {
                    name: "CONTACTS_SECURE_COOKIE",
                    expected: "auto, always or never",
                    value: other.to_string(),
                });
            }
        };
        Ok(Config {
            data_dir: lookup("CONTACTS_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("data")),
            max_upload_bytes: number("CONTACTS_MAX_UPLOAD_MB", 1024)?.saturating_mul(1024 * 1024),
            session_days: number("CONTACTS_SESSION_DAYS", 30)? as i64,
            cookie_security,
        })
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("contacts.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_path(), PathBuf::from("data/contacts.db"));
        assert_eq!(config.max_upload_bytes, 1024 * 1024 * 1024);
        assert_eq!(config.session_days, 30);
        assert_eq!(config.cookie_security, CookieSecurity::Auto);
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let error = config(&[("CONTACTS_MAX_UPLOAD_MB", "lots")]).unwrap_err();
        assert!(error.to_string().contains("CONTACTS_MAX_UPLOAD_MB"));
        assert!(config(&[("CONTACTS_SECURE_COOKIE", "yes")]).is_err());
        assert_eq!(
            config(&[("CONTACTS_SECURE_COOKIE", "always")])
                .unwrap()
                .cookie_security,
            CookieSecurity::Always
        );
    }
}
