//! `earmark classify`: top-k genres per track as a table, JSON or CSV.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

use crate::cli::CliError;
use clap::Args;
use serde::Serialize;

use crate::audio::AnalysisPlan;
use crate::cache::Cache;
use crate::classifier::Classifier;
use crate::cli::genres::{Genres, Vocabularies};
use crate::cli::output::{PathOut, printable, progress};
use crate::cli::{fit_columns, jobs_or_default};
use crate::clock::clock;
use crate::jobs::guard_job;
use crate::model::{Prediction, load_model};
use crate::tags::genre_tag_name;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
                  earmark classify song.flac\n  \
                  earmark classify ~/Music --genres mine --csv > genres.csv\n  \
                  find ~/Music -newer last-run -print0 | earmark classify --files-from - --json\n\n\
                  Exit codes: 0 when at least one file was classified (each that could not be is said \
                  on its own line and in its row), 1 when none was or the output failed, 2 a usage \
                  error, 128 + the signal when stopped (130 Ctrl-C).")]
pub struct ClassifyArgs {
    /// Files or folders (walked recursively).
    #[arg(required_unless_present = "files_from")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub list: crate::cli::path_list::FilesFrom,
    /// Print JSON (one object per track, with per-segment probabilities).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV: path,rank,genre,probability[,suggestion],error. One record
    /// per line: control characters in a name (a newline) are written as
    /// escapes (`\n`); --json keeps names exactly.
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

#[derive(Clone, Serialize)]
pub struct TrackResult {
    /// The file as given, for finding it again (`path` is for printing).
    #[serde(skip)]
    pub file: PathBuf,
    #[serde(flatten)]
    pub path: PathOut,
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
    /// With `error`, when the file's audio is at fault: the decode error's
    /// kind (`corrupt`, `not-audio`…; `silent` and `too-short` are files
    /// with nothing to judge, not damaged ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<&'static str>,
    /// With --genres: the confident genre, or `unsure`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// Unsure: the top genre's threshold (None: never confident), for the table.
    #[serde(skip)]
    pub unsure_threshold: Option<Option<f32>>,
    /// Unsure: why, as the table says it ("Jazz needs 78%"), so that CSV's
    /// and JSON's readers need not guess.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsure_reason: Option<String>,
    /// The genres are the library's own (`--genres mine`, `--head`): shown
    /// as spelt, not as GTZAN's labels are ("Hip Hop" stays "Hip Hop").
    #[serde(skip)]
    pub own_spelling: bool,
}

#[derive(Clone, Serialize)]
pub struct Ranked {
    pub genre: String,
    pub probability: f32,
}

pub fn run(args: ClassifyArgs) -> Result<ExitCode, CliError> {
    crate::cli::error::check_model("classify", args.model.as_deref())?;
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
    let collected = crate::cli::audio_files("classify", &args.paths, crate::cli::Missing::Skipped)?;
    for e in &collected.errors {
        crate::cli::say_skipped(e);
    }
    let mut vocab = match (&args.head, args.genres) {
        (Some(file), _) => {
            let head =
                crate::vocab::store::load(file).map_err(|e| CliError::failed("classify", e))?;
            Some(Vocabularies::fixed(head, file, classifier.model()))
        }
        (None, Some(choice)) => Some(Vocabularies::new(choice, classifier.model())),
        (None, None) => None,
    };
    // Said once, before any work, when no file could be answered.
    if let Some(v) = &mut vocab {
        v.preflight(&collected.files)
            .map_err(|e| CliError::failed("classify", e))?;
    }
    let format = output_format(&args);
    let mut out = Printer::new(
        std::io::stdout(),
        format,
        &collected.files,
        vocab.is_some(),
        path_column_cap(),
    );
    out.genre_width = widest_genre(classifier.model(), vocab.as_ref());
    out.skipped_rows(&collected.errors);
    let (mut done, mut undecodable, mut failed) = (0usize, 0usize, 0usize);
    let mut unjudged = 0usize;
    let interrupted = stop_on_first_interrupt(collected.files.len() > 1);
    classify_in_order(
        &classifier,
        &collected.files,
        Run {
            top: args.top,
            jobs: jobs_or_default(args.jobs),
            cancel: Some(&interrupted),
        },
        |mut r| {
            done += 1;
            undecodable += usize::from(r.error.is_some());
            unjudged += usize::from(r.nothing_to_judge());
            if let Some(v) = &mut vocab {
                answer_in(std::slice::from_mut(&mut r), v, args.top);
            }
            failed += usize::from(r.error.is_some());
            if format != Format::Json {
                report_on_stderr(&r);
            }
            // a closed pipe (`| head`) ends the run: nobody reads the rest
            out.row(&r).is_ok()
        },
    );
    out.finish();
    if let Some(note) = classifier.take_store_error() {
        eprintln!("earmark classify: warning: {note}");
    }
    // (a signal after every file had started cut nothing: the run ends as usual)
    let signal = interrupted.load(Ordering::SeqCst);
    if signal > 0 && done < collected.files.len() {
        eprintln!(
            "earmark classify: interrupted after {done} of {} files; the rest were not classified",
            collected.files.len()
        );
        return Ok(ExitCode::from(128 + signal as u8));
    }
    // A named path that is not a regular file failed too (it is not a result).
    let (not_classified, skipped) = (failed, collected.errors.len());
    let failed = failed + skipped;
    let total = done + skipped;
    if out.failed {
        // the output could not be written (said once): nothing was delivered
        Ok(ExitCode::FAILURE)
    } else if total == 0 || failed == total {
        if done > 0 && undecodable == done {
            eprintln!("earmark classify: {}", none_classified(done, unjudged));
        }
        Ok(ExitCode::FAILURE)
    } else {
        // (exit 0: something was classified) the count, after lines that
        // may have scrolled away
        if failed > 0 {
            eprintln!(
                "earmark classify: {}",
                partly_classified(done - not_classified, not_classified, skipped)
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn output_format(args: &ClassifyArgs) -> Format {
    if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table
    }
}

/// "1 file classified; 1 could not be, 1 skipped (each said above)".
fn partly_classified(classified: usize, not_classified: usize, skipped: usize) -> String {
    let mut why = Vec::new();
    if not_classified > 0 {
        why.push(format!("{not_classified} could not be"));
    }
    if skipped > 0 {
        why.push(format!("{skipped} skipped"));
    }
    format!(
        "{classified} {} classified; {} (each said above)",
        if classified == 1 { "file" } else { "files" },
        why.join(", ")
    )
}

/// Ctrl-C (or SIGTERM/SIGHUP) during a run of several files: the files in
/// progress end and their results are printed, the output is closed (a JSON
/// array stays whole), and the run exits 128 + the signal (130 for Ctrl-C).
/// A second one quits at once. Returns the signal the run watches (0: none).
fn stop_on_first_interrupt(several: bool) -> Arc<AtomicI32> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = Arc::new(AtomicI32::new(0));
    if !several {
        return flag; // one file: nothing to save by waiting for it
    }
    match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(mut signals) => {
            let set = Arc::clone(&flag);
            std::thread::spawn(move || {
                for sig in signals.forever() {
                    if set.swap(sig, Ordering::SeqCst) > 0 {
                        std::process::exit(128 + sig);
                    }
                    let again = match sig {
                        signal_hook::consts::SIGINT => "Ctrl-C again",
                        _ => "a second signal",
                    };
                    eprintln!(
                        "earmark classify: stopping after the files in progress ({again} quits now)"
                    );
                }
            });
        }
        Err(e) => eprintln!("earmark: warning: cannot catch Ctrl-C ({e})"),
    }
    flag
}

/// Why no file got a genre: none decoded, or some held nothing to judge.
fn none_classified(done: usize, unjudged: usize) -> String {
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    match done - unjudged {
        0 => format!(
            "no genre: the {done} {} silent or too short to judge",
            if done == 1 { "file is" } else { "files are" }
        ),
        _ if unjudged == 0 && done == 1 => {
            "nothing classified: the file could not be decoded".into()
        }
        _ if unjudged == 0 => {
            format!("nothing classified: none of the {done} files could be decoded")
        }
        bad => format!(
            "no genre: {bad} {} could not be decoded, {unjudged} silent or too short to judge",
            files(bad)
        ),
    }
}

/// A result's error and warnings, for a reader of the table or CSV.
fn report_on_stderr(r: &TrackResult) {
    if let Some(e) = &r.error {
        eprintln!("earmark: {}", printable(e));
    }
    for w in &r.warnings {
        eprintln!(
            "earmark: warning: {}: {}",
            printable(&r.path.path),
            printable(w)
        );
    }
    // the table says it in brackets; stderr says why, like any other warning
    if r.partial && r.warnings.is_empty() {
        let note = crate::classifier::partial_note(r.analysed_s, r.duration_s);
        eprintln!(
            "earmark: warning: {}: {note} (the rest could not be decoded)",
            printable(&r.path.path)
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Json,
}

/// Writes each result as it comes, so a long run shows its first rows at
/// once and `| head` ends it early. Write errors are said once.
struct Printer<W: Write> {
    format: Format,
    out: W,
    /// The table's file column, from every path to come.
    width: usize,
    /// CSV: a suggestion column (`--genres`, `--head`).
    suggestions: bool,
    rows: usize,
    failed: bool,
    /// The table's header, written above its first row: a run whose files
    /// all fail (said on stderr) prints no table at all.
    table_header: Option<String>,
    /// The widest genre name a table row may show (0: as they come).
    genre_width: usize,
}

/// The widest genre a table row can name, as rows spell it (the model's
/// labels, and the learned genres of the heads read so far): the genre
/// columns line up at that width.
fn widest_genre(model: &crate::model::GenreModel, vocab: Option<&Vocabularies>) -> usize {
    let own_spelling = vocab.is_some_and(Vocabularies::speaks_mine);
    let model_genres = model.labels().iter().map(|l| {
        if own_spelling {
            l.clone()
        } else {
            crate::tags::genre_tag_name(l)
        }
    });
    let learned = vocab
        .into_iter()
        .flat_map(|v| v.known_genres().map(str::to_string));
    model_genres
        .chain(learned)
        .map(|g| unicode_width::UnicodeWidthStr::width(printable(&g).as_str()))
        .max()
        .unwrap_or(0)
        .min(TABLE_GENRE_COLS)
}

/// The most columns a genre takes in the table, longer ones cut with `…`
/// (JSON and CSV keep them whole): one learned genre of 340 characters
/// padded every row to 740 columns.
const TABLE_GENRE_COLS: usize = 32;

/// How wide the table's file column may grow: on a terminal, what its width
/// leaves beside the length and three genres (at least 60 columns); to a
/// file or a pipe, the whole path.
fn path_column_cap() -> Option<usize> {
    use std::io::IsTerminal;
    const REST_OF_ROW: usize = 50;
    std::io::stdout().is_terminal().then(|| {
        let columns = crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w));
        columns.saturating_sub(REST_OF_ROW).max(60)
    })
}

impl<W: Write> Printer<W> {
    /// `cap`: the file column's widest (None: the longest path's width).
    fn new(
        out: W,
        format: Format,
        files: &[PathBuf],
        suggestions: bool,
        cap: Option<usize>,
    ) -> Self {
        let width = files
            .iter()
            // as the rows print it: `\xE9` escapes take four columns
            .map(|f| {
                unicode_width::UnicodeWidthStr::width(printable(&PathOut::of(f).path).as_str())
            })
            .max()
            .unwrap_or(4)
            .clamp(4, cap.unwrap_or(usize::MAX).max(4));
        let mut p = Printer {
            format,
            out,
            width,
            suggestions,
            rows: 0,
            failed: false,
            table_header: None,
            genre_width: 0,
        };
        let head = match format {
            Format::Table => {
                p.table_header = Some(format!(
                    "{}  {:>6}  genres",
                    fit_columns("file", width),
                    "length"
                ));
                String::new()
            }
            Format::Csv if suggestions => CSV_HEADER_SUGGESTION.to_string(),
            Format::Csv => CSV_HEADER.to_string(),
            Format::Json => String::new(),
        };
        if !head.is_empty() {
            let r = writeln!(p.out, "{head}");
            let _ = p.check(r);
        }
        p
    }

    fn row(&mut self, r: &TrackResult) -> std::io::Result<()> {
        let mut text = Vec::new();
        match self.format {
            Format::Table => {
                table_row(&mut text, r, self.width, self.genre_width)?;
                if !text.is_empty()
                    && let Some(head) = self.table_header.take()
                {
                    text.splice(0..0, format!("{head}\n").into_bytes());
                }
            }
            Format::Csv => csv_rows(&mut text, r, self.suggestions)?,
            Format::Json => {
                let item = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
                text.extend_from_slice(if self.rows == 0 { b"[\n" } else { b",\n" });
                // indented as one pretty array (strings hold no raw newline)
                for (i, line) in item.lines().enumerate() {
                    if i > 0 {
                        text.push(b'\n');
                    }
                    text.extend_from_slice(b"  ");
                    text.extend_from_slice(line.as_bytes());
                }
            }
        }
        self.rows += 1;
        let r = self.out.write_all(&text).and_then(|()| self.out.flush());
        self.check(r)
    }

    /// JSON and CSV give every path skipped its row too, so that a script
    /// joining its list to the rows loses none (the table's are on stderr).
    fn skipped_rows(&mut self, skipped: &[crate::library::WalkError]) {
        if self.format == Format::Table {
            return;
        }
        for e in skipped {
            let row = TrackResult {
                error_kind: Some(skipped_kind(&e.path)),
                ..TrackResult::failed(&e.path, e.to_string())
            };
            let _ = self.row(&row);
        }
    }

    fn finish(&mut self) {
        if self.format == Format::Json && !self.failed {
            let end: &[u8] = if self.rows == 0 { b"[]\n" } else { b"\n]\n" };
            let r = self.out.write_all(end);
            let _ = self.check(r);
        }
    }

    /// Pass a write's outcome on; say a real failure (not a closed pipe) once.
    fn check(&mut self, r: std::io::Result<()>) -> std::io::Result<()> {
        if let Err(e) = &r {
            if !self.failed && e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("earmark classify: cannot write the output: {e}");
            }
            self.failed = true;
        }
        r
    }
}

/// Replace each result's ranking by the chosen vocabulary's, with a suggestion
/// (`unsure` where no genre clears its threshold).
pub fn answer_in(results: &mut [TrackResult], vocab: &mut Vocabularies, top: usize) {
    for r in results.iter_mut() {
        let Some(prediction) = &r.prediction else {
            continue;
        };
        match vocab.answer(&r.file, prediction) {
            Ok(a) => {
                r.top = Some(
                    a.ranked
                        .into_iter()
                        .take(top)
                        .map(|(genre, probability)| Ranked { genre, probability })
                        .collect(),
                );
                r.suggestion = Some(a.suggestion.label().to_string());
                r.unsure_threshold = a.top_threshold;
                r.own_spelling = vocab.speaks_mine();
                r.unsure_reason = unsure_reason(r);
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
    let mut results = Vec::with_capacity(files.len());
    let run = Run {
        top,
        jobs,
        cancel: None,
    };
    classify_in_order(classifier, files, run, |r| {
        results.push(r);
        true
    });
    results
}

/// How [`classify_in_order`] runs: genres per result, worker threads, and a
/// flag that, once set, lets the files in progress end and starts no other.
pub struct Run<'a> {
    pub top: usize,
    pub jobs: usize,
    /// Set (to a signal number) to stop.
    pub cancel: Option<&'a AtomicI32>,
}

/// Classify files on `jobs` threads and hand each result to `each` on this
/// thread, in input order, as soon as it and those before it are done.
/// Workers take the next file as they finish one, so at most about `jobs`
/// results wait for an earlier one. `each` returning false stops the run:
/// files not yet started are skipped. So does `cancel`, but the files in
/// progress are still handed over (no gap: workers take files in order).
pub fn classify_in_order(
    classifier: &Classifier,
    files: &[PathBuf],
    run: Run,
    mut each: impl FnMut(TrackResult) -> bool,
) {
    let Run { top, jobs, cancel } = run;
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::SeqCst) > 0);
    let bar = progress(files.len(), "classify");
    if files.len() < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, files.len().max(1)) {
            let (tx, next, stop) = (tx.clone(), &next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) && !cancelled() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let r = guard_job(|| classify_one(classifier, path, top)).unwrap_or_else(
                        |reason| TrackResult::failed(path, format!("{}: {reason}", path.display())),
                    );
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = std::collections::BTreeMap::new();
        let mut due = 0usize;
        for (i, r) in &rx {
            bar.inc(1);
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&due) {
                due += 1;
                if !bar.suspend(|| each(r)) {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    });
    bar.finish_and_clear();
}

fn classify_one(classifier: &Classifier, path: &Path, top: usize) -> TrackResult {
    match classifier.classify(path) {
        Ok(a) => TrackResult {
            file: path.to_path_buf(),
            path: PathOut::of(path),
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
            error_kind: None,
            suggestion: None,
            unsure_threshold: None,
            unsure_reason: None,
            own_spelling: false,
        },
        Err(e) => {
            let kind = match &e {
                crate::model::AnalyseError::Audio(a) => Some(a.kind()),
                crate::model::AnalyseError::Model { .. } => None,
            };
            TrackResult {
                error_kind: kind,
                ..TrackResult::failed(path, e.to_string())
            }
        }
    }
}

/// The `error_kind` of a path skipped before any decoding: `missing` (no
/// such file, a dangling link), `not-a-file` (a FIFO, a device) or
/// `unreadable` (no permission, a loop of links).
fn skipped_kind(path: &Path) -> &'static str {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing",
        Ok(m) if !m.is_file() && !m.is_dir() => "not-a-file",
        _ => "unreadable",
    }
}

impl TrackResult {
    fn failed(path: &Path, error: String) -> TrackResult {
        TrackResult {
            file: path.to_path_buf(),
            path: PathOut::of(path),
            duration_s: None,
            analysed_s: None,
            partial: false,
            warnings: Vec::new(),
            top: None,
            prediction: None,
            error: Some(error),
            error_kind: None,
            suggestion: None,
            unsure_threshold: None,
            unsure_reason: None,
            own_spelling: false,
        }
    }

    /// A genre of this result as the table shows it: GTZAN's labels as tag
    /// names ("hiphop" → "Hip-Hop"), the library's own as they are spelt.
    fn shown(&self, genre: &str) -> String {
        if self.own_spelling {
            genre.to_string()
        } else {
            genre_tag_name(genre)
        }
    }

    /// No genre because the file is silent or too short, not damaged.
    pub fn nothing_to_judge(&self) -> bool {
        self.error_kind
            .is_some_and(crate::audio::kind_has_nothing_to_judge)
    }
}

fn table_row(
    out: &mut impl Write,
    r: &TrackResult,
    width: usize,
    genre_width: usize,
) -> std::io::Result<()> {
    let Some(top) = &r.top else { return Ok(()) };
    let genres: Vec<String> = top
        .iter()
        .map(|g| {
            let name = printable(&r.shown(&g.genre));
            let name = match genre_width {
                0 => name,
                w => crate::text::fit_width(&name, w),
            };
            let pad =
                genre_width.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
            format!("{name}{:pad$} {:>3.0}%", "", g.probability * 100.0,)
        })
        .collect();
    // The suggestion after the genres, so that they start in one column with
    // or without it: "… Reggae  17%  → Classical" (confident) or "→ unsure".
    let said = r
        .suggestion
        .as_ref()
        .map(|s| match s.as_str() {
            "unsure" => format!("  → unsure{}", printable(&why_unsure(r))),
            // escaped and cut as the genre columns are (a learned genre of
            // 331 characters, or one holding ESC, went out whole and raw)
            genre => format!(
                "  → {}",
                crate::text::fit_width(&printable(&r.shown(genre)), TABLE_GENRE_COLS)
            ),
        })
        .unwrap_or_default();
    let mut line = format!(
        "{}  {:>6}  {}{said}",
        fit_columns(&printable(&r.path.path), width),
        r.duration_s.map(clock).unwrap_or_default(),
        genres.join("  ")
    );
    if r.partial {
        let note = crate::classifier::partial_note(r.analysed_s, r.duration_s);
        line.push_str(&format!("  ({note})"));
    }
    writeln!(out, "{line}")
}

/// " (Reggae needs 62%)": why the top genre was not enough.
fn why_unsure(r: &TrackResult) -> String {
    r.unsure_reason
        .as_ref()
        .map(|why| format!(" ({why})"))
        .unwrap_or_default()
}

/// Why an unsure result is unsure: its top genre's threshold, or that it
/// never reached the target precision.
fn unsure_reason(r: &TrackResult) -> Option<String> {
    if r.suggestion.as_deref() != Some("unsure") {
        return None;
    }
    let top = r.top.as_ref()?.first()?;
    let t = r.unsure_threshold?;
    Some(crate::vocab::head::why_unsure(&r.shown(&top.genre), t))
}

const CSV_HEADER: &str = "path,rank,genre,probability,error";
const CSV_HEADER_SUGGESTION: &str = "path,rank,genre,probability,suggestion,unsure_reason,error";

/// One row per ranked genre, or one row with the error; with `--genres` or
/// `--head` the suggestion (a genre or `unsure`, and why it is unsure)
/// repeats on each rank's row.
fn csv_rows(out: &mut impl Write, r: &TrackResult, suggestions: bool) -> std::io::Result<()> {
    let path = csv_field(&printable(&r.path.path));
    let suggestion = match &r.suggestion {
        Some(s) if suggestions => format!(
            "{},{},",
            csv_field(&printable(s)),
            csv_field(&printable(r.unsure_reason.as_deref().unwrap_or_default()))
        ),
        _ if suggestions => ",,".to_string(),
        _ => String::new(),
    };
    match (&r.top, &r.error) {
        (Some(top), _) => {
            for (i, g) in top.iter().enumerate() {
                let genre = csv_field(&printable(&g.genre));
                writeln!(
                    out,
                    "{path},{},{genre},{:.4},{suggestion}",
                    i + 1,
                    g.probability
                )?;
            }
        }
        (None, Some(e)) => {
            // The path has its own column: the error says only what went wrong.
            let prefix = format!("{}: ", r.path.path);
            let reason = e.strip_prefix(&prefix).unwrap_or(e);
            writeln!(
                out,
                "{path},,,,{suggestion}{}",
                csv_field(&printable(reason))
            )?;
        }
        _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn result(path: &str, genres: &[(&str, f32)], suggestion: Option<&str>) -> TrackResult {
        let mut r = TrackResult::failed(Path::new(path), String::new());
        r.error = None;
        r.duration_s = Some(30.0);
        r.top = Some(
            genres
                .iter()
                .map(|(g, p)| Ranked {
                    genre: g.to_string(),
                    probability: *p,
                })
                .collect(),
        );
        r.suggestion = suggestion.map(str::to_string);
        r
    }

    /// The suggestion column is escaped and cut as the genre columns are
    /// (a learned genre holding ESC went to the terminal raw; re-review).
    #[test]
    fn the_table_suggestion_is_escaped_and_cut() {
        let long = "Jazz\u{1b}[31mRed".to_string() + &"x".repeat(300);
        let rows = [result("a.ogg", &[("jazz", 0.9)], Some(&long))];
        let text = printed(Format::Table, true, &rows);
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.lines().all(|l| l.chars().count() < 200), "{text}");
        assert!(text.contains("→ Jazz"), "{text}");
    }

    fn printed(format: Format, suggestions: bool, results: &[TrackResult]) -> String {
        let files: Vec<PathBuf> = results.iter().map(|r| r.file.clone()).collect();
        let mut p = Printer::new(Vec::new(), format, &files, suggestions, Some(60));
        for r in results {
            p.row(r).unwrap();
        }
        p.finish();
        String::from_utf8(p.out).unwrap()
    }

    /// The table's genre columns start in the same column on every row,
    /// whatever the genres' names (CJK counted two columns wide).
    #[test]
    fn table_genres_line_up() {
        let rows = [
            result("a.ogg", &[("classical", 0.47), ("pop", 0.19)], None),
            result("b.ogg", &[("reggae", 0.47), ("hiphop", 0.2)], None),
            result("c.ogg", &[("演歌", 0.5), ("blues", 0.3)], None),
            // a name longer than the column is cut, not a wider table
            result(
                "d.ogg",
                &[("progressive space rock", 0.5), ("blues", 0.3)],
                None,
            ),
        ];
        let files: Vec<PathBuf> = rows.iter().map(|r| r.file.clone()).collect();
        let mut p = Printer::new(Vec::new(), Format::Table, &files, false, Some(60));
        p.genre_width = 9;
        for r in &rows {
            p.row(r).unwrap();
        }
        p.finish();
        let text = String::from_utf8(p.out).unwrap();
        let columns = |line: &str| -> Vec<usize> {
            let mut at = 0;
            let mut found = Vec::new();
            for c in line.chars() {
                if c == '%' {
                    found.push(at);
                }
                at += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            }
            found
        };
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[3].contains("Progress…"), "{text}");
        for line in &lines {
            assert_eq!(columns(line), columns(lines[0]), "{text}");
        }
        assert!(
            lines[1].contains("Reggae     47%  Hip-Hop    20%"),
            "{text}"
        );
    }

    #[test]
    fn streamed_json_is_one_array_whatever_the_count() {
        let rows = [
            result("a.ogg", &[("jazz", 0.7)], None),
            TrackResult::failed(Path::new("b,\"c\".ogg"), "b: damaged".into()),
        ];
        for n in 0..=2 {
            let text = printed(Format::Json, false, &rows[..n]);
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v.as_array().unwrap().len(), n, "{text}");
            let whole = serde_json::to_string_pretty(&rows[..n]).unwrap();
            assert_eq!(text, format!("{whole}\n"));
        }
    }

    #[test]
    fn the_table_puts_the_suggestion_after_the_genres_spelled_alike() {
        let mut rows = [
            result("a.ogg", &[("hiphop", 0.7), ("jazz", 0.2)], Some("hiphop")),
            result("b.ogg", &[("jazz", 0.4)], Some("unsure")),
            result("c.ogg", &[("disco", 0.5)], Some("unsure")),
        ];
        rows[1].unsure_threshold = Some(Some(0.62));
        rows[2].unsure_threshold = Some(None);
        for r in &mut rows {
            r.unsure_reason = unsure_reason(r);
        }
        let text = printed(Format::Table, true, &rows);
        assert!(
            text.contains("  Hip-Hop  70%  Jazz  20%  → Hip-Hop\n"),
            "{text}"
        );
        assert!(
            text.contains("  Jazz  40%  → unsure (Jazz needs 62%)\n"),
            "{text}"
        );
        assert!(
            text.contains("  Disco  50%  → unsure (Disco never reached the target precision)\n"),
            "{text}"
        );
        // JSON says why too
        let json: serde_json::Value =
            serde_json::from_str(&printed(Format::Json, true, &rows)).unwrap();
        assert_eq!(json[1]["unsure_reason"], "Jazz needs 62%");
        assert!(json[0].get("unsure_reason").is_none());
    }

    /// Every row has the header's number of fields: errors in their own
    /// column, never in `probability`.
    #[test]
    fn csv_rows_keep_their_columns() {
        let mut ok = result(
            "x/a, b.ogg",
            &[("jazz", 0.7), ("blues", 0.2)],
            Some("unsure"),
        );
        ok.unsure_reason = Some("Jazz needs 62%".into());
        let bad = TrackResult::failed(
            Path::new("x/c.ogg"),
            "x/c.ogg: not audio, \"really\"".into(),
        );
        for suggestions in [false, true] {
            let mut ok = ok.clone();
            if !suggestions {
                ok.suggestion = None;
            }
            let text = printed(Format::Csv, suggestions, &[ok, bad.clone()]);
            let mut rows = csv_split(&text);
            let header = rows.remove(0);
            assert_eq!(header.len(), if suggestions { 7 } else { 5 }, "{text}");
            assert_eq!(rows.len(), 3, "{text}");
            for r in &rows {
                assert_eq!(r.len(), header.len(), "{text}");
            }
            assert_eq!(rows[0][..4], ["x/a, b.ogg", "1", "jazz", "0.7000"]);
            if suggestions {
                assert_eq!(rows[1][4], "unsure");
                assert_eq!(rows[1][5], "Jazz needs 62%", "why, as JSON says");
            }
            assert_eq!(rows[2][3], "");
            // the path once, in its column
            assert_eq!(rows[2].last().unwrap(), "not audio, \"really\"");
        }
    }

    /// A minimal RFC 4180 reader for the test: quoted fields, doubled quotes.
    fn csv_split(text: &str) -> Vec<Vec<String>> {
        text.lines()
            .map(|line| {
                let (mut fields, mut cur, mut quoted) = (Vec::new(), String::new(), false);
                let mut chars = line.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '"' if quoted && chars.peek() == Some(&'"') => {
                            cur.push('"');
                            chars.next();
                        }
                        '"' => quoted = !quoted,
                        ',' if !quoted => fields.push(std::mem::take(&mut cur)),
                        c => cur.push(c),
                    }
                }
                fields.push(cur);
                fields
            })
            .collect()
    }
}
