//! `earmark tag`: write genre tags safely, list the undo journal, undo.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicUsize, Ordering};

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::audio::AnalysisPlan;
use crate::cache::{Cache, CacheError, JournalEntry};
use crate::classifier::Classifier;
use crate::cli::CliError;
use crate::cli::output::{PathOut, printable};
use crate::library;
use crate::tags::apply::{self, Applied, ApplyError, UndoError, UndoOutlook, Undone};
use crate::tags::unwritten::NEVER_WRITTEN;
use crate::tags::{GenreChange, GenreMode, TagWriteError, WriteErrorKind, WriteReport, plan_genre};

#[derive(Debug, Args)]
#[command(
    after_help = "Every write goes to a hidden temporary copy first, which is re-read and decoded: \
                  the original is replaced only if the genre reads back, every other tag is unchanged \
                  and the audio decodes sample-for-sample identical.\n\n\
                  Examples:\n  \
                  earmark tag --genre Jazz song.flac\n  \
                  earmark tag --genre 'Rock;Blues' --mode append album/\n  \
                  earmark tag --clear song.flac    (remove the genre tag)\n  \
                  find ~/Music -name '*.flac' -print0 | earmark tag --auto --files-from -\n  \
                  earmark tag undo --last       (take back the last run)\n  \
                  earmark tag journal\n  \
                  earmark tag journal forget 12 (drop an entry that can no longer be undone)\n\n\
                  Exit codes: 0 when no file failed, 1 when any did (each said on its own line), \
                  2 a usage error, 128 + the signal when stopped (130 Ctrl-C).",
    args_conflicts_with_subcommands = true
)]
pub struct TagArgs {
    #[command(subcommand)]
    pub action: Option<TagAction>,

    /// Audio files or folders to tag.
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub list: crate::cli::path_list::FilesFrom,

    /// Genre to write; repeat it, or separate names with ';', for several.
    #[arg(long, short, value_name = "GENRE")]
    pub genre: Vec<String>,

    /// Use the classifier's top genre for each file.
    #[arg(long, conflicts_with = "genre")]
    pub auto: bool,

    /// Remove the genre tag (every genre field) instead of writing one; undoable like any write.
    #[arg(long, conflicts_with_all = ["genre", "auto", "mode"])]
    pub clear: bool,

    /// With --auto: skip files whose top genre is less likely than P (50%, 50 or 0.5; default
    /// 50%, as the app's batch accept; 0 writes every top genre). With --genres, each genre's
    /// own threshold decides and P is 0 unless given.
    #[arg(long, value_name = "P", requires = "auto", value_parser = crate::cli::output::parse_confidence)]
    pub min_confidence: Option<f32>,

    /// With --auto: also replace genres the files already hold (by default a file with a
    /// genre is left as it is, as the app's batch accept does; --mode append adds to them).
    #[arg(long)]
    pub overwrite: bool,

    /// With --auto: `accurate` (default) or `fast`, or a model folder (with model.json) or .onnx file.
    #[arg(long, requires = "auto")]
    pub model: Option<PathBuf>,

    /// With --auto: worker threads, 1–256 (default: all cores).
    #[arg(long, requires = "auto", value_parser = crate::cli::jobs_range())]
    pub jobs: Option<usize>,

    /// With --auto: excerpts analysed in files longer than 45 s, 1–64 (as `classify
    /// --windows`; the same number reuses its cached results).
    #[arg(long, requires = "auto", value_parser = crate::cli::windows_range())]
    pub windows: Option<usize>,

    /// With --auto: `mine` writes the library's learned genres (see `earmark learn`) in its own
    /// spelling, `gtzan` the model's; either skips files it is unsure of.
    #[arg(long, value_enum, requires = "auto")]
    pub genres: Option<crate::cli::genres::Genres>,

    /// Show what would change without writing anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Replace existing genres, or append to them.
    #[arg(long, value_enum, default_value_t = ModeArg::Replace)]
    pub mode: ModeArg,

    /// Print a JSON report instead of text.
    #[arg(long)]
    pub json: bool,

    /// Same as `earmark tag undo`: entry ID; without ID (or with --last), the last run; with --all, everything.
    #[arg(
        long,
        value_name = "ID",
        num_args = 0..=1,
        conflicts_with_all = ["genre", "auto", "journal", "paths", "files_from"]
    )]
    pub undo: Option<Option<i64>>,

    /// With --undo: every file one earlier run wrote (the journal's `run` column).
    #[arg(long, value_name = "RUN", requires = "undo", conflicts_with_all = ["last", "all"])]
    pub run: Option<i64>,

    /// With --undo: the most recent run (all files it wrote).
    #[arg(long, requires = "undo")]
    pub last: bool,

    /// With --undo: every entry not undone yet, newest first.
    #[arg(long, requires = "undo", conflicts_with = "last")]
    pub all: bool,

    /// Same as `earmark tag journal`: list the undo journal.
    #[arg(long, conflicts_with_all = ["genre", "auto", "dry_run", "paths", "files_from"])]
    pub journal: bool,
}

#[derive(Debug, Subcommand)]
pub enum TagAction {
    /// Take back writes: journal entry ID, the last run (default), or everything.
    Undo(UndoArgs),
    /// List the undo journal, or drop an entry from it.
    Journal(JournalArgs),
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// Journal entry to undo (see `earmark tag journal`).
    #[arg(value_name = "ID", conflicts_with_all = ["last", "all", "run"])]
    pub id: Option<i64>,

    /// The most recent run (all files it wrote); the default.
    #[arg(long)]
    pub last: bool,

    /// Every file one earlier run wrote (the journal's `run` column).
    #[arg(long, value_name = "RUN", conflicts_with_all = ["last", "all"])]
    pub run: Option<i64>,

    /// Every entry not undone yet, newest first.
    #[arg(long, conflicts_with = "last")]
    pub all: bool,

    /// Show what would be undone, and how (exactly, or values only), writing nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print a JSON report instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    #[command(subcommand)]
    pub action: Option<JournalAction>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum JournalAction {
    /// Drop entry ID from the journal (the file itself is not touched).
    ///
    /// For an entry whose file was moved or changed since, so it can no longer be undone.
    Forget {
        /// Journal entry to drop (see `earmark tag journal`).
        id: i64,
        /// Forget it even though it can still be undone (its original bytes go with it).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Replace,
    Append,
}

impl From<ModeArg> for GenreMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Replace => GenreMode::Replace,
            ModeArg::Append => GenreMode::Append,
        }
    }
}

#[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
pub fn run(args: TagArgs) -> Result<ExitCode, CliError> {
    match args.action {
        Some(TagAction::Undo(u)) => {
            let which = match (u.id, u.run, u.all) {
                (Some(id), _, _) => UndoWhich::Id(id),
                (None, Some(run), _) => UndoWhich::Run(run),
                (None, None, true) => UndoWhich::All,
                (None, None, false) => UndoWhich::Last,
            };
            if u.dry_run {
                return with_cache(|cache| plan_undo(cache, &which, u.json));
            }
            return with_cache(|cache| run_undo(cache, which, u.json));
        }
        Some(TagAction::Journal(j)) => {
            return with_cache(|cache| match j.action {
                None => list_journal(cache, j.json),
                Some(JournalAction::Forget { id, force }) => forget(cache, id, force, j.json),
            });
        }
        None => {}
    }
    if args.journal {
        return with_cache(|cache| list_journal(cache, args.json));
    }
    if let Some(id) = args.undo {
        let which = match (id, args.run, args.last, args.all) {
            (Some(_), Some(_), _, _) | (Some(_), _, true, _) | (Some(_), _, _, true) => {
                return Err(CliError::usage(
                    "tag",
                    "give --undo an ID, or --run, --last or --all, not several",
                ));
            }
            (Some(id), ..) => UndoWhich::Id(id),
            (None, Some(run), ..) => UndoWhich::Run(run),
            (None, None, _, true) => UndoWhich::All,
            (None, None, _, false) => UndoWhich::Last,
        };
        if args.dry_run {
            return with_cache(|cache| plan_undo(cache, &which, args.json));
        }
        return with_cache(|cache| run_undo(cache, which, args.json));
    }
    if args.paths.is_empty() {
        return Err(CliError::usage(
            "tag",
            "no files given (try `earmark tag --help`)",
        ));
    }
    if let Some(p) = args.min_confidence
        && !(0.0..=1.0).contains(&p)
    {
        return Err(CliError::usage(
            "tag",
            "--min-confidence must be between 0 and 1",
        ));
    }
    // clap's `requires = "auto"` counts an absent flag's default (false) as
    // given, so options that only mean something with --auto are checked here.
    let auto_only = [
        ("--min-confidence", args.min_confidence.is_some()),
        ("--model", args.model.is_some()),
        ("--genres", args.genres.is_some()),
        ("--jobs", args.jobs.is_some()),
        ("--windows", args.windows.is_some()),
        ("--overwrite", args.overwrite),
    ];
    if let Some((flag, _)) = auto_only.iter().find(|(_, given)| *given && !args.auto) {
        return Err(CliError::usage(
            "tag",
            format!("{flag} only applies with --auto"),
        ));
    }
    let fixed = if args.auto {
        None
    } else if args.clear {
        Some(GenreChange {
            genres: Vec::new(),
            mode: GenreMode::Replace,
        })
    } else {
        let genres: Vec<String> = args
            .genre
            .iter()
            .flat_map(|g| crate::tags::split_genres(g))
            .collect();
        if genres.is_empty() {
            return Err(CliError::usage(
                "tag",
                "say which genre: --genre GENRE (or --auto, or --clear to remove it)",
            ));
        }
        crate::tags::clean_genres(&genres).map_err(|e| CliError::usage("tag", e))?;
        Some(GenreChange {
            genres,
            mode: args.mode.into(),
        })
    };
    let collected = library::collect_audio(&args.paths);
    let files: Vec<PathBuf> = collected
        .files
        .into_iter()
        .filter(|p| !crate::tags::is_temp_file(p))
        .collect();
    // The report lists files in the walk's order, however they were decided.
    let order: std::collections::HashMap<String, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (PathOut::of(f).path, i))
        .collect();
    // As `classify`: what a folder's walk met that is no regular audio file
    // is skipped; a path named on the command line was asked for, and fails.
    let mut records: Vec<Record> = collected
        .errors
        .iter()
        .map(|e| match e.is_named(&args.paths) {
            true => {
                if !args.json {
                    eprintln!("earmark: {}", crate::cli::output::printable(&e.to_string()));
                }
                // a mistyped path is missing, not unreadable
                let kind = match e.path.symlink_metadata() {
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => "not-found",
                    _ => WALK,
                };
                Record {
                    said: true,
                    ..Record::failed(e.path.clone(), kind, e.to_string())
                }
            }
            false => {
                if !args.json {
                    crate::cli::say_skipped(e);
                }
                Record {
                    error_kind: Some(WALK),
                    error: Some(e.reason.clone()),
                    ..Record::base(&e.path, "skipped")
                }
            }
        })
        .collect();
    // A file that cannot carry tags (.au) met in a folder is left alone, as
    // `t` in the app says; named on the command line, it was asked for, and fails.
    let (files, tagless): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(|f| {
        args.paths.contains(f) || crate::tags::write::format_without_tags(f).is_none()
    });
    for f in tagless {
        let why = crate::tags::write::format_without_tags(&f).unwrap_or_default();
        records.push(skipped(&args, &f, why, why.to_string(), Some(NO_TAGS)));
    }
    if files.is_empty() && !records.iter().any(|r| r.status == "failed") {
        // as classify and info: a typo must not look like an empty library
        return Err(CliError::failed(
            "tag",
            format!(
                "no audio files found in {}",
                crate::cli::list_paths(&args.paths)
            ),
        ));
    }
    let mut confidence = std::collections::HashMap::new();
    let work: Vec<(PathBuf, GenreChange)> = match fixed {
        Some(change) => files.into_iter().map(|f| (f, change.clone())).collect(),
        None => auto_changes(&args, files, &mut records, &mut confidence)?,
    };
    let mut batch = None;
    if args.dry_run {
        for (f, change) in &work {
            records.push(match plan_genre(f, change) {
                Ok(r) => Record {
                    confidence: confidence.get(f).copied(),
                    ..Record::planned(r)
                },
                Err(e) => Record::from_write_error(&e),
            });
        }
    } else {
        remove_temps_on_interrupt(args.json);
        crate::tags::write::on_lock_wait(|file| {
            eprintln!(
                "earmark tag: {}: waiting for another program that holds its lock (up to a minute; Ctrl-C stops)",
                printable(&file.display().to_string())
            );
        });
        with_cache(|cache| {
            let b = cache
                .journal_new_batch()
                .map_err(|e| CliError::failed("tag", e))?;
            batch = Some(b);
            ASKED.store(work.len(), Ordering::SeqCst);
            let results = results_cache();
            for (f, change) in &work {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    break; // --json: the run ends here, its JSON printed below
                }
                let r = accept_unless_interrupted(cache, b, f, change);
                if let (Ok(a), Some(rc)) = (&r, &results) {
                    apply::carry_analyses(rc, &a.report, a.key_after);
                }
                // A write that gave up its lock wait for Ctrl-C is not
                // reported: the signal thread's line says what happened.
                let cut = r.is_err() && INTERRUPTED.load(Ordering::SeqCst);
                if !args.json && !cut {
                    print_live(&r);
                }
                done_writing();
                if cut {
                    break; // (--json) unchanged, and not a failure
                }
                let stop = r.as_ref().is_err_and(ApplyError::is_journal);
                records.push(match r {
                    Ok(a) => Record::applied(a),
                    Err(e) => Record::from_apply_error(&e),
                });
                if stop {
                    // Later writes could not be undone either: stop here.
                    if !args.json {
                        eprintln!(
                            "earmark tag: stopped; the undo journal cannot record writes, so the remaining files were not touched"
                        );
                    }
                    break;
                }
            }
            let _ = cache.journal_drop_empty_batch(b);
            Ok(ExitCode::SUCCESS)
        })?;
    }
    // By the argument each came from, then the walk: a named file that is
    // missing or not audio (in no walk) stays where it was named, not first.
    let argument = |shown: &str| {
        args.paths
            .iter()
            .position(|a| Path::new(shown).starts_with(a))
            .unwrap_or(usize::MAX)
    };
    records.sort_by_key(|r| {
        let walked = order.get(&r.path.path).copied().unwrap_or(usize::MAX);
        (argument(&r.path.path), walked)
    });
    let signal = JSON_SIGNAL.load(Ordering::SeqCst);
    if signal > 0 {
        return Ok(interrupted_json(&records, batch, work.len(), signal));
    }
    Ok(finish(&records, args.json, args.dry_run, batch))
}

/// A `--json` run stopped by a signal still prints its JSON: what was done,
/// and `interrupted` (a script reading it learns the run's number for
/// `undo --run` and that the rest of the files were not started).
fn interrupted_json(records: &[Record], batch: Option<i64>, asked: usize, signal: i32) -> ExitCode {
    let batch = run_named(records, batch);
    let written = records.iter().filter(|r| r.status == "written").count();
    print_json(records, false, batch, true);
    JSON_PRINTED.store(true, Ordering::SeqCst);
    eprintln!("{}", interrupted_line(written, asked, batch));
    ExitCode::from(128 + signal as u8)
}

/// `--auto`: each file's top genre from the classifier (and its cache); files
/// below `--min-confidence` or that cannot be classified are reported, not written.
fn auto_changes(
    args: &TagArgs,
    files: Vec<PathBuf>,
    records: &mut Vec<Record>,
    confidence: &mut std::collections::HashMap<PathBuf, f32>,
) -> Result<Vec<(PathBuf, GenreChange)>, CliError> {
    crate::cli::error::check_model("tag", args.model.as_deref())?;
    let model =
        crate::model::load_model(args.model.as_deref()).map_err(|e| CliError::failed("tag", e))?;
    let cache = crate::cli::classify::open_cache_or_warn("earmark tag");
    let plan = AnalysisPlan {
        windows: args.windows.unwrap_or(AnalysisPlan::default().windows),
        ..AnalysisPlan::default()
    };
    let classifier = Classifier::new(Arc::new(model), plan, cache);
    let jobs = crate::cli::jobs_or_default(args.jobs);
    let mut vocab = args
        .genres
        .map(|choice| crate::cli::genres::Vocabularies::new(choice, classifier.model()));
    if let Some(v) = &mut vocab {
        v.preflight(&files)
            .map_err(|e| CliError::failed("tag", e))?;
    }
    let mut results = crate::cli::classify::classify_all(&classifier, &files, 1, jobs);
    if let Some(v) = &mut vocab {
        // three candidates, for the line an unsure file gets
        crate::cli::classify::answer_in(&mut results, v, 3);
    }
    // Unasked, the same bar as the app's batch accept; a learned head's own
    // thresholds already say which files it is unsure of.
    let min = match (args.min_confidence, args.genres) {
        (Some(p), _) => p,
        (None, Some(_)) => 0.0,
        (None, None) => crate::classifier::DEFAULT_MIN_CONFIDENCE,
    };
    let mut work = Vec::new();
    // The genre as it would be written: the library's spelling, or GTZAN's
    // label as a tag name ("hiphop" → "Hip-Hop"), in skips as in writes.
    let shown = |genre: &str| match args.genres {
        Some(crate::cli::genres::Genres::Mine) => genre.to_string(),
        _ => crate::tags::genre_tag_name(genre),
    };
    for (path, r) in files.into_iter().zip(results) {
        let top = r.top.as_ref().and_then(|t| t.first());
        let unsure = r.suggestion.as_deref() == Some("unsure");
        let change = |genre: &str| GenreChange {
            genres: vec![shown(genre)],
            mode: args.mode.into(),
        };
        // A file holding another genre is left alone for that first, sure or not.
        let held = top.and_then(|t| held_genre(args, &path, &change(&t.genre)));
        if let Some(Held::Other(held)) = held {
            let why = format!("it has a genre ({held})");
            let line = format!(
                "it has a genre ({}); --overwrite replaces it",
                crate::cli::output::printable(&held)
            );
            records.push(skipped(args, &path, &line, why, Some(HAS_GENRE)));
            continue;
        }
        let unsure = unsure.then(|| crate::cli::output::printable(&unsure_why(&r, shown)));
        match (top, r.error) {
            (Some(_), _) if unsure.is_some() => {
                let why = unsure.unwrap_or_default();
                records.push(skipped(args, &path, &why, why.clone(), Some(UNSURE)));
            }
            (Some(top), _) if top.probability >= min => {
                let mut change = change(&top.genre);
                // `Hip Hop` stays `Hip Hop`: unchanged
                if let Some(Held::Spelled(theirs)) = held {
                    change.genres = theirs;
                }
                confidence.insert(path.clone(), top.probability);
                work.push((path, change));
            }
            (Some(top), _) => {
                let genre = shown(&top.genre);
                let (p, m) = told_apart(top.probability * 100.0, min * 100.0, 0);
                let line = match args.min_confidence {
                    Some(_) => format!("{genre} at {p}% is below --min-confidence {m}%"),
                    None => format!(
                        "{genre} at {p}% is below the default {m}% (--min-confidence 0 writes it)"
                    ),
                };
                let (p, m) = told_apart(top.probability, min, 2);
                let why = format!("{genre} at {p} is below the minimum confidence {m}");
                records.push(skipped(args, &path, &line, why, Some(LOW_CONFIDENCE)));
            }
            // Silence has no genre, and nothing is wrong with the file.
            (None, Some(e))
                if r.error_kind
                    .is_some_and(crate::audio::kind_has_nothing_to_judge) =>
            {
                let why = crate::audio::without_path(&path, e);
                records.push(skipped(args, &path, &why, why.clone(), r.error_kind));
            }
            (None, e) => {
                let e = e.unwrap_or_else(|| "not classified".to_string());
                if !args.json {
                    eprintln!("earmark: {}", crate::cli::output::printable(&e));
                }
                records.push(Record {
                    said: true,
                    ..Record::failed(path, "classify", e)
                });
            }
        }
    }
    Ok(work)
}

/// "unsure (Rock 31%, Pop 20%, Classical 13%; Rock needs 64%)": the
/// candidates, and what the top one lacks.
fn unsure_why(r: &crate::cli::classify::TrackResult, shown: impl Fn(&str) -> String) -> String {
    let top = r.top.as_deref().unwrap_or_default();
    let candidates: Vec<String> = top
        .iter()
        // as the app says "has": never the threshold's figure or above it
        // ("Classical 100%" beside "needs 99.6%" for 99.52 %)
        .map(|t| {
            let has = crate::vocab::head::percent_floor(t.probability);
            format!("{} {has}", shown(&t.genre))
        })
        .collect();
    let needs = match (top.first(), r.unsure_threshold) {
        (Some(t), Some(bar)) => format!(
            "; {}",
            crate::vocab::head::why_unsure(&shown(&t.genre), bar)
        ),
        _ => String::new(),
    };
    format!("unsure ({}{needs})", candidates.join(", "))
}

/// A file `--auto` leaves alone: said on stdout as `NAME: skipped, LINE`
/// (unless --json), recorded with `why` and its kind.
fn skipped(
    args: &TagArgs,
    path: &Path,
    line: &str,
    why: String,
    kind: Option<&'static str>,
) -> Record {
    if !args.json {
        println!("{}: skipped, {line}", name(path));
    }
    let mut rec = Record::base(path, "skipped");
    rec.error = Some(why);
    rec.error_kind = kind;
    rec
}

/// A skipped file's `error_kind` when it holds a genre `--auto` would replace.
const HAS_GENRE: &str = "has-genre";
/// A skipped file's `error_kind` when its top genre is below
/// `--min-confidence`, and when a learned head is unsure of it (`--genres`):
/// every skip names its kind, so a script need not parse the sentence.
const LOW_CONFIDENCE: &str = "low-confidence";
const UNSURE: &str = "unsure";
/// A skipped file's `error_kind` when its format cannot carry tags.
const NO_TAGS: &str = "no-tags";
/// The `error_kind` of what the walk met that is no regular audio file: a
/// failure when named on the command line, skipped in a folder.
const WALK: &str = "walk";

/// What a file already holds that `--auto` without `--overwrite` respects.
enum Held {
    /// Another genre: the file is left alone (`"; "`-joined, for the reason).
    Other(String),
    /// The same genre in the file's own spelling (`Hip Hop` for `Hip-Hop`):
    /// kept, as the app's batch holds such files back.
    Spelled(Vec<String>),
}

/// The genre a file holds that `--auto` would replace without `--overwrite`
/// (None: nothing to replace, or it is asked for; a file that cannot be read
/// goes on, for the write to say why). The same genre in the file's own
/// spelling is kept with `--overwrite` too, as the app keeps it (`hiphop`
/// was rewritten `Hip-Hop`). One read of the file's tags.
fn held_genre(args: &TagArgs, path: &Path, change: &GenreChange) -> Option<Held> {
    if change.mode == GenreMode::Append {
        return None;
    }
    let now = crate::tags::write::read_genre_state(path).ok()?.display();
    let same = now.len() == change.genres.len()
        && now
            .iter()
            .zip(&change.genres)
            .all(|(a, b)| crate::vocab::library::same_genre(a, b));
    if !same {
        (!now.is_empty() && !args.overwrite).then(|| Held::Other(now.join("; ")))
    } else {
        (now != change.genres).then_some(Held::Spelled(now))
    }
}

/// Set by Ctrl-C (or SIGTERM/SIGHUP): no new file is started.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// A `--json` run: the main thread ends it after a signal (to print its
/// JSON), and this holds the signal (0: none yet).
static JSON_RUN: AtomicBool = AtomicBool::new(false);
static JSON_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The interrupted `--json` run's JSON is out: a second signal leaves the
/// exit to the main thread.
static JSON_PRINTED: AtomicBool = AtomicBool::new(false);
/// A file is being written (journaled, then renamed into place).
static WRITING: AtomicBool = AtomicBool::new(false);
/// From a write's start until its line is said on stdout.
static SAYING: AtomicBool = AtomicBool::new(false);
/// For the interrupted run's last line: its journal run, files written, files asked.
static RUN: AtomicI64 = AtomicI64::new(0);
static WRITTEN: AtomicUsize = AtomicUsize::new(0);
static ASKED: AtomicUsize = AtomicUsize::new(0);

/// Ctrl-C (or a kill with SIGTERM/SIGHUP) during a run: the file being
/// written is finished (exiting between its journal entry and its rename
/// would leave an entry for a write that never happened), then this run's
/// temporary copies are removed and the process exits; files not started
/// are unchanged. Under `--json` the main thread ends the run instead, so
/// that its JSON is printed whole; a second signal then waits only for the
/// file being put in place and that JSON (or 2 s, should stdout be stuck).
fn remove_temps_on_interrupt(json: bool) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    JSON_RUN.store(json, Ordering::SeqCst);
    match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                let mut signals = signals.forever();
                if let Some(mut sig) = signals.next() {
                    INTERRUPTED.store(true, Ordering::SeqCst);
                    crate::tags::write::give_up_lock_waits();
                    if json {
                        JSON_SIGNAL.store(sig, Ordering::SeqCst);
                        match signals.next() {
                            Some(again) => sig = again,
                            None => return,
                        }
                    }
                    let pause = || std::thread::sleep(std::time::Duration::from_millis(5));
                    while WRITING.load(Ordering::SeqCst) {
                        pause();
                    }
                    if json {
                        // the main thread prints the JSON as soon as the
                        // write it waited for is in place: a second signal
                        // waits for that, unless stdout is stuck
                        let since = std::time::Instant::now();
                        while !JSON_PRINTED.load(Ordering::SeqCst) && since.elapsed().as_secs() < 2
                        {
                            pause();
                        }
                        if JSON_PRINTED.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                    // the written file's line too, unless stdout is stuck
                    // (a stalled pipe must not make Ctrl-C hang)
                    let said = std::time::Instant::now();
                    while SAYING.load(Ordering::SeqCst) && said.elapsed().as_secs() < 2 {
                        pause();
                    }
                    crate::tags::temps::clean(true);
                    let (done, asked) =
                        (WRITTEN.load(Ordering::SeqCst), ASKED.load(Ordering::SeqCst));
                    let run = Some(RUN.load(Ordering::SeqCst)).filter(|&r| r > 0 && done > 0);
                    eprintln!("{}", interrupted_line(done, asked, run));
                    std::process::exit(128 + sig);
                }
            });
        }
        Err(e) => eprintln!("earmark: warning: cannot catch Ctrl-C ({e})"),
    }
}

/// An interrupted run's last line: what it wrote and how to take it back.
fn interrupted_line(written: usize, asked: usize, run: Option<i64>) -> String {
    match run {
        Some(run) => format!(
            "earmark tag: interrupted after writing {written} of {asked} files, the rest unchanged; undo with: earmark tag undo --run {run}"
        ),
        None => "earmark tag: interrupted; no file was changed".into(),
    }
}

/// Write one file unless the run was interrupted (then wait for the exit);
/// [`done_writing`] ends it once its line is said.
fn accept_unless_interrupted(
    cache: &Cache,
    batch: i64,
    path: &Path,
    change: &GenreChange,
) -> Result<Applied, ApplyError> {
    SAYING.store(true, Ordering::SeqCst);
    WRITING.store(true, Ordering::SeqCst);
    park_if_interrupted();
    RUN.store(batch, Ordering::SeqCst);
    let r = apply::accept(cache, batch, path, change);
    if r.as_ref().is_ok_and(|a| a.report.changed) {
        WRITTEN.fetch_add(1, Ordering::SeqCst);
    }
    WRITING.store(false, Ordering::SeqCst);
    r
}

/// After the caller has said the file's line: SAYING stays set until then,
/// so that an interrupted run's count never names a write stdout did not.
/// Once interrupted, the signal thread ends the run (its message, its status).
fn done_writing() {
    park_if_interrupted();
    SAYING.store(false, Ordering::SeqCst);
}

/// Once interrupted, leave the exit (its message and status) to the signal
/// thread: clear WRITING and SAYING so that it goes on, and wait for it.
fn park_if_interrupted() {
    if INTERRUPTED.load(Ordering::SeqCst) && !JSON_RUN.load(Ordering::SeqCst) {
        WRITING.store(false, Ordering::SeqCst);
        SAYING.store(false, Ordering::SeqCst);
        loop {
            std::thread::park(); // the signal thread exits the process
        }
    }
}

/// The results cache `classify` and the app use, when there is one, so that
/// what they analysed follows the files this run rewrites (the journal is
/// another database). None when it does not exist or cannot be opened: then
/// there is nothing to carry.
fn results_cache() -> Option<Cache> {
    let path = crate::cache::default_path().ok()?;
    path.exists().then(|| Cache::open(&path).ok()).flatten()
}

fn with_cache(f: impl FnOnce(&Cache) -> Result<ExitCode, CliError>) -> Result<ExitCode, CliError> {
    let cache = crate::tags::journal::open_journal().map_err(|e| CliError::failed("tag", e))?;
    for w in cache.warnings() {
        eprintln!("earmark: warning: {w}");
    }
    f(&cache)
}

/// One file's outcome, for text and JSON output.
#[derive(Debug, Serialize)]
struct Record {
    #[serde(flatten)]
    path: PathOut,
    /// written, unchanged, would-write, skipped, failed, undone,
    /// never-written, forgotten
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    journal_id: Option<i64>,
    /// --auto: the model's confidence in the new genre (0–1).
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Its error was said on stderr when it happened (a walk's, a classify's).
    #[serde(skip)]
    said: bool,
}

impl Record {
    fn base(path: &Path, status: &'static str) -> Record {
        Record {
            path: PathOut::of(path),
            status,
            old: None,
            new: None,
            journal_id: None,
            confidence: None,
            error_kind: None,
            error: None,
            said: false,
        }
    }

    fn failed(path: PathBuf, kind: &'static str, error: String) -> Record {
        Record {
            error_kind: Some(kind),
            error: Some(error),
            ..Record::base(&path, "failed")
        }
    }

    fn with_report(mut self, r: &WriteReport) -> Record {
        self.old = Some(r.old.clone());
        self.new = Some(r.new.clone());
        self
    }

    fn planned(r: WriteReport) -> Record {
        let status = if r.changed {
            "would-write"
        } else {
            "unchanged"
        };
        Record::base(&r.path, status).with_report(&r)
    }

    fn applied(a: Applied) -> Record {
        let status = if a.report.changed {
            "written"
        } else {
            "unchanged"
        };
        Record {
            journal_id: a.journal_id,
            ..Record::base(&a.report.path, status).with_report(&a.report)
        }
    }

    fn from_write_error(e: &TagWriteError) -> Record {
        Record::failed(e.path.clone(), e.kind.as_str(), e.to_string())
    }

    fn from_apply_error(e: &ApplyError) -> Record {
        let mut r = Record::failed(e.path().to_path_buf(), e.kind(), e.to_string());
        if let ApplyError::Journal { report, .. } = e {
            r = r.with_report(report);
        }
        r
    }

    fn undone(u: &Undone) -> Record {
        Record {
            journal_id: Some(u.id),
            ..Record::base(&u.report.path, "undone").with_report(&u.report)
        }
    }
}

fn print_live(r: &Result<Applied, ApplyError>) {
    match r {
        Ok(a) if a.report.changed => println!(
            "{}: {} → {}",
            name(&a.report.path),
            show(&a.report.old),
            show(&a.report.new)
        ),
        Ok(a) => println!(
            "{}: {} (unchanged)",
            name(&a.report.path),
            show(&a.report.new)
        ),
        Err(e) => eprintln!("earmark: {}", printable(&e.to_string())),
    }
}

/// A genre list for a text line ("Rock; Pop" or "(none)"): values read from
/// a file are escaped as names are (a newline or ESC in a tag value must not
/// split the line or reach the terminal).
fn show(genres: &[String]) -> String {
    printable(&crate::tags::write::show(genres))
}

/// A path for a text line: control characters escaped (a newline in a name
/// must not split the line), as in every other command's output.
fn name(p: &std::path::Path) -> String {
    printable(&crate::library::shown(p.as_os_str()))
}

/// " (13 read-only, 5 unreadable or not audio)": what the failures were,
/// most common first (each was said on its own line as it happened).
fn failed_by_kind(records: &[Record]) -> String {
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for r in records.iter().filter(|r| r.status == "failed") {
        let kind = r.error_kind.unwrap_or("other");
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    if kinds.is_empty() {
        return String::new();
    }
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{n} {}", kind_words(k)))
        .collect();
    format!(" ({})", parts.join(", "))
}

/// A failure kind as the summary says it.
fn kind_words(kind: &str) -> String {
    match kind {
        "walk" => "unreadable or not audio".into(),
        "classify" => "not classified".into(),
        "read-only" => "read-only".into(),
        "not-found" => "missing".into(),
        other => other.replace('-', " "),
    }
}

/// `tag --json`'s one object.
fn print_json(records: &[Record], dry_run: bool, batch: Option<i64>, interrupted: bool) {
    #[derive(Serialize)]
    struct Out<'a> {
        dry_run: bool,
        /// The journal's run, for `tag undo --run`.
        #[serde(rename = "run", skip_serializing_if = "Option::is_none")]
        batch: Option<i64>,
        /// Stopped by a signal: the files after these were not started.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        interrupted: bool,
        results: &'a [Record],
    }
    let out = Out {
        dry_run,
        batch,
        interrupted,
        results: records,
    };
    match serde_json::to_string_pretty(&out) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("earmark: {e}"),
    }
}

/// The journal run a report names. A run that wrote nothing gives its number
/// back (the next run gets it): naming it would point a later `undo --run`
/// at another run's writes.
fn run_named(records: &[Record], batch: Option<i64>) -> Option<i64> {
    batch.filter(|_| records.iter().any(|r| r.status == "written"))
}

fn finish(records: &[Record], json: bool, dry_run: bool, batch: Option<i64>) -> ExitCode {
    let failed = records.iter().filter(|r| r.status == "failed").count();
    let batch = run_named(records, batch);
    if json {
        print_json(records, dry_run, batch, false);
    } else {
        if dry_run {
            for r in records {
                match r.status {
                    "would-write" => println!(
                        "{}: {} → {}{} (dry run)",
                        printable(&r.path.path),
                        show(r.old.as_deref().unwrap_or_default()),
                        show(r.new.as_deref().unwrap_or_default()),
                        r.confidence
                            .map(|p| format!(" at {:.0}%", p * 100.0))
                            .unwrap_or_default()
                    ),
                    "unchanged" => println!(
                        "{}: {} (unchanged)",
                        printable(&r.path.path),
                        show(r.new.as_deref().unwrap_or_default())
                    ),
                    _ => {}
                }
            }
        }
        // Writes print as they happen; a dry run's failures print here.
        if dry_run {
            for r in records.iter().filter(|r| r.status == "failed" && !r.said) {
                eprintln!("earmark: {}", printable(r.error.as_deref().unwrap_or("")));
            }
        }
        let count = |s: &str| records.iter().filter(|r| r.status == s).count();
        let why = failed_by_kind(records);
        let summary = if dry_run {
            format!(
                "{} would change, {} unchanged, {failed} failed{why} (dry run: nothing written)",
                count("would-write"),
                count("unchanged")
            )
        } else {
            format!(
                "{} written, {} unchanged, {failed} failed{why}",
                count("written"),
                count("unchanged")
            )
        };
        let summary = summary + &skipped_by_why(records);
        eprintln!("{summary}");
        // the run's own number: another run may finish after this one
        if let Some(run) = batch
            && !dry_run
        {
            eprintln!("undo with: earmark tag undo --run {run}");
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// ", 3 skipped (unsure or low confidence), 2 skipped (…)": the files left
/// alone, by why (each was said on its own line).
fn skipped_by_why(records: &[Record]) -> String {
    let skipped_for = |why: fn(&str) -> bool| {
        records
            .iter()
            .filter(|r| r.status == "skipped" && r.error_kind.is_some_and(why))
            .count()
    };
    let unjudged = skipped_for(crate::audio::kind_has_nothing_to_judge);
    let held = skipped_for(|k| k == HAS_GENRE);
    let walked = skipped_for(|k| k == WALK);
    let tagless = skipped_for(|k| k == NO_TAGS);
    let all = records.iter().filter(|r| r.status == "skipped").count();
    [
        (
            all - unjudged - held - walked - tagless,
            "unsure or low confidence",
        ),
        (held, "a genre already: --overwrite replaces"),
        (unjudged, "silent or too short to judge"),
        (
            walked,
            "not regular files, unreadable, or music earmark does not read",
        ),
        (tagless, "formats that cannot carry tags"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, why)| format!(", {n} skipped ({why})"))
    .collect()
}

enum UndoWhich {
    Id(i64),
    /// One run (journal batch): every file it wrote.
    Run(i64),
    Last,
    All,
}

/// Nothing to undo: say why. A run the journal never had is an error, as an
/// entry id it never had is; a run undone already is said so.
fn nothing_to_undo(cache: &Cache, which: &UndoWhich, json: bool) -> Result<(), CliError> {
    if let UndoWhich::Run(run) = which {
        let (written, never) = cache
            .journal_batch_len(*run)
            .map_err(|e| CliError::failed("tag", e))?;
        if written == 0 {
            return Err(CliError::failed(
                "tag",
                format!("no run {run} in the journal (`earmark tag journal` lists them)"),
            ));
        }
        if !json {
            let files = crate::text::plural(written, "file");
            let how = match never {
                0 => "was undone already".to_string(),
                n if n == written => {
                    "was never written (interrupted before its renames)".to_string()
                }
                n => format!("was undone already ({n} of them never written)"),
            };
            eprintln!("nothing to undo: run {run} ({files}) {how}");
        }
    } else if !json {
        eprintln!("nothing to undo");
    }
    Ok(())
}

fn run_undo(cache: &Cache, which: UndoWhich, json: bool) -> Result<ExitCode, CliError> {
    // An entry pending when asked for, found undone once this undo's turn
    // came, was taken back meanwhile (two `undo ID` at once): not a failure.
    let pending_when_asked = match which {
        UndoWhich::Id(id) => cache
            .journal_get(id)
            .ok()
            .flatten()
            .is_some_and(|e| !e.undone),
        _ => true,
    };
    let results: Vec<Result<Undone, UndoError>> = match which {
        UndoWhich::Id(id) => vec![apply::undo(cache, id)],
        UndoWhich::Run(run) => {
            apply::undo_run(cache, run).map_err(|e| CliError::failed("tag", e))?
        }
        UndoWhich::Last => apply::undo_last(cache).map_err(|e| CliError::failed("tag", e))?,
        UndoWhich::All => apply::undo_all(cache).map_err(|e| CliError::failed("tag", e))?,
    };
    if results.is_empty() {
        nothing_to_undo(cache, &which, json)?;
    }
    let analyses = results_cache();
    let mut records = Vec::new();
    for r in &results {
        match r {
            Ok(u) => {
                if let Some(rc) = &analyses {
                    apply::carry_analyses(rc, &u.report, u.key_after);
                }
                if !json {
                    println!(
                        "undid #{} {}: {} → {}",
                        u.id,
                        name(&u.report.path),
                        show(&u.report.old),
                        show(&u.report.new)
                    );
                }
                records.push(Record::undone(u));
            }
            // not a failure: there is nothing to undo
            Err(UndoError::NeverWritten { id, path }) => {
                if !json {
                    println!("#{id} {}: {NEVER_WRITTEN}", name(path));
                }
                records.push(Record {
                    journal_id: Some(*id),
                    ..Record::base(path, "never-written")
                });
            }
            // pending when this run listed it: another earmark's undo (a
            // second `tag undo`, the app) took it back meanwhile
            Err(UndoError::AlreadyUndone { id, path }) if pending_when_asked => {
                if !json {
                    println!("#{id} {}: {UNDONE_ELSEWHERE}", name(path));
                }
                records.push(Record {
                    journal_id: Some(*id),
                    ..Record::base(path, "undone-elsewhere")
                });
            }
            Err(e) => {
                if !json {
                    eprintln!("earmark: {}", printable(&e.to_string()));
                }
                let path = match e {
                    UndoError::Write { error, .. } => error.path.clone(),
                    UndoError::AlreadyUndone { path, .. } | UndoError::BadEntry { path, .. } => {
                        path.clone()
                    }
                    _ => PathBuf::new(),
                };
                records.push(Record {
                    error_kind: Some(e.kind()),
                    error: Some(e.to_string()),
                    ..Record::base(&path, "failed")
                });
            }
        }
    }
    let count = |s: &str| records.iter().filter(|r| r.status == s).count();
    let failed = count("failed");
    if json {
        match serde_json::to_string_pretty(&records) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark: {e}"),
        }
    } else if !results.is_empty() {
        let elsewhere = match count("undone-elsewhere") {
            0 => String::new(),
            n => format!("{n} {UNDONE_ELSEWHERE}, "),
        };
        eprintln!(
            "{} undone, {}{elsewhere}{failed} failed",
            count("undone"),
            never_written(count("never-written"))
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `tag undo --dry-run`: what each entry's undo would do, in the order the
/// real undo would take them. Exit 1 when any would fail.
fn plan_undo(cache: &Cache, which: &UndoWhich, json: bool) -> Result<ExitCode, CliError> {
    let fail = |e: CacheError| CliError::failed("tag", e);
    let entries = match which {
        UndoWhich::Id(id) => vec![
            cache
                .journal_get(*id)
                .map_err(fail)?
                .ok_or_else(|| CliError::failed("tag", format!("no journal entry #{id}")))?,
        ],
        UndoWhich::Run(run) => cache.journal_batch_active(*run).map_err(fail)?,
        UndoWhich::Last => apply::last_entries(cache).map_err(fail)?,
        UndoWhich::All => cache.journal_active().map_err(fail)?,
    };
    let outlooks = apply::plan_undo(cache, &entries, true).map_err(fail)?;
    let blocked = outlooks
        .iter()
        .filter(|o| matches!(o, UndoOutlook::Blocked { .. } | UndoOutlook::AlreadyUndone))
        .count();
    let unwritten = outlooks
        .iter()
        .filter(|o| **o == UndoOutlook::NeverWritten)
        .count();
    if json {
        let rows: Vec<Listed> = entries.iter().zip(&outlooks).map(Listed::from).collect();
        match serde_json::to_string_pretty(&rows) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark: {e}"),
        }
    } else if entries.is_empty() {
        nothing_to_undo(cache, which, json)?;
    } else {
        for (e, o) in entries.iter().zip(&outlooks) {
            let change = format!("{}: {} → {}", name(&e.path), show(&e.new), show(&e.old));
            match o {
                UndoOutlook::Blocked { reason: why, .. } => {
                    eprintln!(
                        "#{} {}: cannot undo: {}",
                        e.id,
                        name(&e.path),
                        printable(why)
                    );
                }
                UndoOutlook::AlreadyUndone => {
                    eprintln!("#{} {}: already undone", e.id, name(&e.path));
                }
                UndoOutlook::NeverWritten => {
                    println!("#{} {}: {NEVER_WRITTEN}", e.id, name(&e.path));
                }
                UndoOutlook::Exact => println!("would undo #{} {change} (byte for byte)", e.id),
                _ => println!(
                    "would undo #{} {change} (values only: the file was re-saved since)",
                    e.id
                ),
            }
        }
        eprintln!(
            "{} would be undone, {}{blocked} could not (dry run: nothing written)",
            entries.len() - blocked - unwritten,
            never_written(unwritten)
        );
    }
    Ok(if blocked > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// An entry another earmark undid while this run went through its list.
const UNDONE_ELSEWHERE: &str = "undone meanwhile by another earmark";

/// "2 never written, " for an undo's summary; nothing when there are none.
fn never_written(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!("{n} never written, "),
    }
}

/// A journal entry with what undoing it would do now.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    entry: &'a JournalEntry,
    /// The path's bytes where it is not UTF-8 (as every record's `path_bytes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    path_bytes: Option<Vec<u8>>,
    #[serde(flatten)]
    outlook: &'a UndoOutlook,
}

impl<'a> From<(&'a JournalEntry, &'a UndoOutlook)> for Listed<'a> {
    fn from((entry, outlook): (&'a JournalEntry, &'a UndoOutlook)) -> Self {
        let path_bytes = PathOut::of(&entry.path).path_bytes;
        Listed {
            entry,
            path_bytes,
            outlook,
        }
    }
}

/// The `state` column: what `undo ID` would find now.
fn state_word(o: &UndoOutlook) -> String {
    match o {
        UndoOutlook::Exact | UndoOutlook::Values | UndoOutlook::Undoable => String::new(),
        UndoOutlook::AlreadyUndone => "undone".into(),
        UndoOutlook::NeverWritten => "unwritten".into(),
        UndoOutlook::After(id) => format!("after #{id}"),
        UndoOutlook::Blocked { kind, .. } => match kind {
            WriteErrorKind::Changed => "changed".into(),
            WriteErrorKind::NotFound => "missing".into(),
            _ => "blocked".into(),
        },
    }
}

fn list_journal(cache: &Cache, json: bool) -> Result<ExitCode, CliError> {
    let entries: Vec<JournalEntry> = cache
        .journal_list()
        .map_err(|e| CliError::failed("tag", e))?;
    let outlooks =
        apply::journal_outlook(cache, &entries).map_err(|e| CliError::failed("tag", e))?;
    if json {
        let rows: Vec<Listed> = entries.iter().zip(&outlooks).map(Listed::from).collect();
        match serde_json::to_string_pretty(&rows) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark: {e}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        eprintln!("the undo journal is empty ({})", cache.path().display());
        return Ok(ExitCode::SUCCESS);
    }
    for line in journal_table(&entries, &outlooks) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `tag journal`'s table: the state column as wide as its longest word
/// (`after #2007`), so that `change` starts in one column.
fn journal_table(entries: &[JournalEntry], outlooks: &[UndoOutlook]) -> Vec<String> {
    let states: Vec<String> = outlooks.iter().map(state_word).collect();
    let sw = states.iter().map(String::len).max().unwrap_or(0).max(9);
    let head = format!(
        "{:>5}  {:>5}  {:<20}  {:<sw$}  change",
        "id", "run", "time (UTC)", "state"
    );
    let rows = entries.iter().zip(&states).map(|(e, state)| {
        format!(
            "{:>5}  {:>5}  {:<20}  {:<sw$}  {}: {} → {}",
            e.id,
            e.batch,
            format_time_ms(e.time_ms),
            state,
            name(&e.path),
            show(&e.old),
            show(&e.new)
        )
    });
    std::iter::once(head).chain(rows).collect()
}

/// `tag journal forget ID`: drop an entry that can no longer be undone; one
/// that still can is refused without `--force` (its original bytes would go).
fn forget(cache: &Cache, id: i64, force: bool, json: bool) -> Result<ExitCode, CliError> {
    let entry = cache
        .journal_get(id)
        .map_err(|e| CliError::failed("tag", e))?
        .ok_or_else(|| CliError::failed("tag", format!("no journal entry #{id}")))?;
    if !force {
        let entries = cache
            .journal_list()
            .map_err(|e| CliError::failed("tag", e))?;
        let outlooks =
            apply::journal_outlook(cache, &entries).map_err(|e| CliError::failed("tag", e))?;
        let undoable = entries.iter().zip(&outlooks).any(|(e, o)| {
            e.id == id
                && matches!(
                    o,
                    UndoOutlook::Exact
                        | UndoOutlook::Values
                        | UndoOutlook::Undoable
                        | UndoOutlook::After(_)
                )
        });
        if undoable {
            return Err(CliError::failed(
                "tag",
                format!(
                    "#{id} can still be undone (`earmark tag undo {id}`); forgetting it drops \
                     the way back: add --force to forget it anyway"
                ),
            ));
        }
    }
    cache
        .journal_forget(id)
        .map_err(|e| CliError::failed("tag", e))?;
    if json {
        let rec = Record {
            journal_id: Some(id),
            old: Some(entry.old),
            new: Some(entry.new),
            ..Record::base(&entry.path, "forgotten")
        };
        match serde_json::to_string_pretty(&rec) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark: {e}"),
        }
    } else {
        eprintln!(
            "forgot #{id} {}: {} → {} (the file was not touched)",
            name(&entry.path),
            show(&entry.old),
            show(&entry.new)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// "2026-11-25 09:35:38" (UTC) from Unix milliseconds.
fn format_time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// `value` and `limit` with `decimals`, or as many more as it takes for the
/// two to read differently (39.97 % is not "40% below 40%").
fn told_apart(value: f32, limit: f32, decimals: usize) -> (String, String) {
    let show = |d: usize| (format!("{value:.d$}"), format!("{limit:.d$}"));
    (decimals..decimals + 4)
        .map(show)
        .find(|(v, l)| v != l)
        .unwrap_or_else(|| show(decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_time_ms(0), "1970-01-01 00:00:00");
        assert_eq!(format_time_ms(1_795_340_138_000), "2026-11-22 09:35:38");
        assert_eq!(format_time_ms(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn the_journal_table_keeps_its_change_column_with_long_states() {
        let entry = |id: i64| JournalEntry {
            id,
            path: PathBuf::from("/m/a.ogg"),
            old: Vec::new(),
            new: vec!["Rock".into()],
            old_state: String::new(),
            new_state: String::new(),
            time_ms: 0,
            batch: 1,
            undone: false,
            undone_time_ms: None,
            never_written: false,
        };
        let lines = journal_table(
            &[entry(1), entry(2)],
            &[UndoOutlook::After(20070), UndoOutlook::Undoable],
        );
        let col = |l: &str| l.find("change").or_else(|| l.find("/m/")).unwrap();
        assert!(lines[1].contains("after #20070"), "{lines:?}");
        assert!(lines.iter().all(|l| col(l) == col(&lines[0])), "{lines:#?}");
    }

    #[test]
    fn a_skip_never_reads_as_its_own_limit() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(told_apart(39.97, 40.0, 0), pair("39.97", "40.00"));
        assert_eq!(told_apart(31.2, 40.0, 0), pair("31", "40"));
        assert_eq!(told_apart(0.3997, 0.4, 2), pair("0.3997", "0.4000"));
    }
}
