//! `earmark classify`: top-k genres per track as a table, JSON or CSV.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::CliError;
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use crate::audio::AnalysisPlan;
use crate::cache::Cache;
use crate::classifier::Classifier;
use crate::cli::genres::{Genres, Vocabularies};
use crate::cli::output::{printable, progress};
use crate::cli::{fit_columns, jobs_or_default};
use crate::clock::clock;
use crate::jobs::guard_job;
use crate::model::{Prediction, load_model};
use crate::tags::genre_tag_name;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Files or folders (walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print JSON (one object per track, with per-segment probabilities).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV: path,rank,genre,probability.
    #[arg(long)]
    pub csv: bool,
    /// How many genres to list per track, 1–10.
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10))]
    pub top: usize,
    /// Worker threads, 1–256 (default: all cores).
    #[arg(long, value_parser = crate::cli::jobs_range())]
    pub jobs: Option<usize>,
    /// Model: `accurate` (default, musicnn) or `fast` (small distilled CNN, ~20x faster, less accurate),
    /// or a path: a folder with model.json, or an .onnx file.
    #[arg(long, value_name = "accurate|fast|PATH")]
    pub model: Option<PathBuf>,
    /// Excerpts analysed in files longer than 45 s, 1–64.
    #[arg(long, default_value_t = AnalysisPlan::default().windows, value_parser = crate::cli::windows_range())]
    pub windows: usize,
    /// Neither read nor write the result cache ($XDG_CACHE_HOME/earmark/; EARMARK_CACHE_DIR overrides it).
    #[arg(long)]
    pub no_cache: bool,
    /// Answer in the library's learned genres (`mine`, see `earmark learn`) or GTZAN's,
    /// with a confident suggestion or `unsure` (per-genre thresholds for 90 % precision).
    #[arg(long, value_enum)]
    pub genres: Option<Genres>,
    /// Answer with this learned head (a file `earmark learn` saved), whatever the library.
    #[arg(long, value_name = "FILE", conflicts_with = "genres")]
    pub head: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct TrackResult {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Seconds of audio the model heard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysed_s: Option<f64>,
    /// Decoding ended before the end of the file: the result rests on part of it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<Vec<Ranked>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Prediction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With --genres: the confident genre, or `unsure`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

#[derive(Serialize)]
pub struct Ranked {
    pub genre: String,
    pub probability: f32,
}

pub fn run(args: ClassifyArgs) -> Result<ExitCode, CliError> {
    let model = load_model(args.model.as_deref()).map_err(|e| CliError::failed("classify", e))?;
    let plan = AnalysisPlan {
        windows: args.windows.max(1),
        ..AnalysisPlan::default()
    };
    let cache = if args.no_cache {
        None
    } else {
        open_cache_or_warn("earmark classify")
    };
    let classifier = Classifier::new(Arc::new(model), plan, cache);
    let collected = crate::cli::audio_files("classify", &args.paths)?;
    for e in &collected.errors {
        eprintln!("skipped: {}", printable(&e.to_string()));
    }
    let results = classify_all(
        &classifier,
        &collected.files,
        args.top,
        jobs_or_default(args.jobs),
    );
    let mut results = results;
    let mut vocab = match (&args.head, args.genres) {
        (Some(file), _) => {
            let head =
                crate::vocab::store::load(file).map_err(|e| CliError::failed("classify", e))?;
            Some(Vocabularies::fixed(head, classifier.model()))
        }
        (None, Some(choice)) => Some(Vocabularies::new(choice, classifier.model())),
        (None, None) => None,
    };
    if let Some(vocab) = &mut vocab {
        answer_in(&mut results, vocab, args.top);
    }
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &results)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out))
    } else if args.csv {
        write_csv(&mut out, &results)
    } else {
        write_table(&mut out, &results)
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("earmark classify: {e}");
    }
    if !args.json {
        for r in &results {
            if let Some(e) = &r.error {
                eprintln!("error: {}", printable(e));
            }
            for w in &r.warnings {
                eprintln!("warning: {}: {}", printable(&r.path), printable(w));
            }
            // the table says it in brackets; stderr says why, like any other warning
            if r.partial && r.warnings.is_empty() {
                let note = crate::classifier::partial_note(r.analysed_s, r.duration_s);
                eprintln!(
                    "warning: {}: {note} (the rest could not be decoded)",
                    printable(&r.path)
                );
            }
        }
    }
    // A named path that is not a regular file failed too (it is not in `results`).
    let failed = failed + collected.errors.len();
    let total = results.len() + collected.errors.len();
    if total == 0 || failed == total {
        if results.iter().all(|r| r.error.is_some()) {
            eprintln!(
                "earmark classify: no audio files found (none of the {} files could be decoded)",
                results.len()
            );
        }
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// Replace each result's ranking by the chosen vocabulary's, with a suggestion
/// (`unsure` where no genre clears its threshold).
pub fn answer_in(results: &mut [TrackResult], vocab: &mut Vocabularies, top: usize) {
    for r in results.iter_mut() {
        let Some(prediction) = &r.prediction else {
            continue;
        };
        match vocab.answer(Path::new(&r.path), prediction) {
            Ok(a) => {
                r.top = Some(
                    a.ranked
                        .into_iter()
                        .take(top)
                        .map(|(genre, probability)| Ranked { genre, probability })
                        .collect(),
                );
                r.suggestion = Some(a.suggestion.label().to_string());
            }
            Err(e) => {
                r.top = None;
                r.prediction = None;
                r.error = Some(e);
            }
        }
    }
}

/// Classify files in parallel; results in input order, failures included.
pub fn classify_all(
    classifier: &Classifier,
    files: &[PathBuf],
    top: usize,
    jobs: usize,
) -> Vec<TrackResult> {
    let bar = progress(files.len(), "classify");
    if files.len() < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let one = |path: &PathBuf| {
        let r = guard_job(|| classify_one(classifier, path, top)).unwrap_or_else(|reason| {
            TrackResult::failed(path, format!("{}: {reason}", path.display()))
        });
        bar.inc(1);
        r
    };
    let results = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(|| files.par_iter().map(one).collect()),
        Err(_) => files.iter().map(one).collect(),
    };
    bar.finish_and_clear();
    results
}

fn classify_one(classifier: &Classifier, path: &Path, top: usize) -> TrackResult {
    let name = path.display().to_string();
    match classifier.classify(path) {
        Ok(a) => TrackResult {
            path: name,
            duration_s: Some(a.duration_s),
            analysed_s: a.analysed_s,
            partial: a.partial,
            warnings: a.warnings.clone(),
            top: Some(
                a.prediction
                    .top(top)
                    .into_iter()
                    .map(|(g, p)| Ranked {
                        genre: g.to_string(),
                        probability: p,
                    })
                    .collect(),
            ),
            prediction: Some(a.prediction),
            error: None,
            suggestion: None,
        },
        Err(e) => TrackResult::failed(path, e.to_string()),
    }
}

impl TrackResult {
    fn failed(path: &Path, error: String) -> TrackResult {
        TrackResult {
            path: path.display().to_string(),
            duration_s: None,
            analysed_s: None,
            partial: false,
            warnings: Vec::new(),
            top: None,
            prediction: None,
            error: Some(error),
            suggestion: None,
        }
    }
}

fn write_table(out: &mut impl Write, results: &[TrackResult]) -> std::io::Result<()> {
    let width = results
        .iter()
        .map(|r| unicode_width::UnicodeWidthStr::width(printable(&r.path).as_str()))
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    writeln!(
        out,
        "{}  {:>6}  genres",
        fit_columns("file", width),
        "length"
    )?;
    for r in results {
        let Some(top) = &r.top else { continue };
        let genres: Vec<String> = top
            .iter()
            .map(|g| {
                format!(
                    "{} {:>3.0}%",
                    genre_tag_name(&g.genre),
                    g.probability * 100.0
                )
            })
            .collect();
        let said = r
            .suggestion
            .as_ref()
            .map(|s| format!("{s}: "))
            .unwrap_or_default();
        let mut line = format!(
            "{}  {:>6}  {said}{}",
            fit_columns(&printable(&r.path), width),
            r.duration_s.map(clock).unwrap_or_default(),
            genres.join("  ")
        );
        if r.partial {
            let note = crate::classifier::partial_note(r.analysed_s, r.duration_s);
            line.push_str(&format!("  ({note})"));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn write_csv(out: &mut impl Write, results: &[TrackResult]) -> std::io::Result<()> {
    writeln!(out, "path,rank,genre,probability")?;
    for r in results {
        let path = csv_field(&printable(&r.path));
        match (&r.top, &r.error) {
            (Some(top), _) => {
                for (i, g) in top.iter().enumerate() {
                    writeln!(out, "{path},{},{},{:.4}", i + 1, g.genre, g.probability)?;
                }
            }
            (None, Some(e)) => writeln!(out, "{path},,error,{}", csv_field(&printable(e)))?,
            _ => {}
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The default result cache, or none (with a warning) when it cannot be opened:
/// a cache only saves time, so its trouble never stops the work.
pub fn open_cache_or_warn(who: &str) -> Option<Cache> {
    match Cache::open_default() {
        Ok(c) => {
            for w in c.warnings() {
                eprintln!("{who}: warning: {w}");
            }
            Some(c)
        }
        Err(e) => {
            eprintln!("{who}: warning: working without the result cache: {e}");
            None
        }
    }
}
