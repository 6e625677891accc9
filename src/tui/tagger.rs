//! Tag writes off the UI thread. One thread owns a cache connection (for the
//! undo journal) and runs the engine's journaled, verified writes
//! ([`crate::tags::apply`]); results come back as [`TagEvent`]s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use super::effect::ReqId;
use super::event::AppEvent;
use super::services::Sink;
use crate::cache::{Cache, FileKey};
use crate::library::tree::NodeId;
use crate::tags::GenreChange;
use crate::tags::apply::{self, Applied};
use crate::tags::write::WriteReport;

/// One file to write: the node, its path and the change.
#[derive(Debug, Clone)]
pub struct TagItem {
    pub node: NodeId,
    pub path: PathBuf,
    pub change: GenreChange,
    /// The file's version a suggestion came from: a file replaced or
    /// re-tagged since is not written (None: a genre chosen by hand).
    pub decided_on: Option<FileKey>,
}

/// A dry-run row for the batch preview.
#[derive(Debug, Clone)]
pub struct Planned {
    pub node: NodeId,
    pub path: PathBuf,
    pub change: GenreChange,
    /// The model's confidence in the suggestion.
    pub confidence: f32,
    /// What the write would do, or why it cannot be done.
    pub plan: Result<WriteReport, String>,
    /// Why the row is left out unless ticked (set by hand, skipped).
    pub held: Option<&'static str>,
    /// The version of the file the suggestion was made from.
    pub decided_on: Option<FileKey>,
    /// Space ticked (true) or unticked (false) the row; None: the default.
    pub tick: Option<bool>,
}

impl Planned {
    /// Whether the batch writes this row at `threshold`: ticked by hand, or
    /// by default when confident enough and not held back; never when the
    /// write cannot be done or changes nothing.
    pub fn chosen(&self, threshold: f32) -> bool {
        let default = self.held.is_none() && self.confidence >= threshold;
        self.writable() && self.tick.unwrap_or(default)
    }

    /// The write can be done and changes something.
    pub fn writable(&self) -> bool {
        self.plan.as_ref().is_ok_and(|p| p.changed)
    }
}

/// Why one file was not written: the engine's kind (`read-only`,
/// `disk-full`, `journal`…) and the line to show.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct WriteFailed {
    pub kind: &'static str,
    /// Without the path: the app names the file where it shows this.
    pub reason: String,
}

impl WriteFailed {
    fn of(e: &crate::tags::apply::ApplyError) -> WriteFailed {
        use crate::tags::apply::ApplyError;
        let reason = match e {
            // The engine keeps the reason apart from the path: take it as it is.
            ApplyError::Write(w) => w.reason.clone(),
            // This one's message is built with the path first.
            ApplyError::Journal { .. } => {
                let full = e.to_string();
                let path = format!("{}: ", crate::library::shown(e.path().as_os_str()));
                full.strip_prefix(&path).unwrap_or(&full).to_string()
            }
        };
        WriteFailed {
            kind: e.kind(),
            reason,
        }
    }
}

/// Why a write was not undone.
#[derive(Debug, Clone)]
pub enum UndoFailed {
    /// Undone already (by `earmark tag undo` from a shell): the file's
    /// name, nothing is wrong.
    AlreadyUndone(PathBuf),
    /// The write never happened (an earlier run was killed before the
    /// file's rename): nothing to undo, nothing wrong. The file's name.
    NeverWritten(PathBuf),
    /// Why, and the file when known (the app reads it again: its pane may
    /// show what another program changed).
    Failed(String, Option<PathBuf>),
    /// Nothing was tried (the journal or its undo turn could not be had):
    /// why. The step stays to undo.
    NotStarted(String),
}

/// A file an undo restored.
#[derive(Debug, Clone)]
pub struct UndoneFile {
    pub path: PathBuf,
    pub genres: Vec<String>,
    /// The version the undo rewrote (the one the write left).
    pub key_before: Option<FileKey>,
    /// Same audio as before the write that was undone, another version.
    pub key: Option<FileKey>,
    /// The file holds again what an earlier earmark write (not undone) put
    /// there: it keeps its ✎.
    pub still_written: bool,
}

#[derive(Debug)]
pub enum TagEvent {
    /// One file of a write request is done (written, unchanged or failed).
    Written {
        node: NodeId,
        result: Result<Applied, WriteFailed>,
    },
    /// A write request finished: how many files it covered.
    WriteDone { total: usize },
    /// The dry run for a batch-accept.
    Previewed(Vec<Planned>),
    /// An undo finished: each restored file (absolute path) with its genres
    /// now and its size and mtime after the undo, or why it failed. Empty:
    /// nothing to undo.
    Undone(Vec<Result<UndoneFile, UndoFailed>>),
    /// A long undo's progress: files taken back so far, of how many.
    UndoProgress { done: usize, total: usize },
    /// Files under the library root (relative paths) that the journal says
    /// earmark wrote, with the genres written (newest entry per file), and
    /// those skipped (`x`) at the version they are now.
    Marks {
        written: Vec<(PathBuf, Vec<String>)>,
        skipped: Vec<PathBuf>,
    },
    /// The journal could not be opened; writes cannot be undone this session.
    Warning(String),
}

enum Request {
    Write(Vec<TagItem>),
    Preview(Vec<(TagItem, f32)>),
    /// Journal entries to undo, newest first.
    Undo(Vec<i64>),
    /// The journal's writes under this root.
    Marks(PathBuf),
    /// Keep this file skipped (true) or no longer (false).
    Skip(PathBuf, bool),
    /// Files moved (from, to): their pending journal entries and skips follow.
    Moved(Vec<(PathBuf, PathBuf)>),
}

pub struct Tagger {
    /// None once [`Tagger::finish`] closed it.
    tx: Option<Sender<(ReqId, Request)>>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// A batch stopped by quitting: files done of files asked.
    cut: Arc<Mutex<Option<(usize, usize)>>>,
}

impl Tagger {
    /// Start the tagging thread; what it does goes to `sink`, by request.
    pub fn start(sink: Sink) -> Tagger {
        let (req_tx, req_rx) = crossbeam_channel::unbounded::<(ReqId, Request)>();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&cancel);
        let cut = Arc::new(Mutex::new(None));
        let cut_by_quit = Arc::clone(&cut);
        let thread = std::thread::Builder::new()
            .name("earmark-tagger".into())
            .spawn(move || {
                let cut = cut_by_quit;
                // Opened on first use; the ✎ marks at start read the journal only
                // when it exists, so an app that never tags never creates one.
                let mut cache: Option<Cache> = None;
                while let Ok((id, req)) = req_rx.recv() {
                    // A write batch in progress finishes; nothing new starts.
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let send = |event: TagEvent| sink(AppEvent::Tag { req: id, event });
                    if !serve(req, &mut cache, &send, &stop, &cut) {
                        return;
                    }
                }
            });
        Tagger {
            tx: Some(req_tx),
            cancel,
            thread: thread.ok(),
            cut,
        }
    }

    fn send(&self, req: ReqId, r: Request) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((req, r));
        }
    }

    /// Write these changes as one undoable batch.
    pub fn write(&self, req: ReqId, items: Vec<TagItem>) {
        self.send(req, Request::Write(items));
    }

    /// Dry-run these changes (for the batch preview).
    pub fn preview(&self, req: ReqId, items: Vec<(TagItem, f32)>) {
        self.send(req, Request::Preview(items));
    }

    /// Take back these journal entries (newest first): the app's own writes.
    pub fn undo(&self, req: ReqId, ids: Vec<i64>) {
        self.send(req, Request::Undo(ids));
    }

    /// Find the files under `root` the journal says earmark wrote.
    pub fn load_marks(&self, req: ReqId, root: PathBuf) {
        self.send(req, Request::Marks(root));
    }

    /// Keep `path` skipped across sessions (or no longer); nothing answers
    /// unless it fails.
    pub fn keep_skip(&self, path: PathBuf, skipped: bool) {
        self.send(0, Request::Skip(path, skipped));
    }

    /// Files moved or renamed (from, to): the journal's pending entries and
    /// skips follow them; nothing answers unless it fails.
    pub fn follow_moves(&self, moves: Vec<(PathBuf, PathBuf)>) {
        self.send(0, Request::Moved(moves));
    }

    /// Start nothing new: a batch being written stops after its current file.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Cancel, then wait for the file being written (if any), so that the
    /// process never exits half way through a write (a temporary copy left
    /// behind, a journal entry for a write that did not happen). Returns a
    /// batch cut short: files done, of files asked.
    pub fn finish(&mut self) -> Option<(usize, usize)> {
        self.cancel();
        // nor wait up to a minute for another earmark writing the same file
        crate::tags::write::give_up_lock_waits();
        self.tx = None; // an idle thread wakes up and ends
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.cut
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// One request, on the tagging thread; false when the app has gone (its
/// answer could not be sent), which ends the thread.
fn serve(
    req: Request,
    cache: &mut Option<Cache>,
    send: &impl Fn(TagEvent) -> bool,
    stop: &AtomicBool,
    cut: &Mutex<Option<(usize, usize)>>,
) -> bool {
    match req {
        Request::Preview(items) => {
            // a preview of thousands of files must not hold up quitting
            let rows = items
                .into_iter()
                .take_while(|_| !stop.load(Ordering::Relaxed))
                .map(|(item, confidence)| Planned {
                    plan: crate::tags::plan_genre(&item.path, &item.change)
                        .map_err(|e| e.reason.clone()),
                    node: item.node,
                    path: item.path,
                    change: item.change,
                    decided_on: item.decided_on,
                    confidence,
                    held: None,
                    tick: None,
                })
                .collect();
            send(TagEvent::Previewed(rows))
        }
        Request::Write(items) => {
            let c = match journal(cache, send) {
                Ok(c) => c,
                Err(e) => {
                    send(TagEvent::Warning(format!("nothing written: {e}")));
                    send(TagEvent::WriteDone { total: 0 });
                    return true;
                }
            };
            let total = items.len();
            let r = write_batch(c, &items, send, stop, cut);
            if let Err(e) = r {
                send(TagEvent::Warning(format!("cannot write tags: {e}")));
            }
            send(TagEvent::WriteDone { total })
        }
        Request::Marks(root) => {
            // Only an existing journal: an app that never tagged creates none.
            let exists = crate::tags::journal::default_path().is_ok_and(|p| p.exists());
            let (written, skipped) = match exists.then(|| journal(cache, send)) {
                Some(Ok(c)) => (
                    journal_marks(c, &root),
                    c.skips_under(&root).unwrap_or_default(),
                ),
                _ => Default::default(),
            };
            send(TagEvent::Marks { written, skipped })
        }
        Request::Skip(path, skipped) => {
            let c = match journal(cache, send) {
                Ok(c) => c,
                Err(e) => {
                    send(TagEvent::Warning(format!("cannot keep the skip: {e}")));
                    return true;
                }
            };
            let kept = match skipped {
                true => c.skip_keep(&path),
                false => c.skip_forget(&path),
            };
            if let Err(e) = kept {
                send(TagEvent::Warning(format!("cannot keep the skip: {e}")));
            }
            true
        }
        Request::Moved(moves) => {
            // Only an existing journal: an app that never tagged creates none.
            let exists = crate::tags::journal::default_path().is_ok_and(|p| p.exists());
            if let Some(Ok(c)) = exists.then(|| journal(cache, send))
                && let Err(e) = c.journal_follow_moves(&moves)
            {
                send(TagEvent::Warning(format!(
                    "the undo journal cannot follow moved files: {e}"
                )));
            }
            true
        }
        Request::Undo(ids) => {
            let c = match journal(cache, send) {
                Ok(c) => c,
                Err(e) => {
                    send(TagEvent::Undone(vec![Err(UndoFailed::NotStarted(e))]));
                    return true;
                }
            };
            let out = undo_entries(c, ids, stop, |done, total| {
                send(TagEvent::UndoProgress { done, total });
            });
            send(TagEvent::Undone(out))
        }
    }
}

/// Write `items` as one journaled batch, each file's outcome sent as it
/// lands; `stop` (quitting) ends it after the file being written, noting in
/// `cut` how far it got.
fn write_batch(
    c: &Cache,
    items: &[TagItem],
    send: &impl Fn(TagEvent) -> bool,
    stop: &AtomicBool,
    cut: &Mutex<Option<(usize, usize)>>,
) -> Result<Vec<Result<Applied, apply::ApplyError>>, crate::cache::CacheError> {
    let batch: Vec<apply::BatchItem> = items
        .iter()
        .map(|i| apply::BatchItem {
            path: i.path.clone(),
            change: i.change.clone(),
            decided_on: i.decided_on,
        })
        .collect();
    apply::accept_batch(c, &batch, |i, r| {
        let result = match r {
            Ok(a) => Ok(a.clone()),
            Err(e) => Err(WriteFailed::of(e)),
        };
        send(TagEvent::Written {
            node: items[i].node,
            result,
        });
        let go_on = !stop.load(Ordering::Relaxed);
        if !go_on {
            *cut.lock().unwrap_or_else(PoisonError::into_inner) = Some((i + 1, items.len()));
        }
        go_on
    })
}

/// Undo these journal entries, newest first; quitting (`stop`) stops between
/// files: each undo is whole.
/// `progress` hears how far it got, at most every quarter second.
fn undo_entries(
    c: &Cache,
    ids: Vec<i64>,
    stop: &AtomicBool,
    progress: impl Fn(usize, usize),
) -> Vec<Result<UndoneFile, UndoFailed>> {
    // one turn for the whole step: another earmark's undo waits, or this
    // one says once that it waited (10 s), not once per file
    let _turn = match c.journal_undo_turn() {
        Ok(turn) => turn,
        Err(e) => return vec![Err(UndoFailed::NotStarted(e.to_string()))],
    };
    let cfg = crate::tags::WriteConfig::from_env();
    let total = ids.len();
    let mut told = std::time::Instant::now();
    ids.into_iter()
        .enumerate()
        .take_while(|_| !stop.load(Ordering::Relaxed))
        .map(|(done, id)| {
            if done > 0 && told.elapsed() >= std::time::Duration::from_millis(250) {
                progress(done, total);
                told = std::time::Instant::now();
            }
            id
        })
        .map(|id| match apply::undo_in_turn(c, id, &cfg) {
            Ok(u) => Ok(UndoneFile {
                still_written: c
                    .journal_latest_for(&u.report.path)
                    .ok()
                    .flatten()
                    .is_some_and(|e| e.new == u.report.new),
                key_before: u.report.key_before,
                key: u.key_after,
                path: u.report.path,
                genres: u.report.new,
            }),
            Err(apply::UndoError::AlreadyUndone { path, .. }) => {
                Err(UndoFailed::AlreadyUndone(path))
            }
            Err(apply::UndoError::NeverWritten { path, .. }) => Err(UndoFailed::NeverWritten(path)),
            Err(e) => {
                let path = match &e {
                    apply::UndoError::Write { error, .. } => Some(error.path.clone()),
                    _ => None,
                };
                Err(UndoFailed::Failed(e.to_string(), path))
            }
        })
        .collect()
}

/// The journal, opened on first use and kept. When it cannot be opened
/// (locked past the wait, unreadable, a newer earmark's) nothing is written:
/// a write it cannot record could not be undone. The reason is said, and the
/// next request tries again (a lock held at start does not last the session).
fn journal<'a>(
    slot: &'a mut Option<Cache>,
    send: &impl Fn(TagEvent) -> bool,
) -> Result<&'a Cache, String> {
    if slot.is_none() {
        let cache = crate::tags::journal::open_journal().map_err(|e| e.to_string())?;
        for w in cache.warnings() {
            send(TagEvent::Warning(w.clone()));
        }
        *slot = Some(cache);
    }
    slot.as_ref()
        .ok_or_else(|| "the undo journal is not open".into())
}

/// The newest write not undone for each file under `root`, by path relative
/// to it. Paths are compared canonical, so a library opened through another
/// spelling (relative, a symlink) still finds its entries; files that are
/// gone are left out.
fn journal_marks(cache: &Cache, root: &std::path::Path) -> Vec<(PathBuf, Vec<String>)> {
    let Ok(root) = std::fs::canonicalize(root) else {
        return Vec::new();
    };
    let Ok(entries) = cache.journal_active() else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    // Newest first: the first entry of a path is the one in force.
    for e in entries {
        if !seen.insert(e.path.clone()) {
            continue;
        }
        if let Ok(real) = std::fs::canonicalize(&e.path)
            && let Ok(rel) = real.strip_prefix(&root)
        {
            out.push((rel.to_path_buf(), e.new));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{UndoneFile, WriteFailed, undo_entries};
    use crate::cache::Cache;
    use crate::tags::apply::ApplyError;
    use crate::tags::{GenreChange, TagWriteError, WriteErrorKind};

    /// An undo back to what an earlier earmark write put there (not undone)
    /// says so, so the file keeps its ✎; undoing that one too does not.
    #[test]
    fn an_undo_back_to_an_earlier_write_says_it_is_still_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hell.wav");
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav"),
            &file,
        )
        .unwrap();
        let journal = Cache::open_in_memory().unwrap();
        let mut ids = Vec::new();
        for genre in ["Pop", "Chiptune"] {
            let batch = journal.journal_new_batch().unwrap();
            let a =
                crate::tags::apply::accept(&journal, batch, &file, &GenreChange::replace(genre))
                    .unwrap();
            ids.push(a.journal_id.unwrap());
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        let undone = |id| match undo_entries(&journal, vec![id], &stop, |_, _| {}).pop() {
            Some(Ok(u)) => u,
            other => panic!("{other:?}"),
        };
        let UndoneFile {
            genres,
            still_written,
            ..
        } = undone(ids[1]);
        assert_eq!((genres, still_written), (vec!["Pop".to_string()], true));
        let UndoneFile {
            genres,
            still_written,
            ..
        } = undone(ids[0]);
        assert!(genres.is_empty());
        assert!(!still_written);
    }

    #[test]
    fn a_failed_write_keeps_its_reason_without_the_path() {
        let e = ApplyError::Write(TagWriteError::new(
            std::path::Path::new("/music/a: b.ogg"),
            WriteErrorKind::ReadOnly,
            "file is read-only",
        ));
        let f = WriteFailed::of(&e);
        assert_eq!(
            (f.kind, f.reason.as_str()),
            ("read-only", "file is read-only")
        );
    }
}
