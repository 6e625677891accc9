//! The cross-validation report saved with a head and printed by `learn`.

use serde::{Deserialize, Serialize};

/// The genre column's width, in terminal columns.
const GENRE_COLUMN: usize = 24;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CvReport {
    pub tracks: usize,
    pub folders: usize,
    pub folds: usize,
    /// (alpha, out-of-fold accuracy, balanced accuracy) for each tried.
    pub alphas: Vec<(f64, f64, f64)>,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub per_genre: Vec<GenreReport>,
    /// (true genre, predicted genre, tracks), largest first.
    pub confusions: Vec<(String, String, usize)>,
    /// Share of tracks given a confident genre, and how often that was right.
    pub confident_share: f64,
    pub confident_precision: f64,
    /// Genres not learned: (genre, tracks, why).
    pub left_out: Vec<(String, usize, String)>,
    /// Genres whose tracks all share one folder: their folds split it by file.
    #[serde(default)]
    pub split_by_file: Vec<String>,
    /// Tracks whose audio is another tagged track's (kept on its side of every fold).
    #[serde(default)]
    pub copies: usize,
    /// Pairs of genres tagged on the same tracks, and on how many, most first.
    #[serde(default)]
    pub shared: Vec<(String, String, usize)>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GenreReport {
    pub genre: String,
    pub tracks: usize,
    pub precision: f64,
    /// Tracks whose top genre this was (out of fold): with none, precision
    /// is 0/0, shown as `–`. None in a report an earlier earmark wrote.
    #[serde(default)]
    pub predicted: Option<usize>,
    pub recall: f64,
    /// The confidence threshold (None: never confident).
    pub threshold: Option<f32>,
    /// Out-of-fold suggestions at or above the threshold, and how many were right.
    pub confident: usize,
    pub confident_right: usize,
}

/// A genre fitted to its column by display width (`{:<24}` counts a CJK
/// character as one column where it takes two).
fn genre_cell(genre: &str) -> String {
    crate::text::pad_width(genre, GENRE_COLUMN)
}

impl CvReport {
    /// The report as `learn` prints it.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "cross-validated on {} in {} ({} folds grouped by folder; alpha {})",
            crate::text::plural(self.tracks, "track"),
            crate::text::plural(self.folders, "folder"),
            self.folds,
            self.alphas
                .iter()
                .map(|(a, acc, bal)| format!("{a}: acc {acc:.3} bal {bal:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let confident = if self.confident_share > 0.0 {
            format!(
                "confident on {:.0} % of tracks, right {:.0} % of those",
                100.0 * self.confident_share,
                100.0 * self.confident_precision
            )
        } else {
            "confident on none of them".to_string()
        };
        let _ = writeln!(
            s,
            "accuracy {:.3}, balanced {:.3}; {confident}",
            self.accuracy, self.balanced_accuracy,
        );
        self.genre_table(&mut s);
        let _ = writeln!(
            s,
            "(threshold: the lowest confidence at which the genre's cross-validated suggestions \
             were right often enough (--precision); confident: of the tracks suggested it at or \
             above that, right / all)"
        );
        if !self.confusions.is_empty() {
            let pairs: Vec<String> = self
                .confusions
                .iter()
                .take(8)
                .map(|(t, p, n)| format!("{} -> {} ({n})", shown(t), shown(p)))
                .collect();
            let _ = writeln!(s, "confused: {}", pairs.join(", "));
        }
        if !self.split_by_file.is_empty() {
            let _ = writeln!(
                s,
                "held out file by file (all their tracks share one folder, so their \
                 figures are optimistic): {}",
                shown(&self.split_by_file.join(", "))
            );
        }
        if self.copies > 0 {
            let (tracks, are) = if self.copies == 1 {
                ("track is a copy", "its original")
            } else {
                ("tracks are copies", "their originals")
            };
            let _ = writeln!(
                s,
                "{} {tracks} of another (the same audio): held out with {are}",
                self.copies
            );
        }
        if !self.shared.is_empty() {
            let pairs: Vec<String> = self
                .shared
                .iter()
                .take(8)
                .map(|(a, b, n)| format!("{} & {} ({n})", shown(a), shown(b)))
                .collect();
            let _ = writeln!(
                s,
                "tagged with both: {}: such a track counts for each genre, so on it one of \
                 the two is always wrong (a genre mostly tagged beside another may reach no threshold)",
                pairs.join(", ")
            );
        }
        for (g, n, why) in &self.left_out {
            let tracks = if *n == 1 { "track" } else { "tracks" };
            let _ = writeln!(s, "left out: {} ({n} {tracks}): {why}", shown(g));
        }
        s
    }

    /// One row per genre: tracks, precision, recall, threshold, confident.
    fn genre_table(&self, s: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            s,
            "{} {:>6} {:>9} {:>7} {:>10} {:>10}",
            genre_cell("genre"),
            "tracks",
            "precision",
            "recall",
            "threshold",
            "confident"
        );
        for g in &self.per_genre {
            let t = g.threshold.map_or("never".to_string(), threshold_cell);
            // Never anyone's top genre: no precision to give (0/0).
            let precision = match g.predicted {
                Some(0) => "–".to_string(),
                _ => format!("{:.3}", g.precision),
            };
            let _ = writeln!(
                s,
                "{} {:>6} {:>9} {:>7.3} {:>10} {:>10}",
                genre_cell(&shown(&g.genre)),
                g.tracks,
                precision,
                g.recall,
                t,
                format!("{}/{}", g.confident_right, g.confident)
            );
        }
    }
}

/// A genre as tags hold it, control characters escaped: a name holding a
/// newline or ESC broke the table's lines or reached the terminal raw.
fn shown(genre: &str) -> std::borrow::Cow<'_, str> {
    crate::library::without_controls(genre.into())
}

/// A threshold as the app shows confidences, in percent; rounded down to a
/// tenth so that 0.996 reads `99.6%`, not a `1.00` that looks like "never".
fn threshold_cell(t: f32) -> String {
    // (f32 → f64 makes 0.996 a hair under; the nudge keeps it at 99.6)
    format!("{:.1}%", (f64::from(t) * 1000.0 + 1e-4).floor() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_reads_as_a_confidence_and_never_as_certainty_it_is_not() {
        assert_eq!(threshold_cell(0.996), "99.6%");
        assert_eq!(threshold_cell(0.5), "50.0%");
        assert_eq!(threshold_cell(1.0), "100.0%");
    }

    #[test]
    fn the_table_lines_up_whatever_the_script_of_the_genre() {
        let genre = |name: &str| GenreReport {
            genre: name.into(),
            tracks: 12,
            ..GenreReport::default()
        };
        let report = CvReport {
            per_genre: vec![
                genre("Rock"),
                genre("ポップ"),
                genre("Ελληνικό λαϊκό"),
                genre("Progressive Psychedelic Space Rock"),
            ],
            ..CvReport::default()
        };
        let text = report.render();
        let rows: Vec<&str> = text.lines().skip(2).take(5).collect();
        let tracks_column: Vec<usize> = rows
            .iter()
            .map(|r| {
                r.find(" 12 ")
                    .map_or(0, |i| unicode_width::UnicodeWidthStr::width(&r[..i]))
            })
            .collect();
        assert!(rows[0].starts_with("genre "), "{text}");
        assert_eq!(tracks_column[1..], [tracks_column[1]; 4], "{text}");
        assert!(rows[4].starts_with("Progressive Psychedelic…"), "{text}");
    }

    /// A genre no track was predicted as has no precision (0/0), not 0.000;
    /// one predicted and always wrong has 0.000; a report an earlier earmark
    /// wrote (no count) shows its figure as before. Nothing confident says so.
    #[test]
    fn a_genre_never_predicted_has_no_precision() {
        let genre = |name: &str, predicted: Option<usize>| GenreReport {
            genre: name.into(),
            tracks: 3,
            predicted,
            ..GenreReport::default()
        };
        let report = CvReport {
            per_genre: vec![
                genre("Never", Some(0)),
                genre("Wrong", Some(2)),
                genre("Older", None),
            ],
            ..CvReport::default()
        };
        let text = report.render();
        let row = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap_or("");
        let cells = |name: &str| row(name).split_whitespace().nth(2).map(str::to_string);
        assert_eq!(cells("Never").as_deref(), Some("–"), "{text}");
        assert_eq!(cells("Wrong").as_deref(), Some("0.000"), "{text}");
        assert_eq!(cells("Older").as_deref(), Some("0.000"), "{text}");
        assert!(text.contains("; confident on none of them\n"), "{text}");
    }
}
