//! earmark's own temporary copies, found again after an interruption. Each
//! temp copy gets a marker file under `$XDG_DATA_HOME/earmark/temps/` naming
//! it, written before the copy exists and removed once it is renamed into
//! place or deleted. Leftovers (Ctrl-C, a kill, a crash) are removed on the
//! next run by following the markers, so earmark deletes only files it
//! created, never someone else's that happen to look similar.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Environment variable that overrides the marker folder (tests).
pub const TEMPS_DIR_ENV: &str = "EARMARK_TEMPS_DIR";

/// Where markers live, when a data folder is known.
pub fn markers_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(TEMPS_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    Some(super::journal_dir()?.join("temps"))
}

/// A temp copy's marker; dropping it removes the marker (not the copy).
pub(crate) struct Marker {
    path: Option<PathBuf>,
}

impl Drop for Marker {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = fs::remove_file(p);
        }
    }
}

/// Record that `temp` is about to be created by this process. Without a
/// writable data folder the write goes ahead unmarked (Ctrl-C still cleans it).
pub(crate) fn mark(temp: &Path) -> Marker {
    let Some(dir) = markers_dir() else {
        return Marker { path: None };
    };
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let marker = dir.join(format!("{}-{n}", std::process::id()));
    let ok = fs::create_dir_all(&dir).is_ok()
        && fs::write(&marker, temp.as_os_str().as_encoded_bytes()).is_ok();
    Marker {
        path: ok.then_some(marker),
    }
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Remove the temp copies that markers name, for processes that are gone
/// (or, with `own`, this one: the Ctrl-C path). Returns how many were removed.
pub fn clean(own: bool) -> usize {
    let Some(dir) = markers_dir() else { return 0 };
    let Ok(entries) = fs::read_dir(&dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let mine = pid == std::process::id();
        if (mine && !own) || (!mine && alive(pid)) {
            continue;
        }
        if let Ok(bytes) = fs::read(e.path()) {
            use std::os::unix::ffi::OsStrExt;
            let temp = Path::new(std::ffi::OsStr::from_bytes(&bytes));
            if super::is_temp_file(temp) && fs::remove_file(temp).is_ok() {
                removed += 1;
            }
        }
        let _ = fs::remove_file(e.path());
    }
    removed
}
