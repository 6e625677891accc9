//! The SQLite cache: classification results (and the store the tag undo
//! journal reuses, in its own database: see `tags::journal`), with
//! schema migrations. It stores and fetches; deciding what to do with the data
//! (policy) is for `tags`, `model` and the fronts.
//!
//! The file lives at `$EARMARK_CACHE_DIR/earmark.sqlite` when that variable is
//! set (tests use a temp dir), else at `dirs::cache_dir()/earmark/earmark.sqlite`.
//! A file that is not SQLite, or holds another application's schema, is renamed
//! aside (`earmark.sqlite.corrupt-<time>`) and rebuilt; the caller gets a warning
//! in [`Cache::warnings`], never a crash.
//!
//! A [`Cache`] wraps one `rusqlite::Connection`: it is `Send` but not `Sync`;
//! open one per thread (WAL mode and a busy timeout make that safe), or share
//! one behind a `Mutex`.

mod embeddings;
mod results;

// The undo journal moved to `tags::journal` (its own database); re-exported
// here so older call sites keep compiling.
pub use crate::tags::journal::{JournalEntry, NewJournalEntry};
pub use embeddings::StoredEmbedding;
pub use results::{FileId, FileKey, Lookup, content_sha256, file_id, file_key};

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

/// Environment variable overriding the cache directory.
pub const CACHE_DIR_ENV: &str = "EARMARK_CACHE_DIR";
/// Environment variable overriding the data directory (the journal's and the
/// learned genres' home).
pub const DATA_DIR_ENV: &str = "EARMARK_DATA_DIR";
/// File name of the database inside the cache directory.
pub const CACHE_FILE: &str = "earmark.sqlite";
/// `PRAGMA application_id` marking the file as ours ("ERMK").
const APPLICATION_ID: i32 = 0x4552_4D4B;
/// Latest schema version (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache: no cache directory (set {CACHE_DIR_ENV} or HOME)")]
    NoCacheDir,
    #[error("{} {}: {reason}", store_word(path), crate::library::shown(path.as_os_str()))]
    Open { path: PathBuf, reason: String },
    #[error("{} {}: {reason}", store_word(path), crate::library::shown(path.as_os_str()))]
    Db { path: PathBuf, reason: String },
}

pub struct Cache {
    conn: Connection,
    path: PathBuf,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("path", &self.path).finish()
    }
}

/// Where the cache database lives (not created).
pub fn default_path() -> Result<PathBuf, CacheError> {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join(CACHE_FILE));
    }
    let dir = dirs::cache_dir().ok_or(CacheError::NoCacheDir)?;
    Ok(dir.join("earmark").join(CACHE_FILE))
}

/// Where earmark's data lives (the undo journal, learned genres, temp
/// markers): `$EARMARK_DATA_DIR`, else `data/` inside a redirected
/// `$EARMARK_CACHE_DIR` (tests and sandboxes never touch the user's data),
/// else `$XDG_DATA_HOME/earmark` (`~/.local/share/earmark`).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("data"));
    }
    Some(dirs::data_dir()?.join("earmark"))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Why an existing file cannot be used as our cache.
/// What a database is called in messages: the undo journal is data the
/// user keeps, not a cache that can be rebuilt.
fn store_word(path: &Path) -> &'static str {
    if path.file_name() == Some(std::ffi::OsStr::new(crate::tags::journal::JOURNAL_FILE)) {
        "undo journal"
    } else {
        "cache"
    }
}

enum Unusable {
    NotSqlite(String),
    Foreign(String),
}

impl Cache {
    /// Open (creating if needed) the cache at [`default_path`].
    pub fn open_default() -> Result<Cache, CacheError> {
        Cache::open(&default_path()?)
    }

    /// Open (creating if needed) the cache database at `path`. A corrupt or
    /// foreign file is moved aside and replaced; see [`Cache::warnings`].
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CacheError::Open {
                path: path.to_path_buf(),
                reason: format!(
                    "cannot create {}: {}",
                    dir.display(),
                    crate::audio::io_reason(&e)
                ),
            })?;
        }
        let mut warnings = Vec::new();
        let conn = match try_open(path) {
            Ok(conn) => conn,
            Err(TryOpen::Unusable(why)) => {
                let aside = move_aside(path)?;
                let what = match why {
                    Unusable::NotSqlite(r) => format!("not a usable SQLite database ({r})"),
                    Unusable::Foreign(r) => r,
                };
                let word = store_word(path);
                warnings.push(format!(
                    "{word} {} was {what}; moved it to {} and started a new {word}{}",
                    path.display(),
                    aside.display(),
                    if word == "cache" {
                        ""
                    } else {
                        " (the writes it recorded cannot be undone from here)"
                    }
                ));
                match try_open(path) {
                    Ok(conn) => conn,
                    Err(TryOpen::Unusable(Unusable::NotSqlite(r) | Unusable::Foreign(r)))
                    | Err(TryOpen::Fatal(r)) => {
                        return Err(CacheError::Open {
                            path: path.to_path_buf(),
                            reason: r,
                        });
                    }
                }
            }
            Err(TryOpen::Fatal(reason)) => {
                return Err(CacheError::Open {
                    path: path.to_path_buf(),
                    reason,
                });
            }
        };
        Ok(Cache {
            conn,
            path: path.to_path_buf(),
            warnings,
        })
    }

    /// A private in-memory cache (tests, `--no-cache` runs).
    pub fn open_in_memory() -> Result<Cache, CacheError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| CacheError::Open {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        migrate(&conn).map_err(|e| CacheError::Open {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Cache {
            conn,
            path,
            warnings: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Problems met and repaired while opening (e.g. a corrupt file moved aside).
    /// Show them to the user once.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn db_err(&self, e: impl std::fmt::Display) -> CacheError {
        CacheError::Db {
            path: self.path.clone(),
            reason: with_likely_cause(&self.path, e.to_string()),
        }
    }

    /// One file version per path and model: in one transaction, drop what
    /// `table` holds for `path_blob` and `model_key`, then run `insert`.
    pub(crate) fn replace_for_path(
        &self,
        table: &str,
        path_blob: &[u8],
        model_key: &str,
        insert: &str,
        params: impl rusqlite::Params,
    ) -> Result<(), CacheError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.db_err(e))?;
        tx.execute(
            &format!("DELETE FROM {table} WHERE path = ?1 AND model_sha256 = ?2"),
            rusqlite::params![path_blob, model_key],
        )
        .map_err(|e| self.db_err(e))?;
        tx.execute(insert, params).map_err(|e| self.db_err(e))?;
        tx.commit().map_err(|e| self.db_err(e))
    }
}

impl Cache {
    /// Re-key the results and embeddings made with an earlier graph whose
    /// outputs `new_sha`'s model reproduces (exact rewrites, listed in its
    /// card's `equivalent_sha256`), so an upgrade keeps a library's analyses.
    /// Keys are the model hash, alone or followed by `|` and the plan; a row
    /// already present under the new key wins. Returns the rows moved.
    pub fn adopt_equivalent(&self, old_sha: &str, new_sha: &str) -> Result<usize, CacheError> {
        self.rekey(&["results", "embeddings"], old_sha, new_sha)
    }

    /// Re-key only the embeddings of an earlier model whose embedding output
    /// `new_sha`'s model reproduces (its card's `embedding_equivalent_sha256`):
    /// `similar` keeps its index, while genres are analysed again.
    pub fn adopt_embeddings(&self, old_sha: &str, new_sha: &str) -> Result<usize, CacheError> {
        self.rekey(&["embeddings"], old_sha, new_sha)
    }

    fn rekey(&self, tables: &[&str], old_sha: &str, new_sha: &str) -> Result<usize, CacheError> {
        let mut moved = 0;
        for table in tables {
            moved += self
                .conn()
                .execute(
                    &format!(
                        "UPDATE OR IGNORE {table}
                         SET model_sha256 = ?2 || substr(model_sha256, length(?1) + 1)
                         WHERE model_sha256 = ?1 OR substr(model_sha256, 1, length(?1) + 1) = ?1 || '|'"
                    ),
                    rusqlite::params![old_sha, new_sha],
                )
                .map_err(|e| self.db_err(e))?;
        }
        Ok(moved)
    }
}

enum TryOpen {
    Unusable(Unusable),
    Fatal(String),
}

fn try_open(path: &Path) -> Result<Connection, TryOpen> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| classify_open_error(path, e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| TryOpen::Fatal(e.to_string()))?;
    // Reading the header is where a non-database file shows itself. One
    // statement, one snapshot: read apart, another earmark's first migration
    // could commit between them (tables but no id yet) and make a new cache
    // look foreign.
    let (app_id, version, tables): (i32, i32, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()),
                    (SELECT user_version FROM pragma_user_version()),
                    (SELECT count(*) FROM sqlite_master)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| classify_open_error(path, e))?;
    if app_id != APPLICATION_ID && (tables > 0 || version != 0) {
        return Err(TryOpen::Unusable(Unusable::Foreign(
            "another application's database (unknown schema)".into(),
        )));
    }
    // A newer earmark's file is sound: left where it is, unused (moving it
    // aside would lose a journal's undo history to a downgrade).
    if app_id == APPLICATION_ID && version > SCHEMA_VERSION {
        return Err(TryOpen::Fatal(format!(
            "written by a newer earmark (schema {version}; this one knows up to \
             {SCHEMA_VERSION}): left as it is (use that earmark, or move the file away \
             to start a new one)"
        )));
    }
    // WAL lets the TUI's workers and a CLI run share the cache; ignore failure
    // (e.g. a filesystem without shared memory), the default journal works too.
    let _ = conn.pragma_update(None, "journal_mode", "WAL");
    match conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)) {
        Ok(s) if s == "ok" => {}
        Ok(s) => {
            return Err(TryOpen::Unusable(Unusable::NotSqlite(format!(
                "integrity check: {s}"
            ))));
        }
        Err(e) => return Err(classify_open_error(path, e)),
    }
    migrate(&conn).map_err(|e| classify_open_error(path, e))?;
    Ok(conn)
}

fn classify_open_error(path: &Path, e: rusqlite::Error) -> TryOpen {
    use rusqlite::ffi::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            TryOpen::Unusable(Unusable::NotSqlite(e.to_string()))
        }
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            TryOpen::Fatal(with_likely_cause(
                path,
                format!("cannot open {}: {e}", path.display()),
            ))
        }
        _ => TryOpen::Fatal(with_likely_cause(path, e.to_string())),
    }
}

/// SQLite's words for a failure say little ("disk I/O error" for a full
/// disk, "unable to open database file" for a folder it cannot write, "attempt
/// to write a readonly database"): add what the file system shows, with what
/// to do. Checked only once something failed.
fn with_likely_cause(path: &Path, said: String) -> String {
    match likely_cause(path) {
        Some(cause) => format!("{said} ({cause})"),
        None => said,
    }
}

fn likely_cause(path: &Path) -> Option<String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let unwritable = unwritable(dir);
    if unwritable.as_ref().and_then(std::io::Error::raw_os_error) == Some(libc::EROFS) {
        return Some(format!("{} is on a read-only file system", dir.display()));
    }
    // (less than SQLite needs to grow its log by a few pages)
    if free_bytes(dir).is_some_and(|free| free < 256 << 10) {
        return Some(format!(
            "the disk holding {} is full: free some space",
            dir.display()
        ));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) {
        return Some(format!(
            "the file is read-only: `chmod u+w {}` lets earmark use it",
            path.display()
        ));
    }
    unwritable.map(|_| {
        format!(
            "its folder {} is not writable, and SQLite keeps its lock and log files there: `chmod u+w` on the folder",
            dir.display()
        )
    })
}

#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: a zeroed statvfs is a valid out-parameter; c is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above; statvfs only writes into st.
    if unsafe { libc::statvfs(c.as_ptr(), &raw mut st) } != 0 {
        return None;
    }
    #[allow(clippy::useless_conversion)] // (u32 on some targets)
    Some(u64::from(st.f_bavail) * u64::from(st.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_: &Path) -> Option<u64> {
    None
}

/// Why this process cannot write in `dir`, if it cannot.
#[cfg(unix)]
fn unwritable(dir: &Path) -> Option<std::io::Error> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: c is NUL-terminated; access only reads the path.
    let failed = unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0;
    failed.then(std::io::Error::last_os_error)
}

#[cfg(not(unix))]
fn unwritable(_: &Path) -> Option<std::io::Error> {
    None
}

/// Rename a bad cache file (and its WAL/SHM companions) aside.
fn move_aside(path: &Path) -> Result<PathBuf, CacheError> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".corrupt-{stamp}"));
    let mut aside = PathBuf::from(&name);
    let mut n = 1;
    while aside.exists() {
        let mut alt = name.clone();
        alt.push(format!("-{n}"));
        aside = PathBuf::from(alt);
        n += 1;
    }
    std::fs::rename(path, &aside).map_err(|e| CacheError::Open {
        path: path.to_path_buf(),
        reason: format!(
            "unusable, and cannot move it aside: {}",
            crate::audio::io_reason(&e)
        ),
    })?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_os_string();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            let mut to = aside.as_os_str().to_os_string();
            to.push(suffix);
            let _ = std::fs::rename(&side, PathBuf::from(to));
        }
    }
    Ok(aside)
}

/// Bring the schema up to [`SCHEMA_VERSION`], one step per version, each in a
/// transaction that reads the version itself: two earmarks opening a new
/// cache at once (the app and a `tag` run) take turns, and the second finds
/// the step done instead of failing on it (`duplicate column name`).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    migrate_step(
        conn,
        1,
        &format!(
            "CREATE TABLE IF NOT EXISTS journal (
                 id        INTEGER PRIMARY KEY,
                 path      BLOB    NOT NULL,
                 old_value TEXT    NOT NULL,
                 new_value TEXT    NOT NULL,
                 old_state TEXT    NOT NULL,
                 new_state TEXT    NOT NULL,
                 time      INTEGER NOT NULL,
                 batch     INTEGER NOT NULL,
                 undone    INTEGER NOT NULL DEFAULT 0,
                 undone_time INTEGER
             );
             CREATE INDEX IF NOT EXISTS journal_batch ON journal(batch);
             CREATE TABLE IF NOT EXISTS batches (
                 id   INTEGER PRIMARY KEY,
                 time INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS results (
                 path         BLOB    NOT NULL,
                 size         INTEGER NOT NULL,
                 mtime_ns     INTEGER NOT NULL,
                 model_sha256 TEXT    NOT NULL,
                 result_json  TEXT    NOT NULL,
                 time         INTEGER NOT NULL,
                 PRIMARY KEY (path, size, mtime_ns, model_sha256)
             );
             PRAGMA application_id = {APPLICATION_ID};"
        ),
    )?;
    // Results are keyed by canonical path from now on, with a content hash
    // so a moved library keeps them. Rows stored under a relative spelling
    // can never be looked up again (nothing says what they were relative to).
    migrate_step(
        conn,
        2,
        "ALTER TABLE results ADD COLUMN content_sha256 TEXT;
         CREATE INDEX IF NOT EXISTS results_size ON results(size, model_sha256);
         DELETE FROM results WHERE substr(path, 1, 1) <> X'2F';",
    )?;
    // A moved file's result is found by its content: with this index the
    // lookup reads the rows of that content, not every row of its size (a
    // library of many copies and links of one track made each lookup scan
    // thousands of rows, a minute of a core for 20 000 files). An index an
    // older earmark ignores: no schema step, so a downgrade keeps working.
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS results_content ON results(content_sha256, model_sha256, time)",
    )?;
    embeddings::create_table(conn)?;
    crate::tags::journal::create_tables(conn)?;
    Ok(())
}

/// Run `sql` and set the schema version to `to`, unless another process got
/// there first (the version is read under the write lock).
fn migrate_step(conn: &Connection, to: i32, sql: &str) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let done = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i32>(0))
        .and_then(|version| {
            if version < to {
                conn.execute_batch(sql)?;
                conn.execute_batch(&format!("PRAGMA user_version = {to};"))?;
            }
            Ok(())
        });
    match done {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A path as stored in the database: its exact bytes (non-UTF-8 names survive).
pub fn path_to_blob(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

pub fn blob_to_path(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's bare words get what the file system shows: a read-only
    /// file says so and how to mend it; a sound file adds nothing. (A full
    /// disk and a read-only mount were checked by hand on a tmpfs: "disk
    /// I/O error (the disk holding … is full: free some space)", "unable
    /// to open database file (… is on a read-only file system)".)
    #[cfg(unix)]
    #[test]
    fn a_database_failure_names_its_likely_cause() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::tags::journal::JOURNAL_FILE);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(with_likely_cause(&path, "x".into()), "x");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let said = with_likely_cause(&path, "attempt to write a readonly database".into());
        assert!(
            said.starts_with(
                "attempt to write a readonly database (the file is read-only: `chmod u+w "
            ),
            "{said}"
        );
    }

    /// Several earmarks opening one new cache at once (the app and a `tag`
    /// run; a journal listing while a run creates it) all get it, with one
    /// schema: the migration steps take turns instead of failing with
    /// `duplicate column name`.
    #[test]
    fn a_new_cache_opened_at_once_by_several_is_migrated_once() {
        for round in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(CACHE_FILE);
            let start = std::sync::Barrier::new(4);
            std::thread::scope(|scope| {
                let opened: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            Cache::open(&path).map(|c| c.warnings().to_vec())
                        })
                    })
                    .collect();
                for o in opened {
                    let warnings = o
                        .join()
                        .unwrap()
                        .unwrap_or_else(|e| panic!("round {round}: {e}"));
                    assert!(warnings.is_empty(), "round {round}: {warnings:?}");
                }
            });
            let v: i32 = Cache::open(&path)
                .unwrap()
                .conn()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, SCHEMA_VERSION);
        }
    }

    #[test]
    fn fresh_cache_has_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(CACHE_FILE);
        let cache = Cache::open(&path).unwrap();
        assert!(cache.warnings().is_empty());
        let v: i32 = cache
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        drop(cache);
        // Reopening is quiet.
        let cache = Cache::open(&path).unwrap();
        assert!(cache.warnings().is_empty());
    }

    #[test]
    fn version_1_cache_is_migrated_keeping_absolute_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE journal (id INTEGER PRIMARY KEY, path BLOB NOT NULL,
                     old_value TEXT NOT NULL, new_value TEXT NOT NULL, old_state TEXT NOT NULL,
                     new_state TEXT NOT NULL, time INTEGER NOT NULL, batch INTEGER NOT NULL,
                     undone INTEGER NOT NULL DEFAULT 0, undone_time INTEGER);
                 CREATE TABLE batches (id INTEGER PRIMARY KEY, time INTEGER NOT NULL);
                 CREATE TABLE results (path BLOB NOT NULL, size INTEGER NOT NULL,
                     mtime_ns INTEGER NOT NULL, model_sha256 TEXT NOT NULL,
                     result_json TEXT NOT NULL, time INTEGER NOT NULL,
                     PRIMARY KEY (path, size, mtime_ns, model_sha256));
                 INSERT INTO results VALUES (CAST('/abs/a.wav' AS BLOB), 1, 2, 'm', '{{}}', 0);
                 INSERT INTO results VALUES (CAST('rel/a.wav' AS BLOB), 1, 2, 'm', '{{}}', 0);
                 PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = 1;"
            ))
            .unwrap();
        }
        let cache = Cache::open(&path).unwrap();
        assert!(cache.warnings().is_empty(), "{:?}", cache.warnings());
        let v: i32 = cache
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2);
        let id = FileId {
            path: PathBuf::from("/abs/a.wav"),
            key: FileKey {
                size: 1,
                mtime_ns: 2,
            },
        };
        assert_eq!(
            cache.lookup_result(&id, "m").unwrap(),
            Lookup::Hit("{}".into())
        );
        let rows: i64 = cache
            .conn()
            .query_row("SELECT count(*) FROM results", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the relative spelling is dropped");
    }

    #[test]
    fn garbage_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        std::fs::write(
            &path,
            b"this is not a database, just some text that is long enough",
        )
        .unwrap();
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.warnings().len(), 1, "{:?}", cache.warnings());
        assert!(cache.warnings()[0].contains("corrupt-"));
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read(aside[0].path()).unwrap(),
            b"this is not a database, just some text that is long enough"
        );
    }

    #[test]
    fn foreign_schema_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE journal (x TEXT); INSERT INTO journal VALUES ('theirs');",
            )
            .unwrap();
        }
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.warnings().len(), 1);
        assert!(
            cache.warnings()[0].contains("another application"),
            "{:?}",
            cache.warnings()
        );
        assert!(cache.journal_list().unwrap().is_empty());
    }

    #[test]
    fn newer_schema_is_refused_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::tags::journal::JOURNAL_FILE);
        Cache::open(&path).unwrap();
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1))
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Cache::open(&path).unwrap_err().to_string();
        assert!(err.starts_with("undo journal "), "{err}");
        assert!(
            err.contains("newer earmark") && err.contains("left as it is"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains(".corrupt-")), "{names:?}");
    }

    #[test]
    fn non_utf8_paths_round_trip() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"/music/caf\xe9.mp3"));
            assert_eq!(blob_to_path(&path_to_blob(p)), p);
        }
    }
}
