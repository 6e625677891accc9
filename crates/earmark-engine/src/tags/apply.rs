//! Journaled tagging: every write goes through the safe write path and is
//! recorded in the undo journal with the original bytes it replaced; undo
//! rebuilds the file byte for byte, or, when another program has re-saved it
//! since, restores the exact previous values through the same safe path.
//! This is what `earmark tag` and the TUI call.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::state::{GenreChange, GenreState};
use super::unwritten;
use super::write::{self, TagWriteError, WriteConfig, WriteErrorKind, WriteReport};
use crate::cache::{Cache, CacheError, JournalEntry, NewJournalEntry};

/// A successful accept: what was written and its journal entry.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    #[serde(flatten)]
    pub report: WriteReport,
    /// None when nothing needed writing (the file already had these genres).
    pub journal_id: Option<i64>,
    /// The file's size and mtime once written (None when it cannot be read
    /// back): what the app keeps its classification under.
    #[serde(skip)]
    pub key_after: Option<crate::cache::FileKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Write(#[from] TagWriteError),
    /// The file was written, but the undo journal could not record it.
    #[error("{}: written ({} → {}), but the undo journal failed: {error}", crate::library::shown(report.path.as_os_str()), write::show(&report.old), write::show(&report.new))]
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
    /// The file's size and mtime once restored (None when it cannot be
    /// read back), as [`Applied::key_after`].
    #[serde(skip)]
    pub key_after: Option<crate::cache::FileKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("no journal entry #{0}")]
    NoSuchEntry(i64),
    #[error("journal entry #{id} ({}) is already undone", crate::library::shown(path.as_os_str()))]
    AlreadyUndone { id: i64, path: PathBuf },
    #[error("journal entry #{id} ({}) cannot be read back", crate::library::shown(path.as_os_str()))]
    BadEntry { id: i64, path: PathBuf },
    #[error("journal entry #{id}: {error}")]
    Write { id: i64, error: TagWriteError },
    /// Not a failure: the write never happened (see `unwritten`); the entry
    /// is marked so, and no longer pending.
    #[error("journal entry #{id} ({}): {}", crate::library::shown(path.as_os_str()), super::unwritten::NEVER_WRITTEN)]
    NeverWritten { id: i64, path: PathBuf },
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
            UndoError::NeverWritten { .. } => "never-written",
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
    let result = write::write_genre_recorded(path, change, cfg, |report, patch| {
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
        // best effort: without its bytes the undo restores values instead
        if let (Some(id), Some(patch)) = (journal_id, patch) {
            let _ = cache.journal_keep_bytes(id, patch);
        }
        Ok(())
    });
    match result {
        Ok(report) => Ok(Applied {
            key_after: crate::cache::file_key(path).ok(),
            report,
            journal_id,
        }),
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

/// One file of a batch: the change, and the version of the file (size,
/// mtime) it was decided from, if it depends on one (see
/// [`WriteConfig::decided_on`]).
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub path: PathBuf,
    pub change: GenreChange,
    pub decided_on: Option<crate::cache::FileKey>,
}

/// Accept many files as one batch. `progress` sees each result as it lands
/// (the TUI runs this on a worker and forwards them) and returns false to
/// stop before the next file (the app quitting: no write is cut half way);
/// files are independent: one failure does not stop the rest, except a
/// journal failure, which stops the batch (later writes could not be undone
/// either).
pub fn accept_batch(
    cache: &Cache,
    items: &[BatchItem],
    mut progress: impl FnMut(usize, &Result<Applied, ApplyError>) -> bool,
) -> Result<Vec<Result<Applied, ApplyError>>, CacheError> {
    let batch = cache.journal_new_batch()?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let cfg = WriteConfig {
            decided_on: item.decided_on,
            ..WriteConfig::from_env()
        };
        let r = accept_with(cache, batch, &item.path, &item.change, &cfg);
        let go_on = progress(i, &r);
        let stop = r.as_ref().is_err_and(ApplyError::is_journal);
        out.push(r);
        if stop || !go_on {
            break;
        }
    }
    let _ = cache.journal_drop_empty_batch(batch);
    Ok(out)
}

/// Undo one journal entry: rebuild the file byte for byte when it is still
/// exactly what that entry wrote (see `byte_patch`); otherwise restore the
/// exact previous values, provided the file still holds the genre written.
pub fn undo(cache: &Cache, id: i64) -> Result<Undone, UndoError> {
    undo_with(cache, id, &WriteConfig::from_env())
}

pub fn undo_with(cache: &Cache, id: i64, cfg: &WriteConfig) -> Result<Undone, UndoError> {
    let _turn = cache.journal_undo_turn()?;
    undo_in_turn(cache, id, cfg)
}

/// [`undo_with`] for a caller that holds the journal's undo turn
/// ([`Cache::journal_undo_turn`]) over several entries: the app's `u`.
pub fn undo_in_turn(cache: &Cache, id: i64, cfg: &WriteConfig) -> Result<Undone, UndoError> {
    let entry = cache.journal_get(id)?.ok_or(UndoError::NoSuchEntry(id))?;
    undo_entry(cache, &entry, cfg)
}

fn undo_entry(
    cache: &Cache,
    listed: &JournalEntry,
    cfg: &WriteConfig,
) -> Result<Undone, UndoError> {
    let id = listed.id;
    // Read again: a list taken at the start of `undo --all` may be stale
    // (another earmark's undo took an entry back meanwhile).
    let entry = &cache.journal_get(id)?.unwrap_or_else(|| listed.clone());
    let already = || UndoError::AlreadyUndone {
        id,
        path: entry.path.clone(),
    };
    if entry.undone {
        return Err(already());
    }
    let bad = || UndoError::BadEntry {
        id,
        path: entry.path.clone(),
    };
    let old = GenreState::from_json(&entry.old_state).ok_or_else(bad)?;
    let new = GenreState::from_json(&entry.new_state).ok_or_else(bad)?;
    let patch = cache.journal_bytes(id)?;
    if write::read_genre_state(&entry.path)
        .is_ok_and(|now| unwritten::on_disk(&entry.path, &now, (&old, &new), patch.as_ref(), true))
    {
        if !cache.journal_mark_never_written(id)? {
            return Err(already());
        }
        return Err(UndoError::NeverWritten {
            id,
            path: entry.path.clone(),
        });
    }
    let exact = match patch {
        Some(patch) => write::restore_bytes(&entry.path, &patch, &new, &old, cfg),
        None => Ok(None),
    };
    let report = match exact {
        Ok(Some(report)) => Ok(report),
        // the file changed since (values still match: another tagger re-saved it)
        Ok(None) => write::restore_genre_state(&entry.path, &new, &old, cfg),
        Err(error) => Err(error),
    }
    .map_err(|mut error| {
        // another earmark's undo of this very entry is why (it went first)
        if error.kind == WriteErrorKind::Changed
            && cache
                .journal_get(id)
                .ok()
                .flatten()
                .is_some_and(|e| e.undone)
        {
            return already();
        }
        if error.kind == WriteErrorKind::Changed {
            error
                .reason
                .push_str(&newer_write_note(cache, &entry.path, id));
        }
        UndoError::Write { id, error }
    })?;
    if !cache.journal_mark_undone(id)? {
        return Err(already());
    }
    Ok(Undone {
        id,
        key_after: crate::cache::file_key(&report.path).ok(),
        report,
    })
}

/// When a newer write of earmark's own to `path` is why entry `id` cannot be
/// undone: "; #7 wrote it since: undo that first (…)"; else nothing.
fn newer_write_note(cache: &Cache, path: &Path, id: i64) -> String {
    match cache.journal_latest_for(path) {
        Ok(Some(newer)) if newer.id > id => format!(
            "; #{} wrote it since: undo that first (`tag undo --all` takes them newest first)",
            newer.id
        ),
        _ => String::new(),
    }
}

/// After `report`'s write (or undo) is in place, with the file now at
/// `after`: a write keeps the audio (verified), so the analyses the results
/// cache (not the journal: another database) holds for the version it
/// started from follow it, and `earmark tag` followed by `classify` or the
/// app finds them instead of analysing again. Best effort: a cache that
/// cannot be updated only costs a new analysis.
pub fn carry_analyses(results: &Cache, report: &WriteReport, after: Option<crate::cache::FileKey>) {
    if let (true, Some(before), Some(after)) = (report.changed, report.key_before, after) {
        let _ = results.follow_rewrite(&report.path, before, after);
    }
}

/// The entries `undo --last` takes back, newest first (empty: nothing to undo).
pub fn last_entries(cache: &Cache) -> Result<Vec<JournalEntry>, CacheError> {
    match cache.journal_last_batch()? {
        Some(batch) => cache.journal_batch_active(batch),
        None => Ok(Vec::new()),
    }
}

/// Undo the newest batch that has entries left, newest entry first.
/// An empty list when there is nothing to undo.
pub fn undo_last(cache: &Cache) -> Result<Vec<Result<Undone, UndoError>>, CacheError> {
    let cfg = WriteConfig::from_env();
    let _turn = cache.journal_undo_turn()?;
    Ok(last_entries(cache)?
        .iter()
        .map(|e| undo_entry(cache, e, &cfg))
        .collect())
}

/// Undo what one run (journal batch) wrote and is not undone yet, newest
/// entry first; an empty list when nothing of it is left.
pub fn undo_run(cache: &Cache, batch: i64) -> Result<Vec<Result<Undone, UndoError>>, CacheError> {
    let cfg = WriteConfig::from_env();
    let _turn = cache.journal_undo_turn()?;
    Ok(cache
        .journal_batch_active(batch)?
        .iter()
        .map(|e| undo_entry(cache, e, &cfg))
        .collect())
}

/// Undo every entry not undone yet, newest first.
pub fn undo_all(cache: &Cache) -> Result<Vec<Result<Undone, UndoError>>, CacheError> {
    let cfg = WriteConfig::from_env();
    let _turn = cache.journal_undo_turn()?;
    Ok(cache
        .journal_active()?
        .iter()
        .map(|e| undo_entry(cache, e, &cfg))
        .collect())
}

/// What undoing one entry would do now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "undo", content = "why", rename_all = "kebab-case")]
pub enum UndoOutlook {
    /// The file is byte for byte what the entry wrote: the original comes back exactly.
    Exact,
    /// The file was re-saved since but still holds the genre written: the
    /// previous values come back (the file's other bytes stay as they are).
    Values,
    /// It can be undone, byte for byte or by values: not told apart (that
    /// reads each file whole), as in the journal's listing.
    Undoable,
    /// Only after the newer entry for the same file (`undo --all` does that).
    After(i64),
    AlreadyUndone,
    /// The write never happened (the run was interrupted before the file's
    /// rename): nothing to undo, and no failure.
    NeverWritten,
    /// It would fail: the write error's kind (`changed`, `not-found`…) and why.
    Blocked {
        kind: WriteErrorKind,
        reason: String,
    },
}

impl UndoOutlook {
    fn blocked(e: &TagWriteError) -> Self {
        UndoOutlook::Blocked {
            kind: e.kind,
            reason: e.reason.clone(),
        }
    }
}

/// What undoing `entries` in this order would do, writing nothing: each
/// entry as after those before it (`undo --all`'s newest first). `exact`:
/// also tell byte-exact from values-only undos, which reads each file whole
/// for its checksum; without it they all show as [`UndoOutlook::Undoable`].
pub fn plan_undo(
    cache: &Cache,
    entries: &[JournalEntry],
    exact: bool,
) -> Result<Vec<UndoOutlook>, CacheError> {
    // path -> (genres it would hold, sha256 of its bytes when known)
    let mut after: std::collections::HashMap<&Path, (GenreState, Option<[u8; 32]>)> =
        std::collections::HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let parsed = (
            GenreState::from_json(&e.old_state),
            GenreState::from_json(&e.new_state),
        );
        let outlook = match parsed {
            _ if e.never_written => UndoOutlook::NeverWritten,
            _ if e.undone => UndoOutlook::AlreadyUndone,
            (Some(old), Some(new)) => {
                let planned = after.get(e.path.as_path());
                let now = match planned {
                    Some((state, _)) => Ok(state.clone()),
                    None => write::read_genre_state(&e.path),
                };
                let states = (&old, &new);
                // kept bytes are read only where they are needed (up to 1 MiB each)
                let maybe = now
                    .as_ref()
                    .is_ok_and(|now| unwritten::as_before(now, states));
                let patch = match exact || maybe {
                    true => cache.journal_bytes(e.id)?,
                    false => None,
                };
                let unwritten = now.as_ref().is_ok_and(|now| match planned {
                    Some((_, sha)) => unwritten::planned(now, *sha, states, patch.as_ref()),
                    None => unwritten::on_disk(&e.path, now, states, patch.as_ref(), exact),
                });
                // an undo writes too: it refuses what a write refuses
                let now = match planned {
                    Some(_) => now,
                    None => write::check_writable(&e.path).and(now),
                };
                let still = now
                    .and_then(|now| write::still_written(&e.path, &now.display(), &new.display()));
                match still {
                    _ if unwritten => UndoOutlook::NeverWritten,
                    // as the undo itself says it (the journal lists it "after #N")
                    Err(mut err) => {
                        if err.kind == WriteErrorKind::Changed && planned.is_none() {
                            err.reason.push_str(&newer_write_note(cache, &e.path, e.id));
                        }
                        UndoOutlook::blocked(&err)
                    }
                    Ok(()) => {
                        let patch = patch.filter(|_| exact);
                        let bytes_now = match planned {
                            Some((_, sha)) => *sha,
                            None if patch.is_some() => {
                                crate::tags::byte_patch::sha256_file(&e.path).ok()
                            }
                            None => None,
                        };
                        let exactly = patch.as_ref().filter(|p| bytes_now == Some(p.new_sha256));
                        let sha_after = exactly.map(|p| p.old_sha256);
                        after.insert(e.path.as_path(), (old, sha_after));
                        if exactly.is_some() {
                            UndoOutlook::Exact
                        } else if exact {
                            UndoOutlook::Values
                        } else {
                            UndoOutlook::Undoable
                        }
                    }
                }
            }
            _ => UndoOutlook::Blocked {
                kind: WriteErrorKind::TagRead,
                reason: "the journal entry cannot be read back".into(),
            },
        };
        out.push(outlook);
    }
    Ok(out)
}

/// The journal as `tag journal` lists it: each active entry as `undo ID`
/// would find it now ([`UndoOutlook::After`] when a newer entry for the same
/// file must go first). Reads each file's tags, never its whole audio.
pub fn journal_outlook(
    cache: &Cache,
    entries: &[JournalEntry],
) -> Result<Vec<UndoOutlook>, CacheError> {
    let mut newest: std::collections::HashMap<&Path, i64> = std::collections::HashMap::new();
    for e in entries.iter().filter(|e| !e.undone) {
        let id = newest.entry(e.path.as_path()).or_insert(e.id);
        *id = (*id).max(e.id);
    }
    entries
        .iter()
        .map(|e| match newest.get(e.path.as_path()) {
            Some(&n) if !e.undone && n != e.id => Ok(UndoOutlook::After(n)),
            _ => Ok(plan_undo(cache, std::slice::from_ref(e), false)?
                .pop()
                .unwrap_or(UndoOutlook::AlreadyUndone)),
        })
        .collect()
}

/// The path to record: absolute, so an undo works from any directory.
fn journal_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silent_mp3(dir: &Path) -> (PathBuf, Vec<u8>) {
        let f = dir.join("a.mp3");
        // Three MPEG-1 Layer III frame headers with silent bodies.
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x64];
        frame.resize(417, 0);
        let bytes = [frame.clone(), frame.clone(), frame].concat();
        std::fs::write(&f, &bytes).unwrap();
        (f, bytes)
    }

    /// Undo rebuilds each earlier file exactly (a created tag goes away
    /// whole); an entry whose file has changed since falls back to values,
    /// which refuse a genre that is no longer the one written.
    #[test]
    fn undo_is_byte_exact_and_falls_back_to_values() {
        let dir = tempfile::tempdir().unwrap();
        let (f, untagged) = silent_mp3(dir.path());
        let cache = Cache::open_in_memory().unwrap();
        let cfg = WriteConfig::default();
        let write = |g: &str| {
            let batch = cache.journal_new_batch().unwrap();
            let a = accept_with(&cache, batch, &f, &GenreChange::replace(g), &cfg).unwrap();
            let id = a.journal_id.unwrap();
            assert!(cache.journal_bytes(id).unwrap().is_some(), "bytes kept");
            id
        };
        let jazz = write("Jazz");
        let after_jazz = std::fs::read(&f).unwrap();
        let blues = write("Blues");
        let e = undo_with(&cache, jazz, &cfg).unwrap_err();
        assert!(e.to_string().contains("genre changed since"), "{e}");
        undo_with(&cache, blues, &cfg).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), after_jazz);
        assert!(
            cache.journal_bytes(blues).unwrap().is_none(),
            "dropped once undone"
        );
        undo_with(&cache, jazz, &cfg).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), untagged);

        // Re-saved by another program (same genre): undone by values.
        let rock = write("Rock");
        let mut resaved = std::fs::read(&f).unwrap();
        resaved.extend_from_slice(&[0u8; 417]);
        std::fs::write(&f, &resaved).unwrap();
        let u = undo_with(&cache, rock, &cfg).unwrap();
        assert_eq!(u.report.new, Vec::<String>::new());
        assert_eq!(
            crate::tags::read_genre_state(&f).unwrap().display(),
            Vec::<String>::new()
        );
    }

    /// Two undos of one entry at once (two `tag undo --all` runs, each
    /// with its list taken at its start): the second finds it undone and
    /// says so; it relabelled the first's undo "never written" (the file
    /// already held the original) and changed nothing on disk.
    #[test]
    fn an_entry_undone_by_another_run_meanwhile_is_already_undone() {
        let dir = tempfile::tempdir().unwrap();
        let (f, untagged) = silent_mp3(dir.path());
        let cache = Cache::open_in_memory().unwrap();
        let cfg = WriteConfig::default();
        let batch = cache.journal_new_batch().unwrap();
        let id = accept_with(&cache, batch, &f, &GenreChange::replace("Jazz"), &cfg)
            .unwrap()
            .journal_id
            .unwrap();
        let stale = cache.journal_active().unwrap();
        undo_with(&cache, id, &cfg).unwrap();
        let e = undo_entry(&cache, &stale[0], &cfg).unwrap_err();
        assert_eq!(e.kind(), "already-undone", "{e}");
        let entry = cache.journal_get(id).unwrap().unwrap();
        assert!(entry.undone && !entry.never_written, "{entry:?}");
        assert_eq!(std::fs::read(&f).unwrap(), untagged);
    }

    /// A write killed between its journal entry and its rename, with the
    /// original's bytes kept or not yet: undo says it never happened, marks
    /// it and touches nothing, also after a later write to the same file is
    /// undone first (the run done again). Weaker evidence does not do: a
    /// file whose genre is as before but whose bytes are not still fails.
    #[test]
    fn a_write_killed_before_its_rename_was_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let (f, untagged) = silent_mp3(dir.path());
        let cache = Cache::open_in_memory().unwrap();
        let cfg = WriteConfig::default();
        let kill = |keep_bytes: bool| {
            let batch = cache.journal_new_batch().unwrap();
            let mut id = None;
            let change = GenreChange::replace("Jazz");
            let e = write::write_genre_recorded(&f, &change, &cfg, |r, patch| {
                let entry = NewJournalEntry {
                    path: f.clone(),
                    old: r.old.clone(),
                    new: r.new.clone(),
                    old_state: r.old_state.to_json(),
                    new_state: r.new_state.to_json(),
                    batch,
                };
                let new = cache.journal_add(&entry).unwrap();
                if keep_bytes {
                    cache.journal_keep_bytes(new, patch.unwrap()).unwrap();
                }
                id = Some(new);
                Err(TagWriteError::new(&f, WriteErrorKind::Injected, "killed"))
            });
            assert!(e.is_err());
            id.unwrap()
        };
        let outlook = |id: i64| {
            let e = cache.journal_get(id).unwrap().unwrap();
            plan_undo(&cache, &[e], true).unwrap().pop().unwrap()
        };
        for keep_bytes in [true, false] {
            let id = kill(keep_bytes);
            assert_eq!(outlook(id), UndoOutlook::NeverWritten);
            let e = undo_with(&cache, id, &cfg).unwrap_err();
            assert_eq!(e.kind(), "never-written", "{e}");
            assert!(cache.journal_get(id).unwrap().unwrap().never_written);
            assert!(cache.journal_active().unwrap().is_empty());
            assert_eq!(outlook(id), UndoOutlook::NeverWritten, "marked");
            assert_eq!(std::fs::read(&f).unwrap(), untagged);
        }

        // Killed, then the same write done by a later run: undoing both,
        // newest first, takes the later one back and finds the first unwritten.
        let killed = kill(true);
        let batch = cache.journal_new_batch().unwrap();
        let again = accept_with(&cache, batch, &f, &GenreChange::replace("Jazz"), &cfg).unwrap();
        let active = cache.journal_active().unwrap();
        assert_eq!(
            plan_undo(&cache, &active, true).unwrap(),
            [UndoOutlook::Exact, UndoOutlook::NeverWritten]
        );
        let done = undo_all(&cache).unwrap();
        assert_eq!(done[0].as_ref().unwrap().id, again.journal_id.unwrap());
        let e = done[1].as_ref().unwrap_err();
        assert!(
            matches!(e, UndoError::NeverWritten { id, .. } if *id == killed),
            "{e}"
        );
        assert_eq!(std::fs::read(&f).unwrap(), untagged);

        // Re-saved since (more bytes), its genre (none) as before: not proof.
        let id = kill(true);
        let mut resaved = untagged.clone();
        resaved.extend_from_slice(&untagged[..417]);
        std::fs::write(&f, &resaved).unwrap();
        assert!(matches!(outlook(id), UndoOutlook::Blocked { .. }));
        let e = undo_with(&cache, id, &cfg).unwrap_err();
        assert_eq!(e.kind(), "changed", "{e}");
        assert_eq!(cache.journal_active().unwrap().len(), 1);
    }

    /// Writers of one file take turns: each starts from the previous one's
    /// result, so no write is lost and every entry's "before" is a state the
    /// file really had (lost updates showed two writes both from "(none)").
    #[test]
    fn concurrent_writes_to_one_file_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let (f, _) = silent_mp3(dir.path());
        let genres = ["Blues", "Jazz", "Rock", "Pop"];
        let reports: Vec<WriteReport> = std::thread::scope(|sc| {
            let handles: Vec<_> = genres
                .iter()
                .map(|g| {
                    let f = f.clone();
                    sc.spawn(move || {
                        write::write_genre_with(
                            &f,
                            &GenreChange::replace(*g),
                            &WriteConfig::default(),
                        )
                        .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut befores: Vec<String> = reports.iter().map(|r| write::show(&r.old)).collect();
        befores.sort();
        let last = crate::tags::read_genre_state(&f).unwrap().display();
        let mut expected: Vec<String> = genres
            .iter()
            .filter(|g| **g != last[0])
            .map(|g| (*g).to_string())
            .chain(["(none)".to_string()])
            .collect();
        expected.sort();
        assert_eq!(befores, expected, "each write starts from another's result");
    }

    /// A journal that cannot record (its table gone, as with a locked or
    /// broken database): the file is not written and no temp copy remains.
    #[test]
    fn unjournaled_writes_never_happen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.mp3");
        // Two MPEG-1 Layer III frame headers with silent bodies.
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x64];
        frame.resize(417, 0);
        let bytes = [frame.clone(), frame.clone(), frame].concat();
        std::fs::write(&f, &bytes).unwrap();
        let cache = Cache::open_in_memory().unwrap();
        let batch = cache.journal_new_batch().unwrap();
        cache.conn().execute_batch("DROP TABLE journal").unwrap();
        let err = accept_with(
            &cache,
            batch,
            &f,
            &GenreChange::replace("Jazz"),
            &WriteConfig::default(),
        )
        .unwrap_err();
        assert!(err.is_journal(), "{err}");
        assert_eq!(std::fs::read(&f).unwrap(), bytes);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a temp copy was left behind");
    }
}
