//! `earmark similar FILE [DIR…]`: the library's tracks nearest to FILE by
//! cosine similarity of the model's embeddings (cached; missing ones computed).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::audio::NEVER_CANCELLED;
use crate::cli::jobs_or_default;
use crate::cli::learn::{BarProgress, EmbeddingOpts, embedding_classifier};
use crate::cli::output::{PathOut, printable};
use crate::library::collect_audio;
use crate::vocab::{EmbeddingTable, SimilarityIndex};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
                  earmark similar song.flac ~/Music --top 5\n  \
                  earmark similar --each ~/Music/Album ~/Music --json\n\n\
                  Exit codes: 0 done, 1 nothing to match against or a failure, 2 a usage error.")]
pub struct SimilarArgs {
    /// The track to match (with --each: a folder, every track in it is matched).
    pub file: PathBuf,
    /// Library folders to search (default: FILE's folder; with --each, FILE).
    pub dirs: Vec<PathBuf>,
    /// How many tracks to list, 1–10000.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub top: usize,
    /// FILE is a folder: list the nearest tracks of each of its tracks (one
    /// model load for all; what retrieval figures need).
    #[arg(long)]
    pub each: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub embed: EmbeddingOpts,
}

#[derive(Serialize)]
struct Neighbour {
    #[serde(flatten)]
    path: PathOut,
    similarity: f32,
}

#[derive(Serialize)]
struct Neighbours {
    /// The query's path, as `path` is written.
    query: String,
    /// Its bytes, for a name that is not UTF-8 (as `path_bytes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    query_bytes: Option<Vec<u8>>,
    nearest: Vec<Neighbour>,
}

pub fn run(args: SimilarArgs) -> ExitCode {
    if let Err(e) = crate::cli::error::check_model("similar", args.embed.model.as_deref()) {
        return crate::cli::error::exit_code(Err(e));
    }
    crate::cli::error::done("similar", similar(args))
}

/// Audio files under `dirs` (what cannot be read is said on stderr).
fn audio_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let collected = collect_audio(dirs);
    for e in &collected.errors {
        eprintln!("skipped: {}", printable(&e.to_string()));
    }
    collected.files
}

/// Where the library is: the folders given, else FILE itself (`--each`),
/// else FILE's folder.
fn library_dirs(args: &SimilarArgs) -> Vec<PathBuf> {
    match (args.dirs.is_empty(), args.each) {
        (false, _) => args.dirs.clone(),
        (true, true) => vec![args.file.clone()],
        (true, false) => vec![
            args.file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), PathBuf::from),
        ],
    }
}

fn similar(args: SimilarArgs) -> Result<(), String> {
    let classifier = embedding_classifier(
        "earmark similar",
        args.embed.model.as_deref(),
        args.embed.windows,
    )?;
    let jobs = jobs_or_default(args.embed.jobs);
    // A library folder that is not there is a mistyped argument, not an empty library.
    if let Some((d, e)) = args
        .dirs
        .iter()
        .find_map(|d| std::fs::metadata(d).err().map(|e| (d, e)))
    {
        return Err(format!(
            "{}: {}",
            d.display(),
            crate::library::io_reason(&e)
        ));
    }
    let single_query = query_embedding(&args, &classifier)?;
    let dirs = library_dirs(&args);
    let files = audio_files(&dirs);
    // as classify and tag: an empty library is said, not an empty answer
    if files.is_empty() {
        return Err(format!(
            "no audio files found in {}",
            crate::cli::list_paths(&dirs)
        ));
    }
    let same_walk = args.each && dirs.as_slice() == std::slice::from_ref(&args.file);
    let queries = if same_walk {
        files.clone() // the same walk: its skipped files said once
    } else if args.each {
        audio_files(std::slice::from_ref(&args.file))
    } else {
        vec![args.file.clone()]
    };
    if args.each && queries.is_empty() {
        return Err(format!("no audio files found in {}", args.file.display()));
    }
    // The library's cached embeddings, in one query; only missing ones are computed.
    let mut table = EmbeddingTable::load(&classifier);
    let bar = BarProgress::new(files.len());
    let vectors = table.fill(&classifier, &files, jobs, &bar, &NEVER_CANCELLED);
    bar.finish();
    let query_vectors = match single_query {
        Some(v) => vec![Some(v)],
        // the library's own tracks: what failed there is not tried (and
        // said) again
        None if same_walk => vectors.clone(),
        // Usually all found in the library just filled.
        None => table.fill(&classifier, &queries, jobs, &bar, &NEVER_CANCELLED),
    };
    let dim = query_vectors
        .iter()
        .flatten()
        .map(Vec::len)
        .next()
        .ok_or_else(|| match args.each {
            true => format!(
                "{}: none of its tracks could be analysed (each said above)",
                args.file.display()
            ),
            false => format!("{}: the model gave no embedding", args.file.display()),
        })?;
    let mut index = SimilarityIndex::new(dim);
    let mut paths: Vec<&PathBuf> = Vec::new();
    let mut canonical: Vec<Option<PathBuf>> = Vec::new();
    for (p, v) in files.iter().zip(vectors) {
        if let Some(v) = v
            && index.push(&v).is_some()
        {
            paths.push(p);
            canonical.push(std::fs::canonicalize(p).ok());
        }
    }
    let mut all = Vec::new();
    for (q, v) in queries.iter().zip(query_vectors) {
        let Some(v) = v else { continue };
        // The query itself is not its own neighbour (a copy of it is).
        let me = std::fs::canonicalize(q).ok();
        let skip: Vec<usize> = (0..canonical.len())
            .filter(|&i| me.is_some() && canonical[i] == me)
            .collect();
        let nearest = index
            .nearest(&v, args.top, &skip)
            .into_iter()
            .map(|(i, s)| Neighbour {
                path: PathOut::of(paths[i]),
                similarity: s,
            })
            .collect();
        let PathOut { path, path_bytes } = PathOut::of(q);
        all.push(Neighbours {
            query: path,
            query_bytes: path_bytes,
            nearest,
        });
    }
    print(&all, &args, &dirs)
}

/// The neighbours as a table or JSON on stdout; a note on stderr when there were none.
fn print(all: &[Neighbours], args: &SimilarArgs, dirs: &[PathBuf]) -> Result<(), String> {
    if !args.json && all.iter().all(|n| n.nearest.is_empty()) {
        let shown: Vec<String> = dirs.iter().map(|d| PathOut::of(d).path).collect();
        eprintln!(
            "no other tracks to compare with in {}",
            printable(&shown.join(", "))
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match (args.json, args.each) {
        (true, true) => serde_json::to_writer_pretty(&mut out, &all)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        (true, false) => {
            let nearest = all.first().map_or(&[][..], |n| &n.nearest[..]);
            serde_json::to_writer_pretty(&mut out, nearest)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
        // --each: each query, then its neighbours indented under it.
        (false, each) => all.iter().try_for_each(|n| {
            let indent = if each { "  " } else { "" };
            if each {
                writeln!(out, "{}", printable(&n.query))?;
            }
            n.nearest.iter().try_for_each(|m| {
                writeln!(
                    out,
                    "{indent}{:.3}  {}",
                    m.similarity,
                    printable(&m.path.path)
                )
            })
        }),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// The query first: a bad FILE is said at once, before any library scan (its
/// folder may be `/`). None with --each (each track of FILE is a query).
fn query_embedding(
    args: &SimilarArgs,
    classifier: &crate::classifier::Classifier,
) -> Result<Option<Vec<f32>>, String> {
    if args.each {
        if !args.file.is_dir() {
            return Err(format!(
                "{}: not a folder (--each matches every track in a folder)",
                args.file.display()
            ));
        }
        return Ok(None);
    }
    if args.file.is_dir() {
        return Err(format!(
            "{}: a folder, not a track (--each matches every track in it)",
            args.file.display()
        ));
    }
    let c = classifier.classify(&args.file).map_err(|e| e.to_string())?;
    c.prediction
        .embedding
        .map(Some)
        .ok_or_else(|| format!("{}: the model gave no embedding", args.file.display()))
}
