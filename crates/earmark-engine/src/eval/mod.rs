//! Evaluation on labelled layouts (`<genre>/<file>`): accuracy, balanced
//! accuracy, per-class precision/recall/F1 and the confusion matrix, as a
//! report that serialises to JSON. Printing is the CLI's job.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How a report's file paths are written: relative to where `eval` ran
/// (old reports, model cards) or to the report file's folder.
pub const PATHS_FROM_REPORT: &str = "report";

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
    /// [`PATHS_FROM_REPORT`] when `files[].path` is relative to the report
    /// file's folder; absent in older reports (relative to where eval ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths_relative_to: Option<String>,
}

/// Where a report's clip is on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipLocation {
    Here(PathBuf),
    /// The clip is not on this machine (the report came from elsewhere, or
    /// the data folder is not beside it); the path it was looked for at.
    NotHere(PathBuf),
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
    /// Whether it scores GTZAN's clips (named `genre.00042.*`), on which the
    /// shipped models were fit (train and valid): not a held-out score there.
    pub fn scores_gtzan_clips(&self) -> bool {
        let gtzan_clip = |path: &str| {
            let name = Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            let mut parts = name.split('.');
            let (genre, number) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            !genre.is_empty()
                && genre.chars().all(|c| c.is_ascii_lowercase())
                && number.len() == 5
                && number.chars().all(|c| c.is_ascii_digit())
        };
        self.files.iter().any(|f| gtzan_clip(&f.path))
    }

    /// How many clips were predicted as class `i` (the confusion's column):
    /// a genre without clips of its own still has a precision when the model
    /// called something else by its name (0 %), and none when it never did.
    pub fn predicted_as(&self, i: usize) -> usize {
        self.confusion.iter().filter_map(|row| row.get(i)).sum()
    }

    /// The confusion's off-diagonal cells as (true, predicted, count),
    /// largest first (ties in matrix order): what the model mixes up most.
    pub fn most_confused(&self) -> Vec<(usize, usize, usize)> {
        let mut pairs: Vec<(usize, usize, usize)> = self
            .confusion
            .iter()
            .enumerate()
            .flat_map(|(i, row)| row.iter().enumerate().map(move |(j, &n)| (i, j, n)))
            .filter(|&(i, j, n)| i != j && n > 0)
            .collect();
        pairs.sort_by_key(|&(i, j, n)| (std::cmp::Reverse(n), i, j));
        pairs
    }

    /// The same pairs as shares of their true class's clips (the
    /// row-normalised matrix's cells), largest first: a thin class's few
    /// clips, all called one wrong name, come before a large class's many.
    pub fn most_confused_share(&self) -> Vec<(usize, usize, f64)> {
        let mut pairs: Vec<(usize, usize, f64)> = self
            .most_confused()
            .into_iter()
            .map(|(i, j, n)| {
                let clips: usize = self.confusion[i].iter().sum();
                (i, j, n as f64 / clips as f64)
            })
            .collect();
        pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
        pairs
    }

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
            paths_relative_to: None,
        }
    }

    /// Rewrite every path (files and errors) relative to the folder of the
    /// report file `out`, so the report works wherever it and its data are
    /// moved together, and from any working directory.
    pub fn relative_to_report(&mut self, out: &Path) {
        let Some(dir) = absolute_dir_of(out) else {
            return;
        };
        let rebase = |p: &mut String| {
            if let Ok(abs) = std::fs::canonicalize(&*p)
                && let Some(rel) = relative_path(&abs, &dir)
            {
                *p = rel.to_string_lossy().into_owned();
            }
        };
        self.files.iter_mut().for_each(|f| rebase(&mut f.path));
        self.errors.iter_mut().for_each(|e| rebase(&mut e.path));
        self.paths_relative_to = Some(PATHS_FROM_REPORT.into());
    }

    /// Where the clip `path` of this report is here. `report_file` is where the
    /// report was read from (None: built in, e.g. a model card); `fallbacks`
    /// are folders an old report's relative paths may start from.
    pub fn locate_clip(
        &self,
        path: &str,
        report_file: Option<&Path>,
        fallbacks: &[PathBuf],
    ) -> ClipLocation {
        let p = Path::new(path);
        let first = if p.is_absolute() {
            p.to_path_buf()
        } else if self.paths_relative_to.as_deref() == Some(PATHS_FROM_REPORT) {
            match report_file.and_then(absolute_dir_of) {
                Some(dir) => dir.join(p),
                None => p.to_path_buf(),
            }
        } else {
            p.to_path_buf()
        };
        if first.is_file() {
            return ClipLocation::Here(first);
        }
        if !p.is_absolute()
            && let Some(found) = fallbacks.iter().map(|b| b.join(p)).find(|c| c.is_file())
        {
            return ClipLocation::Here(found);
        }
        ClipLocation::NotHere(first)
    }

    /// Read an `earmark eval --json` report.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = crate::small_file::read_text_at_most(path, crate::small_file::DATA_LIMIT)
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
        let report: EvalReport = serde_json::from_str(text)
            .map_err(|e| format!("not an `earmark eval --json` report ({e})"))?;
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

/// The canonical folder holding `file` (which need not exist yet).
fn absolute_dir_of(file: &Path) -> Option<PathBuf> {
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
    std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()
}

/// `path` relative to `base`, both absolute and canonical (`../` steps as
/// needed). Ten lines of component arithmetic; not worth a dependency.
fn relative_path(path: &Path, base: &Path) -> Option<PathBuf> {
    let a: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    if a.first() != b.first() {
        return None;
    }
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    a[common..].iter().for_each(|c| out.push(c));
    Some(out)
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

    /// A genre without clips that the model still names has a precision of
    /// 0 (its column is not empty); one it never names has none.
    #[test]
    fn a_genre_without_clips_counts_what_was_called_by_its_name() {
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let scored = [s(0, 0), s(0, 2), s(1, 2), s(1, 1)];
        let r = EvalReport::build("m".into(), "h".into(), "d".into(), labels, &scored, vec![]);
        assert_eq!(r.per_class[2].support, 0);
        assert_eq!(r.predicted_as(2), 2);
        assert_eq!(r.predicted_as(0), 1);
        let never = EvalReport::build(
            "m".into(),
            "h".into(),
            "d".into(),
            vec!["a".into(), "b".into(), "c".into()],
            &[s(0, 0), s(1, 1)],
            vec![],
        );
        assert_eq!(never.predicted_as(2), 0);
    }

    #[test]
    fn malformed_matrix_is_refused() {
        let text = r#"{"model":"m","model_sha256":"h","dataset":"d","labels":["a","b"],"n":0,
            "accuracy":0,"balanced_accuracy":0,"macro_f1":0,"per_class":[],"confusion":[[0]],"files":[]}"#;
        assert!(EvalReport::from_json(text).is_err());
    }

    #[test]
    fn report_paths_follow_the_report_not_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data/rock");
        std::fs::create_dir_all(&data).unwrap();
        let clip = data.join("a.wav");
        std::fs::write(&clip, b"x").unwrap();
        let reports = dir.path().join("reports");
        std::fs::create_dir(&reports).unwrap();
        let scored = [Scored {
            path: clip.display().to_string(),
            truth: 0,
            predicted: 0,
            confidence: 0.9,
        }];
        let mut r = EvalReport::build(
            "m".into(),
            "h".into(),
            "d".into(),
            vec!["rock".into()],
            &scored,
            vec![],
        );
        let out = reports.join("r.json");
        r.relative_to_report(&out);
        assert_eq!(r.files[0].path, "../data/rock/a.wav");
        let back = EvalReport::from_json(&serde_json::to_string(&r).unwrap()).unwrap();
        let found = back.locate_clip(&back.files[0].path, Some(&out), &[]);
        assert_eq!(
            found,
            ClipLocation::Here(reports.join("../data/rock/a.wav"))
        );

        // The report copied elsewhere without its data: a clean "not here".
        let other = tempfile::tempdir().unwrap();
        let elsewhere = other.path().join("r.json");
        assert!(matches!(
            back.locate_clip(&back.files[0].path, Some(&elsewhere), &[]),
            ClipLocation::NotHere(_)
        ));
    }

    #[test]
    fn old_reports_resolve_from_the_fallback_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("g")).unwrap();
        std::fs::write(dir.path().join("g/a.wav"), b"x").unwrap();
        let r = EvalReport::build("m".into(), "h".into(), "d".into(), vec![], &[], vec![]);
        assert_eq!(
            r.locate_clip("g/a.wav", None, &[dir.path().to_path_buf()]),
            ClipLocation::Here(dir.path().join("g/a.wav"))
        );
        assert_eq!(
            r.locate_clip("g/missing.wav", None, &[dir.path().to_path_buf()]),
            ClipLocation::NotHere(PathBuf::from("g/missing.wav"))
        );
    }
}
