//! `earmark features`: the training set's inputs, computed by the same code
//! that serves inference.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::track_features;
use crate::audio::AnalysisPlan;
use crate::cli::output::{PathOut, printable, progress};
use crate::cli::{CliError, jobs_or_default};
use crate::features::{FeatureParams, MelExtractor, SegmentSpec, npy};
use crate::jobs::guard_job;
use crate::library::{io_reason, label_from_parent};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
                  earmark features ../shared/gtzan/train --out feats/train\n  \
                  earmark features --files-from clips.txt --out feats/pool --windows 16\n\n\
                  Exit codes: 0 when at least one file was written, 1 when none was or a path \
                  does not exist (nothing is written then), 2 a usage error.")]
pub struct FeaturesArgs {
    /// Files or folders (walked recursively); a file's label is its parent folder's name.
    #[arg(required_unless_present = "files_from")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub list: crate::cli::path_list::FilesFrom,
    /// Output folder: params.json, index.json, errors.json and mels/*.npy.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads, 1–256 (default: all cores).
    #[arg(long, value_parser = crate::cli::jobs_range())]
    pub jobs: Option<usize>,
    /// Excerpts taken from files longer than 45 s, 1–64.
    #[arg(long, default_value_t = AnalysisPlan::default().windows, value_parser = crate::cli::windows_range())]
    pub windows: usize,
}

#[derive(Serialize)]
struct WindowRecord {
    start_s: f64,
    frame_offset: usize,
    n_frames: usize,
}

#[derive(Serialize)]
struct IndexRecord {
    id: usize,
    #[serde(flatten)]
    path: PathOut,
    label: Option<String>,
    file: String,
    duration_s: f64,
    n_frames: usize,
    windows: Vec<WindowRecord>,
    /// Frame offsets (into the array) where segments start.
    segments: Vec<usize>,
}

#[derive(Serialize)]
struct ErrorRecord {
    #[serde(flatten)]
    path: PathOut,
    error: String,
}

pub fn run(args: FeaturesArgs) -> ExitCode {
    crate::cli::error::exit_code(run_inner(&args))
}

/// `earmark features: PATH: reason`, for a file the command writes.
fn write_error(path: &Path, e: &std::io::Error) -> CliError {
    CliError::failed("features", format!("{}: {}", path.display(), io_reason(e)))
}

/// Write `value` as pretty JSON to `path`.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::failed("features", e))?;
    fs::write(path, text).map_err(|e| write_error(path, &e))
}

fn run_inner(args: &FeaturesArgs) -> Result<ExitCode, CliError> {
    let params = FeatureParams::musicnn();
    let spec = SegmentSpec::default();
    let plan = AnalysisPlan {
        windows: args.windows,
        ..AnalysisPlan::default()
    };
    let extractor =
        MelExtractor::new(params.clone()).map_err(|e| CliError::failed("features", e))?;
    // A missing path is an error before anything is written (a typo must not
    // leave a training set short); nothing to work on too, --out untouched.
    let collected = crate::cli::audio_files("features", &args.paths, crate::cli::Missing::Stops)?;
    let earlier = prepare_out(&args.out)?;
    let mels_dir = args.out.join("mels");

    for e in &collected.errors {
        eprintln!("skipped: {}", printable(&e.to_string()));
    }
    let errors = Mutex::new(
        collected
            .errors
            .iter()
            .map(|e| ErrorRecord {
                path: record_path(&e.path),
                error: e.reason.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let bar = progress(collected.files.len(), "features");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs_or_default(args.jobs))
        .build()
        .map_err(|e| CliError::failed("features", e))?;
    let mut index: Vec<IndexRecord> = pool.install(|| {
        collected
            .files
            .par_iter()
            .enumerate()
            .filter_map(|(id, path)| {
                let result = guard_job(|| one_file(id, path, &extractor, &plan, &spec, &mels_dir))
                    .unwrap_or_else(|reason| Err(format!("{}: {reason}", path.display())));
                bar.inc(1);
                match result {
                    Ok(rec) => Some(rec),
                    Err(e) => {
                        bar.suspend(|| eprintln!("skipped: {}", printable(&e.to_string())));
                        if let Ok(mut errs) = errors.lock() {
                            errs.push(ErrorRecord {
                                path: record_path(path),
                                error: e.to_string(),
                            });
                        }
                        None
                    }
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    index.sort_by_key(|r| r.id);
    let errors = errors.into_inner().unwrap_or_default();
    finish(
        args,
        &params,
        &index,
        &errors,
        earlier,
        collected.files.len(),
    )
}

/// What was in --out before this run: the folder it made (to take away if
/// no file can be read), and the arrays the earlier index named.
struct Earlier {
    made: Option<PathBuf>,
    arrays: Vec<String>,
}

/// Make --out/mels, noting what was there before (see [`Earlier`]).
fn prepare_out(out: &Path) -> Result<Earlier, CliError> {
    if out.exists() && !out.is_dir() {
        return Err(CliError::failed(
            "features",
            format!(
                "--out {}: not a folder (--out names the folder to write into)",
                printable(&out.display().to_string())
            ),
        ));
    }
    let mels_dir = out.join("mels");
    // Made here, so taken away again if no file can be read.
    let made = if out.exists() {
        (!mels_dir.exists()).then(|| mels_dir.clone())
    } else {
        Some(out.to_path_buf())
    };
    let arrays = earlier_arrays(out);
    fs::create_dir_all(&mels_dir).map_err(|e| {
        CliError::failed(
            "features",
            format!("cannot make {}: {}", mels_dir.display(), io_reason(&e)),
        )
    })?;
    Ok(Earlier { made, arrays })
}

/// Write the index, errors and parameters, remove the earlier run's stale
/// arrays, and say what was done; with nothing to index, leave --out as it was.
fn finish(
    args: &FeaturesArgs,
    params: &FeatureParams,
    index: &[IndexRecord],
    errors: &[ErrorRecord],
    earlier: Earlier,
    files: usize,
) -> Result<ExitCode, CliError> {
    if index.is_empty() {
        let outcome = if earlier.made.as_deref() == Some(args.out.as_path()) {
            "nothing written".to_string()
        } else {
            format!("{} left as it was", args.out.display())
        };
        if let Some(made) = earlier.made {
            let _ = fs::remove_dir_all(made);
        }
        let what = match files {
            1 => "the file could not be read".to_string(),
            n => format!("none of the {n} files could be read"),
        };
        return Err(CliError::failed("features", format!("{what} ({outcome})")));
    }
    write_json(&args.out.join("params.json"), params)?;
    write_json(&args.out.join("index.json"), &index)?;
    write_json(&args.out.join("errors.json"), &errors)?;
    let stale = remove_stale(&args.out, &earlier.arrays, index);
    let removed = match stale {
        0 => String::new(),
        1 => "; 1 array of the earlier run there removed".to_string(),
        n => format!("; {n} arrays of the earlier run there removed"),
    };
    eprintln!(
        "{} → {} ({} skipped{removed})",
        crate::text::plural(index.len(), "file"),
        args.out.display(),
        errors.len(),
    );
    Ok(ExitCode::SUCCESS)
}

/// The arrays the index.json already in `out` names (an earlier run's).
fn earlier_arrays(out: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(out.join("index.json")) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Array(records)) = serde_json::from_str(&text) else {
        return Vec::new();
    };
    records
        .iter()
        .filter_map(|r| r.get("file")?.as_str())
        .filter(|f| f.starts_with("mels/") && !f.contains(".."))
        .map(str::to_string)
        .collect()
}

/// Remove the earlier run's arrays this index no longer names, so the
/// folder holds this run alone; files no index named are left. Returns how many went.
fn remove_stale(out: &Path, earlier: &[String], index: &[IndexRecord]) -> usize {
    let named: std::collections::HashSet<&str> = index.iter().map(|r| r.file.as_str()).collect();
    earlier
        .iter()
        .filter(|f| !named.contains(f.as_str()) && fs::remove_file(out.join(f)).is_ok())
        .count()
}

fn one_file(
    id: usize,
    path: &Path,
    extractor: &MelExtractor,
    plan: &AnalysisPlan,
    spec: &SegmentSpec,
    mels_dir: &Path,
) -> Result<IndexRecord, String> {
    let tf = track_features(path, extractor, plan, spec).map_err(|e| e.to_string())?;
    let n_mels = extractor.params().n_mels;
    let mut data = Vec::new();
    let mut windows = Vec::new();
    let mut offsets = Vec::new();
    for ex in &tf.excerpts {
        windows.push(WindowRecord {
            start_s: ex.start_s,
            frame_offset: data.len() / n_mels,
            n_frames: ex.mel.n_frames,
        });
        data.extend_from_slice(&ex.mel.data);
    }
    for s in &tf.segments {
        offsets.push(windows[s.excerpt].frame_offset + s.frame);
    }
    let n_frames = data.len() / n_mels;
    let name = format!("{id:05}.npy");
    let out = mels_dir.join(&name);
    let write_error = |e: std::io::Error| format!("{}: {}", out.display(), io_reason(&e));
    let file = fs::File::create(&out).map_err(write_error)?;
    npy::write_f32(std::io::BufWriter::new(file), &[n_frames, n_mels], &data)
        .map_err(write_error)?;
    Ok(IndexRecord {
        id,
        path: record_path(path),
        label: label_from_parent(path),
        file: format!("mels/{name}"),
        duration_s: tf.duration_s,
        n_frames,
        windows,
        segments: offsets,
    })
}

/// How index.json and errors.json both name a file: canonical and absolute
/// (or absolute as typed, when it cannot be resolved), so the two files join.
fn record_path(path: &Path) -> PathOut {
    let resolved = fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf());
    PathOut::of(&resolved)
}
