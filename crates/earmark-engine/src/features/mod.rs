//! Log-mel spectrograms with librosa's conventions. Pure computation: this
//! module never reads files.

mod mel;
pub mod npy;
mod params;
mod segments;

pub use params::{FeatureParams, LogCompression, MelNorm, MelScale, PadMode, WindowKind};
pub use segments::SegmentSpec;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use realfft::{RealFftPlanner, RealToComplex};

/// A log-mel spectrogram, row-major `[n_frames][n_mels]` (time first, like the model input).
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    pub n_frames: usize,
    pub n_mels: usize,
    pub data: Vec<f32>,
}

impl LogMel {
    pub fn frame(&self, i: usize) -> &[f32] {
        &self.data[i * self.n_mels..(i + 1) * self.n_mels]
    }

    /// Frames `start..start + len` as one contiguous slice.
    pub fn frames(&self, start: usize, len: usize) -> &[f32] {
        &self.data[start * self.n_mels..(start + len) * self.n_mels]
    }

    pub fn empty(n_mels: usize) -> Self {
        LogMel {
            n_frames: 0,
            n_mels,
            data: Vec::new(),
        }
    }
}

/// Reusable extractor: FFT plan, window and filterbank are built once.
pub struct MelExtractor {
    params: FeatureParams,
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    bands: Vec<mel::MelBand>,
}

impl MelExtractor {
    pub fn new(params: FeatureParams) -> Result<Self, String> {
        params.validate()?;
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(params.n_fft);
        let window = window(&params);
        let bands = mel::filterbank(&params);
        Ok(MelExtractor {
            params,
            fft,
            window,
            bands,
        })
    }

    pub fn params(&self) -> &FeatureParams {
        &self.params
    }

    /// Number of frames `compute` returns for `n_samples` input samples.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        let p = &self.params;
        if p.center {
            1 + n_samples / p.hop_length
        } else if n_samples >= p.n_fft {
            1 + (n_samples - p.n_fft) / p.hop_length
        } else {
            0
        }
    }

    pub fn compute(&self, samples: &[f32]) -> LogMel {
        self.compute_until(samples, &|| false)
            .unwrap_or_else(|| LogMel::empty(self.params.n_mels))
    }

    /// [`Self::compute`], or None once `cancel` is raised (checked every
    /// [`CANCEL_CHECK_FRAMES`] frames: a long excerpt takes a while).
    pub fn compute_cancellable(&self, samples: &[f32], cancel: &AtomicBool) -> Option<LogMel> {
        self.compute_until(samples, &|| cancel.load(Ordering::Relaxed))
    }

    fn compute_until(&self, samples: &[f32], stop: &dyn Fn() -> bool) -> Option<LogMel> {
        let p = &self.params;
        let padded = pad(samples, p);
        let n_frames = self.n_frames(samples.len());
        let n_mels = p.n_mels;
        let mut data = Vec::with_capacity(n_frames * n_mels);
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f64; p.n_fft / 2 + 1];
        for f in 0..n_frames {
            if f % CANCEL_CHECK_FRAMES == 0 && stop() {
                return None;
            }
            let start = f * p.hop_length;
            for (i, x) in frame.iter_mut().enumerate() {
                *x = padded.get(start + i).copied().unwrap_or(0.0) as f64 * self.window[i];
            }
            // Lengths are fixed by the plan, so this cannot fail.
            if self
                .fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .is_err()
            {
                data.extend(std::iter::repeat_n(0.0, n_mels));
                continue;
            }
            for (pw, c) in power.iter_mut().zip(&spectrum) {
                let mag2 = c.re * c.re + c.im * c.im;
                *pw = if p.power == 2.0 {
                    mag2
                } else {
                    mag2.sqrt().powf(f64::from(p.power))
                };
            }
            for band in &self.bands {
                let bins = &power[band.first_bin..band.first_bin + band.weights.len()];
                let m: f64 = bins.iter().zip(&band.weights).map(|(a, w)| a * w).sum();
                data.push(compress(m as f32, p.log));
            }
        }
        Some(LogMel {
            n_frames,
            n_mels,
            data,
        })
    }
}

/// Frames between two looks at the cancel flag (a few milliseconds of FFTs).
const CANCEL_CHECK_FRAMES: usize = 256;

fn compress(mel: f32, log: LogCompression) -> f32 {
    match log {
        LogCompression::Log10 { scale, offset } => (scale * mel + offset).log10(),
        LogCompression::Db { amin } => 10.0 * mel.max(amin).log10(),
    }
}

fn window(p: &FeatureParams) -> Vec<f64> {
    let WindowKind::Hann = p.window;
    let n = p.win_length;
    // Periodic Hann, centred inside n_fft when win_length < n_fft (librosa pads it).
    let hann: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect();
    let mut w = vec![0.0; p.n_fft];
    let off = (p.n_fft - n) / 2;
    w[off..off + n].copy_from_slice(&hann);
    w
}

/// Centre padding by n_fft/2 on both sides, as numpy.pad does.
fn pad(samples: &[f32], p: &FeatureParams) -> Vec<f32> {
    if !p.center {
        return samples.to_vec();
    }
    let k = p.n_fft / 2;
    let n = samples.len();
    let mut out = Vec::with_capacity(n + 2 * k);
    match p.pad_mode {
        // numpy reflect needs n > 1; for very short input it reflects repeatedly,
        // which a periodic index walk reproduces.
        PadMode::Reflect if n > 1 => {
            let period = 2 * (n - 1);
            let at = |i: isize| -> f32 {
                let m = i.rem_euclid(period as isize) as usize;
                samples[if m < n { m } else { period - m }]
            };
            out.extend((0..k).map(|i| at(k as isize - i as isize)));
            out.extend_from_slice(samples);
            out.extend((0..k).map(|i| at(n as isize - 2 - i as isize)));
        }
        _ => {
            out.extend(std::iter::repeat_n(0.0, k));
            out.extend_from_slice(samples);
            out.extend(std::iter::repeat_n(0.0, k));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_padding_matches_numpy() {
        let mut p = FeatureParams::musicnn();
        p.n_fft = 6;
        let out = pad(&[1.0, 2.0, 3.0, 4.0], &p);
        // np.pad([1,2,3,4], 3, mode='reflect') == [4,3,2,1,2,3,4,3,2,1]
        assert_eq!(out, vec![4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0]);
    }

    #[test]
    fn frame_count_follows_librosa() {
        let x = MelExtractor::new(FeatureParams::musicnn()).unwrap();
        assert_eq!(x.n_frames(480_000), 1876);
        let mel = x.compute(&vec![0.0; 16_000]);
        assert_eq!(mel.n_frames, 63);
        assert!(mel.data.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_raised_flag_stops_the_spectrogram_and_a_lowered_one_changes_nothing() {
        let x = MelExtractor::new(FeatureParams::musicnn()).unwrap();
        let noise: Vec<f32> = (0..40_000)
            .map(|i| ((i * 7919) % 997) as f32 / 997.0 - 0.5)
            .collect();
        assert_eq!(x.compute_cancellable(&noise, &AtomicBool::new(true)), None);
        assert_eq!(
            x.compute_cancellable(&noise, &AtomicBool::new(false)),
            Some(x.compute(&noise))
        );
    }

    #[test]
    fn a_tone_lights_the_right_band() {
        let x = MelExtractor::new(FeatureParams::musicnn()).unwrap();
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let mel = x.compute(&tone);
        let mid = mel.frame(30);
        let peak = (0..96).max_by(|&a, &b| mid[a].total_cmp(&mid[b])).unwrap();
        // 440 Hz is 6.6 Slaney mels; bands are ~0.47 mel apart.
        assert!((13..=14).contains(&peak), "peak band {peak}");
    }
}
