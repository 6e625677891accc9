//! Mel filterbank, built exactly like `librosa.filters.mel` (float64, then f32).

use super::params::{FeatureParams, MelNorm, MelScale};

fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney => {
            let f_sp = 200.0 / 3.0;
            let min_log_hz = 1000.0;
            let min_log_mel = min_log_hz / f_sp;
            let logstep = (6.4f64).ln() / 27.0;
            if hz >= min_log_hz {
                min_log_mel + (hz / min_log_hz).ln() / logstep
            } else {
                hz / f_sp
            }
        }
    }
}

fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney => {
            let f_sp = 200.0 / 3.0;
            let min_log_hz = 1000.0;
            let min_log_mel = min_log_hz / f_sp;
            let logstep = (6.4f64).ln() / 27.0;
            if mel >= min_log_mel {
                min_log_hz * (logstep * (mel - min_log_mel)).exp()
            } else {
                f_sp * mel
            }
        }
    }
}

/// One mel band: its first FFT bin and the weights from there on (sparse row).
#[derive(Debug, Clone)]
pub struct MelBand {
    pub first_bin: usize,
    pub weights: Vec<f64>,
}

pub fn filterbank(p: &FeatureParams) -> Vec<MelBand> {
    let n_bins = p.n_fft / 2 + 1;
    let sr = f64::from(p.sample_rate);
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|i| i as f64 * sr / p.n_fft as f64)
        .collect();
    let lo = hz_to_mel(f64::from(p.fmin), p.mel_scale);
    let hi = hz_to_mel(f64::from(p.fmax), p.mel_scale);
    let n_pts = p.n_mels + 2;
    let mel_f: Vec<f64> = (0..n_pts)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_pts - 1) as f64, p.mel_scale))
        .collect();
    (0..p.n_mels)
        .map(|m| {
            let fdiff_lo = mel_f[m + 1] - mel_f[m];
            let fdiff_hi = mel_f[m + 2] - mel_f[m + 1];
            let enorm = match p.mel_norm {
                MelNorm::Slaney => 2.0 / (mel_f[m + 2] - mel_f[m]),
                MelNorm::None => 1.0,
            };
            let row: Vec<f64> = fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - mel_f[m]) / fdiff_lo;
                    let upper = (mel_f[m + 2] - f) / fdiff_hi;
                    // librosa rounds the basis to float32 before use.
                    ((lower.min(upper)).max(0.0) * enorm) as f32 as f64
                })
                .collect();
            let first = row.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last = row.iter().rposition(|&w| w > 0.0).map_or(first, |l| l + 1);
            MelBand {
                first_bin: first,
                weights: row[first..last.max(first)].to_vec(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_is_linear_below_1k() {
        for hz in [0.0, 440.0, 999.0, 1000.0, 4000.0, 8000.0] {
            let back = mel_to_hz(hz_to_mel(hz, MelScale::Slaney), MelScale::Slaney);
            assert!((back - hz).abs() < 1e-6);
        }
        assert!((hz_to_mel(500.0, MelScale::Slaney) - 7.5).abs() < 1e-12);
    }

    #[test]
    fn bands_cover_the_range_in_order() {
        let bands = filterbank(&FeatureParams::musicnn());
        assert_eq!(bands.len(), 96);
        assert!(bands.windows(2).all(|w| w[0].first_bin <= w[1].first_bin));
        assert!(bands.iter().all(|b| !b.weights.is_empty()));
    }
}
