//! Server configuration from environment variables, with defaults that work out of the box.

use crate::db::Location;
use crate::server::store::UploadStore;
use ipnet::IpNet;
use std::net::IpAddr;
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

/// How log lines are written (`CONTACTS_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `text` (default): a line for people to read.
    Text,
    /// `json`: one JSON object a line, for a log collector.
    Json,
}

impl LogFormat {
    /// Reads `CONTACTS_LOG_FORMAT` through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match lookup("CONTACTS_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("" | "text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(ConfigError {
                name: "CONTACTS_LOG_FORMAT",
                expected: "text or json",
                value: other.to_string(),
            }),
        }
    }
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the SQLite database and uploads (`CONTACTS_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// The database when not the SQLite file in the data folder (`CONTACTS_DATABASE_URL`:
    /// `postgres://user:password@host/name` or `sqlite:path`).
    pub database_url: Option<Location>,
    /// Connections the server keeps to PostgreSQL (`CONTACTS_DATABASE_POOL`, default 16).
    pub database_pool: u32,
    /// Where uploads wait for their import (`CONTACTS_UPLOAD_STORE`: unset for the
    /// `uploads` folder of the data folder, or `s3://bucket/prefix`).
    pub uploads: crate::server::store::UploadStore,
    /// Largest accepted upload in bytes (`CONTACTS_MAX_UPLOAD_MB`, default 1024 MB).
    pub max_upload_bytes: u64,
    /// How long a sign-in lasts (`CONTACTS_SESSION_DAYS`, default 30).
    pub session_days: i64,
    /// `CONTACTS_SECURE_COOKIE`: `auto` (default), `always` or `never`.
    pub cookie_security: CookieSecurity,
    /// Uploads are refused while the data disk has less free space than this
    /// (`CONTACTS_MIN_FREE_DISK_MB`; default twice the upload limit, at least 1 GiB).
    pub min_free_disk_bytes: u64,
    /// The address users reach the app at, e.g. `https://contacts.example.com`, for installs
    /// behind a proxy that changes the Host (`CONTACTS_PUBLIC_ORIGIN`; unset: the Host the
    /// request names). State-changing requests from any other origin are refused.
    pub public_origin: Option<String>,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed
    /// (`CONTACTS_TRUSTED_PROXIES`: addresses or CIDR ranges, comma-separated; default
    /// none, so the connection's own address is the client's).
    pub trusted_proxies: Vec<IpNet>,
    /// Rejected-row reports of imports finished longer ago than this are deleted
    /// (`CONTACTS_REJECTS_RETENTION_DAYS`, default 30).
    pub rejects_retention_days: i64,
    /// Contacts' history entries older than this are deleted
    /// (`CONTACTS_HISTORY_RETENTION_DAYS`, default 365).
    pub history_retention_days: i64,
    /// Uploads that finished longer ago than this can no longer be undone
    /// (`CONTACTS_UNDO_DAYS`, default 7).
    pub undo_days: i64,
    /// Requests per second each API key may make, on average
    /// (`CONTACTS_API_RATE_LIMIT`, default 100; bursts of as many again).
    pub api_rate_limit: u32,
    /// Whether webhook endpoints may be inside the network (loopback, private,
    /// link-local) (`CONTACTS_WEBHOOK_ALLOW_PRIVATE=true`; default false). For tests
    /// and installs whose receivers are on their own network.
    pub webhook_allow_private: bool,
    /// After a SIGTERM, how long requests in flight get to finish before the server
    /// exits (`CONTACTS_DRAIN_SECONDS`, default 25: under Kubernetes' 30 s grace).
    pub drain_seconds: u64,
    /// How log lines are written (`CONTACTS_LOG_FORMAT`: `text` or `json`).
    pub log_format: LogFormat,
    /// Where `GET /metrics` (Prometheus) is served (`CONTACTS_METRICS_ADDR`, e.g.
    /// `127.0.0.1:9100`): its own listener, never the public one. None: not at all.
    pub metrics_addr: Option<std::net::SocketAddr>,
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
        let max_upload_bytes = number("CONTACTS_MAX_UPLOAD_MB", 1024)?.saturating_mul(MB);
        let default_margin_mb = (max_upload_bytes.saturating_mul(2) / MB).max(1024);
        let public_origin = match lookup("CONTACTS_PUBLIC_ORIGIN") {
            None => None,
            Some(value) => Some(parse_origin(&value).ok_or(ConfigError {
                name: "CONTACTS_PUBLIC_ORIGIN",
                expected: "an origin like https://contacts.example.com (scheme, host, optional port)",
                value,
            })?),
        };
        let trusted_proxies = match lookup("CONTACTS_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(value) => parse_proxies(&value).ok_or(ConfigError {
                name: "CONTACTS_TRUSTED_PROXIES",
                expected: "addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8, ::1",
                value,
            })?,
        };
        let database_url = match lookup("CONTACTS_DATABASE_URL") {
            None => None,
            Some(value) => Some(Location::from_url(&value).ok_or(ConfigError {
                name: "CONTACTS_DATABASE_URL",
                expected: "a URL like postgres://user:password@host/contacts or sqlite:path/to/file.db",
                value: crate::db::without_password(&value),
            })?),
        };
        let data_dir = lookup("CONTACTS_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        let uploads = match lookup("CONTACTS_UPLOAD_STORE") {
            None => UploadStore::folder_in(&data_dir)
                .map_err(|why| (data_dir.display().to_string(), why)),
            Some(url) => UploadStore::s3(url.trim(), &lookup).map_err(|why| (url, why)),
        }
        .map_err(|(value, why)| ConfigError {
            name: "CONTACTS_UPLOAD_STORE",
            expected: "unset (the data folder) or s3://bucket/prefix",
            value: format!("{value} ({why})"),
        })?;
        Ok(Config {
            database_url,
            database_pool: number("CONTACTS_DATABASE_POOL", 16)?.clamp(1, 1000) as u32,
            data_dir,
            uploads,
            max_upload_bytes,
            session_days: number("CONTACTS_SESSION_DAYS", 30)? as i64,
            cookie_security,
            min_free_disk_bytes: number("CONTACTS_MIN_FREE_DISK_MB", default_margin_mb)?
                .saturating_mul(MB),
            public_origin,
            trusted_proxies,
            rejects_retention_days: number("CONTACTS_REJECTS_RETENTION_DAYS", 30)? as i64,
            history_retention_days: number("CONTACTS_HISTORY_RETENTION_DAYS", 365)? as i64,
            undo_days: number("CONTACTS_UNDO_DAYS", 7)? as i64,
            api_rate_limit: number("CONTACTS_API_RATE_LIMIT", 100)?.min(u64::from(u32::MAX)) as u32,
            webhook_allow_private: match lookup("CONTACTS_WEBHOOK_ALLOW_PRIVATE").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError {
                        name: "CONTACTS_WEBHOOK_ALLOW_PRIVATE",
                        expected: "true or false",
                        value: other.to_string(),
                    });
                }
            },
            drain_seconds: number("CONTACTS_DRAIN_SECONDS", 25)?,
            log_format: LogFormat::from_lookup(&lookup)?,
            metrics_addr: match lookup("CONTACTS_METRICS_ADDR") {
                None => None,
                Some(value) => Some(value.trim().parse().map_err(|_| ConfigError {
                    name: "CONTACTS_METRICS_ADDR",
                    expected: "an address and port like 127.0.0.1:9100",
                    value,
                })?),
            },
        })
    }

    /// The SQLite database file used when `CONTACTS_DATABASE_URL` is unset.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("contacts.db")
    }

    /// Where the data lives: `CONTACTS_DATABASE_URL`, or the SQLite file.
    pub fn database(&self) -> Location {
        self.database_url
            .clone()
            .unwrap_or_else(|| Location::Sqlite(self.database_path()))
    }

    /// Whether requests arriving from `peer` may name the client and scheme in
    /// `X-Forwarded-*` headers.
    pub fn trusts_proxy(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&peer))
    }
}

const MB: u64 = 1024 * 1024;

/// `https://Example.com:8443/` → `https://example.com:8443`: scheme, lower-case host and
/// port as a browser's `Origin` header writes them (no default port, no path).
fn parse_origin(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/');
    let (scheme, rest) = value.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority = rest.to_ascii_lowercase();
    let valid = !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    if !valid {
        return None;
    }
    let authority = authority
        .strip_suffix(&format!(":{default_port}"))
        .unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// `10.0.0.0/8, ::1` → the ranges (a bare address is a range of one).
fn parse_proxies(value: &str) -> Option<Vec<IpNet>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .ok()
                .or_else(|| part.parse::<IpAddr>().ok().map(IpNet::from))
        })
        .collect()
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
        assert_eq!(
            config.database(),
            Location::Sqlite(PathBuf::from("data/contacts.db"))
        );
        assert_eq!(config.max_upload_bytes, 1024 * 1024 * 1024);
        assert_eq!(config.session_days, 30);
        assert_eq!(config.cookie_security, CookieSecurity::Auto);
    }

    #[test]
    fn the_disk_margin_follows_the_upload_limit() {
        let small = config(&[("CONTACTS_MAX_UPLOAD_MB", "10")]).unwrap();
        assert_eq!(small.min_free_disk_bytes, 1024 * MB, "at least 1 GiB");
        let large = config(&[("CONTACTS_MAX_UPLOAD_MB", "4096")]).unwrap();
        assert_eq!(
            large.min_free_disk_bytes,
            8192 * MB,
            "twice the upload limit"
        );
        let set = config(&[("CONTACTS_MIN_FREE_DISK_MB", "50")]).unwrap();
        assert_eq!(set.min_free_disk_bytes, 50 * MB);
    }

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        let origin = |v: &str| {
            config(&[("CONTACTS_PUBLIC_ORIGIN", v)]).map(|c| c.public_origin.unwrap_or_default())
        };
        assert_eq!(
            origin("https://Contacts.Example.com/").unwrap(),
            "https://contacts.example.com"
        );
        assert_eq!(origin("https://a.test:443").unwrap(), "https://a.test");
        assert_eq!(origin("http://a.test:8080").unwrap(), "http://a.test:8080");
        assert!(origin("contacts.example.com").is_err());
        assert!(origin("https://a.test/path").is_err());
        assert!(origin("ftp://a.test").is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let config = config(&[("CONTACTS_TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).unwrap();
        assert!(config.trusts_proxy("10.1.2.3".parse().unwrap()));
        assert!(config.trusts_proxy("::1".parse().unwrap()));
        assert!(!config.trusts_proxy("192.0.2.1".parse().unwrap()));
        assert!(
            Config::from_lookup(|_| None)
                .unwrap()
                .trusted_proxies
                .is_empty()
        );
        let bad = super::parse_proxies("10.0.0.0/33");
        assert!(bad.is_none());
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

    #[test]
    fn the_database_is_chosen_by_url() {
        let postgres = "postgres://contacts:secret@db.internal:5432/contacts";
        let on_postgres = config(&[("CONTACTS_DATABASE_URL", postgres)]).unwrap();
        assert_eq!(on_postgres.database(), Location::Postgres(postgres.into()));
        let on_file = config(&[("CONTACTS_DATABASE_URL", "sqlite:/srv/contacts.db")]).unwrap();
        assert_eq!(
            on_file.database(),
            Location::Sqlite(PathBuf::from("/srv/contacts.db"))
        );
        let refused = config(&[("CONTACTS_DATABASE_URL", "mysql://root:secret@db/contacts")])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("CONTACTS_DATABASE_URL"), "{refused}");
        assert!(
            !refused.contains("secret"),
            "the password is not shown: {refused}"
        );
        assert!(refused.contains("mysql://root@db/contacts"), "{refused}");
    }

    #[test]
    fn logs_are_text_or_json_and_the_drain_time_defaults_to_25_seconds() {
        let default = config(&[]).unwrap();
        assert_eq!(default.log_format, LogFormat::Text);
        assert_eq!(default.drain_seconds, 25);
        let json = config(&[
            ("CONTACTS_LOG_FORMAT", "json"),
            ("CONTACTS_DRAIN_SECONDS", "5"),
        ]);
        let json = json.unwrap();
        assert_eq!((json.log_format, json.drain_seconds), (LogFormat::Json, 5));
        assert_eq!(default.metrics_addr, None);
        let metrics = Config::from_lookup(|name| {
            (name == "CONTACTS_METRICS_ADDR").then(|| "127.0.0.1:9100".to_string())
        })
        .unwrap();
        assert_eq!(
            metrics.metrics_addr,
            Some("127.0.0.1:9100".parse().unwrap())
        );
        let bad = Config::from_lookup(|name| {
            (name == "CONTACTS_METRICS_ADDR").then(|| "everywhere".to_string())
        });
        assert!(
            bad.unwrap_err()
                .to_string()
                .starts_with("CONTACTS_METRICS_ADDR must be")
        );
        let refused = config(&[("CONTACTS_LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "CONTACTS_LOG_FORMAT must be text or json, not \"xml\""
        );
    }
}
