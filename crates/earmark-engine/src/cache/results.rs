//! Classification results, keyed by file identity and the model's key.
//!
//! A file is identified by its canonical absolute path plus size and mtime
//! ([`file_id`]), so `lib/a.mp3`, `./lib/a.mp3` and `/home/me/lib/a.mp3` share
//! one row. When a path has no row yet, a row of the same size whose stored
//! content hash equals the file's ([`content_sha256`]) is adopted: a library
//! that was moved or copied keeps its results. Other tables keyed by file
//! (embeddings) should key through [`file_id`] and [`content_sha256`] too.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Cache, CacheError, now_ms, path_to_blob};

/// What identifies a file's contents cheaply: its size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKey {
    pub size: i64,
    pub mtime_ns: i64,
}

/// A file as the cache knows it: where it really is, and which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileId {
    /// Canonical absolute path (symlinks and `..` resolved).
    pub path: PathBuf,
    pub key: FileKey,
}

impl FileKey {
    /// The key of metadata already read (an mtime the platform cannot give counts as 0).
    pub fn of(meta: &std::fs::Metadata) -> FileKey {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        FileKey {
            size: i64::try_from(meta.len()).unwrap_or(i64::MAX),
            mtime_ns,
        }
    }
}

/// The [`FileKey`] of `path` now.
pub fn file_key(path: &Path) -> std::io::Result<FileKey> {
    let meta = std::fs::metadata(path)?;
    meta.modified()?; // a platform without mtimes cannot key files
    Ok(FileKey::of(&meta))
}

/// The one way every cache table names a file: canonical path plus [`FileKey`].
pub fn file_id(path: &Path) -> std::io::Result<FileId> {
    let path = std::fs::canonicalize(path)?;
    let key = file_key(&path)?;
    Ok(FileId { path, key })
}

/// SHA-256 of the file's bytes, hex. Read in fixed blocks: memory stays
/// bounded whatever the file's size.
pub fn content_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// What the cache holds for a file, before any hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A row for this very path and version.
    Hit(String),
    /// No row for this path, but rows of the same size exist: hash the file
    /// and call [`Cache::adopt_moved_result`].
    MaybeMoved,
    Miss,
}

impl Cache {
    /// The stored result for this file version and model, or whether a moved
    /// copy might be known.
    pub fn lookup_result(&self, id: &FileId, model_key: &str) -> Result<Lookup, CacheError> {
        let blob = path_to_blob(&id.path);
        let exact: Option<String> = self
            .conn()
            .query_row(
                "SELECT result_json FROM results
                 WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3 AND model_sha256 = ?4",
                params![blob, id.key.size, id.key.mtime_ns, model_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db_err(e))?;
        if let Some(json) = exact {
            return Ok(Lookup::Hit(json));
        }
        // A path that has a row (an older version) is not new: it changed.
        let known_path: bool = self
            .conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM results WHERE path = ?1 AND model_sha256 = ?2)",
                params![blob, model_key],
                |r| r.get(0),
            )
            .map_err(|e| self.db_err(e))?;
        if known_path {
            return Ok(Lookup::Miss);
        }
        let same_size: bool = self
            .conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM results
                 WHERE size = ?1 AND model_sha256 = ?2 AND content_sha256 IS NOT NULL)",
                params![id.key.size, model_key],
                |r| r.get(0),
            )
            .map_err(|e| self.db_err(e))?;
        Ok(if same_size {
            Lookup::MaybeMoved
        } else {
            Lookup::Miss
        })
    }

    /// The result of a file with the same size and contents under another
    /// path, copied to this path so the next lookup is a plain hit. Size and
    /// content are enough: a copy without `-p` changes the mtime, not the audio.
    pub fn adopt_moved_result(
        &self,
        id: &FileId,
        content_sha256: &str,
        model_key: &str,
    ) -> Result<Option<String>, CacheError> {
        let found: Option<(Vec<u8>, String)> = self
            .conn()
            .query_row(
                "SELECT path, result_json FROM results
                 WHERE size = ?1 AND content_sha256 = ?2 AND model_sha256 = ?3
                 ORDER BY time DESC LIMIT 1",
                params![id.key.size, content_sha256, model_key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.db_err(e))?;
        let Some((old_path, json)) = found else {
            return Ok(None);
        };
        self.put_result(id, Some(content_sha256), model_key, &json)?;
        // The embedding moves with its result (same audio, same vector).
        self.copy_embedding(&old_path, id, model_key)?;
        Ok(Some(json))
    }

    /// A tag write (or its undo) rewrote `path` from version `before` to
    /// `after` and verified the audio unchanged: every model's result and
    /// embedding of `before` now speaks for `after`, so the next lookup, from
    /// the app or a later `earmark classify`, is a hit instead of a new
    /// analysis. Rows of other versions stay stale. Returns the rows moved.
    pub fn follow_rewrite(
        &self,
        path: &Path,
        before: FileKey,
        after: FileKey,
    ) -> Result<usize, CacheError> {
        if before == after {
            return Ok(0);
        }
        let Ok(real) = std::fs::canonicalize(path) else {
            return Ok(0);
        };
        let blob = path_to_blob(&real);
        let known: bool = self
            .conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM results WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3)
                     OR EXISTS(SELECT 1 FROM embeddings WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3)",
                params![blob, before.size, before.mtime_ns],
                |r| r.get(0),
            )
            .map_err(|e| self.db_err(e))?;
        if !known {
            return Ok(0);
        }
        // the old hash names the old bytes: a moved copy is found by the new one
        let hash = content_sha256(&real).ok();
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.db_err(e))?;
        let keys: [&dyn rusqlite::ToSql; 5] = [
            &blob,
            &before.size,
            &before.mtime_ns,
            &after.size,
            &after.mtime_ns,
        ];
        let run = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
            tx.execute(sql, params).map_err(|e| self.db_err(e))
        };
        let moved = run(
            "UPDATE OR REPLACE results SET size = ?4, mtime_ns = ?5, content_sha256 = ?6
             WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3",
            &[&keys[..], &[&hash as &dyn rusqlite::ToSql]].concat(),
        )? + run(
            "UPDATE OR REPLACE embeddings SET size = ?4, mtime_ns = ?5
             WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3",
            &keys,
        )?;
        tx.commit().map_err(|e| self.db_err(e))?;
        Ok(moved)
    }

    /// How many results are stored (all files, all models).
    pub fn result_rows(&self) -> Result<i64, CacheError> {
        self.conn()
            .query_row("SELECT count(*) FROM results", [], |r| r.get(0))
            .map_err(|e| self.db_err(e))
    }

    /// Store (or replace) the result for this file version and model. Older
    /// versions of the same file for the same model are dropped.
    pub fn put_result(
        &self,
        id: &FileId,
        content_sha256: Option<&str>,
        model_key: &str,
        result_json: &str,
    ) -> Result<(), CacheError> {
        let blob = path_to_blob(&id.path);
        self.replace_for_path(
            "results",
            &blob,
            model_key,
            "INSERT OR REPLACE INTO results
                 (path, size, mtime_ns, model_sha256, result_json, time, content_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                blob,
                id.key.size,
                id.key.mtime_ns,
                model_key,
                result_json,
                now_ms(),
                content_sha256
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(path: &str, size: i64, mtime_ns: i64) -> FileId {
        FileId {
            path: PathBuf::from(path),
            key: FileKey { size, mtime_ns },
        }
    }

    #[test]
    fn put_get_and_invalidate() {
        let cache = Cache::open_in_memory().unwrap();
        let v1 = id("/m/a.flac", 10, 5);
        let v2 = id("/m/a.flac", 11, 6);
        assert_eq!(cache.lookup_result(&v1, "abc").unwrap(), Lookup::Miss);
        cache
            .put_result(&v1, None, "abc", r#"{"top":"jazz"}"#)
            .unwrap();
        assert_eq!(
            cache.lookup_result(&v1, "abc").unwrap(),
            Lookup::Hit(r#"{"top":"jazz"}"#.into())
        );
        assert_eq!(cache.lookup_result(&v1, "other").unwrap(), Lookup::Miss);
        assert_eq!(cache.lookup_result(&v2, "abc").unwrap(), Lookup::Miss);
        cache.put_result(&v2, None, "abc", "{}").unwrap();
        assert_eq!(
            cache.lookup_result(&v1, "abc").unwrap(),
            Lookup::Miss,
            "stale version dropped"
        );
        assert_eq!(
            cache.lookup_result(&v2, "abc").unwrap(),
            Lookup::Hit("{}".into())
        );
    }

    #[test]
    fn an_equivalent_models_rows_are_rekeyed_and_a_newer_row_wins() {
        let cache = Cache::open_in_memory().unwrap();
        let a = id("/m/a.flac", 10, 5);
        let b = id("/m/b.flac", 10, 5);
        cache.put_result(&a, None, "old|w8x6", "{\"a\":1}").unwrap();
        cache.put_result(&b, None, "old|w8x6", "{\"b\":1}").unwrap();
        cache.put_result(&b, None, "new|w8x6", "{\"b\":2}").unwrap();
        cache.put_result(&a, None, "older|w8x6", "{}").unwrap();
        cache
            .put_embedding(&a.path, a.key, "old|w8x6", &[1.0, 2.0])
            .unwrap();

        // a's result and embedding move; b's newer row is kept; "older" is
        // another model whose hash merely starts like this one's.
        assert_eq!(cache.adopt_equivalent("old", "new").unwrap(), 2);
        assert_eq!(
            cache.lookup_result(&a, "new|w8x6").unwrap(),
            Lookup::Hit("{\"a\":1}".into())
        );
        assert_eq!(
            cache.lookup_result(&b, "new|w8x6").unwrap(),
            Lookup::Hit("{\"b\":2}".into())
        );
        assert_eq!(
            cache.lookup_result(&a, "older|w8x6").unwrap(),
            Lookup::Hit("{}".into())
        );
        assert_eq!(
            cache.get_embedding(&a.path, a.key, "new|w8x6").unwrap(),
            Some(vec![1.0, 2.0])
        );
        assert_eq!(
            cache.adopt_equivalent("old", "new").unwrap(),
            0,
            "idempotent"
        );
    }

    #[test]
    fn an_embedding_equivalent_model_adopts_embeddings_not_results() {
        let cache = Cache::open_in_memory().unwrap();
        let a = id("/m/a.flac", 10, 5);
        cache.put_result(&a, None, "old|w8x6", "{\"a\":1}").unwrap();
        cache
            .put_embedding(&a.path, a.key, "old|w8x6", &[1.0, 2.0])
            .unwrap();

        assert_eq!(cache.adopt_embeddings("old", "new").unwrap(), 1);
        assert_eq!(
            cache.get_embedding(&a.path, a.key, "new|w8x6").unwrap(),
            Some(vec![1.0, 2.0])
        );
        assert!(
            !matches!(cache.lookup_result(&a, "new|w8x6").unwrap(), Lookup::Hit(_)),
            "the genres of another output are analysed again"
        );
    }

    #[test]
    fn spellings_of_one_file_share_a_row() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        let file = dir.path().join("lib/a.wav");
        std::fs::write(&file, b"RIFF....").unwrap();
        let plain = file_id(&file).unwrap();
        let dotted = file_id(&dir.path().join("lib/../lib/./a.wav")).unwrap();
        assert_eq!(plain, dotted);
        assert!(plain.path.is_absolute());
    }

    #[test]
    fn a_moved_file_keeps_its_result_only_if_its_bytes_match() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.wav");
        std::fs::write(&old, b"same bytes here").unwrap();
        let cache = Cache::open_in_memory().unwrap();
        let old_id = file_id(&old).unwrap();
        let hash = content_sha256(&old).unwrap();
        cache
            .put_result(&old_id, Some(&hash), "m", "{\"r\":1}")
            .unwrap();

        let moved = dir.path().join("moved.wav");
        std::fs::write(&moved, b"same bytes here").unwrap();
        let moved_id = file_id(&moved).unwrap();
        assert_eq!(
            cache.lookup_result(&moved_id, "m").unwrap(),
            Lookup::MaybeMoved
        );
        let got = cache
            .adopt_moved_result(&moved_id, &content_sha256(&moved).unwrap(), "m")
            .unwrap();
        assert_eq!(got.as_deref(), Some("{\"r\":1}"));
        assert_eq!(
            cache.lookup_result(&moved_id, "m").unwrap(),
            Lookup::Hit("{\"r\":1}".into()),
            "adopted under the new path"
        );

        // Same size, other bytes: not the same song.
        let other = dir.path().join("other.wav");
        std::fs::write(&other, b"diff bytes here").unwrap();
        let other_id = file_id(&other).unwrap();
        assert_eq!(
            cache.lookup_result(&other_id, "m").unwrap(),
            Lookup::MaybeMoved
        );
        let none = cache
            .adopt_moved_result(&other_id, &content_sha256(&other).unwrap(), "m")
            .unwrap();
        assert_eq!(none, None);
    }
}
