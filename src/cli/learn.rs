//! `earmark learn [DIR…]`: learn the library's own genres from its tags and
//! the model's embeddings; print the cross-validation report; save the head.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use rayon::prelude::*;

use crate::audio::AnalysisPlan;
use crate::classifier::Classifier;
use crate::cli::classify::open_cache_or_warn;
use crate::cli::jobs_or_default;
use crate::cli::output::progress;
use crate::library::collect_audio;
use crate::model::load_model;
use crate::vocab::library::{group_of, vocabulary};
use crate::vocab::{HeadMeta, Sample, TrainOptions, store, train};

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Library folders (default: the current directory). The first is the root the head belongs to.
    pub dirs: Vec<PathBuf>,
    /// Keep genres with at least this many tracks.
    #[arg(long, default_value_t = 5)]
    pub min_tracks: usize,
    /// Confident suggestions must have been right this often in cross-validation (0–1).
    #[arg(long, default_value_t = 0.9)]
    pub precision: f64,
    #[command(flatten)]
    pub embed: EmbeddingOpts,
    /// Save the head here instead of under $XDG_DATA_HOME/earmark/vocab/.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// How `learn` and `similar` compute the embeddings they need.
#[derive(Debug, Args)]
pub struct EmbeddingOpts {
    /// Model whose embeddings to use: `accurate` (default), `fast`, or a path.
    #[arg(long, value_name = "accurate|fast|PATH")]
    pub model: Option<PathBuf>,
    /// Excerpts analysed in files longer than 45 s.
    #[arg(long, default_value_t = AnalysisPlan::default().windows, value_parser = crate::cli::windows_range())]
    pub windows: usize,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = crate::cli::jobs_range())]
    pub jobs: Option<usize>,
}

/// A classifier whose model has embeddings, with the default cache.
pub fn embedding_classifier(
    who: &str,
    model: Option<&Path>,
    windows: usize,
) -> Result<Classifier, String> {
    let model = load_model(model).map_err(|e| e.to_string())?;
    if model.card().embedding.is_none() {
        return Err(format!(
            "model {} has no embeddings (its card declares no `embedding` output)",
            model.source().display()
        ));
    }
    let plan = AnalysisPlan {
        windows: windows.max(1),
        ..AnalysisPlan::default()
    };
    Ok(Classifier::new(
        Arc::new(model),
        plan,
        open_cache_or_warn(who),
    ))
}

/// Embeddings of `files` (cached or computed, in parallel, with progress);
/// a file that fails is reported on stderr and left out.
pub fn embeddings(
    classifier: &Classifier,
    files: &[PathBuf],
    jobs: usize,
) -> Vec<Option<Vec<f32>>> {
    let bar = progress(files.len(), "embeddings");
    let one = |path: &PathBuf| {
        let r = match classifier.classify(path) {
            Ok(c) => c.prediction.embedding,
            Err(e) => {
                bar.suspend(|| eprintln!("skipped: {e}"));
                None
            }
        };
        bar.inc(1);
        r
    };
    let out = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(|| files.par_iter().map(one).collect()),
        Err(_) => files.iter().map(one).collect(),
    };
    bar.finish_and_clear();
    out
}

pub fn run(args: LearnArgs) -> ExitCode {
    crate::cli::error::done("learn", learn(args))
}

fn learn(args: LearnArgs) -> Result<(), String> {
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.dirs.clone()
    };
    let classifier = embedding_classifier(
        "earmark learn",
        args.embed.model.as_deref(),
        args.embed.windows,
    )?;
    let jobs = jobs_or_default(args.embed.jobs);
    let collected = collect_audio(&dirs);
    for e in &collected.errors {
        eprintln!("skipped: {e}");
    }
    let raw: Vec<(PathBuf, Vec<String>)> = collected
        .files
        .par_iter()
        .map(|p| match crate::tags::read_tags(p) {
            Ok(t) => (p.clone(), t.genres),
            Err(e) => {
                eprintln!("skipped tags: {e}");
                (p.clone(), Vec::new())
            }
        })
        .collect();
    let lib = vocabulary(&raw, args.min_tracks.max(1));
    eprintln!(
        "{} files, {} with a kept genre; {} genres kept, {} left out",
        raw.len(),
        lib.files.len(),
        lib.vocabulary.len(),
        lib.left_out.len()
    );
    let files: Vec<PathBuf> = lib.files.iter().map(|(p, _)| p.clone()).collect();
    let vectors = embeddings(&classifier, &files, jobs);
    let samples: Vec<Sample> = lib
        .files
        .iter()
        .zip(vectors)
        .filter_map(|((path, keys), v)| {
            Some(Sample {
                embedding: v?,
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
    let opts = TrainOptions {
        target_precision: args.precision.clamp(0.0, 1.0),
        ..TrainOptions::default()
    };
    let head = train(&samples, meta, &opts).map_err(|e| e.to_string())?;
    print!("{}", head.report.render());
    let path = match &args.out {
        Some(p) => p.clone(),
        None => store::head_path(&dirs[0], &model.card().name).map_err(|e| e.to_string())?,
    };
    store::save(&head, &path).map_err(|e| e.to_string())?;
    let md = path.with_extension("md");
    let card = format!(
        "# Learned genres\n\nModel: {} (sha256 {}), {}-d embeddings; thresholds for {:.0} % precision.\n\n```\n{}```\n",
        head.model_name,
        &head.model_sha256[..12.min(head.model_sha256.len())],
        head.dim,
        100.0 * head.target_precision,
        head.report.render()
    );
    std::fs::write(&md, card).map_err(|e| format!("{}: {e}", md.display()))?;
    eprintln!("saved {} (report: {})", path.display(), md.display());
    Ok(())
}
