//! Snapshots of the analysis panes (prediction bars, segment timeline,
//! spectrogram), the evaluation view (from a committed report) and the
//! tagging pop-ups. Deterministic: the analysis is injected (a made-up
//! prediction and spectrogram, no model run) and the player is silent.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use std::path::Path;
use std::sync::Arc;

use crossterm::event::KeyCode;
use earmark::classifier::Classified;
use earmark::model::{Prediction, SegmentPrediction};
use earmark::tui::analyst::{Analysed, SpecExcerpt, Spectrogram};
use earmark::tui::{AppOptions, Theme};
use tui_common::{Harness, demo_album_library, demo_dir, gtzan_labels, test_model_info};

/// A 15-s track: mostly rock, with a jazzy middle.
fn classified() -> Classified {
    let probs = vec![0.02, 0.03, 0.05, 0.04, 0.01, 0.18, 0.07, 0.06, 0.02, 0.52];
    let segments = (0..9)
        .map(|i| {
            let mut p = probs.clone();
            if (3..5).contains(&i) {
                p.swap(5, 9);
            }
            if i == 7 {
                p.swap(6, 9);
            }
            SegmentPrediction {
                start_s: f64::from(i) * 1.5,
                probs: p,
            }
        })
        .collect();
    Classified {
        duration_s: 15.0,
        analysed_s: Some(15.0),
        partial: false,
        warnings: Vec::new(),
        prediction: Prediction {
            labels: gtzan_labels(),
            probs,
            segments,
            embedding: None,
        },
        from_cache: false,
        file_key: None,
    }
}

/// A made-up spectrogram: a low drone, a rising sweep and beats.
fn spectrogram() -> Spectrogram {
    let n_bands = 96;
    let hop_s = 256.0 / 16000.0;
    let n_frames = (15.0 / hop_s) as usize;
    let mut data = vec![0.0f32; n_frames * n_bands];
    for f in 0..n_frames {
        let sweep = (f * n_bands / n_frames) as i64;
        for b in 0..n_bands {
            let mut v = if b < 12 { 2.0 } else { 0.3 };
            if (b as i64 - sweep).abs() < 4 {
                v += 2.5;
            }
            if f % 31 < 3 {
                v += 1.5;
            }
            data[f * n_bands + b] = v;
        }
    }
    Spectrogram {
        hop_s,
        n_bands,
        duration_s: 15.0,
        excerpts: vec![SpecExcerpt {
            start_s: 0.0,
            n_frames,
            data,
        }],
        lo: 0.3,
        hi: 4.5,
        band_lo: vec![0.3; n_bands],
        band_hi: vec![4.5; n_bands],
    }
}

fn report() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval_report.json")
}

/// demo/ with awakening.mp3 selected and an injected analysis.
fn analysed(width: u16, height: u16, theme: Theme) -> Harness {
    let mut opts = AppOptions::new(demo_dir(), "demo");
    opts.theme = theme;
    opts.eval_report = Some(report());
    let mut h = Harness::with_options(opts, width, height);
    h.key(KeyCode::Down);
    h.key(KeyCode::Right);
    h.key(KeyCode::Down);
    assert_eq!(h.selected_label().as_deref(), Some("awakening.mp3"));
    let id = h.app.browser().selected().unwrap();
    h.app.set_model_ready(test_model_info());
    h.app.inject_analysis(
        id,
        Analysed {
            classified: classified(),
            spectrogram: Some(Arc::new(spectrogram())),
            cache_note: None,
        },
    );
    h.settle();
    h
}

#[test]
fn analysis_panes_80x24() {
    let h = analysed(80, 24, Theme::default_theme());
    insta::assert_snapshot!("analysis_80x24", h.terminal.backend());
}

#[test]
fn analysis_panes_160x48() {
    let h = analysed(160, 48, Theme::default_theme());
    insta::assert_snapshot!("analysis_160x48", h.terminal.backend());
}

#[test]
fn spectrogram_in_half_blocks_and_a_short_window() {
    let mut h = analysed(100, 30, Theme::builtin("light").unwrap());
    insta::assert_snapshot!("analysis_halfblock_100x30", h.terminal.backend());
    // `v` flips to braille; the panes still fit a 60×16 window.
    h.key(KeyCode::Char('v'));
    h.resize(60, 16);
    insta::assert_snapshot!("analysis_60x16", h.terminal.backend());
}

#[test]
fn evaluation_view_80x24_and_160x48() {
    let mut h = analysed(80, 24, Theme::default_theme());
    h.key(KeyCode::Char('e'));
    assert!(h.app.eval_view().visible);
    insta::assert_snapshot!("eval_80x24", h.terminal.backend());
    // An empty cell: Enter says there is nothing in it.
    let confusion = h.app.eval_view().report().unwrap().confusion.clone();
    let (i, j) = (0..confusion.len())
        .flat_map(|i| (0..confusion.len()).map(move |j| (i, j)))
        .find(|&(i, j)| confusion[i][j] == 0)
        .expect("the fixture has an empty cell");
    let arrows = |h: &mut Harness, down: KeyCode, right: KeyCode| {
        (0..i).for_each(|_| h.key(down));
        (0..j).for_each(|_| h.key(right));
    };
    arrows(&mut h, KeyCode::Down, KeyCode::Right);
    h.key(KeyCode::Enter);
    let said = h.app.status_message().unwrap_or_default().to_string();
    assert!(said.starts_with("no clips of "), "{said}");
    arrows(&mut h, KeyCode::Up, KeyCode::Left);
    // rock row, reggae column: the files rock tracks were mistaken for reggae.
    for _ in 0..9 {
        h.key(KeyCode::Down);
    }
    for _ in 0..8 {
        h.key(KeyCode::Right);
    }
    h.key(KeyCode::Enter);
    insta::assert_snapshot!("eval_cell_files_80x24", h.terminal.backend());
    h.key(KeyCode::Char('r'));
    h.resize(160, 48);
    insta::assert_snapshot!("eval_row_normalised_160x48", h.terminal.backend());
    // Too short for the matrix: said, not an empty box.
    h.resize(40, 10);
    assert!(
        h.screen().contains("confusion matrix hidden: window too"),
        "{}",
        h.screen()
    );
    // Esc leaves the file list, then the view.
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    assert!(!h.app.eval_view().visible);
}

#[test]
fn genre_picker_and_editor() {
    let mut h = analysed(80, 24, Theme::default_theme());
    h.key(KeyCode::Char('t'));
    h.key(KeyCode::Down);
    insta::assert_snapshot!("picker_80x24", h.terminal.backend());
    h.key(KeyCode::Esc);
    assert!(!h.app.popup_open());
    h.key(KeyCode::Char('T'));
    // The current genre starts selected: the hint says typing replaces it.
    insta::assert_snapshot!("editor_selected_80x24", h.terminal.backend());
    h.key(KeyCode::End);
    h.chars("; Film Score");
    insta::assert_snapshot!("editor_80x24", h.terminal.backend());
    h.key(KeyCode::Esc);
    assert!(!h.app.popup_open());
}

#[test]
fn help_lists_the_new_keys_and_scrolls_at_80x24() {
    let mut h = analysed(80, 24, Theme::default_theme());
    h.key(KeyCode::Char('?'));
    insta::assert_snapshot!("help_top_80x24", h.terminal.backend());
    h.key(KeyCode::PageDown);
    assert!(h.app.help_visible());
    insta::assert_snapshot!("help_scrolled_80x24", h.terminal.backend());
    h.key(KeyCode::Char('x'));
    assert!(!h.app.help_visible());
}

/// The fixture report with its clip paths rewritten to start at `clips`.
fn report_with_clips(dir: &Path, clips: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(report()).unwrap();
    let path = dir.join("report.json");
    std::fs::write(&path, text.replace("../shared/gtzan/valid/", clips)).unwrap();
    path
}

/// In the evaluation view, open the rock → reggae cell and press Enter on
/// its first clip (rock.00052.ogg).
fn play_first_rock_as_reggae(report: std::path::PathBuf) -> Harness {
    let mut opts = AppOptions::new(demo_dir(), "demo");
    opts.eval_report = Some(report);
    let mut h = Harness::with_options(opts, 100, 30);
    h.key(KeyCode::Char('e'));
    for _ in 0..9 {
        h.key(KeyCode::Down);
    }
    for _ in 0..8 {
        h.key(KeyCode::Right);
    }
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.settle();
    h
}

#[test]
fn an_evaluation_clip_plays_from_beside_the_report_and_the_bar_says_what_plays() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clips/rock/rock.00052.ogg");
    std::fs::create_dir_all(clip.parent().unwrap()).unwrap();
    std::fs::copy(demo_dir().join("Max McCracken/awakening.mp3"), &clip).unwrap();
    // Paths relative to the report's folder, opened from another working directory.
    let h = play_first_rock_as_reggae(report_with_clips(dir.path(), "clips/"));
    assert_eq!(
        h.app.player_view().external.as_deref(),
        Some(clip.as_path()),
        "{:?}",
        h.app.status_message()
    );
    let screen = h.screen();
    assert!(
        screen.contains("rock.00052.ogg · evaluation clip"),
        "{screen}"
    );
    // No listing follows a clip: the bar does not promise a next file.
    assert!(screen.contains("then: stop"), "{screen}");
    assert!(screen.contains("▶ rock.00052.ogg"), "{screen}");
    // The clock counts the clip's own length, not a track's that is not there.
    let length = h.app.player_view().duration().expect("the clip's length");
    assert!(length > 1.0, "{length}");
    assert!(!screen.contains("0:00 / 0:00"), "{screen}");
}

#[test]
fn a_missing_evaluation_clip_says_it_is_not_available_here() {
    let dir = tempfile::tempdir().unwrap();
    let h = play_first_rock_as_reggae(report_with_clips(dir.path(), "/nonexistent/clips/"));
    assert_eq!(h.app.player_view().external, None);
    assert_eq!(
        h.app.status_message(),
        Some(
            "clip not available here: rock.00052.ogg (looked for /nonexistent/clips/rock/rock.00052.ogg)"
        )
    );
    assert!(
        h.app.eval_view().visible,
        "still in the view, nothing crashed"
    );
}

#[test]
fn a_file_deleted_after_the_scan_is_never_offered_for_writing() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, album) = demo_album_library(dir.path());
    let mut h = Harness::new(&lib, "lib", 100, 30);
    h.app.set_model_ready(test_model_info());
    let ids: Vec<u32> = h.app.tree().files().collect();
    for &id in &ids {
        h.app.inject_analysis(
            id,
            Analysed {
                classified: classified(),
                spectrogram: None,
                cache_note: None,
            },
        );
    }
    std::fs::remove_file(album.join("nebula.flac")).unwrap();
    assert_eq!(h.selected_label().as_deref(), Some("album"));
    h.key(KeyCode::Char('A'));
    h.settle();
    let screen = h.screen();
    // awakening.mp3 holds a genre (Soundtrack): held back unless ticked
    assert!(screen.contains("Write 1 of 3 files"), "{screen}");
    assert!(screen.contains("left out: 1 has a genre"), "{screen}");
    let gone = screen
        .lines()
        .find(|l| l.contains("nebula.flac"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(gone.contains("cannot write"), "{gone}");
    assert!(!gone.contains("[x]"), "{gone}");
}

#[test]
fn a_long_name_gives_way_to_its_genre_in_a_narrow_listing() {
    let mut h = analysed(80, 24, Theme::default_theme());
    h.key(KeyCode::Down);
    assert_eq!(h.selected_label().as_deref(), Some("enemy-unknown.m4a"));
    let id = h.app.browser().selected().unwrap();
    let mut c = classified();
    c.prediction.probs.swap(1, 9); // classical on top: "Classical 52%"
    h.app.inject_analysis(
        id,
        Analysed {
            classified: c,
            spectrogram: None,
            cache_note: None,
        },
    );
    h.settle();
    let screen = h.screen();
    let row = screen
        .lines()
        .find(|l| l.contains("enemy") && l.contains(".m4a"))
        .expect("the row is on screen");
    // The 32-column listing cannot hold the whole name and the genre: the
    // name's stem is cut in the middle with an ellipsis, its extension and
    // the genre stay.
    assert!(row.contains("Classical 52%"), "{row}");
    assert!(
        row.contains("enemy") && row.contains("…") && row.contains("n.m4a"),
        "{row}"
    );
    // awakening.mp3 (short name) keeps its whole name and its genre.
    assert!(screen.contains("awakening.mp3"), "{screen}");
}
