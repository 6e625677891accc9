//! Small helpers for human-readable CLI output.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A name or message made safe for a terminal, a table row or a CSV line:
/// control characters (ESC, newline, tab, DEL, C1…) are written as Rust-style
/// escapes (`\u{1b}`, `\n`), so a file name cannot clear the screen or split
/// a row. JSON needs none of this: serde escapes them itself.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("plain é ♪.mp3"), "plain é ♪.mp3");
        assert_eq!(
            printable("a\u{1b}[2Jb\nc\td\u{7f}\u{9b}"),
            "a\\u{1b}[2Jb\\nc\\td\\u{7f}\\u{9b}"
        );
    }
}
