//! `earmark similar FILE [DIR…]`: the library's tracks nearest to FILE by
//! cosine similarity of the model's embeddings (cached; missing ones computed).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cli::jobs_or_default;
use crate::cli::learn::{BarProgress, EmbeddingOpts, embedding_classifier};
use crate::library::collect_audio;
use crate::vocab::{EmbeddingTable, SimilarityIndex};

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// The track to match.
    pub file: PathBuf,
    /// Library folders to search (default: FILE's folder).
    pub dirs: Vec<PathBuf>,
    /// How many tracks to list.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub embed: EmbeddingOpts,
}

#[derive(Serialize)]
struct Neighbour {
    path: String,
    similarity: f32,
}

pub fn run(args: SimilarArgs) -> ExitCode {
    crate::cli::error::done("similar", similar(args))
}

fn similar(args: SimilarArgs) -> Result<(), String> {
    let classifier = embedding_classifier(
        "earmark similar",
        args.embed.model.as_deref(),
        args.embed.windows,
    )?;
    // The library's cached embeddings, in one query; only missing ones are computed.
    let mut table = EmbeddingTable::load(&classifier);
    let query = classifier
        .classify(&args.file)
        .map_err(|e| e.to_string())?
        .prediction
        .embedding
        .ok_or_else(|| format!("{}: the model gave no embedding", args.file.display()))?;
    let dirs = if args.dirs.is_empty() {
        vec![
            args.file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), PathBuf::from),
        ]
    } else {
        args.dirs.clone()
    };
    let collected = collect_audio(&dirs);
    for e in &collected.errors {
        eprintln!("skipped: {e}");
    }
    let same = |p: &PathBuf| match (std::fs::canonicalize(p), std::fs::canonicalize(&args.file)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let files: Vec<PathBuf> = collected.files.into_iter().filter(|p| !same(p)).collect();
    let bar = BarProgress::new(files.len());
    let vectors = table.fill(
        &classifier,
        &files,
        jobs_or_default(args.embed.jobs),
        &bar,
        &crate::audio::NEVER_CANCELLED,
    );
    bar.finish();
    let mut index = SimilarityIndex::new(query.len());
    let mut paths = Vec::new();
    for (p, v) in files.iter().zip(vectors) {
        if let Some(v) = v
            && index.push(&v).is_some()
        {
            paths.push(p);
        }
    }
    let nearest: Vec<Neighbour> = index
        .nearest(&query, args.top, &[])
        .into_iter()
        .map(|(i, s)| Neighbour {
            path: paths[i].display().to_string(),
            similarity: s,
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &nearest)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out))
    } else {
        nearest
            .iter()
            .try_for_each(|n| writeln!(out, "{:.3}  {}", n.similarity, n.path))
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}
