//! Finding audio files: walking trees (walkdir), with every unreadable entry
//! or symlink loop reported instead of aborting the walk.

pub mod tree;
pub mod watch;

use std::path::{Path, PathBuf};

pub use crate::audio::io_reason;
use crate::audio::{irregular_kind, is_audio_path};

/// A name for people: UTF-8 as it is; a name that is not UTF-8 (an old
/// Latin-1 rip) keeps its other bytes as `\xNN` escapes, so two names that
/// differ only there stay apart (U+FFFD would merge them).
pub fn shown(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, str> {
    if let Some(s) = name.to_str() {
        return s.into();
    }
    #[cfg(unix)]
    {
        use std::fmt::Write;
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        for chunk in name.as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
        out.into()
    }
    #[cfg(not(unix))]
    name.to_string_lossy()
}

/// A file's own name for people ([`shown`]), or the whole path when it has
/// none (`/`, `..`), control characters escaped ([`without_controls`]).
pub fn shown_file_name(p: &Path) -> String {
    without_controls(shown(p.file_name().unwrap_or(p.as_os_str()))).into_owned()
}

/// Control characters (a newline, ESC) written as escapes (`\n`,
/// `\u{1b}`), as the command line prints names: a terminal draws nothing
/// for them, so `new\nline.ogg` would look like `newline.ogg`. So are the
/// invisible characters that reorder or hide text (bidirectional overrides
/// and isolates, a zero-width space, a byte-order mark): `evil\u{202e}gpj.mp3`
/// would show as `evilpm3.jpg`. Joiners stay (emoji and scripts need them).
pub fn without_controls(s: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}' | '\u{feff}')
    };
    if !s.chars().any(hidden) {
        return s;
    }
    s.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The order people expect of names (file managers, yazi): numbers by
/// value (`song2` before `song10`), case aside (`artist` beside `Artist`);
/// names equal that way fall back to their bytes, so the order is total.
pub fn natural_cmp(a: &std::ffi::OsStr, b: &std::ffi::OsStr) -> std::cmp::Ordering {
    let folded = |s: &std::ffi::OsStr| s.to_string_lossy().to_lowercase();
    alphanumeric_sort::compare_str(folded(a), folded(b)).then_with(|| a.cmp(b))
}

/// [`natural_cmp`] folder by folder: a folder's files stay together.
pub fn natural_path_cmp(a: &Path, b: &Path) -> std::cmp::Ordering {
    let mut a = a.components();
    let mut b = b.components();
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) => match natural_cmp(x.as_os_str(), y.as_os_str()) {
                std::cmp::Ordering::Equal => {}
                o => return o,
            },
            (x, y) => return x.is_some().cmp(&y.is_some()),
        }
    }
}

/// A path that could not be walked, and why, in one line.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkError {
    pub path: PathBuf,
    pub reason: String,
}

impl WalkError {
    /// About a path named in `roots` (the command line), not one met in a
    /// folder's walk: the commands skip those, but a named one was asked for.
    pub fn is_named(&self, roots: &[PathBuf]) -> bool {
        roots.contains(&self.path)
    }
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

/// The reason given for a folder named like an audio file (`x.mp3/`) that
/// holds no audio.
const EMPTY_AUDIO_NAMED_DIR: &str = "not a regular file (a directory, with no audio in it)";

impl Collected {
    /// The errors worth printing beside "no audio files found in PATH": a
    /// folder given by name that holds no audio is that line already.
    pub fn errors_beside_none_found<'a>(
        &'a self,
        roots: &'a [PathBuf],
    ) -> impl Iterator<Item = &'a WalkError> + 'a {
        self.errors
            .iter()
            .filter(|e| !(e.reason == EMPTY_AUDIO_NAMED_DIR && e.is_named(roots)))
    }
}

/// Audio files under each path (a file given by name is taken whatever its
/// extension, so that a mislabelled file still gets a clear decode error).
/// Only regular files are taken: a FIFO, a device or a socket (named, or
/// met in a walk with an audio extension) is an error, never opened, since
/// opening a FIFO blocks and a device never ends; so is a folder named like an
/// audio file that holds no audio.
pub fn collect_audio(paths: &[PathBuf]) -> Collected {
    let mut out = Collected::default();
    for root in paths {
        match std::fs::metadata(root) {
            Err(e) => out.errors.push(WalkError {
                path: root.clone(),
                reason: io_reason(&e),
            }),
            Ok(m) if m.is_file() => out.files.push(root.clone()),
            Ok(m) if m.is_dir() => {
                let before = out.files.len();
                walk_dir(root, &mut out);
                if out.files.len() == before && is_audio_path(root) {
                    out.errors.push(WalkError {
                        path: root.clone(),
                        reason: EMPTY_AUDIO_NAMED_DIR.into(),
                    });
                }
            }
            Ok(m) => out.errors.push(not_regular(root, m.file_type())),
        }
    }
    // The same file named twice (`f ./f`, a folder and a file in it, a link
    // and its target) is one file: kept once, where it first came.
    let mut seen = std::collections::HashSet::new();
    out.files
        .retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    // and what was skipped is said once (a folder named twice)
    let mut said = std::collections::HashSet::new();
    out.errors
        .retain(|e| said.insert((e.path.clone(), e.reason.clone())));
    out
}

fn not_regular(path: &Path, ft: std::fs::FileType) -> WalkError {
    WalkError {
        path: path.to_path_buf(),
        reason: format!(
            "not a regular file ({})",
            irregular_kind(ft).unwrap_or("not a plain file")
        ),
    }
}

/// A dot file or folder (`.hidden.ogg`, macOS's `._x.mp3`, `.git/`): left out
/// of walks, by the app and the commands alike; named on the command line,
/// a file is still taken.
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn walk_dir(root: &Path, out: &mut Collected) {
    let mut found = Vec::new();
    let errors_before = out.errors.len();
    let walk = walkdir::WalkDir::new(root).follow_links(true).into_iter();
    for entry in walk.filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name())) {
        match entry {
            Ok(e) if e.file_type().is_file() && is_audio_path(e.path()) => {
                found.push(e.into_path());
            }
            Ok(e) if !e.file_type().is_dir() && is_audio_path(e.path()) => {
                out.errors.push(not_regular(e.path(), e.file_type()));
            }
            // music earmark does not read is said, not silently passed over
            Ok(e) if e.file_type().is_file() => {
                if let Some(reason) = unread_music(e.path()) {
                    out.errors.push(WalkError {
                        path: e.into_path(),
                        reason,
                    });
                }
            }
            Ok(_) => {}
            Err(e) => out.errors.push(walk_error(&e, root)),
        }
    }
    found.sort_by(|a, b| natural_path_cmp(a, b));
    out.files.extend(found);
    // said in the listing's order, as the files are
    out.errors[errors_before..].sort_by(|a, b| natural_path_cmp(&a.path, &b.path));
}

/// Why a folder's walk leaves out a file named as music: a format earmark
/// does not read, or Speex, which it cannot decode but tags when named.
fn unread_music(path: &Path) -> Option<String> {
    let speex = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("spx"));
    if speex {
        return Some(
            "a Speex file, which earmark cannot decode (`earmark tag` writes its genre when the file is named)"
                .into(),
        );
    }
    unread_audio_format(path).map(|f| format!("{f}, a format earmark does not read"))
}

/// The format of a file named as music earmark neither decodes nor tags
/// (WavPack, Monkey's Audio…), by its extension.
pub fn unread_audio_format(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "wv" => "a WavPack file",
        "ape" => "a Monkey's Audio file",
        "mpc" | "mp+" | "mpp" => "a Musepack file",
        "tta" => "a TTA file",
        "dsf" | "dff" => "a DSD file",
        "wma" | "asf" => "a Windows Media Audio file",
        "shn" => "a Shorten file",
        "ofr" | "ofs" => "an OptimFROG file",
        "ac3" | "eac3" => "an AC-3 file",
        "dts" => "a DTS file",
        "amr" => "an AMR file",
        "ra" | "rm" => "a RealAudio file",
        "mid" | "midi" => "a MIDI file",
        "mod" | "xm" | "s3m" | "it" => "a tracker module",
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_stay_apart() {
        use std::os::unix::ffi::OsStrExt;
        let name = |b: &[u8]| shown_file_name(Path::new(std::ffi::OsStr::from_bytes(b)));
        assert_eq!(name(b"/m/Bj\xf6rk.ogg"), "Bj\\xF6rk.ogg");
        assert_eq!(name(b"/m/Bj\xf8rk.ogg"), "Bj\\xF8rk.ogg");
        assert_eq!(name("/m/Björk.ogg".as_bytes()), "Björk.ogg");
        assert_eq!(name(b"/"), "/");
    }

    /// A file named twice, or named and inside a folder named, is one file.
    #[test]
    fn a_file_named_twice_is_collected_once() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.ogg");
        std::fs::write(&f, b"x").unwrap();
        std::fs::write(dir.path().join("b.ogg"), b"x").unwrap();
        let again = dir.path().join(".").join("a.ogg");
        let got = collect_audio(&[f.clone(), again, dir.path().to_path_buf()]);
        assert_eq!(got.files, [f, dir.path().join("b.ogg")]);
        // a folder named twice says what it skipped once
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("nowhere.ogg", dir.path().join("dangling.ogg")).unwrap();
            let twice = collect_audio(&[dir.path().to_path_buf(), dir.path().to_path_buf()]);
            assert_eq!(twice.errors.len(), 1, "{:?}", twice.errors);
        }
    }

    #[test]
    fn names_sort_by_their_numbers_case_aside() {
        let mut names = [
            "song10.ogg",
            "Song1.ogg",
            "song2.ogg",
            "Artist 10",
            "artist 9",
            "a",
        ];
        names.sort_by(|a, b| natural_cmp(a.as_ref(), b.as_ref()));
        assert_eq!(
            names,
            [
                "a",
                "artist 9",
                "Artist 10",
                "Song1.ogg",
                "song2.ogg",
                "song10.ogg"
            ]
        );
        let mut paths = ["d10/a.ogg", "d9/b.ogg", "d9/a10.ogg", "d9/a9.ogg", "d9"].map(Path::new);
        paths.sort_by(|a, b| natural_path_cmp(a, b));
        assert_eq!(
            paths,
            ["d9", "d9/a9.ogg", "d9/a10.ogg", "d9/b.ogg", "d10/a.ogg"].map(Path::new)
        );
    }

    #[test]
    fn control_characters_in_names_are_shown_as_escapes() {
        let name = |s: &str| shown_file_name(Path::new(s));
        assert_eq!(name("/m/new\nline.ogg"), "new\\nline.ogg");
        assert_eq!(name("/m/esc\u{1b}[31mred.ogg"), "esc\\u{1b}[31mred.ogg");
        // Two names a terminal would draw alike stay apart.
        assert_ne!(name("/m/a\nb.ogg"), name("/m/ab.ogg"));
        // Reordering and invisible characters too; joiners stay for emoji.
        assert_eq!(name("/m/evil\u{202e}gpj.mp3"), "evil\\u{202e}gpj.mp3");
        assert_eq!(name("/m/a\u{200b}b.ogg"), "a\\u{200b}b.ogg");
        assert_eq!(name("/m/\u{2067}x.ogg"), "\\u{2067}x.ogg");
        let family = "👨\u{200d}👩\u{200d}👧.ogg";
        assert_eq!(name(&format!("/m/{family}")), family);
        assert!(matches!(
            without_controls("plain".into()),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    /// Music in formats earmark does not read is said in a walk (it was
    /// passed over without a word); other files are not.
    #[test]
    fn a_walk_names_music_it_does_not_read() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.ogg", "b.wv", "c.APE", "cover.jpg", "d.spx", "notes.txt"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let got = collect_audio(&[dir.path().to_path_buf()]);
        assert_eq!(got.files, [dir.path().join("a.ogg")]);
        let said: Vec<String> = got.errors.iter().map(ToString::to_string).collect();
        assert_eq!(said.len(), 3, "{said:?}");
        // in the listing's order, as the files are
        assert!(
            said[0].ends_with("b.wv: a WavPack file, a format earmark does not read"),
            "{said:?}"
        );
        assert!(
            said[1].ends_with("c.APE: a Monkey's Audio file, a format earmark does not read"),
            "{said:?}"
        );
        // Speex is tagged when named, though never classified
        assert!(
            said[2].ends_with("d.spx: a Speex file, which earmark cannot decode (`earmark tag` writes its genre when the file is named)"),
            "{said:?}"
        );
    }

    /// The commands walk a folder as the app lists it: dot files and dot
    /// folders left out (a `.hidden.ogg` is not tagged by `tag --auto DIR`);
    /// a hidden file named on the command line, or a hidden root, is taken.
    #[test]
    fn walks_leave_dot_files_out_as_the_app_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".lib");
        std::fs::create_dir_all(root.join(".trash")).unwrap();
        for f in ["a.ogg", "._a.mp3", ".hidden.ogg", ".trash/b.ogg"] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let names = |c: Collected| -> Vec<String> {
            c.files
                .iter()
                .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(names(collect_audio(std::slice::from_ref(&root))), ["a.ogg"]);
        assert_eq!(
            names(collect_audio(&[root.join(".hidden.ogg")])),
            [".hidden.ogg"]
        );
    }

    #[test]
    fn fifos_and_audio_named_folders_are_reported_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.mp3");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let folder = dir.path().join("x.mp3");
        std::fs::create_dir(&folder).unwrap();
        let got = collect_audio(&[fifo.clone(), folder.clone(), dir.path().to_path_buf()]);
        assert!(got.files.is_empty(), "{:?}", got.files);
        let reasons: Vec<String> = got.errors.iter().map(|e| e.to_string()).collect();
        // met again in the walk: said once
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].ends_with("pipe.mp3: not a regular file (a FIFO)"));
        assert!(reasons[1].contains("x.mp3: not a regular file (a directory"));
    }
}
