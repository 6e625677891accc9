//! Train a head: multinomial logistic regression (linfa-logistic) with
//! class-balanced weights, L2 strength chosen by cross-validation grouped by
//! folder, per-genre thresholds for a target precision on the out-of-fold
//! predictions, then a final fit on everything.
//!
//! linfa-logistic takes no sample weights, so class balance is applied by
//! repeating each class's rows round(largest class / class size) times: for
//! an integer weight that is the same loss as weighting the rows.

use std::collections::BTreeMap;

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};

use super::VocabError;
use super::head::{Head, l2_normalised, suggest_from};
use super::report::{CvReport, GenreReport};

/// One tagged track: its embedding, its genres (class indices) and its folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub embedding: Vec<f32>,
    pub genres: Vec<usize>,
    pub group: String,
}

#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub alphas: Vec<f64>,
    pub max_folds: usize,
    pub target_precision: f64,
    pub max_iterations: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            alphas: vec![0.1, 1.0, 10.0, 100.0],
            max_folds: 5,
            target_precision: 0.9,
            max_iterations: 200,
        }
    }
}

/// Who trained on what: the head's identity fields.
#[derive(Debug, Clone)]
pub struct HeadMeta {
    pub model_sha256: String,
    pub model_name: String,
    pub vocabulary: Vec<String>,
    pub left_out: Vec<(String, usize, String)>,
}

/// Folds grouped by folder: every folder's tracks sit in one fold. Folders
/// are dealt largest first to the fold holding the fewest tracks of their
/// genre (`strata`: each track's first genre; a folder counts as its first
/// track's), then the emptiest (ties: lowest fold): a genre's folders spread
/// over the folds, so a held-out folder's genre is still in training (dealt
/// by size alone, the small folders of one genre filled one fold together and
/// that genre was never learnt there), and the split is deterministic.
pub fn grouped_folds(groups: &[String], strata: &[usize], max_folds: usize) -> Vec<usize> {
    let mut sizes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        let stratum = strata.get(i).copied().unwrap_or(0);
        sizes.entry(g.as_str()).or_insert((0, stratum)).0 += 1;
    }
    let k = max_folds.min(sizes.len()).max(1);
    let mut order: Vec<(&str, (usize, usize))> = sizes.into_iter().collect();
    order.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let mut load = vec![0usize; k];
    let mut held: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut fold_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (g, (n, stratum)) in order {
        let of_genre = |f: usize| held.get(&(stratum, f)).copied().unwrap_or(0);
        let f = (0..k)
            .min_by_key(|&f| (of_genre(f), load[f], f))
            .unwrap_or(0);
        load[f] += n;
        *held.entry((stratum, f)).or_default() += n;
        fold_of.insert(g, f);
    }
    groups
        .iter()
        .map(|g| fold_of.get(g.as_str()).copied().unwrap_or(0))
        .collect()
}

/// Each track's cross-validation group, the genres whose groups had to be
/// split, and how many tracks are copies of another. A folder is the group
/// (an album's tracks sound alike, so they must not sit on both sides of a
/// fold), except for a genre whose tracks all share one folder
/// (`Music/Jazz/*.flac`, or a flat library): held out as a whole it would
/// never be in training, so its tracks there are grouped one file each (an
/// optimistic estimate, said in the report). Copies of one recording (the
/// same embedding to the bit: an album track and its compilation copy) stay
/// together, and their folders with them: a copy on the other side of a fold
/// would be a test answered from training.
pub fn cv_groups(samples: &[Sample], k: usize) -> (Vec<String>, Vec<usize>, usize) {
    let (original, copies) = originals(samples);
    // folders joined by a shared recording, each named by its least folder
    let mut joined: BTreeMap<&str, &str> = BTreeMap::new();
    fn root<'a>(joined: &BTreeMap<&'a str, &'a str>, mut g: &'a str) -> &'a str {
        while let Some(&up) = joined.get(g) {
            if up == g {
                break;
            }
            g = up;
        }
        g
    }
    for (i, s) in samples.iter().enumerate() {
        let (a, b) = (
            root(&joined, s.group.as_str()),
            root(&joined, samples[original[i]].group.as_str()),
        );
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            joined.insert(hi, lo);
        }
    }
    let folder = |i: usize| root(&joined, samples[i].group.as_str());
    let mut folders_of = vec![std::collections::BTreeSet::new(); k];
    for (i, s) in samples.iter().enumerate() {
        for &g in &s.genres {
            folders_of[g].insert(folder(i));
        }
    }
    let split: Vec<usize> = (0..k).filter(|&c| folders_of[c].len() == 1).collect();
    let groups = samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.genres.iter().any(|g| split.contains(g)) {
                format!("{}\u{0}{}", folder(i), original[i])
            } else {
                folder(i).to_string()
            }
        })
        .collect();
    (groups, split, copies)
}

/// For each sample, the first sample with the same embedding bits (itself
/// when none before it), and how many samples are such copies.
fn originals(samples: &[Sample]) -> (Vec<usize>, usize) {
    let mut first: std::collections::HashMap<Vec<u32>, usize> = std::collections::HashMap::new();
    let mut copies = 0;
    let original = samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let bits = s.embedding.iter().map(|v| v.to_bits()).collect();
            let o = *first.entry(bits).or_insert(i);
            copies += usize::from(o != i);
            o
        })
        .collect();
    (original, copies)
}

/// Standardisation fitted on `rows`.
fn standardiser(rows: &[Vec<f32>], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = rows.len().max(1) as f64;
    let mut mean = vec![0.0f64; dim];
    for r in rows {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += f64::from(*v) / n;
        }
    }
    let mut var = vec![0.0f64; dim];
    for r in rows {
        for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
            *s += (f64::from(*v) - m).powi(2) / n;
        }
    }
    let scale = var
        .iter()
        .map(|v| {
            if v.sqrt() > 1e-6 {
                v.sqrt() as f32
            } else {
                1.0
            }
        })
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), scale)
}

/// A fitted model in the head's terms.
struct Fitted {
    mean: Vec<f32>,
    scale: Vec<f32>,
    weights: Vec<Vec<f32>>,
    intercept: Vec<f32>,
}

fn fit(
    samples: &[&Sample],
    k: usize,
    dim: usize,
    alpha: f64,
    opts: &TrainOptions,
) -> Result<Fitted, VocabError> {
    let normalised: Vec<Vec<f32>> = samples
        .iter()
        .map(|s| l2_normalised(&s.embedding))
        .collect();
    let (mean, scale) = standardiser(&normalised, dim);
    let mut per_class = vec![0usize; k];
    for s in samples {
        for &g in &s.genres {
            per_class[g] += 1;
        }
    }
    let largest = per_class.iter().copied().max().unwrap_or(1);
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<usize> = Vec::new();
    for (s, x) in samples.iter().zip(&normalised) {
        for &g in &s.genres {
            let repeat = ((largest as f64 / per_class[g] as f64).round() as usize).max(1);
            for _ in 0..repeat {
                xs.extend(
                    x.iter()
                        .zip(mean.iter().zip(&scale))
                        .map(|(v, (m, sd))| f64::from((v - m) / sd)),
                );
                ys.push(g);
            }
        }
    }
    let present: Vec<usize> = (0..k).filter(|&c| per_class[c] > 0).collect();
    let mut weights = vec![vec![0.0f32; k]; dim];
    let mut intercept = vec![-1e4f32; k];
    if present.len() < 2 {
        // One class only: it is all this fold can say.
        if let Some(&c) = present.first() {
            intercept[c] = 0.0;
        }
        return Ok(Fitted {
            mean,
            scale,
            weights,
            intercept,
        });
    }
    let x = Array2::from_shape_vec((ys.len(), dim), xs)
        .map_err(|e| VocabError::Train(e.to_string()))?;
    let data = Dataset::new(x, Array1::from_vec(ys));
    let model = MultiLogisticRegression::default()
        .alpha(alpha)
        .max_iterations(opts.max_iterations)
        .fit(&data)
        .map_err(|e| VocabError::Train(e.to_string()))?;
    let params = model.params();
    for (j, &class) in model.classes().iter().enumerate() {
        intercept[class] = model.intercept()[j] as f32;
        for (d, row) in weights.iter_mut().enumerate() {
            row[class] = params[[d, j]] as f32;
        }
    }
    Ok(Fitted {
        mean,
        scale,
        weights,
        intercept,
    })
}

fn as_head(f: Fitted, meta: &HeadMeta, dim: usize, counts: Vec<usize>) -> Head {
    Head {
        version: Head::VERSION,
        model_sha256: meta.model_sha256.clone(),
        model_name: meta.model_name.clone(),
        dim,
        vocabulary: meta.vocabulary.clone(),
        counts,
        mean: f.mean,
        scale: f.scale,
        weights: f.weights,
        intercept: f.intercept,
        alpha: 0.0,
        target_precision: 0.0,
        thresholds: Vec::new(),
        report: CvReport::default(),
    }
}

/// Out-of-fold probabilities for every sample at one alpha.
fn out_of_fold(
    samples: &[Sample],
    folds: &[usize],
    meta: &HeadMeta,
    dim: usize,
    alpha: f64,
    opts: &TrainOptions,
) -> Result<Vec<Vec<f32>>, VocabError> {
    let k = meta.vocabulary.len();
    let n_folds = folds.iter().copied().max().map_or(1, |m| m + 1);
    let mut out = vec![Vec::new(); samples.len()];
    for f in 0..n_folds {
        let train: Vec<&Sample> = samples
            .iter()
            .zip(folds)
            .filter(|(_, g)| **g != f)
            .map(|(s, _)| s)
            .collect();
        let fitted = fit(&train, k, dim, alpha, opts)?;
        let head = as_head(fitted, meta, dim, vec![0; k]);
        for (i, s) in samples.iter().enumerate() {
            if folds[i] == f {
                out[i] = head
                    .probs(&s.embedding)
                    .ok_or_else(|| VocabError::Train("embedding of the wrong size".into()))?;
            }
        }
    }
    Ok(out)
}

fn argmax(p: &[f32]) -> usize {
    (0..p.len())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
        .unwrap_or(0)
}

/// (accuracy, balanced accuracy): right when the top class is one of the track's genres.
fn scores(samples: &[Sample], probs: &[Vec<f32>], k: usize) -> (f64, f64) {
    let mut right = 0usize;
    let mut per = vec![(0usize, 0usize); k];
    for (s, p) in samples.iter().zip(probs) {
        let top = argmax(p);
        let ok = s.genres.contains(&top);
        right += usize::from(ok);
        for &g in &s.genres {
            per[g].1 += 1;
            per[g].0 += usize::from(top == g);
        }
    }
    let recalls: Vec<f64> = per
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| *r as f64 / *n as f64)
        .collect();
    let bal = recalls.iter().sum::<f64>() / recalls.len().max(1) as f64;
    (right as f64 / samples.len().max(1) as f64, bal)
}

/// Mean out-of-fold log-loss: how sure the head was of each track's genres
/// (a confident miss costs most).
fn log_loss(samples: &[Sample], probs: &[Vec<f32>]) -> f64 {
    let sum: f64 = samples
        .iter()
        .zip(probs)
        .map(|(s, p)| {
            let said: f32 = s.genres.iter().filter_map(|&g| p.get(g)).sum();
            -f64::from(said.clamp(1e-7, 1.0)).ln()
        })
        .sum();
    sum / samples.len().max(1) as f64
}

/// Which regularisation to keep, from (score, log-loss) per alpha tried: the
/// best score; on a tie (a small library's folds often score the same), the
/// lowest log-loss, so that a head is not surer than its cross-validation
/// was right (a tie used to keep the weakest alpha: a dozen tagged tracks
/// were then called at 100 % and 0 %).
fn pick_alpha(tried: &[(f64, f64)]) -> Option<usize> {
    (0..tried.len()).min_by(|&a, &b| {
        let ((sa, la), (sb, lb)) = (tried[a], tried[b]);
        let tie = (sa - sb).abs() < 1e-9;
        if tie {
            la.total_cmp(&lb).then(a.cmp(&b))
        } else {
            sb.total_cmp(&sa)
        }
    })
}

/// Per class, the lowest confidence at which the suggestions at or above it
/// were right at least `target` of the time (None: never).
pub fn thresholds(
    samples: &[Sample],
    probs: &[Vec<f32>],
    k: usize,
    target: f64,
) -> Vec<Option<f32>> {
    let said: Vec<(usize, f32, bool)> = samples
        .iter()
        .zip(probs)
        .map(|(s, p)| {
            let top = argmax(p);
            (top, p[top], s.genres.contains(&top))
        })
        .collect();
    thresholds_from(&said, k, target)
}

/// The same from (predicted class, its confidence, was it right) triples.
pub fn thresholds_from(said: &[(usize, f32, bool)], k: usize, target: f64) -> Vec<Option<f32>> {
    (0..k)
        .map(|c| {
            let mut mine: Vec<(f32, bool)> = said
                .iter()
                .filter(|(p, _, _)| *p == c)
                .map(|(_, conf, ok)| (*conf, *ok))
                .collect();
            mine.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut right = 0usize;
            let mut best = None;
            for (i, (conf, ok)) in mine.iter().enumerate() {
                right += usize::from(*ok);
                // Only cut between distinct confidences.
                let next_differs = mine.get(i + 1).is_none_or(|n| n.0 < *conf);
                if next_differs && right as f64 >= target * (i + 1) as f64 {
                    best = Some(*conf);
                }
            }
            best
        })
        .collect()
}

fn report(
    samples: &[Sample],
    probs: &[Vec<f32>],
    head: &Head,
    folds: usize,
    alphas: Vec<(f64, f64, f64)>,
) -> CvReport {
    let k = head.vocabulary.len();
    let (accuracy, balanced_accuracy) = scores(samples, probs, k);
    let mut per_genre: Vec<GenreReport> = head
        .vocabulary
        .iter()
        .zip(&head.counts)
        .zip(&head.thresholds)
        .map(|((g, n), t)| GenreReport {
            genre: g.clone(),
            tracks: *n,
            threshold: *t,
            ..Default::default()
        })
        .collect();
    let mut said = vec![(0usize, 0usize); k];
    let mut confusion: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let (mut confident, mut confident_right) = (0usize, 0usize);
    for (s, p) in samples.iter().zip(probs) {
        let top = argmax(p);
        let ok = s.genres.contains(&top);
        said[top].0 += 1;
        said[top].1 += usize::from(ok);
        for &g in &s.genres {
            if top == g {
                per_genre[g].recall += 1.0;
            }
        }
        if !ok && let Some(&g) = s.genres.first() {
            *confusion.entry((g, top)).or_default() += 1;
        }
        if let super::head::Suggestion::Genre { .. } =
            suggest_from(&head.vocabulary, p, &head.thresholds)
        {
            confident += 1;
            confident_right += usize::from(ok);
            per_genre[top].confident += 1;
            per_genre[top].confident_right += usize::from(ok);
        }
    }
    for (c, g) in per_genre.iter_mut().enumerate() {
        g.recall /= g.tracks.max(1) as f64;
        g.precision = said[c].1 as f64 / said[c].0.max(1) as f64;
        g.predicted = Some(said[c].0);
    }
    let mut confusions: Vec<(String, String, usize)> = confusion
        .into_iter()
        .map(|((t, p), n)| (head.vocabulary[t].clone(), head.vocabulary[p].clone(), n))
        .collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let groups: std::collections::BTreeSet<&str> =
        samples.iter().map(|s| s.group.as_str()).collect();
    CvReport {
        tracks: samples.len(),
        folders: groups.len(),
        folds,
        alphas,
        accuracy,
        balanced_accuracy,
        per_genre,
        confusions,
        confident_share: confident as f64 / samples.len().max(1) as f64,
        confident_precision: confident_right as f64 / confident.max(1) as f64,
        left_out: Vec::new(),
        split_by_file: Vec::new(),
        copies: 0,
        shared: Vec::new(),
    }
}

/// Choose alpha by grouped CV, set thresholds on the out-of-fold predictions,
/// refit on everything. Deterministic for the same samples.
pub fn train(samples: &[Sample], meta: HeadMeta, opts: &TrainOptions) -> Result<Head, VocabError> {
    let k = meta.vocabulary.len();
    if k < 2 {
        return Err(VocabError::Train(format!(
            "needs at least two genres with enough tracks; found {k} (learn reads each file's genre \
             tag, not its folder's name: tag a few tracks of each genre first)"
        )));
    }
    let dim = samples
        .first()
        .map(|s| s.embedding.len())
        .ok_or_else(|| VocabError::Train("no tagged tracks".into()))?;
    if samples.iter().any(|s| s.embedding.len() != dim) {
        return Err(VocabError::Train("embeddings of different sizes".into()));
    }
    let (groups, split, copies) = cv_groups(samples, k);
    let strata: Vec<usize> = samples
        .iter()
        .map(|s| s.genres.first().copied().unwrap_or(0))
        .collect();
    let folds = grouped_folds(&groups, &strata, opts.max_folds);
    let n_folds = folds.iter().copied().max().map_or(1, |m| m + 1);
    if n_folds < 2 {
        return Err(VocabError::Train(
            "cross-validation needs at least two tracks".into(),
        ));
    }
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    for &alpha in &opts.alphas {
        let probs = out_of_fold(samples, &folds, &meta, dim, alpha, opts)?;
        let (acc, bal) = scores(samples, &probs, k);
        tried.push((alpha, acc, bal));
        candidates.push(((acc + bal) / 2.0, log_loss(samples, &probs), alpha, probs));
    }
    let pick = pick_alpha(&candidates.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>())
        .ok_or_else(|| VocabError::Train("no alpha to try".into()))?;
    let (_, _, alpha, probs) = candidates.swap_remove(pick);
    let mut counts = vec![0usize; k];
    for s in samples {
        for &g in &s.genres {
            counts[g] += 1;
        }
    }
    let all: Vec<&Sample> = samples.iter().collect();
    let fitted = fit(&all, k, dim, alpha, opts)?;
    let mut head = as_head(fitted, &meta, dim, counts);
    head.alpha = alpha;
    head.target_precision = opts.target_precision;
    head.thresholds = thresholds(samples, &probs, k, opts.target_precision);
    let mut rep = report(samples, &probs, &head, n_folds, tried);
    rep.left_out = meta.left_out.clone();
    rep.split_by_file = split.iter().map(|&c| meta.vocabulary[c].clone()).collect();
    rep.copies = copies;
    rep.shared = shared_genres(samples, &meta.vocabulary);
    head.report = rep;
    Ok(head)
}

/// Pairs of genres tagged on the same tracks: (genre, genre, tracks), most
/// first, then by name.
fn shared_genres(samples: &[Sample], vocabulary: &[String]) -> Vec<(String, String, usize)> {
    let mut pairs: std::collections::BTreeMap<(usize, usize), usize> = Default::default();
    for s in samples {
        for (i, &a) in s.genres.iter().enumerate() {
            for &b in &s.genres[i + 1..] {
                *pairs.entry((a.min(b), a.max(b))).or_default() += 1;
            }
        }
    }
    let mut out: Vec<(String, String, usize)> = pairs
        .into_iter()
        .map(|((a, b), n)| (vocabulary[a].clone(), vocabulary[b].clone(), n))
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.2));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies of one recording (a track and its compilation copy, or the
    /// tester's library of a few songs copied around) never sit on both
    /// sides of a fold: their folders go together, and in a genre split file
    /// by file, a copy goes with its original.
    #[test]
    fn copies_of_a_recording_stay_on_one_side_of_every_fold() {
        let s = |e: f32, genre: usize, group: &str| Sample {
            embedding: vec![e, 1.0],
            genres: vec![genre],
            group: group.into(),
        };
        let samples = [
            s(1.0, 0, "Album"),
            s(2.0, 0, "Album"),
            s(3.0, 0, "Other"),
            s(1.0, 0, "Compilation"), // a copy of Album's first track
            s(4.0, 0, "Compilation"),
            s(5.0, 1, "Flat"),
            s(6.0, 1, "Flat"),
            s(5.0, 1, "Flat"), // a copy in a genre split file by file
        ];
        let (groups, split, copies) = cv_groups(&samples, 2);
        assert_eq!(copies, 2);
        assert_eq!(split, [1]);
        assert_eq!(groups[0], "Album");
        assert_eq!(groups[3], "Album", "the compilation joins the album");
        assert_eq!(groups[4], "Album");
        assert_eq!(groups[2], "Other");
        assert_eq!(groups[7], groups[5], "the copy goes with its original");
        assert_ne!(groups[6], groups[5]);
        let folds = grouped_folds(&groups, &[0, 0, 0, 0, 0, 1, 1, 1], 5);
        assert_eq!(folds[0], folds[3]);
        assert_eq!(folds[5], folds[7]);
    }

    #[test]
    fn a_folder_never_sits_on_both_sides() {
        let groups: Vec<String> = ["a", "a", "a", "b", "b", "c", "d", "d", "e", "f", "f", "f"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let folds = grouped_folds(&groups, &[0; 12], 5);
        for (i, g) in groups.iter().enumerate() {
            for (j, h) in groups.iter().enumerate() {
                if g == h {
                    assert_eq!(folds[i], folds[j], "{g} split across folds");
                }
            }
        }
        assert_eq!(folds.iter().max(), Some(&4));
        // Two albums: two folds, one album in each.
        let two: Vec<String> = ["x", "x", "y", "y"].iter().map(|s| s.to_string()).collect();
        let f = grouped_folds(&two, &[0; 4], 5);
        assert_eq!(f[0], f[1]);
        assert_eq!(f[2], f[3]);
        assert_ne!(f[0], f[2]);
    }

    #[test]
    fn a_genres_small_folders_spread_over_the_folds() {
        // Two albums of six for two genres, then a third genre's six tracks
        // one group each (its one folder split by file): by size alone all
        // six filled the fifth fold, and that genre was never in training there.
        let mut groups = Vec::new();
        let mut strata = Vec::new();
        for (album, genre) in [("b1", 0), ("b2", 0), ("c1", 1), ("c2", 1)] {
            groups.extend(std::iter::repeat_n(album.to_string(), 6));
            strata.extend([genre; 6]);
        }
        for i in 0..6 {
            groups.push(format!("metal\u{0}{i}"));
            strata.push(2);
        }
        let folds = grouped_folds(&groups, &strata, 5);
        let metal_folds: std::collections::BTreeSet<usize> = folds[24..].iter().copied().collect();
        assert_eq!(metal_folds.len(), 5, "{folds:?}");
        // Two albums of one genre never share a fold while another is free of it.
        assert_ne!(folds[0], folds[6]);
        assert_ne!(folds[12], folds[18]);
    }

    #[test]
    fn the_best_score_wins_and_a_tie_goes_to_the_lower_log_loss() {
        // alphas in order: a higher score wins whatever its log-loss
        assert_eq!(
            pick_alpha(&[(0.70, 0.2), (0.80, 3.0), (0.75, 0.1)]),
            Some(1)
        );
        // a tie: the one less sure of its misses
        assert_eq!(
            pick_alpha(&[(0.80, 4.0), (0.80, 0.9), (0.80, 1.2)]),
            Some(1)
        );
        // a full tie keeps the first
        assert_eq!(pick_alpha(&[(0.80, 1.0), (0.80, 1.0)]), Some(0));
        assert_eq!(pick_alpha(&[]), None);
        let s = |g: usize| Sample {
            embedding: vec![0.0],
            genres: vec![g],
            group: String::new(),
        };
        let sure_miss = log_loss(&[s(0)], &[vec![0.0, 1.0]]);
        let soft_miss = log_loss(&[s(0)], &[vec![0.4, 0.6]]);
        assert!(sure_miss > soft_miss && soft_miss > 0.0);
    }

    /// Tracks tagged `Rock; Alternative` count for each: the report names
    /// the pair, the reason a genre mostly tagged beside another reaches no
    /// threshold.
    #[test]
    fn genres_tagged_on_the_same_tracks_are_named() {
        let s = |genres: Vec<usize>| Sample {
            embedding: vec![],
            genres,
            group: String::new(),
        };
        let samples = vec![s(vec![0, 1]), s(vec![1, 0]), s(vec![2]), s(vec![0, 2, 1])];
        let names: Vec<String> = ["Rock", "Alternative", "Jazz"].map(String::from).to_vec();
        let shared = shared_genres(&samples, &names);
        assert_eq!(
            shared,
            [
                ("Rock".to_string(), "Alternative".to_string(), 3),
                ("Rock".into(), "Jazz".into(), 1),
                ("Alternative".into(), "Jazz".into(), 1),
            ]
        );
        let report = CvReport {
            shared,
            ..CvReport::default()
        };
        assert!(
            report
                .render()
                .contains("tagged with both: Rock & Alternative (3), Rock & Jazz (1), Alternative & Jazz (1): such a track counts for each genre"),
            "{}",
            report.render()
        );
    }

    #[test]
    fn thresholds_reach_the_precision_or_are_never() {
        let s = |g: usize| Sample {
            embedding: vec![],
            genres: vec![g],
            group: String::new(),
        };
        let samples = vec![s(0), s(0), s(1), s(0), s(1)];
        let probs = vec![
            vec![0.9, 0.1],
            vec![0.8, 0.2],
            vec![0.7, 0.3],
            vec![0.6, 0.4],
            vec![0.55, 0.45],
        ];
        let t = thresholds(&samples, &probs, 2, 0.9);
        // 0.9, 0.8 right (2/2); 0.7 wrong (2/3 < 0.9): threshold 0.8.
        assert_eq!(t[0], Some(0.8));
        assert_eq!(t[1], None, "class 1 is never the top class");
    }
}
