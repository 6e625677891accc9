//! `earmark eval`: score the model on a labelled folder (`<genre>/<file>`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::audio::AnalysisPlan;
use crate::cli::classify::classify_all;
use crate::cli::jobs_or_default;
use crate::eval::{EvalReport, FileError, Scored};
use crate::library::{collect_audio, label_from_parent};
use crate::model::load_model;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folder laid out `<genre>/<file>` (GTZAN style); several may be given.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Model: `fast` (default, small distilled CNN) or `accurate` (musicnn, ~40x slower),
    /// or a path: a folder with model.json, or an .onnx file.
    #[arg(long, value_name = "fast|accurate|PATH")]
    pub model: Option<PathBuf>,
    /// Print the full report as JSON (the evaluation view and model card read it).
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
}

pub fn run(args: EvalArgs) -> ExitCode {
    let model = match load_model(args.model.as_deref()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("earmark eval: {e}");
            return ExitCode::FAILURE;
        }
    };
    let labels = model.labels().to_vec();
    let collected = collect_audio(&args.dirs);
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
        match labels.iter().position(|l| *l == label) {
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
    let results = classify_all(
        &model,
        &files,
        &AnalysisPlan::default(),
        1,
        jobs_or_default(args.jobs),
    );
    let mut scored = Vec::new();
    for (r, truth) in results.into_iter().zip(truths) {
        match (r.prediction, r.error) {
            (Some(p), _) => {
                let best = crate::model::top_k(&p.probs, 1)[0];
                scored.push(Scored {
                    path: r.path,
                    truth,
                    predicted: best,
                    confidence: p.probs[best],
                });
            }
            (None, e) => errors.push(FileError {
                path: r.path,
                error: e.unwrap_or_default(),
            }),
        }
    }
    let dataset = args
        .dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let report = EvalReport::build(
        model.source().display().to_string(),
        model.sha256().to_string(),
        dataset,
        labels,
        &scored,
        errors,
    );
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark eval: {e}"),
        }
    } else {
        print_report(&report);
    }
    if report.n == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_report(r: &EvalReport) {
    println!("model     {}", r.model);
    println!("dataset   {}", r.dataset);
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
    for c in &r.per_class {
        println!(
            "{:<10} {:>9.3} {:>6.3} {:>6.3} {:>7}",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    println!();
    println!("confusion (rows: truth, columns: predicted)");
    let short: Vec<String> = r
        .labels
        .iter()
        .map(|l| l.chars().take(4).collect())
        .collect();
    print!("{:<10}", "");
    for s in &short {
        print!("{s:>5}");
    }
    println!();
    for (label, row) in r.labels.iter().zip(&r.confusion) {
        print!("{label:<10}");
        for v in row {
            if *v == 0 {
                print!("{:>5}", "·");
            } else {
                print!("{v:>5}");
            }
        }
        println!();
    }
    for e in &r.errors {
        eprintln!("skipped: {}: {}", e.path, e.error);
    }
}
