//! Command line: clap definitions and the headless commands. Logic the TUI
//! needs too lives in the engine, not here.

pub mod classify;
pub mod error;
mod eval;
mod features;
pub mod genres;
mod info;
mod learn;
pub mod output;
mod path_list;
mod similar;
pub mod tag;

use std::path::PathBuf;
use std::process::ExitCode;

pub use error::CliError;

use crate::library::{Collected, collect_audio, io_reason};

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "earmark",
    version,
    about = "Tag a local music library by genre, from the audio itself",
    long_about = "Tag a local music library by genre, from the audio itself.\n\n\
                  Without a command, opens the terminal app on DIR (default: ./demo when run \
                  from the repository, else the current directory); on an audio file, opens its \
                  folder with the file selected."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Folder to browse in the terminal app (or an audio file: its folder, the file selected).
    pub dir: Option<PathBuf>,

    /// Terminal app: colour theme, a name from themes/ (dark, light, high-contrast, basic16) or a path to a .toml file.
    #[arg(long)]
    pub theme: Option<String>,

    /// Terminal app: never open an audio device (silent mode).
    #[arg(long)]
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

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Info(_) => "info",
            Command::Features(_) => "features",
            Command::Classify(_) => "classify",
            Command::Eval(_) => "eval",
            Command::Tag(_) => "tag",
            Command::Learn(_) => "learn",
            Command::Similar(_) => "similar",
        }
    }
}

impl Cli {
    /// The terminal app's options given, as typed (`--model` …).
    fn app_options(&self) -> Vec<&'static str> {
        [
            ("--theme", self.theme.is_some()),
            ("--no-audio", self.no_audio),
            ("--no-cache", self.no_cache),
            ("--eval-report", self.eval_report.is_some()),
            ("--model", self.model.is_some()),
            ("--jobs", self.jobs.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }
}

/// `earmark --model fast classify x.mp3`: the option belongs to the terminal
/// app and would be silently ignored; say so instead of running without it.
fn misplaced_app_options(cli: &Cli) -> Option<CliError> {
    let command = cli.command.as_ref()?.name();
    let given = cli.app_options();
    (!given.is_empty()).then(|| {
        CliError::usage(
            command,
            format!(
                "{} before `{command}` {} for the terminal app only; a command's options go after it (earmark {command} --help)",
                given.join(", "),
                if given.len() == 1 { "is" } else { "are" }
            ),
        )
    })
}

/// `earmark clasify lib`: clap reads the typo as the folder and then
/// complains of `lib` (`unexpected argument 'lib' found`), hiding the
/// typo. A first argument that is a word, not a path that exists and not a
/// command, is said as such here, with the command it is closest to.
pub fn mistyped_command(args: &[std::ffi::OsString]) -> Option<String> {
    let word = args.get(1)?.to_str()?;
    if word.starts_with('-') || std::fs::symlink_metadata(word).is_ok() {
        return None;
    }
    not_a_command(word)
}

/// What to say of `word`, given where a folder or a command goes and found
/// as neither (the app's folder that does not exist, too): a plain word is
/// said not to be a command, with the command it is closest to; None for a
/// command, or for anything with a path's characters in it.
pub fn not_a_command(word: &str) -> Option<String> {
    use clap::CommandFactory;
    let is_word = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic() || c == '-');
    if !is_word {
        return None;
    }
    let mut app = Cli::command();
    app.build(); // with clap's own `help`
    let names: Vec<&str> = app.get_subcommands().map(clap::Command::get_name).collect();
    if names.contains(&word) {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let closest = names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(&lower, n), *n))
        .filter(|(d, n)| *d <= 2 && *d < n.len())
        .min();
    Some(match closest {
        Some((_, name)) => format!(
            "{word}: not a command, nor a folder here; did you mean `earmark {name}`? \
             (earmark --help lists the commands)"
        ),
        None => format!("{word}: no such folder, and not a command (earmark --help lists them)"),
    })
}

pub fn run(cli: Cli) -> ExitCode {
    if let Some(e) = misplaced_app_options(&cli) {
        return error::exit_code(Err(e));
    }
    match cli.command {
        Some(Command::Info(mut args)) => match args.list.append_to("info", &mut args.files) {
            Ok(()) => info::run(args),
            Err(e) => error::exit_code(Err(e)),
        },
        Some(Command::Features(mut args)) => {
            match args.list.append_to("features", &mut args.paths) {
                Ok(()) => features::run(args),
                Err(e) => error::exit_code(Err(e)),
            }
        }
        Some(Command::Classify(mut args)) => error::exit_code(
            args.list
                .append_to("classify", &mut args.paths)
                .and_then(|()| classify::run(args)),
        ),
        Some(Command::Eval(args)) => error::exit_code(eval::run(args)),
        Some(Command::Tag(mut args)) => error::exit_code(
            args.list
                .append_to("tag", &mut args.paths)
                .and_then(|()| tag::run(args)),
        ),
        Some(Command::Learn(args)) => learn::run(args),
        Some(Command::Similar(args)) => similar::run(args),
        // a mistyped --model is a usage error here too, not an app that
        // opens unable to classify anything
        None if let Some(e) = crate::model::missing_model(cli.model.as_deref()) => {
            eprintln!("earmark: {e}");
            ExitCode::from(2)
        }
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

/// What a command does with a path named that does not exist.
#[derive(Clone, Copy, PartialEq)]
pub enum Missing {
    /// Stop before any work: a dataset (`features`, `eval`) must not come
    /// out short of a file because of a typo.
    Stops,
    /// Say it in its line and go on with the rest, as `tag` and `info` do
    /// (`classify`: a list from `find` may name a file deleted since).
    Skipped,
}

/// The audio files under `paths` for `earmark WHO`. A path that does not
/// exist is said (a typo must not look like an empty library), and
/// finding nothing to work on is an error.
pub fn audio_files(who: &str, paths: &[PathBuf], missing: Missing) -> Result<Collected, CliError> {
    if missing == Missing::Stops {
        let mut any = false;
        for p in paths {
            if let Err(e) = std::fs::metadata(p) {
                eprintln!("earmark {who}: {}: {}", p.display(), io_reason(&e));
                any = true;
            }
        }
        if any {
            return Err(CliError::Reported);
        }
    }
    let collected = collect_audio(paths);
    // Only files named on the command line, none of them regular (a FIFO):
    // each is an error in one line, as `info` and `tag` say it, not a skip
    // followed by "no audio files found".
    let all_named = paths.iter().all(|p| !p.is_dir())
        && paths
            .iter()
            .all(|p| collected.errors.iter().any(|e| e.path == *p));
    if collected.files.is_empty() && all_named {
        for e in &collected.errors {
            eprintln!("earmark: {}", crate::cli::output::printable(&e.to_string()));
        }
        return Err(CliError::Reported);
    }
    if collected.files.is_empty() {
        for e in collected.errors_beside_none_found(paths) {
            say_skipped(e);
        }
        return Err(CliError::failed(
            who,
            format!("no audio files found in {}", list_paths(paths)),
        ));
    }
    Ok(collected)
}

/// What a walk met that is not a regular audio file (a FIFO, a dangling
/// link, a loop…): said in one line and left out, by every command alike.
pub fn say_skipped(e: &crate::library::WalkError) {
    eprintln!("skipped: {}", crate::cli::output::printable(&e.to_string()));
}

/// `a, b and c` for messages.
pub fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pad or cut `s` to `width` terminal columns (wide CJK characters count two),
/// keeping the end of a long path: the file name matters most.
pub fn fit_columns(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let cut = crate::text::fit_tail(s, width);
    let pad = width.saturating_sub(cut.width());
    cut + &" ".repeat(pad)
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn app_options_before_a_command_are_refused() {
        let parse = |args: &[&str]| super::Cli::try_parse_from(args).unwrap();
        let e =
            super::misplaced_app_options(&parse(&["earmark", "--model", "x", "classify", "a.mp3"]))
                .expect("refused");
        assert_eq!(
            e.to_string(),
            "earmark classify: --model before `classify` is for the terminal app only; a command's options go after it (earmark classify --help)"
        );
        assert!(
            super::misplaced_app_options(&parse(&["earmark", "classify", "--model", "x", "a.mp3"]))
                .is_none()
        );
        assert!(
            super::misplaced_app_options(&parse(&["earmark", "--model", "fast", "dir"])).is_none()
        );
        let two = parse(&["earmark", "--no-audio", "--theme", "dark", "tag", "undo"]);
        assert!(
            super::misplaced_app_options(&two)
                .unwrap()
                .to_string()
                .contains("--theme, --no-audio before `tag` are")
        );
    }

    use super::fit_columns;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn wide_names_fill_exact_columns() {
        for s in [
            "東京の夜.flac",
            "café.mp3",
            "plain.ogg",
            "很长很长很长很长的名字.mp3",
        ] {
            for w in [4, 9, 12, 30] {
                let out = fit_columns(s, w);
                assert_eq!(out.width(), w, "{s} at {w}: {out:?}");
            }
        }
        assert_eq!(fit_columns("abcdef", 4), "…def");
        assert_eq!(fit_columns("東京x", 4), "…京x".to_string() + "");
    }
}
