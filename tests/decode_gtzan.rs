//! Every GTZAN clip in ../shared/gtzan (train, valid and the short excerpts)
//! decodes to the model's input: mono 16 kHz audio of the expected length,
//! finite and not silent, and a log-mel spectrogram with finite values.
//! Skips with a message when ../shared/gtzan is absent.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::path::Path;

use earmark::analysis::track_features;
use earmark::audio::{AnalysisPlan, load_for_analysis};
use earmark::features::{FeatureParams, MelExtractor};
use rayon::prelude::*;

/// Decode one clip; the reason it is unusable, if it is.
fn check(path: &Path, mel: &MelExtractor, plan: &AnalysisPlan) -> Result<(), String> {
    let params = mel.params();
    let audio = load_for_analysis(path, params.sample_rate, plan).map_err(|e| e.to_string())?;
    let samples = || {
        audio
            .excerpts
            .iter()
            .flat_map(|e| e.samples.iter().copied())
    };
    let n = audio
        .excerpts
        .iter()
        .map(|e| e.samples.len())
        .sum::<usize>();
    let seconds = n as f64 / params.sample_rate as f64;
    // Full clips are 30 s (a few GTZAN clips are 29.x s); excerpts 2–3 s.
    let excerpt = path.components().any(|c| c.as_os_str() == "excerpts");
    let (lo, hi) = if excerpt { (1.5, 3.5) } else { (25.0, 31.0) };
    if !(lo..=hi).contains(&seconds) {
        return Err(format!("{seconds:.2} s of audio, expected {lo}–{hi} s"));
    }
    if samples().any(|v| !v.is_finite()) {
        return Err("non-finite samples".into());
    }
    let rms = (samples().map(|v| v * v).sum::<f32>() / n as f32).sqrt();
    if rms < 1e-4 {
        return Err(format!("silent (rms {rms:e})"));
    }
    // Per excerpt, as the runtime computes it (analysis::track_features).
    for ex in &audio.excerpts {
        let spec = mel.compute(&ex.samples);
        if spec.n_frames == 0 || spec.data.iter().any(|v| !v.is_finite()) {
            return Err("empty or non-finite log-mel".into());
        }
    }
    // And the runtime accepts it: a 2-3-s excerpt is under one 3-s segment
    // and must be repeat-padded, not refused as too short (the held-out
    // evaluation judges such excerpts).
    let segment = earmark::model::shipped_card("accurate").unwrap().segment;
    let features = track_features(path, mel, plan, &segment).map_err(|e| e.to_string())?;
    if features.segments.is_empty() {
        return Err("no model segment".into());
    }
    Ok(())
}

#[test]
fn every_gtzan_clip_decodes_to_model_input() {
    let Some(root) = common::shared_gtzan() else {
        return;
    };
    let mel = MelExtractor::new(FeatureParams::musicnn()).unwrap();
    let plan = AnalysisPlan::default();
    let walk = earmark::library::collect_audio(std::slice::from_ref(&root));
    assert!(walk.errors.is_empty(), "walk errors: {:?}", walk.errors);
    let files = walk.files;
    assert!(!files.is_empty(), "no clips under {}", root.display());
    let failures: Vec<String> = files
        .par_iter()
        .filter_map(|p| {
            check(p, &mel, &plan)
                .err()
                .map(|e| format!("{}: {e}", p.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} clips failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    eprintln!("{} GTZAN clips decoded", files.len());
}
