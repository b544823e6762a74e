//! Where uploads wait for their import: the `uploads` folder of the data folder by
//! default, or an S3-compatible bucket that every app server shares
//! (`CONTACTS_UPLOAD_STORE=s3://bucket/prefix`, with the usual `AWS_*` variables;
//! `AWS_ENDPOINT_URL` names a server other than Amazon's). A file is written in parts as
//! it arrives, so the server holds a few parts of it at most, and read back as a stream.
//!
//! Names: `incoming-<random>.part` while a file arrives, `<import id>.upload` once its
//! import is queued; both are removed when the import ends.

use crate::error::AppError;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, RetryConfig};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The size of each part of a file written to the store (S3 asks for 5 MiB at least).
pub const PART_BYTES: usize = 8 << 20;

/// Parts of one file sent to the store at once: with the part being filled, what an
/// upload holds in memory is at most three parts.
const PARTS_IN_FLIGHT: usize = 2;

/// A file in the store that no import waits for is removed once it is this old: younger,
/// it may be another server's upload between its last part and its import's commit.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(60 * 60);

/// How long `/readyz` waits for the store.
const PROBE: Duration = Duration::from_secs(3);

/// The `AWS_*` settings read for a bucket (besides those `object_store` reads from the
/// environment itself, such as a web identity's token file).
const AWS_SETTINGS: [&str; 8] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
];

/// The store of uploads.
#[derive(Clone)]
pub struct UploadStore {
    store: Arc<dyn ObjectStore>,
    /// The folder, when the store is one.
    folder: Option<PathBuf>,
    /// What the logs call it.
    name: String,
}

impl std::fmt::Debug for UploadStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl UploadStore {
    /// The `uploads` folder of `data_dir` (created as files arrive).
    pub fn folder_in(data_dir: &Path) -> Result<Self, String> {
        let folder = std::path::absolute(data_dir.join("uploads")).map_err(|e| e.to_string())?;
        let prefix = Key::from_absolute_path(&folder).map_err(|e| e.to_string())?;
        Ok(UploadStore {
            store: Arc::new(PrefixStore::new(LocalFileSystem::new(), prefix)),
            name: folder.display().to_string(),
            folder: Some(folder),
        })
    }

    /// The bucket and prefix of `url` (`s3://bucket/prefix`), with the `AWS_*` settings
    /// `lookup` gives over those of the environment.
    pub fn s3(url: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let rest = url.strip_prefix("s3://").ok_or("not an s3:// URL")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("no bucket".into());
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for name in AWS_SETTINGS {
            if let Some(value) = lookup(name) {
                let key: AmazonS3ConfigKey = name
                    .to_ascii_lowercase()
                    .parse()
                    .map_err(|e: object_store::Error| e.to_string())?;
                builder = builder.with_config(key, value);
            }
        }
        // A few quick retries (the default waits up to three minutes): a request or a
        // probe that cannot reach the store fails within seconds.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
            ..RetryConfig::default()
        };
        let bucket_store = builder
            .with_retry(retry)
            .build()
            .map_err(|e| e.to_string())?;
        let prefix = Key::parse(prefix.trim_end_matches('/')).map_err(|e| e.to_string())?;
        Ok(UploadStore {
            store: Arc::new(PrefixStore::new(bucket_store, prefix)),
            folder: None,
            name: url.to_string(),
        })
    }

    /// The folder the store is, if it is one (its disk is the one the space kept free
    /// for the database is measured on).
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// A new name for a file that is arriving.
    pub fn incoming() -> Key {
        Key::from(format!("incoming-{:016x}.part", rand::random::<u64>()))
    }

    /// The name of an import's file.
    pub fn of_import(id: i64) -> Key {
        Key::from(format!("{id}.upload"))
    }

    /// A writer of a new file, in parts of [`PART_BYTES`]; nothing is stored until it is
    /// shut down, and [`BufWriter::abort`] drops the parts sent.
    pub fn writer(&self, key: &Key) -> BufWriter {
        BufWriter::with_capacity(self.store.clone(), key.clone(), PART_BYTES)
            .with_max_concurrency(PARTS_IN_FLIGHT)
    }

    /// Gives an arrived file its import's name.
    pub async fn accept(&self, incoming: &Key, id: i64) -> Result<(), AppError> {
        self.store
            .rename(incoming, &Self::of_import(id))
            .await
            .map_err(|e| AppError::internal("storing an upload", e))
    }

    /// Removes a file, if it is there (a failure is logged: a leftover is swept later).
    pub async fn remove(&self, key: &Key) {
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(file = %key, error = %e, "cannot remove an upload"),
        }
    }

    /// Whether the store answers within [`PROBE`] (for `/readyz`): a name nobody writes
    /// is looked up; a folder's data folder must be there (the folder itself is made
    /// when the first file arrives).
    pub async fn reachable(&self) -> bool {
        if let Some(folder) = &self.folder {
            let data = folder.parent().unwrap_or(folder);
            return tokio::fs::metadata(data).await.is_ok_and(|m| m.is_dir());
        }
        let looked = tokio::time::timeout(PROBE, self.store.head(&Key::from("readyz"))).await;
        match looked {
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. })) => true,
            Ok(Err(e)) => {
                tracing::warn!(store = %self.name, error = %e, "readiness: the upload store failed");
                false
            }
            Err(_) => {
                tracing::warn!(store = %self.name, "readiness: the upload store did not answer");
                false
            }
        }
    }

    /// A file read as a stream, for a blocking thread of the runtime (the importer's
    /// parser): what it reads waits on the runtime for the store.
    pub fn read_blocking(&self, key: &Key) -> std::io::Result<impl Read + Send + 'static> {
        let runtime = tokio::runtime::Handle::current();
        let got = runtime
            .block_on(self.store.get(key))
            .map_err(std::io::Error::other)?;
        let stream = got.into_stream().map_err(std::io::Error::other).boxed();
        Ok(tokio_util::io::SyncIoBridge::new_with_handle(
            tokio_util::io::StreamReader::new(stream),
            runtime,
        ))
    }

    /// The files older than [`LEFTOVER_AGE`]: each with its import's id, if it has one.
    pub async fn old_files(&self) -> Result<Vec<(Key, Option<i64>)>, AppError> {
        let cutoff = crate::db::now() - LEFTOVER_AGE.as_secs() as i64;
        let mut found = Vec::new();
        let mut listed = self.store.list(None);
        while let Some(meta) = listed.next().await {
            let meta = meta.map_err(|e| AppError::internal("listing the upload store", e))?;
            if meta.last_modified.timestamp() > cutoff {
                continue;
            }
            let name = meta.location.filename().unwrap_or_default();
            let id = name.strip_suffix(".upload").and_then(|id| id.parse().ok());
            found.push((meta.location.clone(), id));
        }
        Ok(found)
    }

    /// In a folder: the parts of files that were arriving when a server stopped (which
    /// the store does not list), once older than [`LEFTOVER_AGE`].
    pub fn remove_old_parts(&self) {
        let Some(folder) = &self.folder else { return };
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let staged = name
                .rsplit_once('#')
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() >= LEFTOVER_AGE);
            if staged && old {
                tracing::info!(file = %name, "removing the parts of an upload cut off");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Buckets on the S3-compatible server that tests and benchmarks run on loopback
/// (`tools/s3/with-server`, which names it in [`testing::S3_URL_VARIABLE`]).
pub mod testing {
    /// Where the tests find the S3-compatible server.
    pub const S3_URL_VARIABLE: &str = "CONTACTS_TEST_S3_URL";

    /// The settings of a server whose uploads wait under `uploads/` in `bucket` on the
    /// server at `endpoint` (which takes any key).
    pub fn settings(endpoint: &str, bucket: &str) -> Vec<(&'static str, String)> {
        vec![
            ("CONTACTS_UPLOAD_STORE", format!("s3://{bucket}/uploads")),
            ("AWS_ENDPOINT_URL", endpoint.to_string()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Makes `bucket` on the server at `endpoint`.
    pub async fn create_bucket(endpoint: &str, bucket: &str) {
        let made = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .body("")
            .send()
            .await
            .expect("the S3 server");
        assert!(made.status().is_success(), "creating a bucket: {made:?}");
    }
}
