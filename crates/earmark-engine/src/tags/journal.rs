//! The tag undo journal: one row per file write, grouped in batches (one
//! `earmark tag` run, or one accept / batch-accept in the TUI).
//!
//! It is data, not cache: it lives in its own database under
//! `$XDG_DATA_HOME/earmark/journal.sqlite` (see [`default_path`]), so clearing
//! the cache never loses undo history. It reuses the cache's SQLite handling
//! (same schema, corrupt-file recovery, WAL); entries an older earmark kept in
//! the cache database are moved over the first time the journal is opened.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::byte_patch::BytePatch;

/// How long an undo waits for another earmark's undo of the same journal.
const UNDO_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
use crate::cache::{Cache, CacheError, blob_to_path, now_ms, path_to_blob};

/// The table of original bytes per entry (created with the schema, like the
/// cache's embeddings table: a new table, so no version step is needed).
pub(crate) fn create_tables(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS journal_bytes (
             id    INTEGER PRIMARY KEY,
             patch BLOB    NOT NULL
         );
         CREATE TABLE IF NOT EXISTS journal_seq (
             only INTEGER PRIMARY KEY CHECK (only = 1),
             last INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS skips (
             path     BLOB    PRIMARY KEY,
             size     INTEGER NOT NULL,
             mtime_ns INTEGER NOT NULL,
             time     INTEGER NOT NULL
         );
         -- a moved file's entries are found by path (a renamed folder moves
         -- thousands); an index an older earmark ignores
         CREATE INDEX IF NOT EXISTS journal_path ON journal(path);",
    )
}

/// What to record after a successful write.
#[derive(Debug, Clone)]
pub struct NewJournalEntry {
    pub path: PathBuf,
    /// Genres shown to the user before / after (for listings).
    pub old: Vec<String>,
    pub new: Vec<String>,
    /// Exact per-tag values before / after, as JSON (opaque here; `tags` owns the format).
    pub old_state: String,
    pub new_state: String,
    pub batch: i64,
}

/// One recorded write.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JournalEntry {
    pub id: i64,
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    pub old: Vec<String>,
    pub new: Vec<String>,
    #[serde(skip)]
    pub old_state: String,
    #[serde(skip)]
    pub new_state: String,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The run (one `tag` command, one batch in the app) that wrote it: the
    /// journal table's `run` column and `tag undo --run`'s argument.
    #[serde(rename = "run")]
    pub batch: i64,
    pub undone: bool,
    pub undone_time_ms: Option<i64>,
    /// Marked by an undo that found the write never happened (see
    /// `unwritten`): not pending, and not undone either.
    #[serde(skip)]
    pub never_written: bool,
}

/// The `undone` column's value for an entry whose write never happened: not
/// 0, so an older earmark takes it as done with, as this one does.
const NEVER_WRITTEN: i64 = 2;

/// A path as a JSON string (lossy for non-UTF-8 names), for every report.
pub(crate) fn serialize_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    // as every other record writes a path: bytes that are not UTF-8 as \xNN
    s.serialize_str(&crate::library::shown(p.as_os_str()))
}

const COLUMNS: &str =
    "id, path, old_value, new_value, old_state, new_state, time, batch, undone, undone_time";

fn from_row(row: &Row<'_>) -> rusqlite::Result<JournalEntry> {
    let path: Vec<u8> = row.get(1)?;
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let s: String = row.get(i)?;
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    Ok(JournalEntry {
        id: row.get(0)?,
        path: blob_to_path(&path),
        old: list(2)?,
        new: list(3)?,
        old_state: row.get(4)?,
        new_state: row.get(5)?,
        time_ms: row.get(6)?,
        batch: row.get(7)?,
        undone: row.get::<_, i64>(8)? != 0,
        undone_time_ms: row.get(9)?,
        never_written: row.get::<_, i64>(8)? == NEVER_WRITTEN,
    })
}

pub use crate::cache::{DATA_DIR_ENV, data_dir};
/// File name of the journal database inside the data directory.
pub const JOURNAL_FILE: &str = "journal.sqlite";

/// The undo journal's handle: a [`Cache`]-managed SQLite database of its own.
pub type Journal = Cache;

pub fn default_path() -> Result<PathBuf, CacheError> {
    Ok(data_dir().ok_or(CacheError::NoCacheDir)?.join(JOURNAL_FILE))
}

/// Open the journal at [`default_path`], moving over entries an older
/// earmark kept in the cache database (once; they are removed there).
pub fn open_journal() -> Result<Journal, CacheError> {
    // Temp copies an interrupted run left behind (found by their markers).
    super::temps::clean(false);
    let journal = Cache::open(&default_path()?)?;
    if let Ok(old) = crate::cache::default_path()
        && old != journal.path()
        && old.is_file()
    {
        // On failure (the old database locked, say) nothing moved: the
        // entries stay where they were and move on a later open.
        let _ = journal.migrate_from(&old);
    }
    Ok(journal)
}

impl Cache {
    /// Move journal entries and batches from the database at `old` into this
    /// one, in one transaction on each side. Ids are kept when this journal is
    /// still empty (so printed ids stay valid); otherwise they are renumbered.
    fn migrate_from(&self, old: &Path) -> Result<(), CacheError> {
        let count: i64 = {
            let Ok(src) = rusqlite::Connection::open_with_flags(
                old,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            ) else {
                return Ok(());
            };
            src.query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
                .unwrap_or(0)
        };
        if count == 0 {
            return Ok(());
        }
        let old_s = old.to_string_lossy().replace('\'', "''");
        let empty: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
            .map_err(|e| self.db_err(e))?;
        let id = if empty == 0 { "id, " } else { "" };
        self.conn()
            .execute_batch(&format!(
                "ATTACH DATABASE '{old_s}' AS old;
                 BEGIN IMMEDIATE;
                 INSERT OR IGNORE INTO batches (id, time) SELECT id, time FROM old.batches;
                 INSERT INTO journal ({id}path, old_value, new_value, old_state, new_state, time, batch, undone, undone_time)
                     SELECT {id}path, old_value, new_value, old_state, new_state, time, batch, undone, undone_time
                     FROM old.journal ORDER BY id;
                 DELETE FROM old.journal;
                 COMMIT;
                 DETACH DATABASE old;"
            ))
            .map_err(|e| self.db_err(format!("moving the undo journal from {}: {e}", old.display())))
    }

    /// A fresh batch number for a group of writes undone together by `--undo --last`.
    pub fn journal_new_batch(&self) -> Result<i64, CacheError> {
        self.conn()
            .execute("INSERT INTO batches (time) VALUES (?1)", params![now_ms()])
            .map_err(|e| self.db_err(e))?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Give back a batch number that recorded nothing (every file failed or
    /// was unchanged), so the runs listed stay 1, 2, 3… Its number may be
    /// given again: nothing refers to it.
    pub fn journal_drop_empty_batch(&self, batch: i64) -> Result<(), CacheError> {
        self.conn()
            .execute(
                "DELETE FROM batches WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM journal WHERE batch = ?1)",
                params![batch],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    /// Record a write; returns the entry's id.
    pub fn journal_add(&self, entry: &NewJournalEntry) -> Result<i64, CacheError> {
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        self.conn()
            .execute(
                // An id is never given twice, even after `forget` removed the newest
                // entry: a script that kept it must not undo another file's write.
                "INSERT INTO journal (id, path, old_value, new_value, old_state, new_state, time, batch, undone)
                 VALUES (max(coalesce((SELECT max(id) FROM journal), 0),
                             coalesce((SELECT last FROM journal_seq), 0)) + 1,
                         ?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                params![
                    path_to_blob(&entry.path),
                    json(&entry.old),
                    json(&entry.new),
                    entry.old_state,
                    entry.new_state,
                    now_ms(),
                    entry.batch
                ],
            )
            .map_err(|e| self.db_err(e))?;
        let id = self.conn().last_insert_rowid();
        self.conn()
            .execute(
                "INSERT INTO journal_seq (only, last) VALUES (1, ?1)
                 ON CONFLICT(only) DO UPDATE SET last = max(last, excluded.last)",
                params![id],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(id)
    }

    /// Keep the original bytes a write replaced (see `byte_patch`), so its
    /// undo can rebuild the file exactly.
    pub fn journal_keep_bytes(&self, id: i64, patch: &BytePatch) -> Result<(), CacheError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO journal_bytes (id, patch) VALUES (?1, ?2)",
                params![id, patch.to_blob()],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    /// The kept bytes of entry `id`, if any (older entries, and writes that
    /// changed more than a patch keeps, have none).
    pub fn journal_bytes(&self, id: i64) -> Result<Option<BytePatch>, CacheError> {
        let blob: Option<Vec<u8>> = self
            .conn()
            .query_row(
                "SELECT patch FROM journal_bytes WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db_err(e))?;
        Ok(blob.as_deref().and_then(BytePatch::from_blob))
    }

    /// All entries, oldest first.
    pub fn journal_list(&self) -> Result<Vec<JournalEntry>, CacheError> {
        self.query_entries(
            &format!("SELECT {COLUMNS} FROM journal ORDER BY id"),
            params![],
        )
    }

    /// Undos of one journal take turns (two `tag undo` runs, the app and a
    /// run): each run holds the returned lock from its first entry read
    /// again to its last marked, so none reads a file another has put back
    /// but not yet marked (and calls the entry never written); an entry the
    /// other run took meanwhile is found undone. None for a journal in
    /// memory, or where the lock file cannot be made (a read-only folder:
    /// the undo fails there on its own). The wait is bounded as the
    /// database's own (10 s): another undo stopped with Ctrl-Z holds it.
    pub fn journal_undo_turn(&self) -> Result<Option<std::fs::File>, CacheError> {
        if self.path() == Path::new(":memory:") {
            return Ok(None);
        }
        let mut lock = self.path().as_os_str().to_owned();
        lock.push(".undo-lock");
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock)
        else {
            return Ok(None);
        };
        let waited = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) if waited.elapsed() < UNDO_TURN_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(self.db_err(
                        "another earmark has been undoing for 10 s (a `tag undo` stopped \
                         with Ctrl-Z?); nothing undone",
                    ));
                }
                Err(std::fs::TryLockError::Error(_)) => return Ok(None),
            }
        }
    }

    pub fn journal_get(&self, id: i64) -> Result<Option<JournalEntry>, CacheError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM journal WHERE id = ?1"),
                params![id],
                from_row,
            )
            .optional()
            .map_err(|e| self.db_err(e))
    }

    /// Entries not undone yet, newest first.
    pub fn journal_active(&self) -> Result<Vec<JournalEntry>, CacheError> {
        self.query_entries(
            &format!("SELECT {COLUMNS} FROM journal WHERE undone = 0 ORDER BY id DESC"),
            params![],
        )
    }

    /// The newest batch that still has entries not undone.
    pub fn journal_last_batch(&self) -> Result<Option<i64>, CacheError> {
        self.conn()
            .query_row("SELECT max(batch) FROM journal WHERE undone = 0", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.db_err(e))
    }

    /// Entries of one batch not undone yet, newest first.
    pub fn journal_batch_active(&self, batch: i64) -> Result<Vec<JournalEntry>, CacheError> {
        self.query_entries(
            &format!(
                "SELECT {COLUMNS} FROM journal WHERE batch = ?1 AND undone = 0 ORDER BY id DESC"
            ),
            params![batch],
        )
    }

    /// How many entries run `batch` wrote (undone or not): 0 when there is
    /// no such run.
    /// How many entries run `batch` has, and how many of them were never
    /// written (the run was killed before their renames).
    pub fn journal_batch_len(&self, batch: i64) -> Result<(usize, usize), CacheError> {
        let (n, never): (i64, i64) = self
            .conn()
            .query_row(
                "SELECT count(*), count(CASE WHEN undone = ?2 THEN 1 END) FROM journal WHERE batch = ?1",
                params![batch, NEVER_WRITTEN],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.db_err(e))?;
        Ok((
            usize::try_from(n).unwrap_or(0),
            usize::try_from(never).unwrap_or(0),
        ))
    }

    /// The newest entry for `path` not undone yet (the TUI's "written" mark).
    pub fn journal_latest_for(
        &self,
        path: &std::path::Path,
    ) -> Result<Option<JournalEntry>, CacheError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM journal WHERE path = ?1 AND undone = 0 ORDER BY id DESC LIMIT 1"),
                params![path_to_blob(path)],
                from_row,
            )
            .optional()
            .map_err(|e| self.db_err(e))
    }

    /// A file moved or renamed (the app saw the same inode, size and mtime
    /// under another name): its pending entries, and its skip, follow it, so
    /// that an undo (the app's `u`, `earmark tag undo`) finds it where it is.
    /// An undo still checks the file's bytes or genre before it writes.
    /// All in one transaction (a renamed folder moves all its files at once).
    /// Returns the entries moved.
    pub fn journal_follow_moves(&self, moves: &[(PathBuf, PathBuf)]) -> Result<usize, CacheError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.db_err(e))?;
        let mut moved = 0;
        for (from, to) in moves {
            moved += self.follow_one_move(from, to)?;
        }
        tx.commit().map_err(|e| self.db_err(e))?;
        Ok(moved)
    }

    fn follow_one_move(&self, from: &Path, to: &Path) -> Result<usize, CacheError> {
        let moved = self
            .conn()
            .execute(
                "UPDATE journal SET path = ?2 WHERE path = ?1 AND undone = 0",
                params![path_to_blob(from), path_to_blob(to)],
            )
            .map_err(|e| self.db_err(e))?;
        // skips are kept by the real path; the old one's folder may be there still
        let old_real = from
            .parent()
            .and_then(|d| std::fs::canonicalize(d).ok())
            .zip(from.file_name())
            .map_or_else(|| from.to_path_buf(), |(d, n)| d.join(n));
        let new_real = std::fs::canonicalize(to).unwrap_or_else(|_| to.to_path_buf());
        self.conn()
            .execute(
                "UPDATE OR REPLACE skips SET path = ?2 WHERE path = ?1",
                params![path_to_blob(&old_real), path_to_blob(&new_real)],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(moved)
    }

    /// Drop an entry whose write did not happen after all.
    pub fn journal_forget(&self, id: i64) -> Result<(), CacheError> {
        self.conn()
            .execute("DELETE FROM journal WHERE id = ?1", params![id])
            .and_then(|_| {
                self.conn()
                    .execute("DELETE FROM journal_bytes WHERE id = ?1", params![id])
            })
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    /// Mark an entry undone; false when it was not pending any more
    /// (another earmark's undo took it back meanwhile).
    pub fn journal_mark_undone(&self, id: i64) -> Result<bool, CacheError> {
        self.mark_done(id, 1)
    }

    /// Take an entry whose write never happened off the pending list, kept
    /// in the listing as such (`forget` would hide what the run did).
    pub fn journal_mark_never_written(&self, id: i64) -> Result<bool, CacheError> {
        self.mark_done(id, NEVER_WRITTEN)
    }

    /// Only a pending entry changes: two undos of one entry at once (two
    /// `tag undo` runs, the app and a run) must not relabel the first's.
    fn mark_done(&self, id: i64, how: i64) -> Result<bool, CacheError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE journal SET undone = ?3, undone_time = ?2 WHERE id = ?1 AND undone = 0",
                params![id, now_ms(), how],
            )
            .map_err(|e| self.db_err(e))?;
        if changed == 0 {
            return Ok(false);
        }
        // an undone entry cannot be undone again: its bytes are no longer needed
        self.conn()
            .execute("DELETE FROM journal_bytes WHERE id = ?1", params![id])
            .map_err(|e| self.db_err(e))?;
        Ok(true)
    }

    fn query_entries(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<JournalEntry>, CacheError> {
        let mut stmt = self.conn().prepare(sql).map_err(|e| self.db_err(e))?;
        let rows = stmt.query_map(p, from_row).map_err(|e| self.db_err(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.db_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, batch: i64) -> NewJournalEntry {
        NewJournalEntry {
            path: PathBuf::from(path),
            old: vec!["Rock".into()],
            new: vec!["Jazz".into()],
            old_state: "{}".into(),
            new_state: "{}".into(),
            batch,
        }
    }

    /// A moved file's pending entries follow it; an entry undone already
    /// keeps the path it was written at (its history).
    #[test]
    fn pending_entries_follow_a_moved_file() {
        let cache = Cache::open_in_memory().unwrap();
        let b = cache.journal_new_batch().unwrap();
        let done = cache.journal_add(&entry("/m/a.mp3", b)).unwrap();
        cache.journal_mark_undone(done).unwrap();
        let pending = cache.journal_add(&entry("/m/a.mp3", b)).unwrap();
        let other = cache.journal_add(&entry("/m/b.mp3", b)).unwrap();
        let moved = cache
            .journal_follow_moves(&[(PathBuf::from("/m/a.mp3"), PathBuf::from("/n/a (1).mp3"))])
            .unwrap();
        assert_eq!(moved, 1);
        let path = |id| cache.journal_get(id).unwrap().unwrap().path;
        assert_eq!(path(pending), PathBuf::from("/n/a (1).mp3"));
        assert_eq!(path(done), PathBuf::from("/m/a.mp3"));
        assert_eq!(path(other), PathBuf::from("/m/b.mp3"));
    }

    #[test]
    fn add_list_undo() {
        let cache = Cache::open_in_memory().unwrap();
        let b1 = cache.journal_new_batch().unwrap();
        let b2 = cache.journal_new_batch().unwrap();
        assert!(b2 > b1);
        let a = cache.journal_add(&entry("/m/a.mp3", b1)).unwrap();
        let b = cache.journal_add(&entry("/m/b.mp3", b2)).unwrap();
        let c = cache.journal_add(&entry("/m/c.mp3", b2)).unwrap();
        assert_eq!(cache.journal_list().unwrap().len(), 3);
        assert_eq!(cache.journal_last_batch().unwrap(), Some(b2));
        let batch: Vec<i64> = cache
            .journal_batch_active(b2)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(batch, vec![c, b]);
        cache.journal_mark_undone(b).unwrap();
        cache.journal_mark_never_written(c).unwrap();
        assert_eq!(cache.journal_last_batch().unwrap(), Some(b1));
        let c = cache.journal_get(c).unwrap().unwrap();
        assert!(c.undone && c.never_written, "{c:?}");
        let got = cache.journal_get(a).unwrap().unwrap();
        assert_eq!(got.old, vec!["Rock".to_string()]);
        assert!(!got.undone && !got.never_written);
        let b = cache.journal_get(b).unwrap().unwrap();
        assert!(b.undone && !b.never_written, "{b:?}");
        assert_eq!(
            cache
                .journal_latest_for(std::path::Path::new("/m/a.mp3"))
                .unwrap()
                .unwrap()
                .id,
            a
        );
        assert!(cache.journal_get(999).unwrap().is_none());
    }

    /// Forgetting the newest entry does not hand its id to the next write.
    #[test]
    fn ids_are_never_given_twice() {
        let cache = Cache::open_in_memory().unwrap();
        let b = cache.journal_new_batch().unwrap();
        let first = cache.journal_add(&entry("/m/a.mp3", b)).unwrap();
        let newest = cache.journal_add(&entry("/m/b.mp3", b)).unwrap();
        cache.journal_forget(newest).unwrap();
        let next = cache.journal_add(&entry("/m/c.mp3", b)).unwrap();
        assert!(next > newest && newest > first, "{first} {newest} {next}");
        assert!(cache.journal_get(newest).unwrap().is_none());
    }
}
