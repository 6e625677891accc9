//! Snapshots (insta) of the terminal app drawn on a `TestBackend`: the main
//! screen at 80×24 and 160×48 on demo/, filtering, help, and bad input.
//! Deterministic: the scan and the file inspections finish before each
//! snapshot, the player is silent (`--no-audio`), paths are shown relative to
//! the root's label, and nothing depends on time.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use crossterm::event::KeyCode;
use tui_common::{Harness, bad_library, demo_dir};

/// demo/ with "Max McCracken" open and awakening.mp3 selected.
fn demo_on_awakening(width: u16, height: u16) -> Harness {
    let mut h = Harness::new(&demo_dir(), "demo", width, height);
    h.key(KeyCode::Down);
    h.key(KeyCode::Right);
    h.key(KeyCode::Down);
    assert_eq!(h.selected_label().as_deref(), Some("awakening.mp3"));
    h
}

#[test]
fn main_screen_80x24() {
    let h = demo_on_awakening(80, 24);
    insta::assert_snapshot!("main_80x24", h.terminal.backend());
}

#[test]
fn main_screen_160x48() {
    let h = demo_on_awakening(160, 48);
    insta::assert_snapshot!("main_160x48", h.terminal.backend());
}

#[test]
fn first_frame_on_demo() {
    let h = Harness::new(&demo_dir(), "demo", 80, 24);
    insta::assert_snapshot!("first_frame_80x24", h.terminal.backend());
}

#[test]
fn filtering_80x24() {
    let mut h = Harness::new(&demo_dir(), "demo", 80, 24);
    h.key(KeyCode::Char('/'));
    h.chars("hell");
    insta::assert_snapshot!("filter_80x24", h.terminal.backend());
    // Nothing matches: the Track pane says so, not that the folder is empty.
    h.chars("zzz");
    let screen = h.screen();
    assert!(
        screen.contains("Nothing matches the filter") && !screen.contains("no audio files"),
        "{screen}"
    );
}

#[test]
fn help_overlay_80x24_and_160x48() {
    let mut h = Harness::new(&demo_dir(), "demo", 80, 24);
    h.key(KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", h.terminal.backend());
    h.resize(160, 48);
    insta::assert_snapshot!("help_160x48", h.terminal.backend());
}

#[test]
fn bad_input_is_flagged_not_fatal() {
    let (_dir, lib) = bad_library();
    let mut h = Harness::new(&lib, "library", 100, 24);
    // Open "bad", select the truncated FLAC.
    h.key(KeyCode::Right);
    h.key(KeyCode::Down);
    while h.selected_label().as_deref() != Some("truncated.flac") {
        h.key(KeyCode::Down);
    }
    insta::assert_snapshot!("bad_input_100x24", h.terminal.backend());
    // `c` on it: the refusal is said in the status line, and in full in the log.
    h.key(KeyCode::Char('c'));
    h.key(KeyCode::Char('!'));
    insta::assert_snapshot!("bad_input_messages_100x24", h.terminal.backend());
}

#[test]
fn small_and_tiny_terminals_do_not_panic() {
    let mut h = demo_on_awakening(80, 24);
    for (w, h2) in [
        (60, 20),
        (40, 12),
        (20, 6),
        (19, 5),
        (10, 3),
        (1, 1),
        (200, 60),
        (80, 24),
    ] {
        h.resize(w, h2);
        let screen = h.screen();
        assert_eq!(screen.lines().count(), usize::from(h2), "{w}×{h2}");
        assert!(
            screen.lines().all(|l| l.chars().count() == usize::from(w)),
            "{w}×{h2}:\n{screen}"
        );
        if w >= 20 && h2 >= 6 {
            // The layout fits: the browser's frame and the file are drawn.
            assert!(
                screen.contains('┌') && screen.contains('┘'),
                "{w}×{h2}:\n{screen}"
            );
            assert!(screen.contains("awakening"), "{w}×{h2}:\n{screen}");
        } else {
            // Too small for panes: a notice, wrapped to fit (cut where
            // even that cannot fit).
            let first: String = "earmark:".chars().take(usize::from(w)).collect();
            assert!(screen.starts_with(&first), "{w}×{h2}:\n{screen}");
            let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
            if w >= 12 && h2 >= 5 {
                assert!(words.contains("window too small"), "{w}×{h2}:\n{screen}");
            }
        }
    }
    h.key(KeyCode::Char('?'));
    for (w, h2) in [(30, 8), (80, 24)] {
        h.resize(w, h2);
        let screen = h.screen();
        assert!(h.app.help_visible());
        assert!(screen.contains("Keys"), "help at {w}×{h2}:\n{screen}");
    }
}
