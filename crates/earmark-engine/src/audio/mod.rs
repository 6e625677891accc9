//! Audio in: open, probe, decode (symphonia + `.au`), seek windows, downmix,
//! resample. Knows nothing of models or UI.

pub mod au;
mod error;
pub mod guard;
mod opus;
mod resample;
mod sniff;
mod stream;

pub use au::{AuEncoding, mulaw_to_linear};
pub use error::{AudioError, io_reason, without_path};
pub use resample::{downmix, resample_mono};
pub use sniff::{Sniffed, sniff};
pub use stream::{AudioStream, SourceInfo};

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Extensions the library scan treats as audio.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "wav", "wave", "m4a", "mp4", "m4b", "aac", "alac", "aif",
    "aiff", "aifc", "au", "snd", "mka", "webm", "caf",
];

pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// Which parts of a file analysis decodes. Short files are decoded whole; long
/// ones as `windows` excerpts spread over the track, so memory and time stay
/// bounded whatever the length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisPlan {
    /// Files up to this long are decoded whole.
    pub whole_max_s: f64,
    /// How many excerpts a longer file gets.
    pub windows: usize,
    /// Length of each excerpt.
    pub window_s: f64,
}

impl Default for AnalysisPlan {
    /// 8 windows of 6 s: measured on the long tracks in ../shared/music with the
    /// fast model (models/train/windows_table.py, table in models/fast/MODEL_CARD.md),
    /// 8 windows gave the whole track's top genre on every track and the smallest
    /// probability error of 2/4/6/8, at ~90 ms of CPU per track.
    fn default() -> Self {
        AnalysisPlan {
            whole_max_s: 45.0,
            windows: 8,
            window_s: 6.0,
        }
    }
}

impl AnalysisPlan {
    /// Start times of the excerpts for a file of `duration_s`, or None to decode whole.
    pub fn window_starts(&self, duration_s: f64) -> Option<Vec<f64>> {
        if duration_s <= self.whole_max_s || self.windows == 0 {
            return None;
        }
        let n = self.windows;
        let span = (duration_s - self.window_s).max(0.0);
        Some(
            (0..n)
                .map(|i| {
                    // Centres at (i + 0.5) / n of the track, clamped inside it.
                    let centre = (i as f64 + 0.5) / n as f64 * duration_s;
                    (centre - self.window_s / 2.0).clamp(0.0, span)
                })
                .collect(),
        )
    }
}

/// One stretch of mono audio at the analysis rate.
#[derive(Debug, Clone)]
pub struct Excerpt {
    pub start_s: f64,
    pub samples: Vec<f32>,
}

/// Audio prepared for analysis: mono, resampled, in one or more excerpts.
#[derive(Debug, Clone)]
pub struct AnalysisAudio {
    pub info: SourceInfo,
    pub sample_rate: u32,
    pub excerpts: Vec<Excerpt>,
    /// Seconds of audio actually decoded end to end (whole files) or the declared duration.
    pub duration_s: f64,
}

/// Decode `path` for analysis at `rate` Hz following `plan`.
pub fn load_for_analysis(
    path: &Path,
    rate: u32,
    plan: &AnalysisPlan,
) -> Result<AnalysisAudio, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let info = stream.info().clone();
    let src_rate = info.sample_rate;
    let channels = info.channels;
    let declared = info.duration_s;

    let starts = declared.and_then(|d| plan.window_starts(d));
    let mut excerpts = Vec::new();
    let duration_s;
    match starts {
        None => {
            // Whole file, but never more than the bound when the length is unknown or lies.
            let cap = plan.whole_max_s.max(plan.windows as f64 * plan.window_s);
            let max_frames = (cap * f64::from(src_rate)) as usize;
            let mono = read_mono(&mut stream, channels, max_frames)?;
            if mono.is_empty() {
                return Err(AudioError::corrupt(path, "no audio could be decoded"));
            }
            let decoded_s = mono.len() as f64 / f64::from(src_rate);
            if let Some(d) = declared
                && decoded_s < 0.5 * d.min(cap)
                && d - decoded_s > 1.0
            {
                return Err(AudioError::corrupt(
                    path,
                    format!("truncated: decoded {decoded_s:.1} s of a declared {d:.1} s"),
                ));
            }
            duration_s = decoded_s;
            let samples =
                resample_mono(mono, src_rate, rate).map_err(|e| AudioError::corrupt(path, e))?;
            excerpts.push(Excerpt {
                start_s: 0.0,
                samples,
            });
        }
        Some(starts) => {
            duration_s = declared.unwrap_or_default();
            let frames = (plan.window_s * f64::from(src_rate)) as usize;
            for start in starts {
                let actual = stream.seek(start)?;
                let mono = read_mono(&mut stream, channels, frames)?;
                if mono.len() < frames / 4 {
                    continue; // ran into a damaged or missing tail
                }
                let samples = resample_mono(mono, src_rate, rate)
                    .map_err(|e| AudioError::corrupt(path, e))?;
                excerpts.push(Excerpt {
                    start_s: actual,
                    samples,
                });
            }
            if excerpts.is_empty() {
                return Err(AudioError::corrupt(path, "no excerpt could be decoded"));
            }
        }
    }
    Ok(AnalysisAudio {
        info,
        sample_rate: rate,
        excerpts,
        duration_s,
    })
}

/// Read up to `max_frames` frames from the stream's position, downmixed.
fn read_mono(
    stream: &mut AudioStream,
    channels: usize,
    max_frames: usize,
) -> Result<Vec<f32>, AudioError> {
    let mut mono = Vec::with_capacity(max_frames.min(1 << 22));
    while mono.len() < max_frames {
        let Some(chunk) = stream.read()? else { break };
        let m = downmix(&chunk, channels);
        let room = max_frames - mono.len();
        mono.extend_from_slice(&m[..m.len().min(room)]);
    }
    Ok(mono)
}

/// Probe a file: container, codec, rate, channels, duration. Cheap: no decoding.
pub fn probe(path: &Path) -> Result<SourceInfo, AudioError> {
    Ok(AudioStream::open(path)?.info().clone())
}

/// Decode a whole file to interleaved samples at its own rate (tag-write
/// verification compares these sample for sample).
pub fn decode_all(path: &Path) -> Result<(SourceInfo, Vec<f32>), AudioError> {
    let mut stream = AudioStream::open(path)?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.read()? {
        out.extend_from_slice(&chunk);
    }
    Ok((stream.info().clone(), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_files_are_decoded_whole() {
        assert_eq!(AnalysisPlan::default().window_starts(30.0), None);
    }

    #[test]
    fn windows_spread_over_long_tracks_and_stay_inside() {
        let plan = AnalysisPlan {
            whole_max_s: 45.0,
            windows: 4,
            window_s: 10.0,
        };
        let starts = plan.window_starts(7200.0).unwrap();
        assert_eq!(starts.len(), 4);
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
        assert!(starts.iter().all(|&s| (0.0..=7190.0).contains(&s)));
        assert!((starts[0] - 895.0).abs() < 1e-9);
    }
}
