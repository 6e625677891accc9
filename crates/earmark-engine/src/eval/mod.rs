//! Evaluation on labelled layouts (`<genre>/<file>`): accuracy, balanced
//! accuracy, per-class precision/recall/F1 and the confusion matrix, as a
//! report that serialises to JSON. Printing is the CLI's job.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileResult {
    pub path: String,
    pub truth: String,
    pub predicted: String,
    pub confidence: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileError {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvalReport {
    pub model: String,
    pub model_sha256: String,
    pub dataset: String,
    pub labels: Vec<String>,
    pub n: usize,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// Rows are true labels, columns predictions, both in `labels` order.
    pub confusion: Vec<Vec<usize>>,
    pub files: Vec<FileResult>,
    #[serde(default)]
    pub errors: Vec<FileError>,
}

/// One scored file: indices into the label list.
#[derive(Debug, Clone)]
pub struct Scored {
    pub path: String,
    pub truth: usize,
    pub predicted: usize,
    pub confidence: f32,
}

impl EvalReport {
    pub fn build(
        model: String,
        model_sha256: String,
        dataset: String,
        labels: Vec<String>,
        scored: &[Scored],
        errors: Vec<FileError>,
    ) -> Self {
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for s in scored {
            if s.truth < k && s.predicted < k {
                confusion[s.truth][s.predicted] += 1;
            }
        }
        let n: usize = confusion.iter().flatten().sum();
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|i| {
                let support: usize = confusion[i].iter().sum();
                let predicted: usize = (0..k).map(|r| confusion[r][i]).sum();
                let tp = confusion[i][i];
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    label: labels[i].clone(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        // Averages run over the classes present in the data only.
        let present: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
        let mean = |f: fn(&ClassMetrics) -> f64| {
            if present.is_empty() {
                0.0
            } else {
                present.iter().map(|c| f(c)).sum::<f64>() / present.len() as f64
            }
        };
        EvalReport {
            model,
            model_sha256,
            dataset,
            n,
            accuracy: ratio(correct, n),
            balanced_accuracy: mean(|c| c.recall),
            macro_f1: mean(|c| c.f1),
            per_class,
            files: scored
                .iter()
                .map(|s| FileResult {
                    path: s.path.clone(),
                    truth: labels.get(s.truth).cloned().unwrap_or_default(),
                    predicted: labels.get(s.predicted).cloned().unwrap_or_default(),
                    confidence: s.confidence,
                })
                .collect(),
            confusion,
            labels,
            errors,
        }
    }

    /// Read an `earmark eval --json` report.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {}", path.display(), crate::library::io_reason(&e)))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The evaluation recorded in a model card.
    pub fn from_card(card: &crate::model::ModelCard) -> Result<Self, String> {
        let metrics = card.metrics.as_ref().filter(|m| !m.is_null()).ok_or_else(|| {
            format!(
                "the {} model card has no evaluation (run `earmark eval DIR --json r.json`, then --eval-report r.json)",
                card.name
            )
        })?;
        Self::from_json(&metrics.to_string()).map_err(|e| format!("{}: {e}", card.name))
    }

    /// Parse a report, checking the matrix agrees with the labels.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let report: EvalReport = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let k = report.labels.len();
        if report.confusion.len() != k || report.confusion.iter().any(|r| r.len() != k) {
            return Err(format!(
                "confusion matrix is not {k}×{k} like the label list"
            ));
        }
        Ok(report)
    }

    /// Files whose truth is `row` and prediction is `col` (a confusion-matrix cell).
    pub fn cell_files(&self, row: usize, col: usize) -> Vec<&FileResult> {
        let (Some(t), Some(p)) = (self.labels.get(row), self.labels.get(col)) else {
            return Vec::new();
        };
        self.files
            .iter()
            .filter(|f| &f.truth == t && &f.predicted == p)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(truth: usize, predicted: usize) -> Scored {
        Scored {
            path: format!("{truth}-{predicted}"),
            truth,
            predicted,
            confidence: 0.5,
        }
    }

    #[test]
    fn metrics_from_a_known_matrix() {
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        // a: 3 right, 1 as b. b: 1 right. c: absent.
        let scored = [s(0, 0), s(0, 0), s(0, 0), s(0, 1), s(1, 1)];
        let r = EvalReport::build("m".into(), "h".into(), "d".into(), labels, &scored, vec![]);
        assert_eq!(r.n, 5);
        assert!((r.accuracy - 0.8).abs() < 1e-12);
        // Mean recall over present classes a (0.75) and b (1.0).
        assert!((r.balanced_accuracy - 0.875).abs() < 1e-12);
        assert!((r.per_class[1].precision - 0.5).abs() < 1e-12);
        assert_eq!(r.confusion[0], vec![3, 1, 0]);
        assert_eq!(r.cell_files(0, 1).len(), 1);
        let back = EvalReport::from_json(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn malformed_matrix_is_refused() {
        let text = r#"{"model":"m","model_sha256":"h","dataset":"d","labels":["a","b"],"n":0,
            "accuracy":0,"balanced_accuracy":0,"macro_f1":0,"per_class":[],"confusion":[[0]],"files":[]}"#;
        assert!(EvalReport::from_json(text).is_err());
    }
}
