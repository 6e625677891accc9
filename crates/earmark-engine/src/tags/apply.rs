//! Journaled tagging: every write goes through the safe write path and is
//! recorded in the cache's undo journal; undo restores the exact previous
//! values through the same path. This is what `earmark tag` and the TUI call.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::state::{GenreChange, GenreState};
use super::write::{self, TagWriteError, WriteConfig, WriteErrorKind, WriteReport};
use crate::cache::{Cache, CacheError, JournalEntry, NewJournalEntry};

/// A successful accept: what was written and its journal entry.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    #[serde(flatten)]
    pub report: WriteReport,
    /// None when nothing needed writing (the file already had these genres).
    pub journal_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Write(#[from] TagWriteError),
    /// The file was written, but the undo journal could not record it.
    #[error("{}: written ({} → {}), but the undo journal failed: {error}", report.path.display(), write::show(&report.old), write::show(&report.new))]
    Journal {
        report: Box<WriteReport>,
        error: CacheError,
    },
}

impl ApplyError {
    pub fn path(&self) -> &Path {
        match self {
            ApplyError::Write(e) => &e.path,
            ApplyError::Journal { report, .. } => &report.path,
        }
    }

    /// The undo journal failed: the batch must stop.
    pub fn is_journal(&self) -> bool {
        match self {
            ApplyError::Write(e) => e.kind == WriteErrorKind::Journal,
            ApplyError::Journal { .. } => true,
        }
    }

    /// Short kind for JSON and file marks.
    pub fn kind(&self) -> &'static str {
        match self {
            ApplyError::Write(e) => e.kind.as_str(),
            ApplyError::Journal { .. } => "journal",
        }
    }
}

/// A successful undo.
#[derive(Debug, Clone, Serialize)]
pub struct Undone {
    pub id: i64,
    #[serde(flatten)]
    pub report: WriteReport,
}

#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("no journal entry {0}")]
    NoSuchEntry(i64),
    #[error("journal entry {id} ({}) is already undone", path.display())]
    AlreadyUndone { id: i64, path: PathBuf },
    #[error("journal entry {id} ({}) cannot be read back", path.display())]
    BadEntry { id: i64, path: PathBuf },
    #[error("journal entry {id}: {error}")]
    Write { id: i64, error: TagWriteError },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl UndoError {
    pub fn kind(&self) -> &'static str {
        match self {
            UndoError::NoSuchEntry(_) => "no-such-entry",
            UndoError::AlreadyUndone { .. } => "already-undone",
            UndoError::BadEntry { .. } => "bad-entry",
            UndoError::Write { error, .. } => error.kind.as_str(),
            UndoError::Cache(_) => "cache",
        }
    }
}

/// Write `change` to `path` and journal it in `batch` (from
/// [`Cache::journal_new_batch`]; one per user action, so `--undo --last` and
/// the TUI's `u` take back a whole batch-accept at once). A journal failure
/// is reported as a write error of kind `Journal`: nothing was written.
pub fn accept(
    cache: &Cache,
    batch: i64,
    path: &Path,
    change: &GenreChange,
) -> Result<Applied, ApplyError> {
    accept_with(cache, batch, path, change, &WriteConfig::from_env())
}

pub fn accept_with(
    cache: &Cache,
    batch: i64,
    path: &Path,
    change: &GenreChange,
    cfg: &WriteConfig,
) -> Result<Applied, ApplyError> {
    // The entry is recorded before the verified copy replaces the original,
    // so a write that cannot be journaled never happens.
    let mut journal_id = None;
    let result = write::write_genre_recorded(path, change, cfg, |report| {
        let entry = NewJournalEntry {
            path: journal_path(path),
            old: report.old.clone(),
            new: report.new.clone(),
            old_state: report.old_state.to_json(),
            new_state: report.new_state.to_json(),
            batch,
        };
        journal_id = Some(cache.journal_add(&entry).map_err(|e| {
            TagWriteError::new(
                path,
                WriteErrorKind::Journal,
                format!(
                    "not written, because the undo journal cannot record it ({e}); close other earmark windows or check the disk, then run the same command again"
                ),
            )
        })?);
        Ok(())
    });
    match result {
        Ok(report) => Ok(Applied { report, journal_id }),
        Err(e) => {
            // Recorded, then the rename failed: the entry describes nothing.
            if let Some(id) = journal_id {
                let _ = cache.journal_forget(id);
            }
            Err(ApplyError::Write(e))
        }
    }
}

/// Dry run for a list of files: what each write would do (the TUI's preview).
pub fn preview(items: &[(PathBuf, GenreChange)]) -> Vec<Result<WriteReport, TagWriteError>> {
    items.iter().map(|(p, c)| write::plan_genre(p, c)).collect()
}

/// Accept many files as one batch. `progress` sees each result as it lands
/// (the TUI runs this on a worker and forwards them); files are independent:
/// one failure does not stop the rest, except a journal failure, which stops
/// the batch (later writes could not be undone either).
pub fn accept_batch(
    cache: &Cache,
    items: &[(PathBuf, GenreChange)],
    mut progress: impl FnMut(usize, &Result<Applied, ApplyError>),
) -> Result<Vec<Result<Applied, ApplyError>>, CacheError> {
    let batch = cache.journal_new_batch()?;
    let cfg = WriteConfig::from_env();
    let mut out = Vec::with_capacity(items.len());
    for (i, (path, change)) in items.iter().enumerate() {
        let r = accept_with(cache, batch, path, change, &cfg);
        progress(i, &r);
        let stop = r.as_ref().is_err_and(ApplyError::is_journal);
        out.push(r);
        if stop {
            break;
        }
    }
    Ok(out)
}

/// Undo one journal entry: restore the exact previous values, provided the
/// file still holds what that entry wrote.
pub fn undo(cache: &Cache, id: i64) -> Result<Undone, UndoError> {
    undo_with(cache, id, &WriteConfig::from_env())
}

pub fn undo_with(cache: &Cache, id: i64, cfg: &WriteConfig) -> Result<Undone, UndoError> {
    let entry = cache.journal_get(id)?.ok_or(UndoError::NoSuchEntry(id))?;
    undo_entry(cache, &entry, cfg)
}

fn undo_entry(cache: &Cache, entry: &JournalEntry, cfg: &WriteConfig) -> Result<Undone, UndoError> {
    let id = entry.id;
    if entry.undone {
        return Err(UndoError::AlreadyUndone {
            id,
            path: entry.path.clone(),
        });
    }
    let bad = || UndoError::BadEntry {
        id,
        path: entry.path.clone(),
    };
    let old = GenreState::from_json(&entry.old_state).ok_or_else(bad)?;
    let new = GenreState::from_json(&entry.new_state).ok_or_else(bad)?;
    let report = write::restore_genre_state(&entry.path, &new, &old, cfg)
        .map_err(|error| UndoError::Write { id, error })?;
    cache.journal_mark_undone(id)?;
    Ok(Undone { id, report })
}

/// Undo the newest batch that has entries left, newest entry first.
/// An empty list when there is nothing to undo.
pub fn undo_last(cache: &Cache) -> Result<Vec<Result<Undone, UndoError>>, CacheError> {
    let Some(batch) = cache.journal_last_batch()? else {
        return Ok(Vec::new());
    };
    let cfg = WriteConfig::from_env();
    Ok(cache
        .journal_batch_active(batch)?
        .iter()
        .map(|e| undo_entry(cache, e, &cfg))
        .collect())
}

/// Undo every entry not undone yet, newest first.
pub fn undo_all(cache: &Cache) -> Result<Vec<Result<Undone, UndoError>>, CacheError> {
    let cfg = WriteConfig::from_env();
    Ok(cache
        .journal_active()?
        .iter()
        .map(|e| undo_entry(cache, e, &cfg))
        .collect())
}

/// The path to record: absolute, so an undo works from any directory.
fn journal_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
