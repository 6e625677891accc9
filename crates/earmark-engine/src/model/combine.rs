//! Turning per-segment probabilities into one track prediction.

use super::card::Combine;

pub fn combine(segments: &[Vec<f32>], how: Combine) -> Vec<f32> {
    let Some(first) = segments.first() else {
        return Vec::new();
    };
    let n = segments.len() as f32;
    let mut out = vec![0.0f32; first.len()];
    match how {
        Combine::MeanProbs => {
            for s in segments {
                for (o, p) in out.iter_mut().zip(s) {
                    *o += p / n;
                }
            }
        }
        Combine::MeanLogProbs => {
            for s in segments {
                for (o, p) in out.iter_mut().zip(s) {
                    *o += p.max(1e-12).ln() / n;
                }
            }
            let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            for o in out.iter_mut() {
                *o = (*o - max).exp();
            }
        }
    }
    let total: f32 = out.iter().sum();
    if total > 0.0 {
        out.iter_mut().for_each(|o| *o /= total);
    }
    out
}

/// Indices of the `k` largest values, largest first.
pub fn top_k(probs: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..probs.len()).collect();
    idx.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_probabilities() {
        let c = combine(&[vec![1.0, 0.0], vec![0.5, 0.5]], Combine::MeanProbs);
        assert!((c[0] - 0.75).abs() < 1e-6 && (c[1] - 0.25).abs() < 1e-6);
    }

    #[test]
    fn geometric_mean_punishes_disagreement() {
        let c = combine(
            &[vec![0.9, 0.1], vec![0.1, 0.9], vec![0.6, 0.4]],
            Combine::MeanLogProbs,
        );
        assert!((c.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(c[0] > c[1]);
    }

    #[test]
    fn top_k_orders_descending() {
        assert_eq!(top_k(&[0.1, 0.5, 0.2, 0.2], 2), vec![1, 2]);
    }
}
