//! Sample-rate conversion with rubato's synchronous FFT resampler, one chunk
//! at a time so that a cancelled job stops between chunks (resampling a
//! minute at 768 kHz in one call takes long enough to notice).

use std::sync::atomic::{AtomicBool, Ordering};

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Why a resample did not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResampleError {
    #[error("resampler: {0}")]
    Failed(String),
    #[error("cancelled")]
    Cancelled,
}

/// Resample mono audio from `from` Hz to `to` Hz. Identity when the rates match.
pub fn resample_mono(samples: Vec<f32>, from: u32, to: u32) -> Result<Vec<f32>, String> {
    resample_mono_cancellable(samples, from, to, &super::NEVER_CANCELLED).map_err(|e| e.to_string())
}

/// [`resample_mono`], checking `cancel` between chunks. The output is rubato's
/// `process_all_into_buffer`'s, sample for sample (same calls, same order):
/// that method has no way to stop half-way, so its loop is written out here.
pub fn resample_mono_cancellable(
    samples: Vec<f32>,
    from: u32,
    to: u32,
    cancel: &AtomicBool,
) -> Result<Vec<f32>, ResampleError> {
    if from == to || samples.is_empty() {
        return Ok(samples);
    }
    let failed = |e: &dyn std::fmt::Display| ResampleError::Failed(e.to_string());
    let input_len = samples.len();
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)
        .map_err(|e| failed(&e))?;
    let needed = resampler.process_all_needed_output_len(input_len);
    // What rubato promises (`ceil`), and what we return (`round`, like librosa/soxr).
    let promised = (resampler.resample_ratio() * input_len as f64).ceil() as usize;
    let expected = ((input_len as u128 * to as u128 + from as u128 / 2) / from as u128) as usize;
    let delay = resampler.output_delay();
    let input = [samples];
    let mut output = [vec![0.0f32; needed]];
    {
        let inp = SequentialSliceOfVecs::new(&input, 1, input_len).map_err(|e| failed(&e))?;
        let mut out =
            SequentialSliceOfVecs::new_mut(&mut output, 1, needed).map_err(|e| failed(&e))?;
        let chunk = resampler.input_frames_next();
        let mut at = Indexing {
            input_offset: 0,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: None,
        };
        let mut step = |at: &Indexing| {
            if cancel.load(Ordering::Relaxed) {
                return Err(ResampleError::Cancelled);
            }
            resampler
                .process_into_buffer(&inp, &mut out, Some(at))
                .map_err(|e| failed(&e))
        };
        // Full chunks, the partial last one, then zeros until the resampler's
        // delay has been flushed out (that delay is dropped below).
        let mut left = input_len;
        while left > chunk {
            let (n_in, n_out) = step(&at)?;
            left -= n_in;
            at.input_offset += n_in;
            at.output_offset += n_out;
        }
        if left > 0 {
            at.partial_len = Some(left);
            at.output_offset += step(&at)?.1;
        }
        at.partial_len = Some(0);
        while at.output_offset < promised + delay {
            at.output_offset += step(&at)?.1;
        }
    }
    let [mut out] = output;
    out.drain(..delay.min(out.len()));
    out.truncate(promised.min(expected));
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

    /// rubato's own whole-clip call, as `resample_mono` did before it was chunked.
    fn rubato_all(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
        let n = samples.len();
        let mut r = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both).unwrap();
        let needed = r.process_all_needed_output_len(n);
        let input = [samples.to_vec()];
        let mut output = [vec![0.0f32; needed]];
        let inp = SequentialSliceOfVecs::new(&input, 1, n).unwrap();
        let mut out = SequentialSliceOfVecs::new_mut(&mut output, 1, needed).unwrap();
        let (_, produced) = r.process_all_into_buffer(&inp, &mut out, n, None).unwrap();
        let [mut out] = output;
        let expected = ((n as u128 * to as u128 + from as u128 / 2) / from as u128) as usize;
        out.truncate(produced.min(expected));
        out.resize(expected, 0.0);
        out
    }

    #[test]
    fn chunked_resampling_matches_rubatos_whole_clip_call_exactly() {
        let noise = |n: usize| -> Vec<f32> {
            let mut x = 12345u32;
            (0..n)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
                })
                .collect()
        };
        // Shorter than one chunk, odd lengths, several chunks; down and up.
        for (from, to) in [(44_100, 16_000), (768_000, 16_000), (8_000, 22_050)] {
            for n in [1, 7, 1000, 4097, 100_003] {
                let x = noise(n);
                let ours = resample_mono(x.clone(), from, to).unwrap();
                assert_eq!(ours, rubato_all(&x, from, to), "{from}->{to}, {n} frames");
            }
        }
    }

    #[test]
    fn a_raised_flag_stops_resampling() {
        let cancel = AtomicBool::new(true);
        let r = resample_mono_cancellable(vec![0.1; 50_000], 44_100, 16_000, &cancel);
        assert_eq!(r, Err(ResampleError::Cancelled));
        // Same rates: nothing to do, nothing to cancel.
        assert!(resample_mono_cancellable(vec![0.1; 10], 16_000, 16_000, &cancel).is_ok());
    }

    #[test]
    fn downmix_averages() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
    }
}
