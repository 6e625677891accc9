//! Files the user chose not to tag (the app's `x`), kept in the journal's
//! database: a decision, like a write, so it outlives the session and the
//! cache. A skip holds for the version of the file it was made on; once
//! the file changes (re-tagged, replaced) it is judged again.

use std::path::{Path, PathBuf};

use rusqlite::params;

use crate::cache::{Cache, CacheError, FileKey, blob_to_path, now_ms, path_to_blob};

impl Cache {
    /// Keep `path` (its canonical form) as skipped at this version.
    pub fn skip_keep(&self, path: &Path) -> Result<(), CacheError> {
        let (real, key) = real_and_key(path).map_err(|e| self.db_err(e))?;
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO skips (path, size, mtime_ns, time) VALUES (?1, ?2, ?3, ?4)",
                params![path_to_blob(&real), key.size, key.mtime_ns, now_ms()],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    /// No longer skipped.
    pub fn skip_forget(&self, path: &Path) -> Result<(), CacheError> {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.conn()
            .execute(
                "DELETE FROM skips WHERE path = ?1",
                params![path_to_blob(&real)],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    /// The skipped files under `root` still at the version they were skipped
    /// at, relative to it (compared canonical, as the journal's marks are).
    /// Skips of files changed or gone since are dropped.
    pub fn skips_under(&self, root: &Path) -> Result<Vec<PathBuf>, CacheError> {
        let Ok(root) = std::fs::canonicalize(root) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(Vec<u8>, FileKey)> = {
            let mut st = self
                .conn()
                .prepare("SELECT path, size, mtime_ns FROM skips")
                .map_err(|e| self.db_err(e))?;
            st.query_map([], |r| {
                let key = FileKey {
                    size: r.get(1)?,
                    mtime_ns: r.get(2)?,
                };
                Ok((r.get(0)?, key))
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.db_err(e))?
        };
        let mut out = Vec::new();
        for (blob, key) in rows {
            let path = blob_to_path(&blob);
            let Ok(rel) = path.strip_prefix(&root) else {
                continue;
            };
            match real_and_key(&path) {
                Ok((real, now)) if real == path && now == key => out.push(rel.to_path_buf()),
                // changed or gone: judged again
                _ => {
                    let _ = self.skip_forget(&path);
                }
            }
        }
        Ok(out)
    }
}

fn real_and_key(path: &Path) -> std::io::Result<(PathBuf, FileKey)> {
    let real = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&real)?;
    Ok((real, FileKey::of(&meta)))
}

#[cfg(test)]
mod tests {
    use crate::cache::Cache;

    #[test]
    fn a_skip_holds_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        std::fs::create_dir_all(lib.join("a")).unwrap();
        let (one, two) = (lib.join("a/one.ogg"), lib.join("two.ogg"));
        std::fs::write(&one, b"one").unwrap();
        std::fs::write(&two, b"two").unwrap();
        let c = Cache::open(&dir.path().join("journal.sqlite")).unwrap();
        c.skip_keep(&one).unwrap();
        c.skip_keep(&two).unwrap();
        let mut got = c.skips_under(&lib).unwrap();
        got.sort();
        assert_eq!(
            got,
            [std::path::PathBuf::from("a/one.ogg"), "two.ogg".into()]
        );
        // another spelling of the root finds them too
        assert_eq!(c.skips_under(&lib.join("a/..")).unwrap().len(), 2);
        assert_eq!(
            c.skips_under(&lib.join("a")).unwrap(),
            [std::path::PathBuf::from("one.ogg")]
        );
        // changed since: judged again (and the row goes)
        std::fs::write(&two, b"two, re-tagged").unwrap();
        assert_eq!(
            c.skips_under(&lib).unwrap(),
            [std::path::PathBuf::from("a/one.ogg")]
        );
        std::fs::write(&two, b"two").unwrap();
        assert_eq!(
            c.skips_under(&lib).unwrap().len(),
            1,
            "forgotten, not hidden"
        );
        c.skip_forget(&one).unwrap();
        assert!(c.skips_under(&lib).unwrap().is_empty());
    }
}
