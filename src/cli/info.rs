//! `earmark info`: what a file is, without decoding it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::audio::{self, SourceInfo};
use crate::cli::output::{PathOut, printable};
use crate::clock::clock;
use crate::tags::{self, TagSummary};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
                  earmark info song.flac\n  \
                  earmark info ~/Music/Album --json | jq '.[].tags.genres'\n\n\
                  Exit codes: 0 when at least one file was described, 1 when none was, 2 a usage error.")]
pub struct InfoArgs {
    /// Audio files to describe, or folders (walked like the other commands).
    #[arg(required_unless_present = "files_from")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub list: crate::cli::path_list::FilesFrom,
    /// Print one JSON object per file, in a JSON list.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct InfoRecord {
    #[serde(flatten)]
    path: PathOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio: Option<SourceInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<TagSummary>,
    /// Readable audio with a problem beside it (an unreadable tag), as in
    /// `classify --json`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// The file could not be described at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// With `error`, the decode error's kind (`corrupt`, `not-audio`…), as
    /// in `classify --json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
}

pub fn run(args: InfoArgs) -> ExitCode {
    // Folders are walked; anything else is described as given, so a missing
    // or odd file gets its own one-line reason. A folder without audio gets
    // a record of its own, in its place.
    let mut files: Vec<(PathBuf, Option<String>)> = Vec::new();
    for p in &args.files {
        if p.is_dir() {
            let c = crate::library::collect_audio(std::slice::from_ref(p));
            if c.files.is_empty() {
                for e in c.errors_beside_none_found(std::slice::from_ref(p)) {
                    eprintln!("skipped: {}", printable(&e.to_string()));
                }

                // A folder named like a track says what it is instead.
                let why = c.errors.iter().find(|e| e.path == *p).map_or_else(
                    || format!("{}: no audio files found in this folder", p.display()),
                    ToString::to_string,
                );
                files.push((p.clone(), Some(why)));
            } else {
                for e in &c.errors {
                    eprintln!("skipped: {}", printable(&e.to_string()));
                }
            }
            files.extend(c.files.into_iter().map(|f| (f, None)));
        } else {
            files.push((p.clone(), None));
        }
    }
    // a file named twice (or named and inside a folder named) once, as
    // classify and tag take it
    let mut seen = std::collections::HashSet::new();
    files.retain(|(f, _)| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    let mut records = Vec::new();
    let mut failed = 0;
    for (path, empty) in &files {
        let probed = match empty {
            Some(why) => Err((why.clone(), None)),
            None => audio::probe(path).map_err(|e| (e.to_string(), Some(e.kind()))),
        };
        let record = match probed {
            Ok(info) => {
                // Tags are a bonus: a tag-reader failure must not hide the audio facts.
                let (tags, warnings) = match tags::read_tags(path) {
                    Ok(t) => (Some(t), Vec::new()),
                    Err(e) => (None, vec![e.to_string()]),
                };
                InfoRecord {
                    path: PathOut::of(path),
                    audio: Some(info),
                    tags,
                    warnings,
                    error: None,
                    error_kind: None,
                }
            }
            Err((e, kind)) => {
                failed += 1;
                if !args.json {
                    eprintln!("earmark: {}", printable(&e));
                }
                InfoRecord {
                    path: PathOut::of(path),
                    audio: None,
                    tags: None,
                    warnings: Vec::new(),
                    error: Some(e),
                    error_kind: kind,
                }
            }
        };
        records.push(record);
    }
    if args.json {
        match serde_json::to_string_pretty(&records) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("earmark: {e}"),
        }
    } else {
        for r in records.iter().filter(|r| r.audio.is_some()) {
            print_record(r);
        }
    }
    if failed == files.len() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_record(r: &InfoRecord) {
    let Some(a) = &r.audio else { return };
    println!("{}", printable(&r.path.path));
    println!("  container   {}", a.container);
    println!("  codec       {}", a.codec);
    let dur = a.duration_s.map_or("unknown".to_string(), clock);
    println!("  duration    {dur}");
    println!("  sample rate {} Hz", a.sample_rate);
    println!("  channels    {}", a.channels);
    if let Some(b) = a.bits_per_sample {
        println!("  bits        {b}");
    }
    if let Some(t) = &r.tags {
        let show = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                println!("  {k:<11} {}", printable(v));
            }
        };
        show("title", &t.title);
        show("artist", &t.artist);
        show("album", &t.album);
        show("year", &t.year);
        let genre = if t.genres.is_empty() {
            "(none)".into()
        } else {
            t.genre_display()
        };
        println!("  genre       {}", printable(&genre));
        if !t.formats.is_empty() {
            println!("  tag formats {}", t.formats.join(", "));
        }
    }
    for w in &r.warnings {
        println!("  warning     {}", printable(w));
    }
}
