//! A learned genre head: multinomial logistic regression over a model's
//! track embeddings, with a per-genre confidence threshold. It holds weights,
//! genre names and counts, never a path.

use serde::{Deserialize, Serialize};

use super::report::CvReport;

/// The saved head (`$XDG_DATA_HOME/earmark/vocab/<root hash>.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Head {
    /// Format version of this file.
    pub version: u32,
    /// sha256 of the ONNX model whose embeddings it was trained on: a head is
    /// never applied to another model's embedding space.
    pub model_sha256: String,
    /// The model's name (`fast`, `accurate`, or the card's name).
    pub model_name: String,
    pub dim: usize,
    /// The library's own spellings, in class order.
    pub vocabulary: Vec<String>,
    /// Tracks per genre used for training.
    pub counts: Vec<usize>,
    /// Standardisation of the L2-normalised embedding (per dimension).
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// `[dim][classes]` weights and `[classes]` intercepts.
    pub weights: Vec<Vec<f32>>,
    pub intercept: Vec<f32>,
    /// L2 strength chosen by grouped cross-validation.
    pub alpha: f64,
    /// The precision the thresholds were chosen for (0.9 by default).
    pub target_precision: f64,
    /// Per genre: the lowest confidence at which cross-validated suggestions
    /// of it were right at least `target_precision` of the time; None: never.
    pub thresholds: Vec<Option<f32>>,
    pub report: CvReport,
}

/// What a head says about one track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Suggestion {
    /// Confident: at or above the genre's threshold.
    Genre { genre: String, confidence: f32 },
    /// Below the threshold: the top candidates, best first.
    Unsure { candidates: Vec<(String, f32)> },
}

impl Suggestion {
    /// The suggested genre, or `unsure`.
    pub fn label(&self) -> &str {
        match self {
            Suggestion::Genre { genre, .. } => genre,
            Suggestion::Unsure { .. } => "unsure",
        }
    }

    /// An unsure suggestion's candidates as people read them
    /// ("Chiptune 88%, Soundtrack 6%"); empty for a confident one.
    pub fn candidates_line(&self) -> String {
        match self {
            Suggestion::Genre { .. } => String::new(),
            Suggestion::Unsure { candidates } => candidates
                .iter()
                .map(|(g, p)| format!("{g} {:.0}%", p * 100.0))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Unit length (a zero vector stays zero): the head and `similar` compare
/// directions, not magnitudes.
pub fn l2_normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter().map(|x| (f64::from(*x) / norm) as f32).collect()
    } else {
        v.to_vec()
    }
}

impl Head {
    pub const VERSION: u32 = 1;

    /// The head's input: normalised then standardised.
    pub fn features(&self, embedding: &[f32]) -> Vec<f32> {
        l2_normalised(embedding)
            .iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(x, (m, s))| (x - m) / s)
            .collect()
    }

    /// Class probabilities for one track embedding (None: wrong dimension).
    pub fn probs(&self, embedding: &[f32]) -> Option<Vec<f32>> {
        if embedding.len() != self.dim {
            return None;
        }
        let x = self.features(embedding);
        let mut z: Vec<f64> = self.intercept.iter().map(|b| f64::from(*b)).collect();
        for (xi, row) in x.iter().zip(&self.weights) {
            for (zj, w) in z.iter_mut().zip(row) {
                *zj += f64::from(*xi) * f64::from(*w);
            }
        }
        Some(softmax(&z))
    }

    /// The threshold learned for `genre` (outer None: not one of its genres).
    pub fn threshold_of(&self, genre: &str) -> Option<Option<f32>> {
        let i = self.vocabulary.iter().position(|g| g == genre)?;
        self.thresholds.get(i).copied()
    }

    /// Why an unsure suggestion's first candidate was not suggested (None:
    /// no candidates, or not one of its genres).
    pub fn why_unsure(&self, suggestion: &Suggestion) -> Option<String> {
        let Suggestion::Unsure { candidates } = suggestion else {
            return None;
        };
        let (genre, _) = candidates.first()?;
        Some(why_unsure(genre, self.threshold_of(genre)?))
    }

    /// The confident genre, or `unsure` with the top three candidates.
    pub fn suggest(&self, embedding: &[f32]) -> Option<Suggestion> {
        let p = self.probs(embedding)?;
        Some(suggest_from(&self.vocabulary, &p, &self.thresholds))
    }
}

/// Why a top genre was not enough: "Jazz needs 62%" (each genre has its own
/// threshold, so 32 % can be sure where 47 % is not), or that no confidence
/// reached the target precision for it (in learn's cross-validation, or the
/// model card's evaluation for GTZAN's genres: the words fit both).
pub fn why_unsure(genre: &str, threshold: Option<f32>) -> String {
    match threshold {
        Some(t) => format!("{genre} needs {}", percent_floor(t)),
        None => format!("{genre} never reached the target precision"),
    }
}

/// A threshold as a percentage that never reads higher than it is: "62%",
/// and near the top one more decimal ("99.5%", "99.9%"), never "100%" for
/// a threshold a confidence can still reach (a track at 99.7 % against a
/// "needs 100%" looked sure and was not).
pub fn percent_floor(t: f32) -> String {
    // (the nudge keeps an f32 0.62, 61.99999 %, at 62)
    let pct = f64::from(t) * 100.0 + 1e-4;
    if (99.5..100.0).contains(&pct) {
        format!("{:.1}%", (pct * 10.0).floor() / 10.0)
    } else {
        // rounded, 61.6 % read "62%" beside a "needs 62%"
        format!("{:.0}%", pct.floor())
    }
}

/// Apply per-class thresholds to a probability vector.
pub fn suggest_from(labels: &[String], p: &[f32], thresholds: &[Option<f32>]) -> Suggestion {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    let Some(&best) = order.first() else {
        return Suggestion::Unsure {
            candidates: Vec::new(),
        };
    };
    match thresholds.get(best).copied().flatten() {
        Some(t) if p[best] >= t => Suggestion::Genre {
            genre: labels[best].clone(),
            confidence: p[best],
        },
        _ => Suggestion::Unsure {
            candidates: order
                .iter()
                .take(3)
                .map(|&i| (labels[i].clone(), p[i]))
                .collect(),
        },
    }
}

fn softmax(z: &[f64]) -> Vec<f32> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| (v / sum) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_near_the_top_is_not_rounded_up_to_100() {
        assert_eq!(why_unsure("Jazz", Some(0.62)), "Jazz needs 62%");
        assert_eq!(why_unsure("Metal", Some(0.995)), "Metal needs 99.5%");
        assert_eq!(why_unsure("Jazz", Some(0.9993)), "Jazz needs 99.9%");
        assert_eq!(why_unsure("Rock", Some(1.0)), "Rock needs 100%");
        // a confidence under a threshold never reads as much (review: 61.6 %
        // said "62%" beside "needs 62%", 99.52 % "100%" beside "99.6%")
        assert_eq!(percent_floor(0.616), "61%");
        assert_eq!(percent_floor(0.9952), "99.5%");
    }

    #[test]
    fn below_threshold_is_unsure_with_candidates() {
        let labels: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let t = vec![Some(0.6), None, Some(0.2), Some(0.1)];
        let s = suggest_from(&labels, &[0.7, 0.1, 0.1, 0.1], &t);
        assert_eq!(s.label(), "a");
        let s = suggest_from(&labels, &[0.5, 0.3, 0.1, 0.1], &t);
        assert_eq!(s.label(), "unsure");
        let Suggestion::Unsure { candidates } = s else {
            panic!()
        };
        assert_eq!(candidates.len(), 3);
        assert_eq!(candidates[0].0, "a");
        // A genre that never reached the precision is never said confidently.
        assert_eq!(
            suggest_from(&labels, &[0.0, 1.0, 0.0, 0.0], &t).label(),
            "unsure"
        );
    }
}
