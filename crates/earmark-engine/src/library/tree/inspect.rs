//! Checking one file: its audio, its tags, damage near either end.

use std::path::Path;

use super::Inspection;
use crate::audio::AudioStream;
use crate::clock::clock;
use crate::tags::read_tags;

/// Open, probe, read tags and look for damage (a first packet that does not
/// decode, or nothing to decode near the declared end). Bounded work whatever
/// the file's length: one packet at the start, one near the end.
pub fn inspect_file(path: &Path) -> Inspection {
    // First: a change after this stat shows as a newer key next time.
    let key = match crate::cache::file_key(path) {
        Ok(k) => Some(k),
        // Not damaged, not a tag problem (lofty would say "failed to parse"): gone.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Inspection::gone(),
        Err(_) => None,
    };
    let ino = inode(path);
    let strip = |msg: String| crate::audio::without_path(path, msg);
    let tags = read_tags(path).map_err(|e| strip(e.to_string()));
    let mut stream = match AudioStream::open(path) {
        Ok(s) => s,
        Err(e) => {
            return Inspection {
                info: Err(strip(e.to_string())),
                tags,
                problem: None,
                key,
                ino,
            };
        }
    };
    let info = stream.info().clone();
    let mut problem = match stream.read() {
        Ok(Some(_)) => None,
        Ok(None) => Some("no audio could be decoded".to_string()),
        Err(e) => Some(strip(e.to_string())),
    };
    if problem.is_none()
        && let Some(d) = info.duration_s.filter(|&d| d > 4.0)
    {
        let target = d - 2.0;
        problem = match stream.seek(target) {
            Err(_) => Some(format!(
                "truncated or damaged: audio stops before the declared end ({})",
                clock(d)
            )),
            Ok(actual) if actual < target - 10.0 => Some(format!(
                "truncated: audio stops near {} of a declared {}",
                clock(actual),
                clock(d)
            )),
            Ok(_) => match stream.read() {
                Ok(Some(_)) => None,
                Ok(None) => Some(format!(
                    "truncated: no audio near the declared end ({})",
                    clock(d)
                )),
                Err(e) => Some(format!("damaged near the end: {}", strip(e.to_string()))),
            },
        };
    }
    Inspection {
        info: Ok(info),
        tags,
        problem,
        key,
        ino,
    }
}

/// The file's inode number: what a rename keeps (see `Tree::match_moved_files`).
pub fn inode(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
