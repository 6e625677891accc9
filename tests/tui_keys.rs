//! Key map, actions and mouse, driven through the real `App` on demo/ with a
//! silent player.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use earmark::tui::components::PlayState;
use earmark::tui::{Action, AppEvent, AppOptions, Key, KeyMap, Theme, config};
use tui_common::{Harness, demo_dir};

fn demo(width: u16, height: u16) -> Harness {
    Harness::new(&demo_dir(), "demo", width, height)
}

fn mouse(h: &mut Harness, kind: MouseEventKind, column: u16, row: u16) {
    h.app.handle_event(AppEvent::Input(Event::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })));
    h.settle();
}

/// How long a wait for asynchronous player events may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

#[test]
fn defaults_cover_the_documented_keys() {
    let map = KeyMap::defaults();
    let cases = [
        ("up", Action::Up),
        ("k", Action::Up),
        ("down", Action::Down),
        ("j", Action::Down),
        ("left", Action::Collapse),
        ("h", Action::Collapse),
        ("right", Action::Expand),
        ("l", Action::Expand),
        ("enter", Action::Activate),
        ("space", Action::PlayPause),
        ("/", Action::Filter),
        ("?", Action::Help),
        ("q", Action::Quit),
        ("ctrl-c", Action::Quit),
        ("G", Action::Bottom),
        ("g", Action::Top),
        (".", Action::SeekForward),
        (",", Action::SeekBack),
        ("n", Action::Next),
    ];
    for (key, action) in cases {
        assert_eq!(map.action(key.parse().unwrap()), Some(action), "{key}");
    }
    // Digits bound to nothing tag the genre of that rank.
    assert_eq!(
        map.action("3".parse().unwrap()),
        Some(Action::AcceptRank(3))
    );
    assert_eq!(
        map.action("0".parse().unwrap()),
        Some(Action::AcceptRank(10))
    );
    // Every bindable action has a key and shows up in help (the digits too).
    let help = map.help();
    let described: usize = help.iter().map(|(_, e)| e.len()).sum();
    assert_eq!(described, Action::BINDABLE.len() + 1);
    for &a in Action::BINDABLE {
        assert!(!map.keys(a).is_empty(), "{} is unbound", a.name());
    }
}

#[test]
fn navigation_expand_collapse_and_bounds() {
    let mut h = demo(80, 24);
    assert_eq!(h.selected_label().as_deref(), Some("HyperRogue"));
    h.key(KeyCode::Char('k')); // already at the top
    assert_eq!(h.selected_label().as_deref(), Some("HyperRogue"));
    h.key(KeyCode::Char('l'));
    assert_eq!(h.app.browser().rows().len(), 6);
    h.key(KeyCode::Char('l')); // into the open folder
    assert_eq!(h.selected_label().as_deref(), Some("caribbean.m4a"));
    h.key(KeyCode::Char('h')); // to the parent
    assert_eq!(h.selected_label().as_deref(), Some("HyperRogue"));
    h.key(KeyCode::Char('h')); // close it
    assert_eq!(h.app.browser().rows().len(), 3);
    h.key(KeyCode::Char('G'));
    assert_eq!(h.selected_label().as_deref(), Some("hell-reprise.ogg"));
    h.key(KeyCode::Char('j')); // already at the bottom
    assert_eq!(h.selected_label().as_deref(), Some("hell-reprise.ogg"));
    h.key(KeyCode::Home);
    assert_eq!(h.selected_label().as_deref(), Some("HyperRogue"));
    h.key(KeyCode::Enter); // enter toggles a folder
    assert_eq!(h.app.browser().rows().len(), 6);
    h.key(KeyCode::PageDown);
    assert_eq!(h.selected_label().as_deref(), Some("hell-reprise.ogg"));
}

#[test]
fn filter_as_you_type_then_keep_then_clear() {
    let mut h = demo(80, 24);
    h.key(KeyCode::Char('/'));
    assert!(h.app.browser().filter_focused);
    h.chars("nebu");
    assert_eq!(h.app.browser().filter(), "nebu");
    assert_eq!(h.selected_label().as_deref(), Some("nebula.flac"));
    // While typing, letters are text, not commands ('q' does not quit).
    h.chars(" q");
    assert!(!h.app.should_quit());
    assert_eq!(h.app.browser().rows().len(), 0);
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Backspace);
    assert_eq!(h.app.browser().rows().len(), 2);
    h.key(KeyCode::Enter); // keep the filter, keys go back to the listing
    assert!(!h.app.browser().filter_focused);
    assert!(h.app.browser().is_filtering());
    h.key(KeyCode::Esc); // clear it; the found file stays selected
    assert!(!h.app.browser().is_filtering());
    assert_eq!(h.selected_label().as_deref(), Some("nebula.flac"));
    assert_eq!(h.app.browser().rows().len(), 6);
}

#[test]
fn help_opens_and_any_key_closes_and_quit_keys_quit() {
    let mut h = demo(80, 24);
    h.key(KeyCode::Char('?'));
    assert!(h.app.help_visible());
    assert!(h.screen().contains("filter by name"), "{}", h.screen());
    // Arrows, j/k and g/G scroll a help taller than the window; other keys close it.
    h.key(KeyCode::Char('j'));
    assert!(h.app.help_visible());
    h.key(KeyCode::Char('G'));
    assert!(h.app.help_visible());
    assert!(
        h.screen().contains("Keys · end ·"),
        "G shows the end: {}",
        h.screen()
    );
    h.key(KeyCode::Char('m'));
    assert!(!h.app.help_visible());
    assert_eq!(
        h.selected_label().as_deref(),
        Some("HyperRogue"),
        "the closing key does nothing else"
    );
    assert!(h.app.browser().marked().is_empty(), "nor marks");
    h.key(KeyCode::Char('q'));
    assert!(h.app.should_quit());

    let mut h = demo(80, 24);
    h.key(KeyCode::Char('/'));
    h.key_mod(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(
        h.app.should_quit(),
        "ctrl-c quits even from the filter input"
    );
}

#[test]
fn play_pause_seek_volume_next_in_silent_mode() {
    let mut h = demo(80, 24);
    h.key(KeyCode::Char('G')); // hell-reprise.ogg
    h.key(KeyCode::Char(' '));
    h.wait_for(WAIT, "playing", |h| {
        h.app.player_view().state == PlayState::Playing
    });
    assert!(h.screen().contains("silent"));
    h.wait_for(WAIT, "position to advance", |h| {
        h.app.player_view().position > 0.3
    });
    h.key(KeyCode::Char(' '));
    assert_eq!(h.app.player_view().state, PlayState::Paused);
    h.key(KeyCode::Char('.'));
    let p = h.app.player_view().position;
    assert!(p >= 5.0, "seek forward: {p}");
    h.key(KeyCode::Char(','));
    assert!(h.app.player_view().position < p);
    h.key(KeyCode::Char('-'));
    assert!((h.app.player_view().volume - 0.75).abs() < 1e-4);
    h.key(KeyCode::Char('+'));
    h.key(KeyCode::Char('+'));
    assert!((h.app.player_view().volume - 0.85).abs() < 1e-4);
    // previous from the last file: the last file of "Max McCracken".
    h.key(KeyCode::Char('p'));
    h.wait_for(WAIT, "previous to play", |h| {
        h.app.player_view().state == PlayState::Playing
    });
    assert_eq!(h.selected_label().as_deref(), Some("nebula.flac"));
    h.key(KeyCode::Char('n'));
    assert_eq!(h.selected_label().as_deref(), Some("hell-reprise.ogg"));
    h.key(KeyCode::Char('n'));
    assert!(h.app.status_message().unwrap_or("").contains("last file"));
    h.key(KeyCode::Char('s'));
    assert_eq!(h.app.player_view().state, PlayState::Stopped);
}

#[test]
fn mouse_click_selects_click_again_activates_wheel_scrolls() {
    let mut h = demo(80, 24);
    // Rows start inside the browser's border at (1, 1).
    mouse(&mut h, MouseEventKind::Down(MouseButton::Left), 5, 2);
    assert_eq!(h.selected_label().as_deref(), Some("Max McCracken"));
    mouse(&mut h, MouseEventKind::Down(MouseButton::Left), 5, 2);
    assert_eq!(
        h.app.browser().rows().len(),
        6,
        "second click opens the folder"
    );
    mouse(&mut h, MouseEventKind::ScrollDown, 5, 5);
    assert_eq!(h.app.browser().cursor(), 4);
    mouse(&mut h, MouseEventKind::ScrollUp, 5, 5);
    assert_eq!(h.app.browser().cursor(), 1);
    // A click below the rows or on the other pane changes nothing.
    mouse(&mut h, MouseEventKind::Down(MouseButton::Left), 5, 15);
    mouse(&mut h, MouseEventKind::Down(MouseButton::Left), 60, 5);
    assert_eq!(h.app.browser().cursor(), 1);
}

#[test]
fn rebinding_keys_through_the_config_changes_keys_and_help() {
    let cfg = config::parse(
        "[keys]\nquit = \"x\"\nhelp = [\"f2\"]\n",
        Path::new("config.toml"),
    )
    .unwrap();
    let mut opts = AppOptions::new(demo_dir(), "demo");
    opts.keymap = cfg.keymap;
    let mut h = Harness::with_options(opts, 80, 24);
    h.key(KeyCode::Char('q'));
    assert!(!h.app.should_quit());
    h.key(KeyCode::F(2));
    assert!(h.app.help_visible());
    h.key(KeyCode::PageDown); // the App group is at the end
    assert!(h.screen().contains(" x "), "help shows the new quit key");
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('x'));
    assert!(h.app.should_quit());
}

#[test]
fn themes_reach_the_screen() {
    for name in Theme::builtin_names() {
        let mut opts = AppOptions::new(demo_dir(), "demo");
        opts.theme = Theme::load(name).unwrap();
        let want = opts.theme.selected;
        let h = Harness::with_options(opts, 80, 24);
        let cell = &h.terminal.backend().buffer()[(3, 1)];
        assert_eq!(cell.style().bg, want.bg.or(cell.style().bg), "{name}");
        assert!(
            cell.style().add_modifier.contains(want.add_modifier),
            "{name}"
        );
    }
}

#[test]
fn key_names_from_terminal_events() {
    let e = crossterm::event::KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(Key::from(e).to_string(), "G");
    let e = crossterm::event::KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(Key::from(e).to_string(), "backtab");
}

#[test]
fn a_file_sixty_folders_down_still_shows_its_name() {
    let lib = tempfile::tempdir().unwrap();
    let mut dir = lib.path().to_path_buf();
    for i in 0..60 {
        dir.push(format!("d{i:02}"));
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(demo_dir().join("hell-reprise.ogg"), dir.join("deep.ogg")).unwrap();
    let mut h = Harness::new(lib.path(), "lib", 80, 24);
    h.key(KeyCode::Char('/'));
    h.chars("deep");
    h.key(KeyCode::Enter);
    h.settle();
    assert_eq!(h.selected_label().as_deref(), Some("deep.ogg"));
    let screen = h.screen();
    assert!(screen.contains("deep.ogg"), "{screen}");
    // Indents stop at a third of the pane; the deepest folders show "…".
    assert!(screen.contains("… ▾ d59/"), "{screen}");
}

#[test]
fn opening_a_file_selects_it_in_its_folder() {
    let mut opts = AppOptions::new(demo_dir(), "demo");
    opts.select = Some("hell-reprise.ogg".into());
    let h = Harness::with_options(opts, 80, 24);
    assert_eq!(h.selected_label().as_deref(), Some("hell-reprise.ogg"));
}
