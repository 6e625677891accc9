//! Sample-rate conversion with rubato's synchronous FFT resampler.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

/// Resample mono audio from `from` Hz to `to` Hz. Identity when the rates match.
pub fn resample_mono(samples: Vec<f32>, from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == to || samples.is_empty() {
        return Ok(samples);
    }
    let input_len = samples.len();
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)
        .map_err(|e| format!("resampler: {e}"))?;
    let needed = resampler.process_all_needed_output_len(input_len);
    let input = [samples];
    let mut output = [vec![0.0f32; needed]];
    let produced = {
        let inp = SequentialSliceOfVecs::new(&input, 1, input_len).map_err(|e| e.to_string())?;
        let mut out =
            SequentialSliceOfVecs::new_mut(&mut output, 1, needed).map_err(|e| e.to_string())?;
        let (_, produced) = resampler
            .process_all_into_buffer(&inp, &mut out, input_len, None)
            .map_err(|e| format!("resampler: {e}"))?;
        produced
    };
    let [mut out] = output;
    // Exactly round(len * to / from) frames, like librosa/soxr.
    let expected = ((input_len as u128 * to as u128 + from as u128 / 2) / from as u128) as usize;
    out.truncate(produced.min(expected));
    out.resize(expected, 0.0);
    Ok(out)
}

/// Average interleaved channels into one.
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() * scale)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampled_sine_keeps_its_frequency_and_length() {
        let from = 44_100;
        let to = 16_000;
        let n = from as usize; // one second
        let sine: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / from as f32).sin())
            .collect();
        let out = resample_mono(sine, from, to).unwrap();
        assert_eq!(out.len(), 16_000);
        // Compare to an ideal sine away from the edges.
        let err = (2000..14_000)
            .map(|i| {
                let ideal = (2.0 * std::f32::consts::PI * 440.0 * i as f32 / to as f32).sin();
                (out[i] - ideal).abs()
            })
            .fold(0.0f32, f32::max);
        // Within a fraction of a sample of phase: the FFT resampler is near-ideal.
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn downmix_averages() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
    }
}
