//! Audio in: open, probe, decode (symphonia + `.au`), seek windows, downmix,
//! resample. Knows nothing of models or UI.

pub mod au;
mod caf_meta;
mod error;
mod flac_meta;
pub mod guard;
mod id3_meta;
mod mkv_meta;
mod mp4_meta;
mod ogg_meta;
mod open_ended;
mod opus;
mod resample;
mod sniff;
mod stream;
mod vorbis_setup;
mod walk;

pub use au::{AuEncoding, mulaw_to_linear};
pub use error::{
    AudioError, io_reason, io_words, irregular_kind, kind_has_nothing_to_judge, regular_file_len,
    without_path,
};
pub(crate) use mkv_meta::segment_title;
pub(crate) use ogg_meta::bos_pages as ogg_bos_pages;
pub use resample::{ResampleError, downmix, resample_mono, resample_mono_cancellable};
pub use sniff::{Sniffed, id3v2_end, sniff};
pub use stream::{AudioStream, CHANNEL_RANGE, DecodeTrouble, RATE_RANGE, SourceInfo};

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

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
        self.window_starts_at(duration_s, 0)
    }

    /// [`Self::window_starts`] for a file at `rate` Hz: a short file whose
    /// frames would not fit the per-excerpt memory bound (44 s at 768 kHz) is
    /// read in excerpts too, rather than cut at the bound.
    pub fn window_starts_at(&self, duration_s: f64, rate: u32) -> Option<Vec<f64>> {
        let too_big = duration_s * f64::from(rate) > MAX_SOURCE_FRAMES as f64;
        if (duration_s <= self.whole_max_s && !too_big) || self.windows == 0 {
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
    /// Decoding ended before the end of the file (a damaged stretch, a
    /// truncated stream, a length cap): the result rests on part of it.
    pub partial: bool,
    /// Things the user should hear about (damaged packets skipped, NaN samples…).
    pub warnings: Vec<String>,
}

/// A flag nobody ever raises, for callers that cannot cancel.
pub static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);

/// Source frames held in memory per excerpt at most (64 MiB of f32), whatever
/// the header claims; at 48 kHz that is 349 s, more than any plan asks for.
const MAX_SOURCE_FRAMES: usize = 1 << 24;

/// Decode `path` for analysis at `rate` Hz following `plan`.
pub fn load_for_analysis(
    path: &Path,
    rate: u32,
    plan: &AnalysisPlan,
) -> Result<AnalysisAudio, AudioError> {
    load_for_analysis_cancellable(path, rate, plan, &NEVER_CANCELLED)
}

/// [`load_for_analysis`], stopping with [`AudioError::Cancelled`] soon after
/// `cancel` is raised (checked between decoded packets, between excerpts and
/// between the resampler's chunks).
pub fn load_for_analysis_cancellable(
    path: &Path,
    rate: u32,
    plan: &AnalysisPlan,
    cancel: &AtomicBool,
) -> Result<AnalysisAudio, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let info = stream.info().clone();
    let src_rate = info.sample_rate;
    let mut declared = info.duration_s;
    // A file that does not declare its length (a fragmented MP4, raw AAC,
    // an Ogg with odd granule positions) is measured by its packets first
    // (demuxed, not decoded), so that a long one is heard in excerpts
    // spread over it as any other long file is, not by its first 48 s.
    if declared.is_none() {
        declared = stream.length_by_demuxing(cancel);
        cancelled(path, cancel)?;
        stream = AudioStream::open(path)?;
    }
    let mut reader = MonoReader {
        stream: &mut stream,
        cancel,
        non_finite: 0,
    };

    let starts = declared.and_then(|d| plan.window_starts_at(d, src_rate));
    let mut excerpts = Vec::new();
    let mut partial = false;
    let duration_s;
    match starts {
        None => {
            // Whole file, but never more than the bound when the length is unknown or lies.
            let cap = plan.whole_max_s.max(plan.windows as f64 * plan.window_s);
            let max_frames = ((cap * f64::from(src_rate)) as usize).min(MAX_SOURCE_FRAMES);
            let mono = reader.read(max_frames)?;
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
                    format!("decoded {decoded_s:.1} s of a declared {d:.1} s"),
                ));
            }
            let capped = mono.len() >= max_frames;
            // A file that does not declare its length (an Ogg with odd granule
            // positions, raw AAC) is read up to the bound, as a long file is
            // read in windows: by plan, not a fault. Its packets give its length.
            let by_plan = capped && declared.is_none();
            partial = (capped && !by_plan)
                || declared.is_some_and(|d| d - decoded_s > 1.0)
                || reader.stream.trouble().ended_early
                || reader.stream.trouble().cut_short;
            // A file that stopped early keeps its declared length, so the
            // user reads "analysed 0:48 of 1:02".
            let total = if by_plan {
                reader.stream.length_by_demuxing(cancel)
            } else {
                declared
            };
            duration_s = total
                .filter(|&d| (partial || by_plan) && d > decoded_s)
                .unwrap_or(decoded_s);
            let samples = resample(path, mono, src_rate, rate, cancel)?;
            excerpts.push(Excerpt {
                start_s: 0.0,
                samples,
            });
        }
        Some(starts) => {
            duration_s = declared.unwrap_or_default();
            let frames = ((plan.window_s * f64::from(src_rate)) as usize).min(MAX_SOURCE_FRAMES);
            for start in starts {
                cancelled(path, cancel)?;
                let actual = reader.stream.seek(start)?;
                let mono = reader.read(frames)?;
                if mono.len() < frames / 4 {
                    partial = true;
                    continue; // ran into a damaged or missing tail
                }
                let samples = resample(path, mono, src_rate, rate, cancel)?;
                excerpts.push(Excerpt {
                    start_s: actual,
                    samples,
                });
            }
            if excerpts.is_empty() {
                // every excerpt fell past the audio (a length the header
                // invents): what there is, from the start, is judged instead
                reader.stream.seek(0.0)?;
                let cap = plan.windows as f64 * plan.window_s;
                let max_frames = ((cap * f64::from(src_rate)) as usize).min(MAX_SOURCE_FRAMES);
                let mono = reader.read(max_frames)?;
                if mono.len() < frames / 4 {
                    return Err(AudioError::corrupt(path, "no excerpt could be decoded"));
                }
                let samples = resample(path, mono, src_rate, rate, cancel)?;
                excerpts.push(Excerpt {
                    start_s: 0.0,
                    samples,
                });
                partial = true;
            }
            partial |= reader.stream.trouble().ended_early || reader.stream.trouble().cut_short;
        }
    }
    let warnings = warnings(reader.non_finite, stream.trouble());
    Ok(AnalysisAudio {
        info,
        sample_rate: rate,
        excerpts,
        duration_s,
        partial,
        warnings,
    })
}

/// What the user should hear about a decode that went on despite trouble.
fn warnings(non_finite: usize, trouble: DecodeTrouble) -> Vec<String> {
    let mut out = Vec::new();
    if non_finite > 0 {
        out.push(format!(
            "{non_finite} non-finite samples (NaN, infinity or beyond ±1000) read as silence"
        ));
    }
    if trouble.skipped_packets > 0 {
        out.push(format!(
            "{} damaged packet{} skipped",
            trouble.skipped_packets,
            if trouble.skipped_packets == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if trouble.ended_early {
        out.push("decoding stopped early at a damaged stretch".into());
    }
    if trouble.cut_short {
        out.push(
            "the file ends before its audio stream does (cut short?): only a part was heard".into(),
        );
    }
    if trouble.placeholder_sizes {
        out.push(
            "the header gives no true length (as when written to a pipe); read to the end of the file"
                .into(),
        );
    }
    out
}

/// Resample one excerpt, stopping between chunks when `cancel` is raised.
fn resample(
    path: &Path,
    mono: Vec<f32>,
    from: u32,
    to: u32,
    cancel: &AtomicBool,
) -> Result<Vec<f32>, AudioError> {
    resample_mono_cancellable(mono, from, to, cancel).map_err(|e| match e {
        ResampleError::Cancelled => AudioError::Cancelled {
            path: path.to_path_buf(),
        },
        ResampleError::Failed(why) => AudioError::corrupt(path, why),
    })
}

fn cancelled(path: &Path, cancel: &AtomicBool) -> Result<(), AudioError> {
    if cancel.load(Ordering::Relaxed) {
        Err(AudioError::Cancelled {
            path: path.to_path_buf(),
        })
    } else {
        Ok(())
    }
}

/// Reads downmixed frames, checking for cancellation between packets and
/// turning NaN and infinity into silence: the one place every analysed sample
/// passes before resampling (rubato's FFT panics on a NaN) and features.
struct MonoReader<'a> {
    stream: &'a mut AudioStream,
    cancel: &'a AtomicBool,
    non_finite: usize,
}

impl MonoReader<'_> {
    /// Up to `max_frames` frames from the stream's position.
    fn read(&mut self, max_frames: usize) -> Result<Vec<f32>, AudioError> {
        let channels = self.stream.info().channels;
        let mut mono = Vec::with_capacity(max_frames.min(1 << 22));
        while mono.len() < max_frames {
            cancelled(self.stream.path(), self.cancel)?;
            let Some(mut chunk) = self.stream.read()? else {
                break;
            };
            self.non_finite += sanitize(&mut chunk);
            let m = downmix(&chunk, channels);
            let room = max_frames - mono.len();
            mono.extend_from_slice(&m[..m.len().min(room)]);
        }
        Ok(mono)
    }
}

/// Beyond this a float sample is not audio (60 dB over full scale): values
/// like 7.7e31 overflow rubato's FFT to NaN and panic it (found by fuzzing).
/// Lossy decoders' small overs (1.05) stay as they are.
pub const ABSURD_SAMPLE: f32 = 1000.0;

/// Replace non-finite samples, and finite ones beyond [`ABSURD_SAMPLE`], with
/// 0; returns how many there were.
pub fn sanitize(samples: &mut [f32]) -> usize {
    let mut n = 0;
    for s in samples
        .iter_mut()
        .filter(|s| !s.is_finite() || s.abs() > ABSURD_SAMPLE)
    {
        *s = 0.0;
        n += 1;
    }
    n
}

/// Probe a file: container, codec, rate, channels, duration. Cheap: no
/// decoding (a stream that does not declare its length is demuxed to its end).
pub fn probe(path: &Path) -> Result<SourceInfo, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let mut info = stream.info().clone();
    if info.duration_s.is_none() {
        info.duration_s = stream.length_by_demuxing(&NEVER_CANCELLED);
    }
    Ok(info)
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
    fn non_finite_samples_become_silence_and_are_counted() {
        let mut x = [1.0, f32::NAN, f32::INFINITY, -0.5, f32::NEG_INFINITY, 1.05];
        assert_eq!(sanitize(&mut x), 3);
        assert_eq!(x, [1.0, 0.0, 0.0, -0.5, 0.0, 1.05]);
        let mut huge = [7.7e31, -2000.0, 999.0];
        assert_eq!(sanitize(&mut huge), 2);
        assert_eq!(huge, [0.0, 0.0, 999.0]);
    }

    #[test]
    fn a_raised_cancel_flag_stops_decoding() {
        let clip = crate::repo_root().join("demo/HyperRogue/hell.wav");
        let plan = AnalysisPlan::default();
        assert!(load_for_analysis(&clip, 16_000, &plan).is_ok());
        let cancel = AtomicBool::new(true);
        let r = load_for_analysis_cancellable(&clip, 16_000, &plan, &cancel);
        assert!(matches!(r, Err(AudioError::Cancelled { .. })), "{r:?}");
    }

    #[test]
    fn short_files_are_decoded_whole() {
        assert_eq!(AnalysisPlan::default().window_starts(30.0), None);
        assert_eq!(AnalysisPlan::default().window_starts_at(30.0, 48_000), None);
    }

    #[test]
    fn a_short_file_too_big_to_hold_whole_is_read_in_excerpts() {
        let plan = AnalysisPlan::default();
        // 44 s at 768 kHz is 33.8 M frames, over the 16.8 M bound.
        let starts = plan.window_starts_at(44.0, 768_000).unwrap();
        assert_eq!(starts.len(), plan.windows);
        assert!(starts.iter().all(|&s| (0.0..=38.0).contains(&s)));
    }

    /// A 16-bit mono WAV of a noisy tone.
    fn wav(path: &Path, rate: u32, seconds: f64) {
        let n = (f64::from(rate) * seconds) as usize;
        let mut x = 1u32;
        let samples: Vec<i16> = (0..n)
            .map(|i| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let tone = (i as f64 * 440.0 / f64::from(rate) * std::f64::consts::TAU).sin();
                (6000.0 * tone + f64::from((x >> 20) as i16 - 2048)) as i16
            })
            .collect();
        crate::test_wav::write_pcm16_mono(path, rate, &samples);
    }

    #[test]
    fn a_44_second_768_khz_file_is_analysed_not_called_truncated() {
        // It used to be read whole up to the memory bound (21.8 s), then
        // refused as "truncated: decoded 21.8 s of a declared 44.0 s".
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hires.wav");
        wav(&f, 768_000, 44.0);
        let a = load_for_analysis(&f, 16_000, &AnalysisPlan::default()).unwrap();
        assert_eq!(a.excerpts.len(), 8);
        assert!(!a.partial, "{:?}", a.warnings);
        assert!((a.duration_s - 44.0).abs() < 0.01);
        assert!(a.excerpts.iter().all(|e| e.samples.len() == 6 * 16_000));
    }

    #[test]
    fn a_wav_written_to_a_pipe_is_read_to_the_end_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("piped.wav");
        // ffmpeg writes 0xFFFFFFFF for the RIFF and data sizes, other tools 0.
        for placeholder in [u32::MAX, 0] {
            wav(&f, 8000, 3.0);
            let mut bytes = std::fs::read(&f).unwrap();
            for size_at in [4, 40] {
                bytes[size_at..size_at + 4].copy_from_slice(&placeholder.to_le_bytes());
            }
            std::fs::write(&f, bytes).unwrap();
            assert_eq!(probe(&f).unwrap().duration_s, Some(3.0), "{placeholder:#x}");
            assert_eq!(decode_all(&f).unwrap().1.len(), 24_000);
            let a = load_for_analysis(&f, 16_000, &AnalysisPlan::default()).unwrap();
            assert_eq!(a.excerpts[0].samples.len(), 48_000);
            assert!(!a.partial && (a.duration_s - 3.0).abs() < 1e-9);
            assert!(a.warnings[0].contains("no true length"), "{:?}", a.warnings);
        }
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
