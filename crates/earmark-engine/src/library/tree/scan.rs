//! The background walk that fills a [`Tree`]: batches of entries in walk
//! order, progress, cancel.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::*;
use crate::audio::is_audio_path;
use crate::library::{io_reason, walk_error};

/// A running background scan; dropping the handle cancels it.
pub struct ScanHandle {
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScanHandle {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for ScanHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Scan `root` on a new thread; `sink` receives batches (at most every ~40 ms
/// or 4096 entries) and the last one has `progress.done` set. The scan stops
/// early when `sink` returns false or the handle is dropped.
pub fn spawn_scan(
    root: PathBuf,
    mut sink: impl FnMut(ScanBatch) -> bool + Send + 'static,
) -> ScanHandle {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let thread = std::thread::Builder::new()
        .name("earmark-scan".into())
        .spawn(move || scan(&root, &flag, &mut sink));
    ScanHandle {
        cancel,
        thread: thread.ok(),
    }
}

const BATCH_MAX: usize = 4096;
const BATCH_INTERVAL: Duration = Duration::from_millis(40);

use crate::library::is_hidden;

/// Walk `root`, sending batches to `sink`. Hidden entries (dot files) are
/// skipped; only folders and audio files are reported, plus unreadable entries.
#[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
pub fn scan(root: &Path, cancel: &AtomicBool, mut sink: impl FnMut(ScanBatch) -> bool) {
    let start = Instant::now();
    let mut progress = ScanProgress::default();
    let mut entries = Vec::new();
    let mut last_flush = start;
    let mut next_id: NodeId = 1;
    // Open folders along the current walk path: (depth, node id, path).
    let mut stack: Vec<(usize, NodeId, PathBuf)> = vec![(0, ROOT, root.to_path_buf())];

    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by(|a, b| {
            let (ad, bd) = (a.file_type().is_dir(), b.file_type().is_dir());
            bd.cmp(&ad)
                .then_with(|| crate::library::natural_cmp(a.file_name(), b.file_name()))
        })
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));

    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => entries.push(ScanEntry::DirError {
            dir: ROOT,
            reason: "not a folder".into(),
        }),
        Err(e) => entries.push(ScanEntry::DirError {
            dir: ROOT,
            reason: io_reason(&e),
        }),
    }
    if entries.is_empty() {
        for item in walker {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            match item {
                Ok(e) if e.depth() == 0 => {}
                Ok(e) => {
                    let depth = e.depth();
                    while stack.last().is_some_and(|(d, _, _)| *d >= depth) {
                        stack.pop();
                    }
                    let parent = stack.last().map_or(ROOT, |(_, id, _)| *id);
                    if e.file_type().is_dir() {
                        entries.push(ScanEntry::Dir {
                            parent,
                            name: e.file_name().to_os_string(),
                        });
                        stack.push((depth, next_id, e.into_path()));
                        next_id += 1;
                        progress.dirs += 1;
                    } else if e.file_type().is_file() && is_audio_path(e.path()) {
                        entries.push(ScanEntry::Audio {
                            parent,
                            name: e.file_name().to_os_string(),
                        });
                        next_id += 1;
                        progress.files += 1;
                    }
                }
                Err(err) => {
                    let mut found = walk_error(&err, root);
                    if let Some(ancestor) = err.loop_ancestor() {
                        // Name the loop's target relative to the root: shorter, and the same on every machine.
                        let target = match ancestor.strip_prefix(root) {
                            Ok(rel) if rel.as_os_str().is_empty() => "the top folder".to_string(),
                            Ok(rel) => format!("{}/", rel.display()),
                            Err(_) => ancestor.display().to_string(),
                        };
                        found.reason = format!("symlink loop back to {target}");
                    }
                    let depth = err.depth();
                    // A folder that was listed as an entry but cannot be opened.
                    if let Some((_, id, _)) = stack.iter().rev().find(|(_, _, p)| *p == found.path)
                    {
                        // Counted here only: a broken entry below is counted
                        // as "bad" by its folders, and once is enough.
                        progress.errors += 1;
                        entries.push(ScanEntry::DirError {
                            dir: *id,
                            reason: found.reason,
                        });
                    } else {
                        while stack.last().is_some_and(|(d, _, _)| *d >= depth.max(1)) {
                            stack.pop();
                        }
                        let parent = stack.last().map_or(ROOT, |(_, id, _)| *id);
                        let name = found
                            .path
                            .file_name()
                            .map(OsStr::to_os_string)
                            .unwrap_or_else(|| found.path.as_os_str().to_os_string());
                        // A dangling link to a picture is noise; anything that might be music or a folder is not.
                        let has_other_ext =
                            found.path.extension().is_some() && !is_audio_path(&found.path);
                        if !has_other_ext || err.loop_ancestor().is_some() {
                            entries.push(ScanEntry::Broken {
                                parent,
                                name,
                                reason: found.reason,
                            });
                            next_id += 1;
                        }
                    }
                }
            }
            if entries.len() >= BATCH_MAX
                || (entries.len() % 64 == 0 && last_flush.elapsed() >= BATCH_INTERVAL)
            {
                progress.elapsed = start.elapsed();
                let batch = ScanBatch {
                    entries: std::mem::take(&mut entries),
                    progress,
                };
                if !sink(batch) {
                    return;
                }
                last_flush = Instant::now();
            }
        }
    }
    progress.done = true;
    progress.elapsed = start.elapsed();
    sink(ScanBatch { entries, progress });
}
