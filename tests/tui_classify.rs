//! The terminal app with the shipped model, on copies of demo clips in a
//! temp dir (and a temp cache): classify a folder in the background, preview
//! the focused track (spectrogram), accept a suggestion, undo it, batch-accept
//! marked files through the preview, undo the batch, skip, cancel. One test:
//! the cache location is process-wide.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use std::path::Path;
use std::time::Duration;

use crossterm::event::KeyCode;
use earmark::tags::read_tags;
use earmark::tui::AppOptions;
use earmark::tui::analyst::AnalystOptions;
use tui_common::{Harness, demo_album_library};

fn genres(p: &Path) -> Vec<String> {
    read_tags(p).unwrap().genres
}

/// How long a wait for asynchronous jobs may take before the test fails.
const WAIT: Duration = Duration::from_secs(60);

/// Mark two files, batch-accept them at threshold 0 through the preview
/// (one holds a genre, so `a` ticks it too), then undo both with one `u`.
fn batch_accept_and_undo(h: &mut Harness, mp3: &Path, flac: &Path) {
    let (before_mp3, before_flac) = (genres(mp3), genres(flac));
    // Mark two files, batch-accept at threshold 0 through the preview, undo.
    h.key(KeyCode::Char('m')); // awakening, moves down
    h.key(KeyCode::Down); // skip enemy-unknown
    h.key(KeyCode::Char('m')); // nebula
    assert_eq!(h.app.browser().marked().len(), 2);
    h.key(KeyCode::Char('A'));
    assert!(h.app.popup_open());
    let preview = h.screen();
    assert!(preview.contains("Accept suggestions"), "{preview}");
    for _ in 0..20 {
        h.key(KeyCode::Left);
    }
    // awakening.mp3 holds a genre (Soundtrack): held back until `a` ticks all
    assert!(h.screen().contains("Write 1 of 2"), "{}", h.screen());
    assert!(
        h.screen().contains("left out: 1 has a genre"),
        "{}",
        h.screen()
    );
    h.key(KeyCode::Char('a'));
    assert!(h.screen().contains("Write 2 of 2"), "{}", h.screen());
    h.key(KeyCode::Enter);
    assert!(!h.app.popup_open());
    assert_ne!(genres(mp3), before_mp3);
    assert_ne!(genres(flac), before_flac);
    // Two files: u asks first, naming them.
    h.key(KeyCode::Char('u'));
    assert!(h.screen().contains("Undo the last 2 tag writes"));
    h.key(KeyCode::Char('y'));
    assert_eq!(genres(mp3), before_mp3);
    assert_eq!(genres(flac), before_flac);
}

#[test]
fn classify_preview_accept_undo_batch_skip_cancel() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this binary; set before any thread reads it.
    unsafe { std::env::set_var("EARMARK_CACHE_DIR", dir.path().join("cache")) };
    let (lib, album) = demo_album_library(dir.path());
    let mp3 = album.join("awakening.mp3");
    let flac = album.join("nebula.flac");
    let before_mp3 = genres(&mp3);

    let mut opts = AppOptions::new(&lib, "lib");
    opts.analysis = Some(AnalystOptions {
        workers: 2,
        ..AnalystOptions::default()
    });
    let mut h = Harness::with_options(opts, 100, 30);
    assert_eq!(h.selected_label().as_deref(), Some("album"));
    let ids: Vec<u32> = h.app.tree().files().collect();
    assert_eq!(ids.len(), 3);

    // c on the folder: every file is classified in the background.
    h.key(KeyCode::Char('c'));
    h.wait_for(WAIT, "the folder to be classified", |h| {
        ids.iter().all(|&id| h.app.results().result(id).is_some())
    });
    h.settle();
    let screen = h.screen();
    assert_eq!(screen.matches('✓').count(), 0, "folder closed:\n{screen}");
    h.key(KeyCode::Right);
    h.key(KeyCode::Down);
    assert_eq!(h.selected_label().as_deref(), Some("awakening.mp3"));
    let screen = h.screen();
    assert!(screen.matches('✓').count() >= 2, "{screen}");
    assert!(screen.contains("Suggest"), "{screen}");

    // The focused track gets its spectrogram (from the cached result + a decode).
    let mp3_id = h.app.browser().selected().unwrap();
    h.wait_for(WAIT, "the spectrogram", |h| {
        h.app.results().spectrogram(mp3_id).is_some()
    });

    // a: accept the suggestion; it is written, marked, and u takes it back.
    let suggestion = {
        let r = h.app.results().result(mp3_id).unwrap();
        earmark::tags::genre_tag_name(r.prediction.top(1)[0].0)
    };
    no_write_without_the_journal(&mut h, dir.path(), &mp3);
    h.key(KeyCode::Char('a'));
    assert_eq!(genres(&mp3), vec![suggestion.clone()]);
    assert_ne!(
        h.app.browser().selected(),
        Some(mp3_id),
        "on to the next file"
    );
    assert!(h.screen().contains('✎'), "{}", h.screen());
    assert!(
        h.app.status_message().unwrap_or("").contains(&suggestion),
        "{:?}",
        h.app.status_message()
    );
    h.key(KeyCode::Char('k'));
    // The result survived the rewrite (same audio, new mtime): still classified.
    h.key(KeyCode::Char('u'));
    assert_eq!(genres(&mp3), before_mp3);
    assert!(!h.screen().contains('✎'));

    batch_accept_and_undo(&mut h, &mp3, &flac);

    // x skips: the file is marked skipped and the next one selected.
    h.key(KeyCode::Char('k'));
    let skipped = h.app.browser().selected().unwrap();
    h.key(KeyCode::Char('x'));
    assert!(h.app.results().get(skipped).unwrap().skipped);
    assert_ne!(h.app.browser().selected(), Some(skipped));

    let h = restart_keeps_the_mark(h, &lib);

    // Cancel: everything is cached now, so reopen the app without a cache
    // (in memory) and cancel a folder's jobs right away.
    drop(h);
    let mut opts = AppOptions::new(&lib, "lib");
    opts.analysis = Some(AnalystOptions {
        workers: 1,
        no_cache: true,
        ..AnalystOptions::default()
    });
    let mut h = Harness::with_options(opts, 100, 30);
    h.app
        .handle_event(earmark::tui::AppEvent::Input(crossterm::event::Event::Key(
            crossterm::event::KeyEvent::new(
                KeyCode::Char('c'),
                crossterm::event::KeyModifiers::NONE,
            ),
        )));
    h.key(KeyCode::Char('C'));
    let done = ids
        .iter()
        .filter(|&&id| h.app.results().result(id).is_some())
        .count();
    assert!(done < 3, "cancel stopped the queue ({done} of 3 done)");
    assert!(h.app.is_idle());
}

/// A journal that cannot be opened (here a folder in its place; a lock held
/// past the wait, a newer earmark's file) writes nothing: the write could not
/// be undone. Once it opens, the next write goes through.
fn no_write_without_the_journal(h: &mut Harness, cache_dir: &Path, file: &Path) {
    let journal = cache_dir.join("cache/data/journal.sqlite");
    assert!(
        !journal.exists(),
        "the app opened no journal before a write"
    );
    std::fs::create_dir_all(&journal).unwrap();
    let before = std::fs::read(file).unwrap();
    h.key(KeyCode::Char('a'));
    assert_eq!(
        std::fs::read(file).unwrap(),
        before,
        "written without a journal"
    );
    let said = h.app.status_message().unwrap_or("").to_string();
    assert!(said.starts_with("nothing written: undo journal "), "{said}");
    assert!(!h.screen().contains('✎'), "{}", h.screen());
    std::fs::remove_dir(&journal).unwrap();
    // `a` moved on to the next file (as it does whether the write lands)
    h.key(KeyCode::Char('k'));
}

/// A write survives a restart as a ✎ mark (the journal knows), and u in the
/// new session does not take back the old session's write.
fn restart_keeps_the_mark(mut h: Harness, lib: &Path) -> Harness {
    let kept = h.app.browser().selected().unwrap();
    let kept_path = h.app.tree().path(kept);
    h.key(KeyCode::Char('a'));
    let kept_genres = genres(&kept_path);
    assert!(h.app.results().get(kept).unwrap().written.is_some());
    drop(h);
    let mut opts = AppOptions::new(lib, "lib");
    opts.analysis = Some(AnalystOptions {
        workers: 1,
        ..AnalystOptions::default()
    });
    let mut h = Harness::with_options(opts, 100, 30);
    h.key(KeyCode::Right);
    h.settle();
    assert_eq!(h.app.tree().path(kept), kept_path);
    assert_eq!(
        h.app.results().get(kept).and_then(|f| f.written.clone()),
        Some(kept_genres.clone()),
        "{}",
        h.screen()
    );
    assert_eq!(h.screen().matches('✎').count(), 1, "{}", h.screen());
    h.key(KeyCode::Char('u'));
    assert!(
        h.app
            .status_message()
            .unwrap_or("")
            .starts_with("nothing to undo here ("),
        "{:?}",
        h.app.status_message()
    );
    assert_eq!(genres(&kept_path), kept_genres);
    h
}
