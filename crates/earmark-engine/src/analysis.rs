//! "Analyse this file": the one path every front uses — decode the planned
//! excerpts, compute log-mel features, cut segments, and (with a model)
//! classify them. `earmark features`, `classify`, `eval`, `tag --auto` and the
//! TUI's jobs all come through here, so training and inference cannot drift.

use std::path::Path;

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

pub fn track_features(
    path: &Path,
    extractor: &MelExtractor,
    plan: &AnalysisPlan,
    spec: &SegmentSpec,
) -> Result<TrackFeatures, AudioError> {
    let params = extractor.params();
    let audio = audio::load_for_analysis(path, params.sample_rate, plan)?;
    let hop_s = params.hop_seconds();
    let mut excerpts = Vec::with_capacity(audio.excerpts.len());
    let mut segments = Vec::new();
    for (i, ex) in audio.excerpts.iter().enumerate() {
        let mel = extractor.compute(&ex.samples);
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
        excerpts,
        segments,
    })
}
