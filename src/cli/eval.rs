//! `earmark eval`: score the model on a labelled folder (`<genre>/<file>`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;

use crate::cli::CliError;
use crate::cli::output::printable;
use clap::Args;

use crate::audio::AnalysisPlan;
use crate::classifier::Classifier;
use crate::cli::classify::classify_all;
use crate::cli::jobs_or_default;
use crate::eval::{EvalReport, FileError, Scored};
use crate::library::label_from_parent;
use crate::model::load_model;
use crate::tags::genre_tag_name;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
                  earmark eval ../shared/gtzan/valid\n  \
                  earmark eval gtzan/genres --split test.txt --json report.json   (the app shows it: \
                  earmark --eval-report report.json)\n\n\
                  Exit codes: 0 evaluated, 1 no clip usable or a failure, 2 a usage error.")]
pub struct EvalArgs {
    /// Folder laid out `<genre>/<file>` (GTZAN style); several may be given.
    // Checked in `run`, not by clap: `eval --json DIR` can then say that
    // --json took DIR as its file.
    pub dirs: Vec<PathBuf>,
    /// Model: `accurate` (default, musicnn) or `fast` (small distilled CNN, ~20x faster, less accurate),
    /// or a path: a folder with model.json, or an .onnx file.
    #[arg(long, value_name = "accurate|fast|PATH")]
    pub model: Option<PathBuf>,
    /// Only score the clips named in this list (one `<genre>/<name>.<ext>` per
    /// line, as GTZAN's split files; matched on folder + name, any extension).
    #[arg(long, value_name = "LIST")]
    pub split: Option<PathBuf>,
    /// Write the full report as JSON (the evaluation view and model card read
    /// it): to OUT, or to stdout when no file is given. Put folders first.
    #[arg(long, value_name = "OUT", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// Worker threads, 1–256 (default: all cores).
    #[arg(long, value_parser = crate::cli::jobs_range())]
    pub jobs: Option<usize>,
    /// Score a learned head (`earmark learn --out FILE`, or one under
    /// $XDG_DATA_HOME/earmark/vocab/) instead of the model's GTZAN head; folders
    /// match its genres in any spelling.
    #[arg(long, value_name = "FILE")]
    pub head: Option<PathBuf>,
}

/// `earmark eval: …`, exit 1.
fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::failed("eval", e)
}

#[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
pub fn run(args: EvalArgs) -> Result<ExitCode, CliError> {
    if args.dirs.is_empty() {
        let msg = match &args.json {
            Some(out) if out.is_dir() => format!(
                "no folder to evaluate: --json took {0} as the file to write (put folders first: earmark eval {0} --json [OUT])",
                out.display()
            ),
            _ => "give a folder to evaluate (earmark eval DIR...; see --help)".to_string(),
        };
        return Err(CliError::usage("eval", msg));
    }
    crate::cli::error::check_model("eval", args.model.as_deref())?;
    let model = load_model(args.model.as_deref()).map_err(failed)?;
    let head = args
        .head
        .as_deref()
        .map(crate::vocab::store::load)
        .transpose()
        .map_err(failed)?;
    if let Some(h) = &head
        && !model.embeds_like(&h.model_sha256)
    {
        return Err(failed(format!(
            "the head was trained on model {} (sha256 {}), not {}",
            h.model_name,
            &h.model_sha256[..12.min(h.model_sha256.len())],
            model.source().display()
        )));
    }
    let labels = head
        .as_ref()
        .map_or_else(|| model.labels().to_vec(), |h| h.vocabulary.clone());
    let wanted = args
        .split
        .as_deref()
        .map(read_split)
        .transpose()
        .map_err(failed)?;
    let mut collected = crate::cli::audio_files("eval", &args.dirs, crate::cli::Missing::Stops)?;
    if let Some(wanted) = &wanted {
        collected.files.retain(|f| wanted.contains(&clip_id(f)));
        if collected.files.is_empty() {
            let listed = match wanted.len() {
                1 => "the 1 clip in the split list was not".to_string(),
                n => format!("none of the {n} clips in the split list were"),
            };
            return Err(failed(format!(
                "{listed} found under {}",
                args.dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // a mistyped or stale line scores nothing: said, not silently dropped
        let found: HashSet<String> = collected.files.iter().map(|f| clip_id(f)).collect();
        let unmatched = wanted.iter().filter(|id| !found.contains(*id)).count();
        if unmatched > 0 {
            eprintln!(
                "earmark eval: warning: {} of the split list matched no clip here",
                crate::text::plural(unmatched, "line")
            );
        }
    }
    let mut errors: Vec<FileError> = collected
        .errors
        .iter()
        .map(|e| FileError {
            path: e.path.display().to_string(),
            error: e.reason.clone(),
        })
        .collect();
    let mut files = Vec::new();
    let mut truths = Vec::new();
    for f in collected.files {
        let label = label_from_parent(&f).unwrap_or_default();
        let found = match &head {
            Some(_) => labels
                .iter()
                .position(|l| crate::vocab::library::same_genre(l, &label)),
            None => label_index(&labels, &label),
        };
        match found {
            Some(i) => {
                files.push(f);
                truths.push(i);
            }
            None => errors.push(FileError {
                path: f.display().to_string(),
                error: format!("folder '{label}' is not one of the model's genres"),
            }),
        }
    }
    if files.is_empty() {
        return Err(failed(format!(
            "no genre folders in {} (lay clips out as <genre>/<file>, e.g. Rock/song.mp3; genres: {})",
            crate::cli::list_paths(&args.dirs),
            labels
                .iter()
                .map(|l| if head.is_some() {
                    l.clone()
                } else {
                    genre_tag_name(l)
                })
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // No cache: an evaluation measures the model now, end to end.
    let model = Arc::new(model);
    let classifier = Classifier::new(model.clone(), AnalysisPlan::default(), None);
    let results = classify_all(&classifier, &files, 1, jobs_or_default(args.jobs));
    let mut scored = Vec::new();
    for (r, truth) in results.into_iter().zip(truths) {
        match (r.prediction, r.error) {
            (Some(p), _) => {
                let probs = match (&head, &p.embedding) {
                    (None, _) => p.probs,
                    (Some(h), Some(e)) => h.probs(e).unwrap_or_default(),
                    (Some(_), None) => Vec::new(),
                };
                let Some(&best) = crate::model::top_k(&probs, 1).first() else {
                    errors.push(FileError {
                        path: r.path.path,
                        error: "no embedding for the learned head".into(),
                    });
                    continue;
                };
                let p = crate::model::Prediction { probs, ..p };
                scored.push(Scored {
                    path: r.path.path,
                    truth,
                    predicted: best,
                    confidence: p.probs[best],
                });
            }
            // The classifier's message names the file already.
            (None, e) => errors.push(FileError {
                error: crate::audio::without_path(Path::new(&r.path.path), e.unwrap_or_default()),
                path: r.path.path,
            }),
        }
    }
    let dataset = args
        .dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let scored_model = match &args.head {
        Some(h) => format!(
            "{} + learned head {}",
            model.source().display(),
            h.display()
        ),
        None => model.source().display().to_string(),
    };
    let report = EvalReport::build(
        scored_model,
        model.sha256().to_string(),
        dataset,
        labels,
        &scored,
        errors,
    );
    match args.json.as_deref() {
        Some(out) if out == Path::new("-") => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark eval: {e}"),
        },
        Some(out) => {
            // Written before the table: a reader that stops early (`| head`)
            // must not cost the minutes of work in it.
            let mut saved = report.clone();
            // Paths relative to the report: it plays from any working directory.
            saved.relative_to_report(out);
            let written = serde_json::to_string_pretty(&saved)
                .map_err(std::io::Error::other)
                .and_then(|s| std::fs::write(out, s + "\n"));
            written.map_err(|e| failed(format!("cannot write {}: {e}", out.display())))?;
            print_report(&report, head.is_some());
            eprintln!("report written to {}", out.display());
        }
        None => print_report(&report, head.is_some()),
    }
    if head.is_none() && fit_on_these_clips(args.model.as_deref(), &report) {
        eprintln!(
            "note: the shipped models were fit on GTZAN's train and valid splits: on their clips \
             this is not a held-out score (the README's model table has the cross-validated one)"
        );
    }
    Ok(if report.n == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether a shipped model (`accurate`, `fast`) is scored on GTZAN-named
/// clips (`genre.000NN.ext`): those of train and valid it was fit on, so the
/// score says so (a held-out split has the same names, hence "on their clips").
fn fit_on_these_clips(model: Option<&Path>, report: &EvalReport) -> bool {
    let shipped = model.is_none_or(|m| m == Path::new("accurate") || m == Path::new("fast"));
    shipped && report.scores_gtzan_clips()
}

/// The report as text; a learned head's genres (`own`) as the library spells
/// them, GTZAN's labels as tag names.
fn print_report(r: &EvalReport, own: bool) {
    // every name printed here may come from a file or folder name: escaped
    let genre_tag_name = |l: &str| {
        printable(&if own {
            l.to_string()
        } else {
            genre_tag_name(l)
        })
    };
    println!("model     {}", printable(&r.model));
    println!("dataset   {}", printable(&r.dataset));
    println!("tracks    {} scored, {} skipped", r.n, r.errors.len());
    println!(
        "accuracy  {:.3}   balanced {:.3}   macro F1 {:.3}",
        r.accuracy, r.balanced_accuracy, r.macro_f1
    );
    println!();
    println!(
        "{:<10} {:>9} {:>6} {:>6} {:>7}",
        "genre", "precision", "recall", "F1", "support"
    );
    for (i, c) in r.per_class.iter().enumerate() {
        let name = genre_tag_name(&c.label);
        if c.support == 0 {
            // No clips of this genre: its recall and F1 are not zero, they are
            // unknown; its precision is 0 when other clips were called by it.
            let precision = if r.predicted_as(i) > 0 {
                "0.000"
            } else {
                "–"
            };
            println!("{name:<10} {precision:>9} {:>6} {:>6} {:>7}", "–", "–", 0);
        } else {
            println!(
                "{name:<10} {:>9.3} {:>6.3} {:>6.3} {:>7}",
                c.precision, c.recall, c.f1, c.support
            );
        }
    }
    println!();
    println!("confusion (rows: truth, columns: predicted)");
    let short: Vec<String> = r
        .labels
        .iter()
        .map(|l| genre_tag_name(l).chars().take(4).collect())
        .collect();
    print!("{:<10}", "");
    for s in &short {
        print!("{s:>5}");
    }
    println!();
    for (label, row) in r.labels.iter().zip(&r.confusion) {
        print!("{:<10}", genre_tag_name(label));
        for v in row {
            if *v == 0 {
                print!("{:>5}", "·");
            } else {
                print!("{v:>5}");
            }
        }
        println!();
    }
    let wrong: Vec<_> = r.files.iter().filter(|f| f.truth != f.predicted).collect();
    if !wrong.is_empty() {
        println!();
        println!("misclassified ({})", wrong.len());
        for f in wrong {
            println!(
                "  {:<10} -> {:<10} {:>4.0}%  {}",
                genre_tag_name(&f.truth),
                genre_tag_name(&f.predicted),
                f.confidence * 100.0,
                printable(&f.path)
            );
        }
    }
    for e in &r.errors {
        eprintln!("skipped: {}: {}", printable(&e.path), printable(&e.error));
    }
}

/// The model label a genre folder stands for: its id (`hiphop`) or the name
/// earmark writes (`Hip-Hop`), in any case, with or without punctuation.
fn label_index(labels: &[String], folder: &str) -> Option<usize> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let want = norm(folder);
    if want.is_empty() {
        return None;
    }
    labels
        .iter()
        .position(|l| norm(l) == want || norm(&genre_tag_name(l)) == want)
}

/// `<genre>/<name without extension>`: how split lists and files are matched.
fn clip_id(path: &Path) -> String {
    let parent = label_from_parent(path).unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{parent}/{stem}")
}

fn read_split(list: &Path) -> Result<HashSet<String>, String> {
    let text =
        crate::small_file::read_text_at_most(list, crate::small_file::DATA_LIMIT).map_err(|e| {
            format!(
                "cannot read split list {}: {}",
                list.display(),
                crate::library::io_reason(&e)
            )
        })?;
    let ids: HashSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| clip_id(Path::new(l)))
        .collect();
    if ids.is_empty() {
        return Err(format!("split list {} names no clips", list.display()));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::label_index;

    #[test]
    fn genre_folders_in_either_spelling() {
        let labels: Vec<String> = ["blues", "hiphop", "rock"].map(String::from).to_vec();
        for (folder, want) in [
            ("rock", Some(2)),
            ("Rock", Some(2)),
            ("Hip-Hop", Some(1)),
            ("hip hop", Some(1)),
            ("hiphop", Some(1)),
            ("polka", None),
            ("", None),
            ("--", None),
        ] {
            assert_eq!(label_index(&labels, folder), want, "{folder}");
        }
    }
}
