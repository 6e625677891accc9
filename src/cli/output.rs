//! Small helpers for human-readable CLI output.

use std::fmt;
use std::path::Path;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use serde::Serialize;

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
/// Rate and ETA appear once something is done: before the first file ends
/// (a 20-minute file can take a while) they would be made-up numbers.
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}{rate}") {
        let style = style
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate_text(s.pos(), s.per_sec(), s.eta()));
            })
            .progress_chars("=> ");
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}

/// ` 2.5 files/s eta 0:12` once `done` > 0, else nothing.
fn rate_text(done: u64, per_sec: f64, eta: std::time::Duration) -> String {
    if done == 0 || !per_sec.is_finite() || per_sec <= 0.0 {
        return String::new();
    }
    let secs = eta.as_secs();
    format!(" {per_sec:.1} files/s eta {}:{:02}", secs / 60, secs % 60)
}

/// A confidence given as `50%`, `50` or `0.5` (all the same): a fraction 0–1.
/// Numbers above 1 are read as percentages; a bare `1` could be 1 % or
/// 100 % and is refused (`--min-confidence 1` skipping every file, or none,
/// would be a silent surprise either way).
pub fn parse_confidence(s: &str) -> Result<f32, String> {
    let t = s.trim();
    let (num, percent) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let v: f32 = num
        .parse()
        .map_err(|_| format!("\"{s}\" is not a confidence (give 50%, 50 or 0.5)"))?;
    if !percent && v == 1.0 {
        return Err(format!("\"{s}\" could mean 1% or 100%: give one of those"));
    }
    let fraction = if percent || v > 1.0 { v / 100.0 } else { v };
    if !fraction.is_finite() || !(0.0..=1.0).contains(&fraction) {
        return Err(format!("\"{s}\" is not between 0% and 100%"));
    }
    Ok(fraction)
}

/// A name or message made safe for a terminal, a table row or a CSV line:
/// control characters (ESC, newline, tab, DEL, C1…) are written as Rust-style
/// escapes (`\u{1b}`, `\n`), so a file name cannot clear the screen or split
/// a row. JSON needs none of this: serde escapes them itself.
pub fn printable(s: &str) -> String {
    crate::library::without_controls(s.into()).into_owned()
}

/// A file's path in printed output. `path` is text: a name that is not UTF-8
/// (an old Latin-1 rip) keeps its other bytes as `\xNN` escapes, so two
/// names differing only there stay apart (U+FFFD would merge them). JSON
/// cannot carry those bytes in a string, so it gets them beside it as
/// `path_bytes` (a list of numbers; only for such names) to find the file.
/// Flatten it into a record: `#[serde(flatten)] path: PathOut`.
#[derive(Debug, Clone, Serialize)]
pub struct PathOut {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<Vec<u8>>,
}

impl PathOut {
    pub fn of(p: &Path) -> PathOut {
        let path = crate::library::shown(p.as_os_str()).into_owned();
        #[cfg(unix)]
        let path_bytes = p.to_str().is_none().then(|| {
            use std::os::unix::ffi::OsStrExt;
            p.as_os_str().as_bytes().to_vec()
        });
        #[cfg(not(unix))]
        let path_bytes = None;
        PathOut { path, path_bytes }
    }
}

impl fmt::Display for PathOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_keeps_its_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/m/Bj\xf6rk \xe9.ogg"));
        let out = PathOut::of(p);
        assert_eq!(out.path, "/m/Bj\\xF6rk \\xE9.ogg");
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["path_bytes"].as_array().unwrap().len(), 14);
        let plain = serde_json::to_value(PathOut::of(Path::new("/m/Björk.ogg"))).unwrap();
        assert_eq!(plain, serde_json::json!({"path": "/m/Björk.ogg"}));
    }

    #[test]
    fn confidences_in_three_spellings() {
        for s in ["50%", "50", "0.5", " 50 % "] {
            assert_eq!(parse_confidence(s), Ok(0.5), "{s}");
        }
        assert!(parse_confidence("1").unwrap_err().contains("1% or 100%"));
        assert!(parse_confidence("1.0").is_err());
        assert_eq!(parse_confidence("1%"), Ok(0.01));
        assert_eq!(parse_confidence("100%"), Ok(1.0));
        assert_eq!(parse_confidence("0"), Ok(0.0));
        for bad in ["150", "-1", "abc", "NaN", "", "%"] {
            assert!(parse_confidence(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_rate_before_anything_is_done() {
        let eta = std::time::Duration::from_secs(75);
        assert_eq!(rate_text(0, 0.0, eta), "");
        assert_eq!(rate_text(0, 3.0, eta), "");
        assert_eq!(rate_text(2, 0.5, eta), " 0.5 files/s eta 1:15");
    }

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("plain é ♪.mp3"), "plain é ♪.mp3");
        assert_eq!(
            printable("a\u{1b}[2Jb\nc\td\u{7f}\u{9b}"),
            "a\\u{1b}[2Jb\\nc\\td\\u{7f}\\u{9b}"
        );
    }
}
