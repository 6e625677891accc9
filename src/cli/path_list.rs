//! `--files-from LIST`: paths to work on from a file or standard input, for
//! `find … | earmark classify --files-from -` where a command line would be
//! too long or `xargs` would split one run (and its journal run) into many.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::CliError;
use crate::library::io_reason;

#[derive(Debug, Args, Default)]
pub struct FilesFrom {
    /// Also work on the paths listed in LIST, one per line (`-`: standard input).
    /// A list holding a NUL byte is split at NULs instead (`find -print0`).
    #[arg(long, value_name = "LIST")]
    pub files_from: Option<PathBuf>,
}

impl FilesFrom {
    /// The paths named on the command line, then those of the list.
    pub fn append_to(&self, who: &str, paths: &mut Vec<PathBuf>) -> Result<(), CliError> {
        let Some(list) = &self.files_from else {
            return Ok(());
        };
        let bytes = read_list(list).map_err(|e| {
            CliError::failed(who, format!("--files-from {}: {e}", shown_list(list)))
        })?;
        let listed = split_list(&bytes);
        if listed.is_empty() && paths.is_empty() {
            return Err(CliError::failed(
                who,
                format!("--files-from {}: the list names no path", shown_list(list)),
            ));
        }
        paths.extend(listed);
        Ok(())
    }
}

fn shown_list(list: &Path) -> String {
    if list == Path::new("-") {
        "- (standard input)".into()
    } else {
        list.display().to_string()
    }
}

fn read_list(list: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let read = if list == Path::new("-") {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(list).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| io_reason(&e))?;
    Ok(bytes)
}

/// One path per line, or per NUL when the list holds one (no path holds a
/// NUL, while a name may hold a newline). A line may end in CRLF (a list
/// saved on Windows: a name ending in a carriage return needs the NUL form).
/// Empty entries are left out; a line's other bytes are the path's, spaces
/// and all.
fn split_list(bytes: &[u8]) -> Vec<PathBuf> {
    let nuls = bytes.contains(&0);
    let sep = if nuls { 0 } else { b'\n' };
    bytes
        .split(|&b| b == sep)
        .map(|entry| match entry {
            [line @ .., b'\r'] if !nuls => line,
            _ => entry,
        })
        .filter(|entry| !entry.is_empty())
        .map(path_from_bytes)
        .collect()
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).trim_end_matches('\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_or_nuls() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            split_list(b"a.mp3\n dir/b c.ogg\n\nlast"),
            [p("a.mp3"), p(" dir/b c.ogg"), p("last")]
        );
        // CRLF line ends (and a blank CRLF line)
        assert_eq!(
            split_list(b"a b.flac\r\nd.mp3\r\n\r\n"),
            [p("a b.flac"), p("d.mp3")]
        );
        // find -print0: a newline inside a name stays in it
        assert_eq!(
            split_list(b"new\nline.mp3\0b.ogg\0"),
            [p("new\nline.mp3"), p("b.ogg")]
        );
        assert!(split_list(b"\n\n").is_empty());
    }

    #[test]
    fn an_unreadable_or_empty_list_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let missing = FilesFrom {
            files_from: Some(dir.path().join("nope.txt")),
        };
        let e = missing.append_to("tag", &mut Vec::new()).unwrap_err();
        assert!(
            e.to_string().starts_with("earmark tag: --files-from ")
                && e.to_string()
                    .ends_with("nope.txt: no such file or directory"),
            "{e}"
        );
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "\n").unwrap();
        let list = FilesFrom {
            files_from: Some(empty),
        };
        let e = list.append_to("classify", &mut Vec::new()).unwrap_err();
        assert!(e.to_string().ends_with("the list names no path"), "{e}");
        // beside paths named, an empty list is nothing to add
        let mut named = vec![PathBuf::from("x.mp3")];
        list.append_to("classify", &mut named).unwrap();
        assert_eq!(named, [PathBuf::from("x.mp3")]);
    }
}
