//! Command line: clap definitions and the headless commands. Logic the TUI
//! needs too lives in the engine, not here.

pub mod classify;
mod eval;
mod features;
pub mod genres;
mod info;
mod learn;
pub mod output;
mod similar;
pub mod tag;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "earmark",
    version,
    about = "Tag a local music library by genre, from the audio itself",
    long_about = "Tag a local music library by genre, from the audio itself.\n\n\
                  Without a command, opens the terminal app on DIR (default: ./demo when run \
                  from the repository, else the current directory)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Folder to browse in the terminal app.
    pub dir: Option<PathBuf>,

    /// Colour theme: a name from themes/ (dark, light, high-contrast, basic16) or a path to a .toml file.
    #[arg(long, global = true)]
    pub theme: Option<String>,

    /// Never open an audio device (silent mode).
    #[arg(long, global = true)]
    pub no_audio: bool,

    /// Terminal app: keep classification results in memory only (neither read nor write the cache).
    #[arg(long)]
    pub no_cache: bool,

    /// Terminal app: the evaluation report to show (from `earmark eval DIR --json`); default: the model card's.
    #[arg(long, value_name = "FILE")]
    pub eval_report: Option<PathBuf>,

    /// Terminal app: the model, `accurate` (default) or `fast`, or a path (folder with model.json, or .onnx).
    #[arg(long, value_name = "accurate|fast|PATH")]
    pub model: Option<PathBuf>,

    /// Terminal app: classification workers, 1–256 (default: cores − 1, at least 1).
    #[arg(long, value_name = "N", value_parser = jobs_range())]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show container, codec, duration, sample rate, channels and tags of audio files.
    Info(info::InfoArgs),
    /// Compute log-mel features for training (arrays + index readable with numpy alone).
    Features(features::FeaturesArgs),
    /// Classify tracks: top genres with probabilities, as a table, JSON or CSV.
    Classify(classify::ClassifyArgs),
    /// Score the model on a labelled folder (<genre>/<file>): accuracy, per-class figures, confusion matrix.
    Eval(eval::EvalArgs),
    /// Write genre tags safely (verified temp copy + atomic rename), with an undo journal.
    Tag(tag::TagArgs),
    /// Learn the library's own genres from its tagged tracks (a head over the model's embeddings).
    Learn(learn::LearnArgs),
    /// List the library's tracks that sound most like FILE (cosine similarity of embeddings).
    Similar(similar::SimilarArgs),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Info(args)) => info::run(args),
        Some(Command::Features(args)) => features::run(args),
        Some(Command::Classify(args)) => classify::run(args),
        Some(Command::Eval(args)) => eval::run(args),
        Some(Command::Tag(args)) => tag::run(args),
        Some(Command::Learn(args)) => learn::run(args),
        Some(Command::Similar(args)) => similar::run(args),
        None => crate::tui::run(crate::tui::TuiOptions {
            dir: cli.dir,
            theme: cli.theme,
            no_audio: cli.no_audio,
            no_cache: cli.no_cache,
            eval_report: cli.eval_report,
            model: cli.model,
            jobs: cli.jobs,
        }),
    }
}

/// `--jobs`: 1–256 workers, else a usage error (exit 2).
pub fn jobs_range() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..=256)
}

/// `--windows`: 1–64 excerpts; more would only cost time (each is 6 s).
pub fn windows_range() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..=64)
}

/// A worker count: the flag, or all cores.
pub fn jobs_or_default(jobs: Option<usize>) -> usize {
    jobs.filter(|&j| j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
