//! Finding audio files: walking trees (walkdir), with every unreadable entry
//! or symlink loop reported instead of aborting the walk.

pub mod tree;

use std::path::{Path, PathBuf};

pub use crate::audio::io_reason;
use crate::audio::is_audio_path;

/// A path that could not be walked, and why, in one line.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkError {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

#[derive(Debug, Default)]
pub struct Collected {
    pub files: Vec<PathBuf>,
    pub errors: Vec<WalkError>,
}

/// Audio files under each path (a file given by name is taken whatever its
/// extension, so that a mislabelled file still gets a clear decode error).
pub fn collect_audio(paths: &[PathBuf]) -> Collected {
    let mut out = Collected::default();
    for root in paths {
        match std::fs::metadata(root) {
            Err(e) => out.errors.push(WalkError {
                path: root.clone(),
                reason: io_reason(&e),
            }),
            Ok(m) if m.is_file() => out.files.push(root.clone()),
            Ok(_) => walk_dir(root, &mut out),
        }
    }
    out
}

fn walk_dir(root: &Path, out: &mut Collected) {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(true) {
        match entry {
            Ok(e) if e.file_type().is_file() && is_audio_path(e.path()) => {
                found.push(e.into_path());
            }
            Ok(_) => {}
            Err(e) => out.errors.push(walk_error(&e, root)),
        }
    }
    found.sort();
    out.files.extend(found);
}

pub fn walk_error(e: &walkdir::Error, root: &Path) -> WalkError {
    let path = e.path().unwrap_or(root).to_path_buf();
    let reason = if let Some(ancestor) = e.loop_ancestor() {
        format!("directory symlink loop (back to {})", ancestor.display())
    } else if let Some(io) = e.io_error() {
        io_reason(io)
    } else {
        e.to_string()
    };
    WalkError { path, reason }
}

/// The genre label GTZAN-style layouts carry: the parent folder's name.
pub fn label_from_parent(path: &Path) -> Option<String> {
    path.parent()?.file_name()?.to_str().map(str::to_string)
}
