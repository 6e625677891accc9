//! "Analyse this file": the one path every front uses — decode the planned
//! excerpts, compute log-mel features, cut segments, and (with a model)
//! classify them. `earmark features`, `classify`, `eval`, `tag --auto` and the
//! TUI's jobs all come through here, so training and inference cannot drift.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::audio::{self, AnalysisPlan, AudioError, SourceInfo};
use crate::features::{LogMel, MelExtractor, SegmentSpec};

/// One decoded excerpt's spectrogram.
#[derive(Debug, Clone)]
pub struct ExcerptMel {
    pub start_s: f64,
    pub mel: LogMel,
}

/// A model input segment: which excerpt, which frame, where in the track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SegmentRef {
    pub excerpt: usize,
    pub frame: usize,
    pub start_s: f64,
}

#[derive(Debug, Clone)]
pub struct TrackFeatures {
    pub info: SourceInfo,
    pub duration_s: f64,
    /// Seconds of audio the features were computed from.
    pub analysed_s: f64,
    /// Decoding ended before the end of the file (see [`audio::AnalysisAudio`]).
    pub partial: bool,
    pub warnings: Vec<String>,
    pub excerpts: Vec<ExcerptMel>,
    pub segments: Vec<SegmentRef>,
}

impl TrackFeatures {
    /// All segments, flattened `[n_segments][frames][n_mels]`.
    pub fn segment_batch(&self, spec: &SegmentSpec) -> Vec<f32> {
        let mut out = Vec::new();
        for s in &self.segments {
            out.extend(spec.extract(&self.excerpts[s.excerpt].mel, s.frame));
        }
        out
    }
}

/// Seconds of the track the excerpts cover, each second once: a file just
/// over the whole-file limit is cut into windows that overlap, and their sum
/// (48 s of a 45-s file) said more was heard than there is.
fn heard_seconds(excerpts: &[crate::audio::Excerpt], rate: f64) -> f64 {
    // in samples: seconds summed as floats said 5.9999999999999964
    let mut spans: Vec<(i64, i64)> = excerpts
        .iter()
        .map(|e| {
            let start = (e.start_s * rate).round() as i64;
            (start, start + e.samples.len() as i64)
        })
        .collect();
    spans.sort_unstable();
    let mut heard = 0i64;
    let mut reached = i64::MIN;
    for (start, end) in spans {
        let from = start.max(reached);
        heard += (end - from).max(0);
        reached = reached.max(end);
    }
    heard as f64 / rate
}

pub fn track_features(
    path: &Path,
    extractor: &MelExtractor,
    plan: &AnalysisPlan,
    spec: &SegmentSpec,
) -> Result<TrackFeatures, AudioError> {
    track_features_cancellable(path, extractor, plan, spec, &audio::NEVER_CANCELLED)
}

/// The least audio a clip needs to be judged, in seconds: a third of a
/// 3-s segment (GTZAN's thin-genre excerpts run 2-3 s and are judged).
const MIN_JUDGE_S: f64 = 1.0;

/// Peak level at or below which a clip counts as digital silence: one step of
/// 16-bit audio, so dithered silence is silent too.
const SILENCE_PEAK: f32 = 1.0 / 32_768.0;

/// [`track_features`], stopping soon after `cancel` is raised. A clip with
/// less than [`MIN_JUDGE_S`] of audio, or only digital silence, is an error
/// ([`AudioError::TooShort`], [`AudioError::Silent`]): no genre from nothing.
pub fn track_features_cancellable(
    path: &Path,
    extractor: &MelExtractor,
    plan: &AnalysisPlan,
    spec: &SegmentSpec,
    cancel: &AtomicBool,
) -> Result<TrackFeatures, AudioError> {
    let params = extractor.params();
    let audio = audio::load_for_analysis_cancellable(path, params.sample_rate, plan, cancel)?;
    let rate = f64::from(params.sample_rate);
    let analysed_s = heard_seconds(&audio.excerpts, rate);
    // A clip shorter than one segment is repeat-padded, as the models were
    // trained on GTZAN's 2-3-s excerpts; under MIN_JUDGE_S there is too little
    // to repeat.
    let segment = spec.frames.saturating_sub(1) * params.hop_length;
    let needed = segment.min((MIN_JUDGE_S * rate) as usize);
    if audio.excerpts.iter().all(|e| e.samples.len() < needed) {
        return Err(AudioError::TooShort {
            path: path.to_path_buf(),
            seconds: analysed_s,
            needed: needed as f64 / rate,
        });
    }
    let peak = audio
        .excerpts
        .iter()
        .flat_map(|e| e.samples.iter())
        .fold(0.0f32, |m, s| m.max(s.abs()));
    if peak <= SILENCE_PEAK {
        return Err(AudioError::Silent {
            path: path.to_path_buf(),
            unreadable_samples: audio
                .warnings
                .iter()
                .any(|w| w.contains("non-finite samples")),
        });
    }
    let hop_s = params.hop_seconds();
    let mut excerpts = Vec::with_capacity(audio.excerpts.len());
    let mut segments = Vec::new();
    let cancelled = || AudioError::Cancelled {
        path: path.to_path_buf(),
    };
    for (i, ex) in audio.excerpts.iter().enumerate() {
        let mel = extractor
            .compute_cancellable(&ex.samples, cancel)
            .ok_or_else(cancelled)?;
        for frame in spec.offsets(mel.n_frames) {
            segments.push(SegmentRef {
                excerpt: i,
                frame,
                start_s: ex.start_s + frame as f64 * hop_s,
            });
        }
        excerpts.push(ExcerptMel {
            start_s: ex.start_s,
            mel,
        });
    }
    if segments.is_empty() {
        return Err(AudioError::corrupt(path, "too little audio to analyse"));
    }
    Ok(TrackFeatures {
        info: audio.info,
        duration_s: audio.duration_s,
        analysed_s,
        partial: audio.partial,
        warnings: audio.warnings,
        excerpts,
        segments,
    })
}

#[cfg(test)]
mod heard_tests {
    use super::heard_seconds;
    use crate::audio::Excerpt;

    #[test]
    fn overlapping_windows_count_each_second_once() {
        let at = |start_s: f64, secs: usize| Excerpt {
            start_s,
            samples: vec![0.0; secs * 10],
        };
        // 8 windows of 6 s over 45 s: 45 s heard, not 48
        let windows: Vec<Excerpt> = (0..8).map(|k| at(f64::from(k) * 39.0 / 7.0, 6)).collect();
        assert!((heard_seconds(&windows, 10.0) - 45.0).abs() < 1e-9);
        // apart, they add up
        assert!((heard_seconds(&[at(0.0, 6), at(10.0, 6)], 10.0) - 12.0).abs() < 1e-9);
    }
}
