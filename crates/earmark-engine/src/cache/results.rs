//! Classification results, keyed by file identity (path, size, mtime) and the
//! model's SHA-256. The value is an opaque JSON string owned by `model`.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{Cache, CacheError, now_ms, path_to_blob};

/// What identifies a file's contents cheaply: its size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKey {
    pub size: i64,
    pub mtime_ns: i64,
}

/// The [`FileKey`] of `path` now.
pub fn file_key(path: &Path) -> std::io::Result<FileKey> {
    let meta = std::fs::metadata(path)?;
    let mtime_ns = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Ok(FileKey {
        size: i64::try_from(meta.len()).unwrap_or(i64::MAX),
        mtime_ns,
    })
}

impl Cache {
    /// The stored result for this file version and model, if any.
    pub fn get_result(
        &self,
        path: &Path,
        key: FileKey,
        model_sha256: &str,
    ) -> Result<Option<String>, CacheError> {
        self.conn()
            .query_row(
                "SELECT result_json FROM results
                 WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3 AND model_sha256 = ?4",
                params![path_to_blob(path), key.size, key.mtime_ns, model_sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db_err(e))
    }

    /// Store (or replace) the result for this file version and model. Older
    /// versions of the same file for the same model are dropped.
    pub fn put_result(
        &self,
        path: &Path,
        key: FileKey,
        model_sha256: &str,
        result_json: &str,
    ) -> Result<(), CacheError> {
        let blob = path_to_blob(path);
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.db_err(e))?;
        tx.execute(
            "DELETE FROM results WHERE path = ?1 AND model_sha256 = ?2",
            params![blob, model_sha256],
        )
        .map_err(|e| self.db_err(e))?;
        tx.execute(
            "INSERT OR REPLACE INTO results (path, size, mtime_ns, model_sha256, result_json, time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                blob,
                key.size,
                key.mtime_ns,
                model_sha256,
                result_json,
                now_ms()
            ],
        )
        .map_err(|e| self.db_err(e))?;
        tx.commit().map_err(|e| self.db_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_invalidate() {
        let cache = Cache::open_in_memory().unwrap();
        let p = Path::new("/m/a.flac");
        let k1 = FileKey {
            size: 10,
            mtime_ns: 5,
        };
        let k2 = FileKey {
            size: 11,
            mtime_ns: 6,
        };
        assert_eq!(cache.get_result(p, k1, "abc").unwrap(), None);
        cache.put_result(p, k1, "abc", r#"{"top":"jazz"}"#).unwrap();
        assert_eq!(
            cache.get_result(p, k1, "abc").unwrap().as_deref(),
            Some(r#"{"top":"jazz"}"#)
        );
        assert_eq!(cache.get_result(p, k1, "other-model").unwrap(), None);
        assert_eq!(cache.get_result(p, k2, "abc").unwrap(), None);
        cache.put_result(p, k2, "abc", "{}").unwrap();
        assert_eq!(
            cache.get_result(p, k1, "abc").unwrap(),
            None,
            "stale version dropped"
        );
        assert_eq!(
            cache.get_result(p, k2, "abc").unwrap().as_deref(),
            Some("{}")
        );
    }
}
