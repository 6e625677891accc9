//! `earmark learn [DIR…]`: learn the library's own genres from its tags and
//! the model's embeddings; print the cross-validation report; save the head.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use crate::audio::AnalysisPlan;
use crate::classifier::Classifier;
use crate::cli::classify::open_cache_or_warn;
use crate::cli::jobs_or_default;
use crate::cli::output::progress;
use crate::model::load_model;
use crate::vocab::learn::report_card;
use crate::vocab::{EmbeddingTable, LearnOptions, Progress, VocabError, learn_library, store};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
                  earmark learn ~/Music\n  \
                  earmark learn ~/Music --min-tracks 10 --model fast\n  \
                  earmark classify ~/Music/new --genres mine   (answers in the genres learned)\n\n\
                  Exit codes: 0 learned, 1 nothing to learn from (too few tagged tracks) or a \
                  failure, 2 a usage error.")]
pub struct LearnArgs {
    /// Library folders (default: the current directory). The first is the root the head belongs to.
    pub dirs: Vec<PathBuf>,
    /// Keep genres with at least this many tracks (1 or more).
    #[arg(long, default_value_t = 5, value_parser = at_least_one)]
    pub min_tracks: usize,
    /// Confident suggestions must have been right this often in cross-validation: 50% to 100% (90%, 90 or 0.9).
    #[arg(long, default_value_t = 0.9, value_parser = target_precision)]
    pub precision: f64,
    #[command(flatten)]
    pub embed: EmbeddingOpts,
    /// Save the head here instead of under $XDG_DATA_HOME/earmark/vocab/.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `--precision`: a confidence (`90%`, `90`, `0.9`) of at least 50 %: below
/// it, "confident" would be wrong more often than right (`1.5` is read as
/// 1.5 %, so it says how it was read).
fn target_precision(s: &str) -> Result<f64, String> {
    const RANGE: &str = "give 50% to 100%, e.g. 90%";
    // one range in every refusal (parse_confidence's is 0% to 100%)
    let p = crate::cli::output::parse_confidence(s).map_err(|e| {
        if e.contains("not between") {
            format!("\"{s}\" is not a precision ({RANGE})")
        } else {
            e
        }
    })?;
    if p < 0.5 {
        return Err(format!(
            "\"{s}\" reads as {}%: a confident suggestion must be right at least half \
             the time ({RANGE})",
            // the percent as typed (f32 to f64 would show 1.4999999…)
            (f64::from(p) * 1e6).round() / 1e4
        ));
    }
    Ok(f64::from(p))
}

/// `--min-tracks`: a count of 1 or more ("0 is not in 1..18446744073709551615" said it badly).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("a genre needs at least 1 track".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number of tracks")),
    }
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

/// Embedding progress on stderr: a bar, and a line per file left out.
pub struct BarProgress(indicatif::ProgressBar);

impl BarProgress {
    pub fn new(total: usize) -> BarProgress {
        BarProgress(progress(total, "embeddings"))
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for BarProgress {
    fn step(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }

    fn skipped(&self, line: String) {
        self.0
            .suspend(|| eprintln!("skipped: {}", crate::cli::output::printable(&line)));
    }
}

pub fn run(args: LearnArgs) -> ExitCode {
    if let Err(e) = crate::cli::error::check_model("learn", args.embed.model.as_deref()) {
        return crate::cli::error::exit_code(Err(e));
    }
    crate::cli::error::done("learn", learn(args))
}

fn learn(args: LearnArgs) -> Result<(), String> {
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.dirs.clone()
    };
    // A mistyped folder is an error, not a library without genre tags.
    for d in &dirs {
        if let Err(e) = std::fs::metadata(d) {
            return Err(format!("{}: {}", d.display(), crate::audio::io_reason(&e)));
        }
    }
    let classifier = embedding_classifier(
        "earmark learn",
        args.embed.model.as_deref(),
        args.embed.windows,
    )?;
    let opts = LearnOptions {
        min_tracks: args.min_tracks,
        precision: args.precision,
        jobs: jobs_or_default(args.embed.jobs),
    };
    let mut table = EmbeddingTable::load(&classifier);
    let bar = BarProgress::new(0);
    let learned = learn_library(
        &classifier,
        &dirs,
        &opts,
        &mut table,
        &bar,
        &crate::audio::NEVER_CANCELLED,
    );
    bar.finish();
    let learned = learned.map_err(|e| match e {
        // fewer tracks per genre would do only where two genres are tagged
        VocabError::TooFewGenres(why) if why.starts_with("needs two genres") => {
            format!("{why} (or lower --min-tracks)")
        }
        VocabError::TooFewGenres(why) => why,
        e => e.to_string(),
    })?;
    let head = learned.head;
    eprintln!(
        "{} files, {} with a kept genre; {} genres kept, {} left out",
        learned.files,
        learned.tagged,
        head.vocabulary.len(),
        head.report.left_out.len()
    );
    print!("{}", head.report.render());
    let path = match &args.out {
        Some(p) => p.clone(),
        None => store::head_path(&dirs[0], &head.model_name).map_err(|e| e.to_string())?,
    };
    // Learning again replaces the head: say what it replaces.
    let earlier = store::load(&path).ok();
    store::save(&head, &path).map_err(|e| e.to_string())?;
    let md = path.with_extension("md");
    std::fs::write(&md, report_card(&head)).map_err(|e| format!("{}: {e}", md.display()))?;
    eprintln!("saved {} (report: {})", path.display(), md.display());
    if let Some(old) = earlier {
        eprintln!(
            "it replaces the genres learned before ({} genres from {} tracks, precision {:.0}%)",
            old.vocabulary.len(),
            // tracks, not genre tags: a track of two genres counts once
            if old.report.tracks > 0 {
                old.report.tracks
            } else {
                old.counts.iter().sum::<usize>()
            },
            old.target_precision * 100.0
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::target_precision;

    #[test]
    fn a_target_precision_is_half_or_more() {
        assert!((target_precision("90%").unwrap() - 0.9).abs() < 1e-6);
        assert_eq!(target_precision("0.5"), Ok(0.5));
        let low = target_precision("1.5").unwrap_err();
        assert!(low.contains("reads as 1.5%"), "{low}");
        assert!(target_precision("1").unwrap_err().contains("1% or 100%"));
        assert!(target_precision("30%").is_err());
        for out_of_range in ["-5", "150%"] {
            let said = target_precision(out_of_range).unwrap_err();
            assert!(said.contains("give 50% to 100%"), "{said}");
        }
    }
}
