//! Cutting a spectrogram into the fixed-length segments a model consumes.

use serde::{Deserialize, Serialize};

use super::LogMel;

/// Segment length and hop, in frames (from the model card).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub frames: usize,
    pub hop_frames: usize,
}

impl Default for SegmentSpec {
    fn default() -> Self {
        // musicnn's 187-frame patches (~3 s at 16 kHz / hop 256), not overlapping.
        SegmentSpec {
            frames: 187,
            hop_frames: 187,
        }
    }
}

impl SegmentSpec {
    /// Start frames of the segments that fit in `n_frames`; a spectrogram shorter
    /// than one segment still yields one (it gets repeat-padded).
    pub fn offsets(&self, n_frames: usize) -> Vec<usize> {
        if n_frames == 0 {
            return Vec::new();
        }
        if n_frames < self.frames {
            return vec![0];
        }
        (0..=(n_frames - self.frames))
            .step_by(self.hop_frames.max(1))
            .collect()
    }

    /// The segment at `start`, repeat-padded to full length when the input is short.
    pub fn extract(&self, mel: &LogMel, start: usize) -> Vec<f32> {
        let n = mel.n_mels;
        let mut out = Vec::with_capacity(self.frames * n);
        for i in 0..self.frames {
            let f = start + i;
            let f = if f < mel.n_frames {
                f
            } else {
                (f - start) % (mel.n_frames - start).max(1) + start
            };
            out.extend_from_slice(mel.frame(f.min(mel.n_frames.saturating_sub(1))));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_seconds_make_ten_segments() {
        assert_eq!(SegmentSpec::default().offsets(1876).len(), 10);
        assert_eq!(SegmentSpec::default().offsets(100), vec![0]);
        assert!(SegmentSpec::default().offsets(0).is_empty());
    }

    #[test]
    fn short_input_is_repeat_padded() {
        let mel = LogMel {
            n_frames: 3,
            n_mels: 1,
            data: vec![1.0, 2.0, 3.0],
        };
        let spec = SegmentSpec {
            frames: 7,
            hop_frames: 7,
        };
        assert_eq!(
            spec.extract(&mel, 0),
            vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]
        );
    }
}
