//! Snapshots of the Genre pane speaking a learned head ("Your genres"):
//! confident and unsure. Deterministic: the head and the analysis are injected
//! (no model run); the real flow is in tui_vocab.rs.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use crossterm::event::KeyCode;
use earmark::classifier::Classified;
use earmark::model::{Prediction, SegmentPrediction};
use earmark::tui::AppOptions;
use earmark::tui::analyst::Analysed;
use earmark::vocab::{CvReport, Head};
use tui_common::{Harness, demo_dir, gtzan_labels, test_model_info};

/// A head over 4-d embeddings: three library genres along the first three axes.
fn head() -> Head {
    let vocabulary: Vec<String> = ["Soundtrack", "Synthwave", "Chiptune"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut weights = vec![vec![0.0; 3]; 4];
    for (i, row) in weights.iter_mut().enumerate().take(3) {
        row[i] = 3.0;
    }
    Head {
        version: Head::VERSION,
        model_sha256: "test-sha".into(),
        model_name: "test".into(),
        dim: 4,
        vocabulary,
        counts: vec![12, 9, 6],
        mean: vec![0.0; 4],
        scale: vec![1.0; 4],
        weights,
        intercept: vec![0.0; 3],
        alpha: 1.0,
        target_precision: 0.9,
        thresholds: vec![Some(0.6), Some(0.7), None],
        report: CvReport::default(),
    }
}

fn classified(embedding: Vec<f32>) -> Classified {
    let probs = vec![0.02, 0.03, 0.05, 0.04, 0.31, 0.1, 0.07, 0.06, 0.21, 0.11];
    Classified {
        duration_s: 15.0,
        analysed_s: Some(15.0),
        partial: false,
        warnings: Vec::new(),
        prediction: Prediction {
            labels: gtzan_labels(),
            segments: (0..5)
                .map(|i| SegmentPrediction {
                    start_s: f64::from(i) * 3.0,
                    probs: probs.clone(),
                })
                .collect(),
            probs,
            embedding: Some(embedding),
        },
        from_cache: false,
        file_key: None,
    }
}

/// demo/ with awakening.mp3 selected, analysed, and a learned head.
fn with_head(embedding: Vec<f32>) -> Harness {
    let mut h = Harness::with_options(AppOptions::new(demo_dir(), "demo"), 80, 24);
    h.key(KeyCode::Down);
    h.key(KeyCode::Right);
    h.key(KeyCode::Down);
    assert_eq!(h.selected_label().as_deref(), Some("awakening.mp3"));
    let id = h.app.browser().selected().unwrap();
    h.app.set_model_ready(test_model_info());
    h.app.set_vocab_head(head());
    h.app.inject_analysis(
        id,
        Analysed {
            classified: classified(embedding),
            spectrogram: None,
            cache_note: None,
        },
    );
    h.settle();
    h
}

#[test]
fn the_genre_pane_shows_your_genres_when_a_head_exists() {
    let mut h = with_head(vec![1.0, 0.1, 0.0, 0.2]);
    insta::assert_snapshot!("your_genres_80x24", h.terminal.backend());
    let screen = h.screen();
    assert!(screen.contains("Your genres") && screen.contains("Soundtrack"));
    // One key away: GTZAN's bars.
    h.key(KeyCode::Char('y'));
    let screen = h.screen();
    assert!(
        !screen.contains("Your genres") && screen.contains("Hip-Hop"),
        "{screen}"
    );

    // Below every threshold: unsure, and why (the bars show the candidates).
    let h = with_head(vec![0.1, 0.1, 1.0, 0.0]);
    insta::assert_snapshot!("your_genres_unsure_80x24", h.terminal.backend());
    assert!(h.screen().contains("unsure: Chiptune never reached the"));
}

/// `t` in your genres: the library's genres under their own heading, then
/// GTZAN's not already listed under theirs, then a typed genre.
#[test]
fn the_picker_sets_your_genres_apart_from_gtzans() {
    let mut h = with_head(vec![1.0, 0.1, 0.0, 0.2]);
    h.key(KeyCode::Char('t'));
    insta::assert_snapshot!("your_genres_picker_80x24", h.terminal.backend());
    let screen = h.screen();
    let at = |s: &str| {
        screen
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in {screen}"))
    };
    assert!(at("your genres") < at("Soundtrack"));
    assert!(at("Soundtrack") < at("GTZAN's genres"));
    assert!(at("GTZAN's genres") < at("other…"));
}
