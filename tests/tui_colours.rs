//! The bytes the app sends to a real terminal: basic16 uses only the classic
//! 16-colour codes, and with colours off (`NO_COLOR`) the selected row is
//! still marked, by reverse video.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use crossterm::event::KeyCode;
use earmark::tui::ansi16::Ansi16;
use earmark::tui::{AppOptions, Theme};
use ratatui::backend::CrosstermBackend;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tui_common::{Harness, demo_dir};

/// A byte sink the test can read after the backend took ownership of it.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The escape stream of one frame of demo/ drawn with `theme`.
fn frame_bytes(theme: Theme) -> String {
    let mut opts = AppOptions::new(demo_dir(), "demo");
    opts.theme = theme;
    let mut h = Harness::with_options(opts, 80, 24);
    h.key(KeyCode::Down);
    let sink = Sink::default();
    // A fixed viewport: the backend must not ask a real terminal for its size.
    let mut term = Terminal::with_options(
        CrosstermBackend::new(Ansi16::new(sink.clone())),
        TerminalOptions {
            viewport: Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    term.draw(|f| h.app.draw(f)).unwrap();
    let bytes = sink.0.borrow().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn basic16_emits_only_the_16_ansi_colours() {
    let out = frame_bytes(Theme::builtin("basic16").unwrap());
    // Crossterm sets both colours at once: cyan on default is ESC[36;49m.
    assert!(
        out.contains("\x1b[36;49m") || out.contains("\x1b[36m"),
        "cyan as ESC[36m"
    );
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
