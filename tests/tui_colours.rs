//! The bytes the app sends to a real terminal: basic16 uses only the classic
//! 16-colour codes, and with colours off (`NO_COLOR`) the selected row is
//! still marked, by reverse video.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use crossterm::event::KeyCode;
use earmark::tui::ansi16::Ansi16;
use earmark::tui::{AppOptions, Theme};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tui_common::{Harness, demo_dir};

/// The escape stream of one frame of demo/ drawn with `theme`.
fn frame_bytes(theme: Theme) -> String {
    let mut opts = AppOptions::new(&demo_dir(), "demo");
    opts.theme = theme;
    let mut h = Harness::with_options(opts, 80, 24);
    h.key(KeyCode::Down);
    let mut term = Terminal::new(CrosstermBackend::new(Ansi16::new(Vec::new()))).unwrap();
    // CrosstermBackend asks the real terminal for its size; draw to a fixed area instead.
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    term.resize(area).unwrap();
    term.draw(|f| h.app.draw(f)).unwrap();
    String::from_utf8_lossy(term.backend().writer().get_ref()).into_owned()
}

#[test]
fn basic16_emits_only_the_16_ansi_colours() {
    let out = frame_bytes(Theme::builtin("basic16").unwrap());
    assert!(out.contains("\x1b[36m"), "cyan as ESC[36m");
    assert!(!out.contains("38;5;"), "no 256-colour foreground codes");
    assert!(!out.contains("48;5;"), "no 256-colour background codes");
}

#[test]
fn without_colours_the_selected_row_is_reverse_video() {
    let out = frame_bytes(Theme::default_theme().without_colours());
    assert!(
        !out.contains("38;5;") && !out.contains("48;5;"),
        "no colours"
    );
    assert!(out.contains("\x1b[7m"), "reverse video emitted");
    // The dark theme marks the selection by colour alone; here it must show.
    let with_colours = frame_bytes(Theme::default_theme());
    assert!(
        with_colours.contains("48;5;24"),
        "dark: selection by background"
    );
}
