//! Every knob of the feature extractor in one serialisable struct; the model
//! card stores it and the runtime refuses a model whose card disagrees.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// Periodic Hann (scipy `get_window('hann', n, fftbins=True)`), librosa's default.
    Hann,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// numpy `reflect`: mirror without repeating the edge sample.
    Reflect,
    /// zeros (librosa ≥ 0.10's default).
    Constant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelScale {
    Slaney,
    Htk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelNorm {
    /// Each band divided by its width in Hz (area normalisation).
    Slaney,
    None,
}

/// How mel power is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogCompression {
    /// `log10(scale * mel + offset)` — musicnn's front end uses scale 10000, offset 1.
    Log10 { scale: f32, offset: f32 },
    /// librosa `power_to_db(mel, ref=1.0, amin, top_db=None)`.
    Db { amin: f32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureParams {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop_length: usize,
    pub win_length: usize,
    pub window: WindowKind,
    pub center: bool,
    pub pad_mode: PadMode,
    /// Exponent of the magnitude spectrum (2 = power).
    pub power: f32,
    pub n_mels: usize,
    pub fmin: f32,
    pub fmax: f32,
    pub mel_scale: MelScale,
    pub mel_norm: MelNorm,
    pub log: LogCompression,
}

impl FeatureParams {
    /// musicnn's input: 16 kHz, 512-point FFT, hop 256, 96 Slaney bands,
    /// `log10(10000·mel + 1)`, with librosa's centred, reflect-padded frames.
    pub fn musicnn() -> Self {
        FeatureParams {
            sample_rate: 16_000,
            n_fft: 512,
            hop_length: 256,
            win_length: 512,
            window: WindowKind::Hann,
            center: true,
            pad_mode: PadMode::Reflect,
            power: 2.0,
            n_mels: 96,
            fmin: 0.0,
            fmax: 8_000.0,
            mel_scale: MelScale::Slaney,
            mel_norm: MelNorm::Slaney,
            log: LogCompression::Log10 {
                scale: 10_000.0,
                offset: 1.0,
            },
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.sample_rate == 0 || self.n_fft < 2 || self.hop_length == 0 || self.n_mels == 0 {
            return Err("sample_rate, n_fft, hop_length and n_mels must be positive".into());
        }
        if self.win_length == 0 || self.win_length > self.n_fft {
            return Err(format!(
                "win_length {} must be in 1..={}",
                self.win_length, self.n_fft
            ));
        }
        if !(self.fmin >= 0.0
            && self.fmin < self.fmax
            && self.fmax <= self.sample_rate as f32 / 2.0)
        {
            return Err(format!(
                "mel range {}–{} Hz must lie within 0–{} Hz",
                self.fmin,
                self.fmax,
                self.sample_rate / 2
            ));
        }
        Ok(())
    }

    /// Seconds of audio one frame hop covers.
    pub fn hop_seconds(&self) -> f64 {
        self.hop_length as f64 / f64::from(self.sample_rate)
    }
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self::musicnn()
    }
}
