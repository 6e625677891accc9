//! The log-mel front end matches librosa (the fixture and the script that made
//! it are in tests/fixtures/mel) to ≤ 1e-4 after log compression.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::fs::File;
use std::path::PathBuf;

use earmark::features::{FeatureParams, MelExtractor, npy};

fn fixture(name: &str) -> (Vec<usize>, Vec<f32>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mel")
        .join(name);
    npy::read_f32(File::open(&path).expect("fixture present")).expect("valid npy")
}

#[test]
fn log_mel_matches_librosa_on_three_real_clips() {
    let extractor = MelExtractor::new(FeatureParams::musicnn()).unwrap();
    for clip in ["clip1", "clip2", "clip3"] {
        let (_, pcm) = fixture(&format!("{clip}_pcm.npy"));
        let (shape, expected) = fixture(&format!("{clip}_logmel.npy"));
        let mel = extractor.compute(&pcm);
        assert_eq!(
            [mel.n_frames, mel.n_mels],
            [shape[0], shape[1]],
            "{clip} shape"
        );
        let max_err = mel
            .data
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let peak = expected.iter().copied().fold(0.0f32, f32::max);
        assert!(
            peak > 1.0,
            "{clip}: fixture should hold real music, peak {peak}"
        );
        assert!(max_err <= 1e-4, "{clip}: max abs error {max_err}");
    }
}
