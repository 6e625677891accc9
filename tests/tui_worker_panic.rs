//! The app's workers survive a panic: a file whose analysis panics (injected
//! through the job pool's fault hook) shows ✗ with "internal error while
//! analysing (please report)" and the rest of the queue is classified.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use earmark::jobs::INTERNAL_ERROR;
use earmark::tui::AppOptions;
use earmark::tui::analyst::AnalystOptions;
use tui_common::{Harness, demo_album_library};

#[test]
fn a_panicking_file_shows_its_reason_and_the_queue_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this binary; set before any thread reads it.
    unsafe { std::env::set_var("EARMARK_CACHE_DIR", dir.path().join("cache")) };
    let (lib, _album) = demo_album_library(dir.path());
    let mut opts = AppOptions::new(&lib, "lib");
    opts.analysis = Some(AnalystOptions {
        workers: 1,
        no_cache: true,
        model: Some("fast".into()),
        fault: Some(Arc::new(|p: &Path| {
            if p.ends_with("awakening.mp3") {
                panic!("injected fault");
            }
        })),
    });
    let mut h = Harness::with_options(opts, 100, 30);
    let ids: Vec<u32> = h.app.tree().files().collect();
    assert_eq!(ids.len(), 3);

    h.key(KeyCode::Char('c'));
    let deadline = Instant::now() + Duration::from_secs(120);
    let settled = |h: &Harness| {
        ids.iter().all(|&id| {
            h.app
                .results()
                .get(id)
                .is_some_and(|f| f.error.is_some() || h.app.results().result(id).is_some())
        })
    };
    while !settled(&h) {
        assert!(Instant::now() < deadline, "the queue stalled");
        if let Ok(ev) = h.rx.recv_timeout(Duration::from_millis(50)) {
            h.app.handle_event(ev);
        }
    }
    let paths: Vec<_> = ids.iter().map(|&id| h.app.tree().path(id)).collect();
    for (&id, path) in ids.iter().zip(&paths) {
        let state = h.app.results().get(id).unwrap();
        if path.ends_with("awakening.mp3") {
            let e = state.error.as_deref().unwrap();
            assert!(e.starts_with(INTERNAL_ERROR), "{e}");
            assert!(h.app.results().result(id).is_none());
        } else {
            assert!(
                state.error.is_none(),
                "{}: {:?}",
                path.display(),
                state.error
            );
            assert!(h.app.results().result(id).is_some());
        }
    }
    // On screen: the folder open, the file marked ✗ with its reason beside it.
    h.settle();
    h.key(KeyCode::Right);
    h.key(KeyCode::Down);
    h.settle();
    let screen = h.screen();
    assert!(screen.contains('✗'), "{screen}");
    assert!(screen.contains("internal error"), "{screen}");
}
