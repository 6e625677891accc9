//! Track embeddings, keyed exactly like the results (path, size, mtime, model
//! key), stored as little-endian f32 blobs so that `similar` can load a whole
//! library's vectors in one query.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Cache, CacheError, FileKey, blob_to_path, now_ms, path_to_blob};

/// Additive table: older earmark builds ignore it, so no schema version bump.
pub(super) fn create_table(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS embeddings (
             path         BLOB    NOT NULL,
             size         INTEGER NOT NULL,
             mtime_ns     INTEGER NOT NULL,
             model_sha256 TEXT    NOT NULL,
             dim          INTEGER NOT NULL,
             vector       BLOB    NOT NULL,
             time         INTEGER NOT NULL,
             PRIMARY KEY (path, size, mtime_ns, model_sha256)
         );
         CREATE INDEX IF NOT EXISTS embeddings_model ON embeddings(model_sha256);",
    )
}

/// One cached embedding, as `all_embeddings` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    pub path: PathBuf,
    pub key: FileKey,
    pub vector: Vec<f32>,
}

fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// None for a blob whose length does not match its declared dimension.
fn from_blob(bytes: &[u8], dim: i64) -> Option<Vec<f32>> {
    let dim = usize::try_from(dim).ok()?;
    if bytes.len() != dim.checked_mul(4)? {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

impl Cache {
    /// Copy the embedding stored under another path (a moved or copied file
    /// with the same content) to `id`; nothing when there is none.
    pub(super) fn copy_embedding(
        &self,
        old_path_blob: &[u8],
        id: &super::FileId,
        model_key: &str,
    ) -> Result<(), CacheError> {
        let blob = path_to_blob(&id.path);
        self.replace_for_path(
            "embeddings",
            &blob,
            model_key,
            "INSERT INTO embeddings (path, size, mtime_ns, model_sha256, dim, vector, time)
             SELECT ?1, ?2, ?3, model_sha256, dim, vector, ?4 FROM embeddings
             WHERE path = ?5 AND model_sha256 = ?6
             ORDER BY time DESC LIMIT 1",
            params![
                blob,
                id.key.size,
                id.key.mtime_ns,
                now_ms(),
                old_path_blob,
                model_key
            ],
        )
    }

    /// The stored embedding for this file version and model key, if any.
    pub fn get_embedding(
        &self,
        path: &Path,
        key: FileKey,
        model_key: &str,
    ) -> Result<Option<Vec<f32>>, CacheError> {
        let row: Option<(Vec<u8>, i64)> = self
            .conn()
            .query_row(
                "SELECT vector, dim FROM embeddings
                 WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3 AND model_sha256 = ?4",
                params![path_to_blob(path), key.size, key.mtime_ns, model_key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.db_err(e))?;
        Ok(row.and_then(|(b, d)| from_blob(&b, d)))
    }

    /// Store (or replace) the embedding; older versions of the file for the
    /// same model key are dropped.
    pub fn put_embedding(
        &self,
        path: &Path,
        key: FileKey,
        model_key: &str,
        vector: &[f32],
    ) -> Result<(), CacheError> {
        let blob = path_to_blob(path);
        self.replace_for_path(
            "embeddings",
            &blob,
            model_key,
            "INSERT INTO embeddings (path, size, mtime_ns, model_sha256, dim, vector, time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                blob,
                key.size,
                key.mtime_ns,
                model_key,
                i64::try_from(vector.len()).unwrap_or(i64::MAX),
                to_blob(vector),
                now_ms()
            ],
        )
    }

    /// Store many embeddings in one transaction (one sync instead of one per file).
    pub fn put_embeddings(
        &self,
        model_key: &str,
        items: &[StoredEmbedding],
    ) -> Result<(), CacheError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.db_err(e))?;
        for item in items {
            let blob = path_to_blob(&item.path);
            tx.execute(
                "DELETE FROM embeddings WHERE path = ?1 AND model_sha256 = ?2",
                params![blob, model_key],
            )
            .map_err(|e| self.db_err(e))?;
            tx.execute(
                "INSERT INTO embeddings (path, size, mtime_ns, model_sha256, dim, vector, time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    blob,
                    item.key.size,
                    item.key.mtime_ns,
                    model_key,
                    i64::try_from(item.vector.len()).unwrap_or(i64::MAX),
                    to_blob(&item.vector),
                    now_ms()
                ],
            )
            .map_err(|e| self.db_err(e))?;
        }
        tx.commit().map_err(|e| self.db_err(e))
    }

    /// Every embedding stored for `model_key` (one query: `similar` loads a
    /// library once per session). Rows with a malformed blob are skipped.
    pub fn all_embeddings(&self, model_key: &str) -> Result<Vec<StoredEmbedding>, CacheError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT path, size, mtime_ns, dim, vector FROM embeddings
                 WHERE model_sha256 = ?1 ORDER BY path",
            )
            .map_err(|e| self.db_err(e))?;
        let rows = stmt
            .query_map(params![model_key], |r| {
                let path: Vec<u8> = r.get(0)?;
                let key = FileKey {
                    size: r.get(1)?,
                    mtime_ns: r.get(2)?,
                };
                let dim: i64 = r.get(3)?;
                let blob: Vec<u8> = r.get(4)?;
                Ok((path, key, dim, blob))
            })
            .map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (path, key, dim, blob) = row.map_err(|e| self.db_err(e))?;
            if let Some(vector) = from_blob(&blob, dim) {
                out.push(StoredEmbedding {
                    path: blob_to_path(&path),
                    key,
                    vector,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_stored_and_served_per_model_key() {
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
        assert_eq!(cache.get_embedding(p, k1, "fast").unwrap(), None);
        cache
            .put_embedding(p, k1, "fast", &[1.0, -2.5, 3.25])
            .unwrap();
        cache.put_embedding(p, k1, "accurate", &[9.0; 5]).unwrap();
        assert_eq!(
            cache.get_embedding(p, k1, "fast").unwrap(),
            Some(vec![1.0, -2.5, 3.25])
        );
        assert_eq!(
            cache.get_embedding(p, k1, "accurate").unwrap(),
            Some(vec![9.0; 5])
        );
        assert_eq!(cache.get_embedding(p, k2, "fast").unwrap(), None);
        cache.put_embedding(p, k2, "fast", &[0.5]).unwrap();
        assert_eq!(cache.get_embedding(p, k1, "fast").unwrap(), None, "stale");
        let all = cache.all_embeddings("fast").unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].vector, vec![0.5]);
        assert_eq!(all[0].key, k2);
        assert_eq!(cache.all_embeddings("accurate").unwrap().len(), 1);
        assert!(cache.all_embeddings("other").unwrap().is_empty());
    }

    #[test]
    fn a_truncated_blob_is_not_served() {
        assert_eq!(from_blob(&[0, 0, 128], 1), None);
        assert_eq!(from_blob(&[0, 0, 128, 63], 1), Some(vec![1.0]));
        assert_eq!(from_blob(&[], -1), None);
    }
}
