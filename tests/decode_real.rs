//! Real files of every container/codec in ../shared/music decode, and long
//! tracks are analysed through a bounded set of excerpts.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use earmark::audio::{AnalysisPlan, load_for_analysis, probe};

#[test]
fn every_format_in_the_shared_music_decodes() {
    let Some(dir) = common::shared_music() else {
        return;
    };
    let plan = AnalysisPlan::default();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !earmark::audio::is_audio_path(&path) {
            continue;
        }
        let info = probe(&path).unwrap_or_else(|e| panic!("{e}"));
        let audio = load_for_analysis(&path, 16_000, &plan).unwrap_or_else(|e| panic!("{e}"));
        let total: usize = audio.excerpts.iter().map(|e| e.samples.len()).sum();
        // Bounded: never more than the whole-file cap or the windows' total, whatever the length.
        let cap_s = plan.whole_max_s.max(plan.windows as f64 * plan.window_s);
        assert!(total as f64 <= cap_s * 16_000.0 + 1.0, "{}", path.display());
        assert!(
            total > 16_000 * 5,
            "{}: only {total} samples",
            path.display()
        );
        let rms = (audio.excerpts[0].samples.iter().map(|v| v * v).sum::<f32>()
            / audio.excerpts[0].samples.len() as f32)
            .sqrt();
        assert!(rms > 1e-3, "{} decodes to silence", path.display());
        // Windows need a declared length to seek in; a stream that does not
        // declare one (probe measures it by demuxing) is read from the start
        // up to the cap: by plan, not partial, its length from its packets.
        if audio.info.duration_s.is_some_and(|d| d > plan.whole_max_s) {
            assert_eq!(audio.excerpts.len(), plan.windows, "{}", path.display());
        } else if let Some(d) = info.duration_s.filter(|&d| d > cap_s) {
            assert!(!audio.partial, "{}", path.display());
            assert!((audio.duration_s - d).abs() < 0.5, "{}", path.display());
        }
        seen.push(info.codec.clone());
    }
    for codec in [
        "mp3",
        "flac",
        "vorbis",
        "aac",
        "alac",
        "pcm_s16le",
        "pcm_s16be",
    ] {
        assert!(
            seen.iter().any(|c| c == codec),
            "no {codec} file decoded; saw {seen:?}"
        );
    }
}
