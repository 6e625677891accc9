//! Watching a library for changes other programs make (files copied in,
//! deleted, renamed, re-tagged), so a front end can rescan without being
//! asked. notify does the watching (inotify on Linux, FSEvents on macOS);
//! this module decides which changes matter and lets a burst of them (an
//! album being copied) settle into one report.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use notify::{Config, Event, EventKind, EventKindMask, RecursiveMode, Watcher};

use crate::audio::is_audio_path;
use crate::library::is_hidden;

/// What the watch tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchNote {
    /// The watch is set up: changes from now on are seen.
    Watching,
    /// Something under the library changed and has settled: rescan.
    Changed,
    /// The library cannot be watched (one line: why); changes show on a rescan.
    Unavailable(String),
}

/// A change is reported once no other came for this long…
const QUIET: Duration = Duration::from_millis(500);
/// …or this long after the first, whichever is sooner (a copy that goes on
/// for minutes still shows its files as they land).
const AT_MOST: Duration = Duration::from_secs(3);
/// How often the watch thread looks whether its handle was dropped.
const POLL: Duration = Duration::from_millis(250);

/// A running watch; dropping it stops the watching.
pub struct WatchHandle {
    stop: Arc<AtomicBool>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Watch `root` and everything below it on a new thread. Setting the watch
/// up walks every folder (inotify watches each one), so it is done there too;
/// if it fails (the system's watch limit, a file system without events)
/// `sink` gets one [`WatchNote::Unavailable`] and the thread ends.
pub fn spawn_watch(root: PathBuf, sink: impl Fn(WatchNote) + Send + 'static) -> WatchHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // A thread that cannot start leaves the library unwatched, as before:
    // the sink went with it, and a rescan still works.
    let _ = std::thread::Builder::new()
        .name("earmark-watch".into())
        .spawn(move || watch(&root, &flag, &sink));
    WatchHandle { stop }
}

fn watch(root: &Path, stop: &AtomicBool, sink: &dyn Fn(WatchNote)) {
    let (tx, rx) = crossbeam_channel::unbounded::<notify::Result<Event>>();
    let mut watcher = match start_watcher(root, &tx) {
        Ok(w) => w,
        Err(e) => {
            sink(WatchNote::Unavailable(unavailable_reason(&e)));
            return;
        }
    };
    let mut watched = folder_id(root);
    let mut root_went = false;
    sink(WatchNote::Watching);
    let mut first_change: Option<Instant> = None;
    let mut last_change = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let wait = match first_change {
            Some(first) => QUIET
                .saturating_sub(last_change.elapsed())
                .min(AT_MOST.saturating_sub(first.elapsed()))
                .min(POLL),
            None => POLL,
        };
        match rx.recv_timeout(wait) {
            Ok(event) => {
                if matters(root, &event) {
                    last_change = Instant::now();
                    first_change.get_or_insert(last_change);
                    follow_new_links(&mut watcher, &event);
                    root_went |= names_the_root_leaving(root, &event);
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
        if let Some(first) = first_change
            && (last_change.elapsed() >= QUIET || first.elapsed() >= AT_MOST)
        {
            first_change = None;
            // Deleted, moved away (the watch would follow it there) or made
            // anew: the folder at that path is not the one watched. Watch the
            // one there is, or wait for one.
            // (a folder made anew may get the old one's inode number back)
            let replaced = std::mem::take(&mut root_went) || folder_id(root) != watched;
            sink(WatchNote::Changed);
            if replaced {
                drop(watcher);
                watcher = match wait_for_root(root, stop, &tx) {
                    Some(Ok(w)) => w,
                    Some(Err(e)) => {
                        sink(WatchNote::Unavailable(unavailable_reason(&e)));
                        return;
                    }
                    None => return,
                };
                watched = folder_id(root);
                // Events of the old folder, queued meanwhile, are not this one's.
                while rx.try_recv().is_ok() {}
                sink(WatchNote::Changed);
            }
        }
    }
}

fn start_watcher(
    root: &Path,
    tx: &crossbeam_channel::Sender<notify::Result<Event>>,
) -> notify::Result<notify::RecommendedWatcher> {
    let tx = tx.clone();
    let handler = move |event: notify::Result<Event>| {
        let _ = tx.send(event);
    };
    // Only changes: opening and closing files (every play and analysis
    // earmark does itself) are not asked for.
    let config = Config::default().with_event_kinds(EventKindMask::CORE);
    let mut w = notify::RecommendedWatcher::new(handler, config)?;
    w.watch(root, RecursiveMode::Recursive)?;
    Ok(w)
}

/// Once a second, look for a folder at `root` again; watch it when there is
/// one (None: the handle was dropped first).
fn wait_for_root(
    root: &Path,
    stop: &AtomicBool,
    tx: &crossbeam_channel::Sender<notify::Result<Event>>,
) -> Option<notify::Result<notify::RecommendedWatcher>> {
    while !stop.load(Ordering::Relaxed) {
        if root.is_dir() {
            return Some(start_watcher(root, tx));
        }
        std::thread::sleep(ROOT_POLL);
    }
    None
}

/// The watched folder itself was deleted or renamed away.
fn names_the_root_leaving(root: &Path, event: &notify::Result<Event>) -> bool {
    let Ok(event) = event else { return false };
    let leaving = matches!(
        event.kind,
        EventKind::Remove(_) | EventKind::Modify(notify::event::ModifyKind::Name(_))
    );
    leaving && event.paths.iter().any(|p| p == root)
}

/// Which folder is at `path` (device and inode), if one is.
fn folder_id(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    // (elsewhere only whether there is one: a folder made anew is missed)
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

/// How often a library folder that is gone is looked for again.
const ROOT_POLL: Duration = Duration::from_secs(1);

/// A symbolic link to a folder made while watching is not followed by the
/// recursive watch set up before it (one there at the start is): watch it too.
fn follow_new_links(watcher: &mut notify::RecommendedWatcher, event: &notify::Result<Event>) {
    let Ok(event) = event else { return };
    if !matches!(event.kind, EventKind::Create(_)) {
        return;
    }
    for p in &event.paths {
        let is_link = std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
        if is_link && p.is_dir() {
            let _ = watcher.watch(p, RecursiveMode::Recursive);
        }
    }
}

/// One line for why the library is not watched.
fn unavailable_reason(e: &notify::Error) -> String {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => {
            "too many folders for the system's watch limit (fs.inotify.max_user_watches)".into()
        }
        notify::ErrorKind::Io(io) => crate::library::io_reason(io),
        notify::ErrorKind::PathNotFound => "the folder is gone".into(),
        _ => e.to_string(),
    }
}

/// Does this event change what the library shows? Opening and reading are
/// not asked for; hidden entries (earmark's own temp files, `.git`) and
/// files that are not audio (covers, playlists, logs) do not count; a folder,
/// an audio file, or a path gone whose kind is unknown does. An event that
/// says events were lost (a full kernel queue) always counts.
pub fn matters(root: &Path, event: &notify::Result<Event>) -> bool {
    let Ok(event) = event else {
        return true; // an error from the watcher: something may be missed
    };
    if event.need_rescan() {
        return true;
    }
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.paths.is_empty() || event.paths.iter().any(|p| path_matters(root, p))
}

fn path_matters(root: &Path, path: &Path) -> bool {
    let below = path.strip_prefix(root).unwrap_or(path);
    let hidden = below
        .components()
        .any(|c| matches!(c, Component::Normal(name) if is_hidden(name)));
    if hidden {
        return false;
    }
    if is_audio_path(path) {
        return true;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => !meta.is_file(),
        // Gone: a folder deleted or renamed away counts, a file with a name
        // that is plainly not audio does not.
        Err(_) => !plainly_not_audio(path),
    }
}

/// Extensions of the files that sit beside music and never hold it.
fn plainly_not_audio(path: &Path) -> bool {
    // (databases and their journals too: a cache folder kept inside the
    // library would otherwise rescan it after every cache write)
    const OTHERS: &[&str] = &[
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "bmp",
        "txt",
        "nfo",
        "log",
        "cue",
        "m3u",
        "m3u8",
        "pls",
        "pdf",
        "lrc",
        "sfv",
        "md5",
        "accurip",
        "part",
        "crdownload",
        "tmp",
        "db",
        "ini",
        "sqlite",
        "sqlite-wal",
        "sqlite-shm",
        "sqlite-journal",
        "db-wal",
        "db-shm",
        "db-journal",
        "json",
        "toml",
        "swp",
    ];
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| OTHERS.iter().any(|o| e.eq_ignore_ascii_case(o)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind, RemoveKind};

    fn event(kind: EventKind, path: &Path) -> notify::Result<Event> {
        Ok(Event::new(kind).add_path(path.to_path_buf()))
    }

    #[test]
    fn what_counts_as_a_change() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::write(root.join("cover.jpg"), b"x").expect("write");
        std::fs::create_dir(root.join("Album")).expect("mkdir");
        let create = EventKind::Create(CreateKind::Any);
        let remove = EventKind::Remove(RemoveKind::Any);
        assert!(matters(root, &event(create, &root.join("Album/01.flac"))));
        assert!(matters(root, &event(create, &root.join("Album"))));
        assert!(
            matters(root, &event(remove, &root.join("Old Album"))),
            "a folder gone"
        );
        assert!(!matters(root, &event(create, &root.join("cover.jpg"))));
        assert!(!matters(root, &event(remove, &root.join("gone.png"))));
        assert!(
            !matters(
                root,
                &event(remove, &root.join("cache/earmark.sqlite-journal"))
            ),
            "a cache kept in the library"
        );
        assert!(
            !matters(root, &event(create, &root.join(".earmark-tmp-1-a.flac"))),
            "earmark's own temp file"
        );
        assert!(!matters(root, &event(create, &root.join(".git/index"))));
        let modify = EventKind::Modify(ModifyKind::Any);
        assert!(
            matters(root, &event(modify, &root.join("Album/01.flac"))),
            "re-tagged by another program"
        );
        let read = EventKind::Access(AccessKind::Any);
        assert!(!matters(root, &event(read, &root.join("Album/01.flac"))));
        let lost = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(matters(root, &Ok(lost)), "events were lost");
    }

    /// Wait for the watch to start; false where it cannot (only outside CI).
    fn started(rx: &crossbeam_channel::Receiver<WatchNote>) -> bool {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(WatchNote::Watching) => true,
            Ok(WatchNote::Unavailable(why)) => {
                // A system without inotify (some containers) says so; CI has it.
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "watching unavailable, and CI=true: {why}"
                );
                eprintln!("watching unavailable here: {why}");
                false
            }
            other => panic!("the watch did not start: {other:?}"),
        }
    }

    /// The library folder deleted and made again is watched again; a link to
    /// a folder made while watching is followed.
    #[test]
    fn a_library_folder_made_again_and_a_new_link_are_watched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("lib");
        std::fs::create_dir(&root).expect("mkdir");
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).expect("mkdir");
        let (tx, rx) = crossbeam_channel::unbounded();
        let _handle = spawn_watch(root.clone(), move |n| {
            let _ = tx.send(n);
        });
        if !started(&rx) {
            return;
        }
        let changed = |what: &str| {
            assert_eq!(
                rx.recv_timeout(Duration::from_secs(10)),
                Ok(WatchNote::Changed),
                "{what}"
            );
        };
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root.join("Linked")).expect("symlink");
        changed("a new link");
        std::fs::write(outside.join("a.ogg"), b"x").expect("write");
        changed("a file in the linked folder");
        std::fs::remove_dir_all(&root).expect("rm");
        changed("the folder gone");
        std::fs::create_dir(&root).expect("mkdir");
        changed("the folder back");
        std::fs::write(root.join("b.ogg"), b"x").expect("write");
        changed("a file in the folder made again");
    }

    /// The real watcher on a real folder: a burst of files is one report,
    /// a cover image is none, and a dropped handle ends the thread.
    #[test]
    fn a_burst_of_new_files_is_reported_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let (tx, rx) = crossbeam_channel::unbounded();
        let handle = spawn_watch(root.clone(), move |n| {
            let _ = tx.send(n);
        });
        // Setting up the watch happens on its thread.
        if !started(&rx) {
            return;
        }
        std::fs::write(root.join("cover.jpg"), b"x").expect("write");
        assert!(
            rx.recv_timeout(QUIET * 2).is_err(),
            "a cover image is not a change"
        );
        for i in 0..5 {
            std::fs::write(root.join(format!("{i}.ogg")), b"x").expect("write");
        }
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok(WatchNote::Changed),
            "five new files are one change"
        );
        assert!(
            rx.recv_timeout(QUIET * 2).is_err(),
            "the burst was reported once"
        );
        drop(handle);
        std::thread::sleep(POLL * 2);
        std::fs::write(root.join("late.ogg"), b"x").expect("write");
        assert!(
            rx.recv_timeout(QUIET * 2).is_err(),
            "nothing after the handle is dropped"
        );
    }
}
