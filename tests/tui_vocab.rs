//! Your genres and "sounds like this" in the terminal app with the fast
//! model: `earmark tag` + `earmark learn` on copies of the demo clips, the app
//! finds the head, shows "Your genres", `f` lists the nearest tracks (a copy
//! of the track first), Enter plays it, `y` goes back to GTZAN, `L` re-learns
//! in the background. One test: the cache and data locations are process-wide.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;
mod tui_common;

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::KeyCode;
use earmark::tui::AppOptions;
use earmark::tui::analyst::AnalystOptions;
use tui_common::Harness;

fn earmark_ok(args: &[&std::ffi::OsStr]) {
    let out = common::earmark().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        common::text(&out.stderr)
    );
}

/// The app on `root` with the fast model, at 100×30.
fn fast_app(root: &std::path::Path, label: &str) -> Harness {
    let mut opts = AppOptions::new(root, label);
    opts.analysis = Some(AnalystOptions {
        model: Some(PathBuf::from("fast")),
        workers: 2,
        ..AnalystOptions::default()
    });
    Harness::with_options(opts, 100, 30)
}

/// How long a wait for asynchronous jobs may take before the test fails.
const WAIT: Duration = Duration::from_secs(120);

#[test]
fn with_the_fast_model_the_app_finds_the_head_lists_similar_tracks_and_relearns() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this binary that reads them; set before any
    // thread starts.
    unsafe {
        std::env::set_var("EARMARK_CACHE_DIR", dir.path().join("cache"));
        std::env::set_var("EARMARK_DATA_DIR", dir.path().join("data"));
    }
    let lib = dir.path().join("lib");
    common::demo_two_genre_library(&lib);
    common::copy_demo("HyperRogue/hell.wav", &lib.join("zcopies/hell-copy.wav"));
    for (genre, sub) in [("Game Music", "game"), ("Synthwave", "synth")] {
        earmark_ok(&[
            "tag".as_ref(),
            "--genre".as_ref(),
            genre.as_ref(),
            lib.join(sub).as_os_str(),
        ]);
    }
    earmark_ok(&[
        "learn".as_ref(),
        "--model".as_ref(),
        "fast".as_ref(),
        "--min-tracks".as_ref(),
        "3".as_ref(),
        lib.as_os_str(),
    ]);

    let mut h = fast_app(&lib, "lib");
    h.wait_for(WAIT, "the learned head", |h| {
        h.app.state().vocab.head.is_some()
    });
    h.key(KeyCode::Char('/'));
    h.chars("hell.wav");
    h.key(KeyCode::Enter);
    for _ in 0..6 {
        if h.selected_label().as_deref() == Some("hell.wav") {
            break;
        }
        h.key(KeyCode::Down);
    }
    assert_eq!(h.selected_label().as_deref(), Some("hell.wav"));
    let id = h.app.browser().selected().unwrap();
    h.wait_for(WAIT, "the preview's result", |h| {
        h.app.results().result(id).is_some()
    });
    h.settle();
    assert!(h.screen().contains("Your genres"), "{}", h.screen());

    // f: the nearest tracks; the copy of the same audio comes first.
    h.key(KeyCode::Char('f'));
    h.wait_for(WAIT, "the similar list", |h| {
        h.app
            .state()
            .similar
            .as_ref()
            .is_some_and(|l| l.rows.is_some())
    });
    let rows = match &h.app.state().similar.as_ref().unwrap().rows {
        Some(Ok(rows)) => rows.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(rows.len(), 7, "every other track, not the query itself");
    assert_eq!(h.app.tree().node(rows[0].0).label(), "hell-copy.wav");
    assert!(rows[0].1 > 0.9999 && rows[1].1 < 0.9999, "{rows:?}");
    assert!(h.screen().contains("Sounds like hell.wav"));
    // rows name the file within the library, not from the folder opened
    let screen = h.screen();
    assert!(
        screen.contains(" zcopies/hell-copy.wav") && !screen.contains("lib/zcopies/"),
        "{screen}"
    );
    // Enter plays the row under the cursor; the list stays open.
    h.key(KeyCode::Enter);
    assert_eq!(h.app.player_view().node, Some(rows[0].0));
    h.key(KeyCode::Esc);
    assert!(h.app.state().similar.is_none());

    h.key(KeyCode::Char('y'));
    assert!(!h.screen().contains("Your genres"));
    assert!(
        h.screen().contains("GTZAN's genres · y shows yours"),
        "the way back"
    );
    h.key(KeyCode::Char('y'));

    // L: learn again in the background, with the embeddings now cached.
    h.key(KeyCode::Char('L'));
    h.wait_for(WAIT, "the re-learn", |h| {
        h.app.state().vocab.learning.is_none()
    });
    let msg = h.app.status_message().unwrap_or_default().to_string();
    assert!(
        msg.contains("learned 2 genres from 7 tagged tracks"),
        "{msg}"
    );
    drop(h);
    relearn_from_a_folder_inside(&lib);
}

/// Opened on one folder of a library, the app shows the library's head,
/// and L relearns it from the whole library (the folder alone has one
/// genre: learning it would fail).
fn relearn_from_a_folder_inside(lib: &std::path::Path) {
    let mut h = fast_app(&lib.join("game"), "game");
    h.wait_for(WAIT, "the library's head", |h| {
        h.app.state().vocab.head.is_some()
    });
    h.key(KeyCode::Char('L'));
    h.wait_for(WAIT, "the re-learn", |h| {
        h.app.state().vocab.learning.is_none()
    });
    let msg = h.app.status_message().unwrap_or_default().to_string();
    let real = std::fs::canonicalize(lib).unwrap();
    assert!(
        msg.contains(&format!(
            "learned 2 genres from 7 tagged tracks of 8 files in {}",
            real.display()
        )),
        "{msg}"
    );
}
