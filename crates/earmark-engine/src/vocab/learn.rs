//! The whole of `learn` for a library, shared by `earmark learn` and the
//! app's re-learn job: read the genre tags, keep the genres with enough
//! tracks, get the tracks' embeddings (cached or computed), train the head.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use super::embeddings::{EmbeddingTable, Progress};
use super::library::{group_of, vocabulary};
use super::train::{HeadMeta, Sample, TrainOptions, train};
use super::{Head, VocabError};
use crate::classifier::Classifier;
use crate::library::collect_audio;

#[derive(Debug, Clone)]
pub struct LearnOptions {
    /// Keep genres with at least this many tracks.
    pub min_tracks: usize,
    /// Confident suggestions must have been right this often in cross-validation.
    pub precision: f64,
    /// Threads computing missing embeddings.
    pub jobs: usize,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            min_tracks: 5,
            precision: 0.9,
            jobs: 1,
        }
    }
}

/// A trained head and what it was made from.
#[derive(Debug, Clone)]
pub struct Learned {
    pub head: Head,
    /// Audio files found, and those with a kept genre.
    pub files: usize,
    pub tagged: usize,
}

/// Learn the genres of the library in `dirs` with `classifier`'s model.
/// Files that cannot be read are reported to `progress` and left out.
pub fn learn_library(
    classifier: &Classifier,
    dirs: &[PathBuf],
    opts: &LearnOptions,
    table: &mut EmbeddingTable,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<Learned, VocabError> {
    let collected = collect_audio(dirs);
    for e in &collected.errors {
        progress.skipped(e.to_string());
    }
    let raw: Vec<(PathBuf, Vec<String>)> = collected
        .files
        .iter()
        .map(|p| match crate::tags::read_tags(p) {
            Ok(t) => (p.clone(), t.genres),
            Err(e) => {
                progress.skipped(format!("tags: {e}"));
                (p.clone(), Vec::new())
            }
        })
        .collect();
    let first = vocabulary(&raw, opts.min_tracks.max(1));
    // Before the embeddings: they take minutes, and would be thrown away.
    if let Some(why) = first.too_few_genres(raw.len(), opts.min_tracks.max(1)) {
        return Err(VocabError::TooFewGenres(why));
    }
    let files: Vec<PathBuf> = first.files.iter().map(|(p, _)| p.clone()).collect();
    let vectors = table.fill(classifier, &files, opts.jobs, progress, cancel);
    if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(VocabError::Train("cancelled".into()));
    }
    // Files that could not be analysed teach nothing: the vocabulary is
    // counted again over the others, so a genre whose tracks all failed is
    // left out (with its reason) instead of learned from no track.
    let mut embedded: std::collections::HashMap<PathBuf, Vec<f32>> = files
        .into_iter()
        .zip(vectors)
        .filter_map(|(p, v)| Some((p, v?)))
        .collect();
    let analysed: Vec<(PathBuf, Vec<String>)> = raw
        .iter()
        .filter(|(p, _)| embedded.contains_key(p))
        .cloned()
        .collect();
    let mut lib = vocabulary(&analysed, opts.min_tracks.max(1));
    if let Some(why) = lib.too_few_genres(analysed.len(), opts.min_tracks.max(1)) {
        return Err(VocabError::TooFewGenres(why));
    }
    // Only files with a kept genre were analysed: the thin genres of the
    // others are left out too, and said (only those beside a kept genre
    // were: 7 of 30 in a review's library).
    for thin in first.left_out {
        let named = |n: &String| crate::vocab::library::same_genre(n, &thin.0);
        if !lib.left_out.iter().any(|(n, _, _)| named(n))
            && !lib.vocabulary.iter().any(|(_, n, _)| named(n))
        {
            lib.left_out.push(thin);
        }
    }
    lib.left_out
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let samples: Vec<Sample> = lib
        .files
        .iter()
        .filter_map(|(path, keys)| {
            Some(Sample {
                embedding: embedded.remove(path)?,
                genres: keys.iter().filter_map(|k| lib.index(k)).collect(),
                group: group_of(path),
            })
        })
        .collect();
    let model = classifier.model();
    let meta = HeadMeta {
        model_sha256: model.sha256().to_string(),
        model_name: model.card().name.clone(),
        vocabulary: lib.names(),
        left_out: lib.left_out.clone(),
    };
    let train_opts = TrainOptions {
        target_precision: opts.precision.clamp(0.0, 1.0),
        ..TrainOptions::default()
    };
    let head = train(&samples, meta, &train_opts)?;
    Ok(Learned {
        head,
        files: raw.len(),
        tagged: lib.files.len(),
    })
}

/// The model card `learn` writes beside the head (`<head>.md`).
pub fn report_card(head: &Head) -> String {
    format!(
        "# Learned genres\n\nModel: {} (sha256 {}), {}-d embeddings; thresholds for {:.0} % precision.\n\n```\n{}```\n",
        head.model_name,
        &head.model_sha256[..12.min(head.model_sha256.len())],
        head.dim,
        100.0 * head.target_precision,
        head.report.render()
    )
}
